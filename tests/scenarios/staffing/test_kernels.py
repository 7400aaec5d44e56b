"""The numba kernels answer exactly as the numpy paths do, and as DOMAIN.md's reference values."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.staffing import requirements, simulation
from scenarios.staffing.kernels import sort_within_intervals, sorted_ends
from scenarios.staffing.requirements import StaffingTargets, required_agents
from scenarios.staffing.simulation import Distribution, simulate


def use_path(monkeypatch, compiled: bool) -> None:
    """Force the compiled or the numpy path, whatever this process has loaded."""
    size = 0 if compiled else 10**15
    for module, names in (
        (requirements, ("KERNEL_MIN_INTERVALS", "KERNEL_MIN_INTERVALS_LOADED")),
        (simulation, ("KERNEL_MIN_CALLS", "KERNEL_MIN_CALLS_LOADED")),
    ):
        for name in names:
            monkeypatch.setattr(module, name, size)


def both_searches(volume, aht, interval_seconds, targets):
    """(compiled, numpy) answers of the same question."""
    volume, aht, interval_seconds = (
        np.broadcast_to(np.asarray(v, float), np.broadcast_shapes(np.shape(volume), np.shape(aht))).ravel()
        for v in (volume, aht, interval_seconds)
    )
    compiled = requirements._kernel_search(volume, aht, interval_seconds, targets)
    numpy = requirements._search(volume, aht, interval_seconds, None, targets, "erlang-c", None)
    return compiled, numpy


TARGETS = [
    StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=0.85),
    StaffingTargets(service_level=0.8, target_seconds=20),
    StaffingTargets(service_level=0.95, target_seconds=0),
    StaffingTargets(service_level=0.9, target_seconds=60, asa_seconds=10),
    StaffingTargets(asa_seconds=30, target_seconds=20),
    StaffingTargets(max_occupancy=0.7, target_seconds=20),
    StaffingTargets(service_level=0.85, target_seconds=15, asa_seconds=30, max_occupancy=0.9),
    StaffingTargets(service_level=0.5, target_seconds=300, max_occupancy=0.0),  # a 0 cap is not a lower bound
]


@pytest.mark.parametrize("targets", TARGETS[:-1])
def test_required_agents_identical_on_many_random_intervals(targets):
    rng = np.random.default_rng(2026)
    n = 100_000
    volume = np.round(rng.uniform(0, 3000, n) * rng.choice([0.01, 0.1, 1.0], n), 1)
    volume[rng.random(n) < 0.05] = 0
    aht = rng.uniform(5, 1200, n)
    interval = rng.choice([300.0, 900.0, 1800.0, 3600.0], n)
    compiled, numpy = both_searches(volume, aht, interval, targets)
    assert compiled.dtype == numpy.dtype == np.int64
    np.testing.assert_array_equal(compiled, numpy)


@settings(max_examples=300, deadline=None)
@given(
    volume=st.floats(0, 50_000, allow_nan=False),
    aht=st.floats(1, 3600),
    interval=st.sampled_from([60.0, 300.0, 900.0, 1800.0, 3600.0]),
    sl=st.one_of(st.none(), st.floats(0.01, 0.999)),
    target_seconds=st.floats(0, 600),
    asa=st.one_of(st.none(), st.floats(0.1, 600)),
    occupancy=st.one_of(st.none(), st.floats(0.3, 1.0)),
)
def test_required_agents_identical_hypothesis(volume, aht, interval, sl, target_seconds, asa, occupancy):
    targets = StaffingTargets(
        service_level=sl, target_seconds=target_seconds, asa_seconds=asa, max_occupancy=occupancy
    )
    compiled, numpy = both_searches([volume, volume * 1.01, volume / 7], aht, interval, targets)
    np.testing.assert_array_equal(compiled, numpy)


def test_absurd_targets_are_left_to_numpy():
    # unreachable: the kernel hands the interval back and the numpy path raises as it always did
    with pytest.raises(ValueError, match="not reachable"):
        both_searches([100.0, 200.0], 180.0, 1800.0, TARGETS[-1])
    with pytest.raises(ValueError, match="not reachable"):
        both_searches([100.0], 180.0, 1800.0, StaffingTargets(service_level=1.5, target_seconds=20))
    # loads beyond the kernel's range (2 million Erlangs) and no calls: numpy's answers
    compiled, numpy = both_searches([2e7, 100.0, 0.0], 180.0, [1800.0, 1800.0, 1800.0], TARGETS[0])
    np.testing.assert_array_equal(compiled, numpy)


@pytest.mark.parametrize(
    "volume, aht, interval, targets, expected",
    [
        # DOMAIN.md: 100 calls / 30 min, AHT 180 s, SL 80/20 with occupancy caps 85 % and 70 %
        (100, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=0.85), 14),
        (100, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=0.70), 15),
        # 30 calls/h, 5 min, P(no wait) >= 90 %: 6 agents
        (30, 300, 3600, StaffingTargets(service_level=0.9, target_seconds=0), 6),
        # square-root staffing, P(wait) <= 0.2: 14 / 111 / 1034 agents for A = 10 / 100 / 1000
        (100, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=0), 14),
        (1000, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=0), 111),
        (10000, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=0), 1034),
    ],
)
def test_kernel_reference_values(volume, aht, interval, targets, expected, monkeypatch):
    compiled, numpy = both_searches([volume], aht, interval, targets)
    assert int(compiled[0]) == int(numpy[0]) == expected
    use_path(monkeypatch, compiled=True)  # through the public function
    assert int(required_agents(volume, aht, interval, targets)) == expected


def test_routing_by_size_and_model(monkeypatch):
    rng = np.random.default_rng(3)
    volume, aht = rng.uniform(1, 900, (40, 25)), rng.uniform(60, 600, (40, 25))
    targets = TARGETS[6]
    use_path(monkeypatch, compiled=False)
    numpy = required_agents(volume, aht, 1800, targets)
    use_path(monkeypatch, compiled=True)
    called = []
    real = requirements._kernel_search
    monkeypatch.setattr(requirements, "_kernel_search", lambda *a: called.append(1) or real(*a))
    compiled = required_agents(volume, aht, 1800, targets)
    assert called and compiled.shape == (40, 25)
    np.testing.assert_array_equal(compiled, numpy)
    called.clear()
    required_agents(volume, aht, 1800, StaffingTargets(abandon_rate=0.05, target_seconds=20), "erlang-a", 120)
    required_agents(volume, aht, 1800, StaffingTargets(blocking=0.01, target_seconds=20), "erlang-b")
    assert not called  # Erlang A and B stay on the numpy path


SIM_CASES = [
    # volume, agents, handle, patience, replications
    (
        np.full(40, 100.0),
        np.full(40, 14),
        Distribution("exponential", 180),
        Distribution("exponential", 300),
        1,
    ),
    (np.full(30, 100.0), np.full(30, 14), Distribution("exponential", 180), None, 3),
    (
        np.array([60.0, 60, 60, 0, 30, 90]),
        np.array([10, 0, 10, 3, 0, 12]),
        Distribution("lognormal", 200, 0.7),
        Distribution("exponential", 120),
        5,
    ),
    (
        np.tile(np.r_[np.zeros(3), np.linspace(20, 200, 8), np.zeros(2)], 3),
        np.tile(np.r_[np.zeros(3), np.linspace(6, 45, 8).round(), np.zeros(2)], 3),
        Distribution("empirical", values=tuple(np.random.default_rng(0).lognormal(5, 0.6, 300))),
        Distribution("lognormal", 200, 1.5),
        4,
    ),
]


@pytest.mark.parametrize("case", range(len(SIM_CASES)))
@pytest.mark.parametrize("seed", [0, 17])
def test_simulation_identical_for_the_same_seed(case, seed, monkeypatch):
    volume, agents, handle, patience, reps = SIM_CASES[case]
    use_path(monkeypatch, compiled=False)
    numpy = simulate(volume, agents, 1800, handle, patience, 20, reps, seed=seed)
    use_path(monkeypatch, compiled=True)
    compiled = simulate(volume, agents, 1800, handle, patience, 20, reps, seed=seed)
    assert compiled.calls_simulated == numpy.calls_simulated
    for key in numpy.per_replication:
        np.testing.assert_array_equal(compiled.per_replication[key], numpy.per_replication[key], err_msg=key)
        np.testing.assert_array_equal(compiled.mean[key], numpy.mean[key], err_msg=key)


def test_interval_lengths_that_round_unevenly(monkeypatch):
    volume, agents = np.full(12, 80.0), np.full(12, 9)
    args = (
        volume,
        agents,
        1000 / 3,
        Distribution("exponential", 60),
        Distribution("exponential", 100),
        20,
        2,
    )
    use_path(monkeypatch, compiled=False)
    numpy = simulate(*args, seed=4)
    use_path(monkeypatch, compiled=True)
    compiled = simulate(*args, seed=4)
    for key in numpy.per_replication:
        np.testing.assert_array_equal(compiled.per_replication[key], numpy.per_replication[key], err_msg=key)


def test_sorting_helpers_give_numpys_arrays():
    rng = np.random.default_rng(8)
    starts = np.sort(rng.uniform(0, 1e5, 5000))
    ends = starts + rng.exponential(200, 5000)
    np.testing.assert_array_equal(sorted_ends(starts, ends), np.sort(ends))
    counts = rng.poisson(30, (3, 50))
    rows = np.full((3, counts.sum(axis=1).max()), np.inf)
    for r in range(3):
        times = np.repeat(np.arange(50) * 1800.0, counts[r]) + rng.uniform(0, 1800, counts[r].sum())
        rows[r, : counts[r].sum()] = times
    expected = np.sort(rows, axis=1)
    sort_within_intervals(rows, counts)
    np.testing.assert_array_equal(rows, expected)


def test_kernels_import_without_a_writable_cache(tmp_path):
    """A package folder where __pycache__ cannot be made and no per-user cache: the kernels
    compile in memory and answer; with only the package folder unwritable numba's per-user
    cache takes the files."""
    package = tmp_path / "pkg" / "scenarios" / "staffing"
    package.mkdir(parents=True)
    for init in (package.parent / "__init__.py", package / "__init__.py"):
        init.write_text("")
    shutil.copy(Path(__file__).parents[3] / "scenarios" / "staffing" / "kernels.py", package)
    (package / "__pycache__").write_text("a file where the cache folder would go")
    no_home = tmp_path / "not-a-folder"
    no_home.write_text("")
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import numpy as np\n"
        "import scenarios\n"
        "from scenarios.staffing.kernels import erlang_c_required\n"
        "out = np.empty(1, np.int64)\n"
        "erlang_c_required(np.array([100.0]), np.array([180.0]), np.array([1800.0]), 20.0, 0.8,"
        " float('nan'), 0.85, 0.85, out)\n"
        "print(int(out[0]), scenarios.__file__)\n"
    )
    base = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    base["PYTHONPATH"] = str(tmp_path / "pkg")
    for env_home, cached in ((no_home, False), (home, True)):
        env = {**base, "HOME": str(env_home), "XDG_CACHE_HOME": str(env_home / ".cache")}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["14", str(package.parent / "__init__.py")]
        assert any((home / ".cache").rglob("*.nbi")) == cached


def test_small_inputs_run_compiled_once_the_kernels_are_loaded(monkeypatch):
    from scenarios.staffing import kernels

    kernels.warm_up()
    assert kernels.loaded(kernels.erlang_c_required) and kernels.loaded(kernels.fcfs_core)
    assert requirements._kernel_threshold() == requirements.KERNEL_MIN_INTERVALS_LOADED
    assert simulation._kernel_threshold() == simulation.KERNEL_MIN_CALLS_LOADED
    called = []
    real = requirements._kernel_search
    monkeypatch.setattr(requirements, "_kernel_search", lambda *a: called.append(1) or real(*a))
    small = np.full(requirements.KERNEL_MIN_INTERVALS_LOADED, 100.0)
    assert (required_agents(small, 180, 1800, TARGETS[0]) == 14).all() and called
