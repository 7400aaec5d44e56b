"""Every reference value of DOMAIN.md, to 6 significant digits, plus the invariants planners rely on."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from scenarios.staffing.erlang import erlang_a_metrics, erlang_b, erlang_c, erlang_c_metrics
from scenarios.staffing.requirements import StaffingTargets, required_agents, scheduled_agents


def close(value, expected: str):
    """Equal to the reference as DOMAIN.md gives it: 6 significant digits, or fewer if it has fewer."""
    digits = min(6, len(expected.replace(".", "").replace("-", "").lstrip("0")))
    value = float(np.asarray(value).reshape(-1)[0])
    assert f"{value:.{digits}g}" == f"{float(expected):.{digits}g}", (value, expected)


def test_erlang_c_reference_case():
    m = erlang_c_metrics(100, 180, 1800, 14, 20)
    close(m["load"], "10.0")
    close(m["p_wait"], "0.1741319")
    close(m["service_level"], "0.8883500")
    close(m["asa_seconds"], "7.83594")
    close(m["occupancy"], "0.7142857")


@pytest.mark.parametrize("occupancy, agents, scheduled", [(0.85, 14, 20), (0.70, 15, 22)])
def test_required_and_scheduled_agents(occupancy, agents, scheduled):
    n = required_agents(
        100, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=occupancy)
    )
    assert int(n) == agents
    assert int(scheduled_agents(n, 0.3)) == scheduled


@pytest.mark.parametrize("load, one_percent, tenth_percent", [(10, 18, 21), (100, 117, 128)])
def test_erlang_b_trunks(load, one_percent, tenth_percent):
    n = np.arange(1, 200)
    b = erlang_b(load, n)
    assert n[np.argmax(b <= 0.01)] == one_percent
    assert n[np.argmax(b <= 0.001)] == tenth_percent


def test_erlang_b_value_and_recursion():
    close(erlang_b(100, 117), "0.0097901")
    b = 1.0  # the stable recursion of DOMAIN.md, independently
    for k in range(1, 31):
        b = 10 * b / (k + 10 * b)
        np.testing.assert_allclose(erlang_b(10, k), b, rtol=1e-10)


def test_square_root_staffing_minimum():
    for load, expected in ((10, 14), (100, 111), (1000, 1034)):
        n = np.arange(load + 1, load + 100)
        assert n[np.argmax(erlang_c(load, n) <= 0.2)] == expected
        assert expected == int(np.ceil(load + 1.0615 * np.sqrt(load)))


def test_erlang_c_no_wait_target():
    close(erlang_c(2.5, 6), "0.0474448")
    close(erlang_c(2.5, 5), "0.1303713")
    assert int(required_agents(30, 300, 3600, StaffingTargets(service_level=0.9, target_seconds=0))) == 6


def test_erlang_a_reference_case():
    m = erlang_a_metrics(100, 180, 1800, 14, 20, 300)
    close(m["p_wait"], "0.1452601")
    close(m["abandon_rate"], "0.0139837")
    close(m["mean_wait_seconds"] / 60, "0.0699187")
    close(m["service_level"], "0.9167921")
    close(m["p_wait_over_target"], "0.0760440")
    close(m["occupancy"], "0.7042973")


def test_erlang_a_equal_rates_is_a_poisson_tail():
    m = erlang_a_metrics(6000, 60, 3600, 110, 0, 60)  # λ = 100/min, μ = θ = 1/min
    close(m["p_wait"], "0.1705599")
    np.testing.assert_allclose(m["p_wait"], stats.poisson.sf(109, 100), rtol=1e-9)


def test_overload_is_reported_not_hidden():
    m = erlang_c_metrics([100, 100], [180, 180], 1800, [10, 9.5], 20)
    assert m["overloaded"].all()
    assert (m["service_level"] == 0).all() and np.isinf(m["asa_seconds"]).all()
    a = erlang_a_metrics(100, 180, 1800, 8, 20, 300)  # Erlang A stays defined above capacity
    assert not a["overloaded"] and 0 < a["abandon_rate"] < 1 and np.isfinite(a["service_level"])


def test_large_centers_and_fractional_agents():
    m = erlang_c_metrics(5000 * 1800 / 180 * 0.98, 180, 1800, [5000, 5200, 6000], 20)
    assert np.isfinite(m["p_wait"]).all() and np.all(np.diff(m["service_level"]) >= 0)
    assert m["service_level"][0] < m["service_level"][-1]
    b = erlang_b(50.0, [55.0, 55.5, 56.0])
    assert b[0] > b[1] > b[2]
    assert (
        np.isfinite(erlang_b(5e4, 2e4)) and 0.59 < erlang_b(5e4, 2e4) < 0.61
    )  # ≈ 1 − n/A far beyond capacity


def test_erlang_a_tends_to_erlang_c_for_patient_callers():
    a = erlang_a_metrics(100, 180, 1800, 14, 20, 1e7)
    c = erlang_c_metrics(100, 180, 1800, 14, 20)
    np.testing.assert_allclose(a["service_level"], c["service_level"], rtol=1e-3)


@given(
    volume=st.floats(10, 2000),
    aht=st.floats(30, 900),
    agents=st.integers(1, 120),
    patience=st.floats(1e-9, 1e6),
)
@settings(max_examples=150, deadline=None)
def test_erlang_a_abandonment_follows_patience_to_both_limits(volume, aht, agents, patience):
    """Patience to 0 is Erlang's loss system (callers finding every agent busy all leave:
    abandonment = Erlang B), to infinity Erlang C; in between abandonment falls as patience
    grows. Patience of 0.01 s used to return Erlang C (abandonment 0)."""
    load = volume * aht / 1800
    shorter = erlang_a_metrics(volume, aht, 1800, agents, 20, patience)["abandon_rate"]
    longer = erlang_a_metrics(volume, aht, 1800, agents, 20, patience * 4)["abandon_rate"]
    assert np.isfinite(shorter) and 0 <= shorter <= 1
    assert longer <= shorter + 1e-6
    assert shorter <= erlang_b(load, agents) + 1e-6  # never worse than losing every caller who waits
    if patience < 1e-3 * aht:
        assert shorter == pytest.approx(erlang_b(load, agents), abs=2e-3)


def test_required_agents_match_a_linear_search():
    rng = np.random.default_rng(5)
    volume, aht = rng.uniform(1, 800, 300), rng.uniform(30, 600, 300)
    targets = StaffingTargets(service_level=0.85, target_seconds=15, asa_seconds=30, max_occupancy=0.9)
    got = required_agents(volume, aht, 1800, targets)
    for v, h, n in zip(volume, aht, got, strict=False):
        counts = np.arange(0, int(n) + 1)
        ok = targets.met(erlang_c_metrics(v, h, 1800, counts, 15))
        assert ok[-1] and not ok[:-1].any()
    abandon = required_agents(
        volume, aht, 1800, StaffingTargets(abandon_rate=0.03, target_seconds=20), "erlang-a", patience=240
    )
    m = erlang_a_metrics(volume, aht, 1800, abandon, 0, 240)
    m_less = erlang_a_metrics(volume, aht, 1800, abandon - 1, 0, 240)
    assert (m["abandon_rate"] <= 0.03 + 1e-9).all() and (m_less["abandon_rate"][abandon > 0] > 0.03).all()


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 2000), st.floats(20, 900), st.integers(1, 400))
def test_service_never_falls_when_agents_are_added(volume, aht, agents):
    m = erlang_c_metrics(volume, aht, 1800, [agents, agents + 1], 20)
    assert m["service_level"][1] >= m["service_level"][0] - 1e-12
    a = erlang_a_metrics(volume, aht, 1800, [agents, agents + 1], 20, 180)
    assert a["service_level"][1] >= a["service_level"][0] - 1e-9
    assert a["abandon_rate"][1] <= a["abandon_rate"][0] + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 3000), st.floats(1.0, 1.5), st.floats(30, 600))
def test_required_agents_never_fall_when_volume_rises(volume, factor, aht):
    targets = StaffingTargets(service_level=0.8, target_seconds=20)
    low, high = required_agents([volume, volume * factor], aht, 1800, targets)
    assert high >= low


def test_capplan_staff_json(run_cli):
    code, out, err = run_cli(
        "staff",
        "--calls",
        "100",
        "--interval",
        "30min",
        "--aht",
        "180",
        "--target-sl",
        "0.8",
        "--target-seconds",
        "20",
        "--shrinkage",
        "0.3",
        "--max-occupancy",
        "0.85",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["agents"] == 14 and result["scheduled_agents"] == 20
    close(result["service_level"], "0.8883500")
    close(result["asa_seconds"], "7.83594")
    close(result["p_wait"], "0.1741319")
    close(result["occupancy"], "0.7142857")
    code, out, _ = run_cli(
        "staff",
        "--calls",
        "100",
        "--aht",
        "180",
        "--agents",
        "14",
        "--patience",
        "300",
        "--target-seconds",
        "20",
        "--json",
    )
    result = json.loads(out)
    close(result["p_wait"], "0.1452601")
    close(result["abandon_rate"], "0.0139837")
    close(result["service_level"], "0.9167921")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (
            ["--calls", "100", "--aht", "180", "--target-sl", "80"],
            "--service-level",
        ),  # the older spelling works
        (["--calls", "100", "--aht", "0", "--target-sl", "0.8"], "--aht"),
        (["--calls", "100", "--aht", "180"], "no target"),
        (["--calls", "100", "--aht", "180", "--abandon-rate", "0.05"], "--patience"),
    ],
)
def test_capplan_staff_bad_options(run_cli, args, fragment):
    code, _out, err = run_cli("staff", *args)
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1


def test_capplan_staff_batch(run_cli, tmp_path):
    path = tmp_path / "intervals.csv"
    path.write_text(
        "interval_start,calls,aht\n2024-01-08 09:00,100,180\n2024-01-08 09:30,0,\n2024-01-08 10:00,200,180\n"
    )
    code, _out, err = run_cli(
        "staff", "--input", path, "--target-sl", "0.8", "--shrinkage", "0.3", "--out", tmp_path / "s.csv"
    )
    assert code == 0, err
    table = (tmp_path / "s.csv").read_text().splitlines()
    assert table[0].startswith("interval_start,calls,aht,agents,scheduled_agents")
    assert [line.split(",")[3] for line in table[1:]] == [
        "14",
        "0",
        str(int(required_agents(200, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=20)))),
    ]


# Every row of DOMAIN.md's reference table, through `capplan staff --json`.
CLI_REFERENCES = [
    # (arguments, expected integer fields, expected values as given in DOMAIN.md)
    (
        ["--calls", "100", "--interval", "30min", "--aht", "180", "--agents", "14"],
        {},
        {
            "load_erlangs": "10.0",
            "p_wait": "0.1741319",
            "service_level": "0.8883500",
            "asa_seconds": "7.83594",
            "occupancy": "0.7142857",
        },
    ),
    (
        [
            "--calls",
            "100",
            "--interval",
            "30min",
            "--aht",
            "180",
            "--target-sl",
            "0.8",
            "--shrinkage",
            "0.3",
            "--max-occupancy",
            "0.85",
        ],
        {"agents": 14, "scheduled_agents": 20},
        {},
    ),
    (
        [
            "--calls",
            "100",
            "--interval",
            "30min",
            "--aht",
            "180",
            "--target-sl",
            "0.8",
            "--shrinkage",
            "0.3",
            "--max-occupancy",
            "0.70",
        ],
        {"agents": 15, "scheduled_agents": 22},
        {},
    ),
    (
        ["--calls", "20", "--interval", "60min", "--aht", "1800", "--target-blocking", "0.01"],
        {"agents": 18},
        {},
    ),
    (
        ["--calls", "20", "--interval", "60min", "--aht", "1800", "--target-blocking", "0.001"],
        {"agents": 21},
        {},
    ),
    (
        ["--calls", "200", "--interval", "60min", "--aht", "1800", "--target-blocking", "0.01"],
        {"agents": 117},
        {"blocking": "0.0097901"},
    ),
    (
        ["--calls", "200", "--interval", "60min", "--aht", "1800", "--target-blocking", "0.001"],
        {"agents": 128},
        {},
    ),
    (
        ["--calls", "100", "--interval", "30min", "--aht", "180", "--agents", "14", "--patience", "300"],
        {},
        {
            "p_wait": "0.1452601",
            "abandon_rate": "0.0139837",
            "service_level": "0.9167921",
            "occupancy": "0.7042973",
        },
    ),
    (
        ["--calls", "6000", "--interval", "60min", "--aht", "60", "--agents", "110", "--patience", "60"],
        {},
        {"p_wait": "0.1705599"},
    ),
    (
        [
            "--calls",
            "10",
            "--interval",
            "30min",
            "--aht",
            "1800",
            "--target-sl",
            "0.8",
            "--target-seconds",
            "0",
        ],
        {"agents": 14},
        {},
    ),
    (
        [
            "--calls",
            "100",
            "--interval",
            "30min",
            "--aht",
            "1800",
            "--target-sl",
            "0.8",
            "--target-seconds",
            "0",
        ],
        {"agents": 111},
        {},
    ),
    (
        [
            "--calls",
            "1000",
            "--interval",
            "30min",
            "--aht",
            "1800",
            "--target-sl",
            "0.8",
            "--target-seconds",
            "0",
        ],
        {"agents": 1034},
        {},
    ),
    (
        [
            "--calls",
            "30",
            "--interval",
            "60min",
            "--aht",
            "300",
            "--target-sl",
            "0.9",
            "--target-seconds",
            "0",
        ],
        {"agents": 6},
        {"p_wait": "0.0474448"},
    ),
    (["--calls", "30", "--interval", "60min", "--aht", "300", "--agents", "5"], {}, {"p_wait": "0.1303713"}),
]


@pytest.mark.parametrize("args, integers, values", CLI_REFERENCES)
def test_every_reference_value_through_the_cli(run_cli, args, integers, values):
    code, out, err = run_cli("staff", *args, "--json")
    assert code == 0, err
    result = json.loads(out)
    for key, expected in integers.items():
        assert result[key] == expected, (key, result)
    for key, expected in values.items():
        close(result[key], expected)


def test_erlang_a_mean_wait_reference_through_the_api():
    close(erlang_a_metrics(100, 180, 1800, 14, 20, 300)["mean_wait_seconds"] / 60, "0.0699187")


@pytest.mark.parametrize(
    ("volume", "aht"), [(10.0, float("nan")), (float("nan"), 180.0), (10.0, float("inf"))]
)
def test_a_missing_number_is_refused_not_searched_for_ever(volume, aht):
    with pytest.raises(ValueError, match="finite"):
        required_agents(
            np.array([volume]), np.array([aht]), 1800, StaffingTargets(service_level=0.8, target_seconds=20)
        )


def test_an_unknown_aht_without_contacts_needs_no_agent():
    agents = required_agents(
        np.array([0.0, 10.0]),
        np.array([np.nan, 180.0]),
        1800,
        StaffingTargets(service_level=0.8, target_seconds=20),
    )
    assert agents[0] == 0 and agents[1] > 0
