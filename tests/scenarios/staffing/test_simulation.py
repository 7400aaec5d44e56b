"""The simulation agrees with Erlang A where Erlang A's assumptions hold, and is reproducible."""

import numpy as np
from scipy import stats

from scenarios.staffing.erlang import erlang_a_metrics, erlang_c_metrics
from scenarios.staffing.simulation import Distribution, simulate

WARMUP = 4


def overall(result, key):
    """Mean over intervals after warm-up, with a 95 % CI across replications."""
    per_rep = np.asarray(result.per_replication[key])[:, WARMUP:].mean(axis=1)
    half = stats.t.ppf(0.975, len(per_rep) - 1) * per_rep.std(ddof=1) / np.sqrt(len(per_rep))
    return per_rep.mean(), half


def test_agrees_with_erlang_a():
    n = 120
    r = simulate(
        np.full(n, 100.0),
        np.full(n, 14),
        1800,
        Distribution("exponential", 180),
        Distribution("exponential", 300),
        target_seconds=20,
        replications=20,
        seed=7,
    )
    a = erlang_a_metrics(100, 180, 1800, 14, 20, 300)
    for key, expected in (
        ("service_level", a["service_level"]),
        ("abandon_rate", a["abandon_rate"]),
        ("occupancy", a["occupancy"]),
        ("mean_wait_seconds", a["mean_wait_seconds"]),
        ("asa_seconds", a["asa_seconds"]),
    ):
        mean, half = overall(r, key)
        assert abs(mean - float(expected)) <= half, (key, mean, half, float(expected))


def test_agrees_with_erlang_c_without_abandonment():
    n = 120
    r = simulate(
        np.full(n, 100.0), np.full(n, 14), 1800, Distribution("exponential", 180), None, 20, 20, seed=3
    )
    c = erlang_c_metrics(100, 180, 1800, 14, 20)
    mean, half = overall(r, "service_level")
    assert abs(mean - float(c["service_level"])) <= half
    assert np.nansum(r.mean["abandon_rate"]) == 0


def test_seeded_and_reproducible():
    args = (
        np.array([50.0, 80, 60]),
        np.array([5, 8, 6]),
        1800,
        Distribution("lognormal", 200, 0.7),
        Distribution("exponential", 240),
    )
    a, b = simulate(*args, target_seconds=20, seed=11), simulate(*args, target_seconds=20, seed=11)
    for key in a.mean:
        np.testing.assert_array_equal(a.mean[key], b.mean[key])
    assert not np.array_equal(
        simulate(*args, target_seconds=20, seed=12).mean["service_level"], a.mean["service_level"]
    )


def test_staffing_changes_are_followed():
    # no agents in the middle interval: its callers wait for the next shift or abandon
    r = simulate(
        np.array([60.0, 60, 60]),
        np.array([10, 0, 10]),
        1800,
        Distribution("exponential", 180),
        Distribution("exponential", 120),
        target_seconds=20,
        replications=10,
        seed=5,
    )
    assert r.mean["service_level"][1] < 0.1 < r.mean["service_level"][0]
    assert r.mean["abandon_rate"][1] > 0.8
    assert np.isnan(r.mean["occupancy"][1])


def test_empirical_handle_times():
    values = tuple(np.random.default_rng(0).lognormal(5, 0.5, 500))
    r = simulate(
        np.full(10, 50.0),
        np.full(10, 8),
        1800,
        Distribution("empirical", values=values),
        None,
        target_seconds=20,
        replications=5,
        seed=1,
    )
    assert np.all((r.mean["occupancy"] > 0) & (r.mean["occupancy"] <= 1))
