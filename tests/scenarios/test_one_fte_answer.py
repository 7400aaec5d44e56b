"""One FTE answer per question: the plan, the target curve, the best reachable targets and the
"on 80 % of days" figure keep the same constraints (occupancy cap, shrinkage, service model,
staffing basis), so the curve's row at the scenario's own target *is* the plan; and each figure
says which question it answers in the vocabulary's words. Checked against the interval table
and Erlang C written out here."""

import math

import numpy as np
import pytest

from forecasting.common.vocabulary import EACH_INTERVAL, each_interval, fte_question, on_days
from scenarios.analysis.answers import manager_answer
from scenarios.analysis.realistic_targets import _fte, achievable_targets
from scenarios.inputs.spec import Scenario, load_scenario
from scenarios.runner import run_scenario
from tests.conftest import FAST

CAP = 0.7  # low enough to bind in most intervals of the bundled calls


def scenario(**changes) -> Scenario:
    data = {**FAST, "targets": {"service_level": 0.8, "target_seconds": 20, "max_occupancy": CAP}}
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) and key != "queues" else value
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def capped():
    return run_scenario(scenario(supply={"headcount": 40.0}))


def plan_fte_from_table(result) -> float:
    """The plan's FTE from its interval table: scheduled agent-hours a day over an FTE's day."""
    f = result.intervals
    hours = (f["scheduled_agents"] * 0.5 * f["coverage"]).sum()
    days = f["interval_start"].dt.normalize().nunique()
    return hours / days / (result.scenario.supply.hours_per_fte / 5)


def erlang_c_agents_for_cap(load: np.ndarray, cap: float) -> np.ndarray:
    """Erlang C's occupancy is load / n: the fewest agents with load / n ≤ cap (and n > load)."""
    n = np.ceil(load / cap - 1e-9)
    return np.where(load > 0, np.maximum(n, np.floor(load) + 1), 0)


def test_the_curve_s_row_at_the_scenario_s_target_is_the_plan_when_the_cap_binds(capped):
    s = capped.summary
    assert s["fte_total"] == pytest.approx(plan_fte_from_table(capped), rel=1e-12)
    row = capped.curve[capped.curve["plan"]]
    assert list(row["target"]) == ["service_level"] and row["value"].iloc[0] == 0.8
    assert row["fte"].iloc[0] == pytest.approx(s["fte_total"], rel=1e-12)
    # the cap binds: without it the plan is smaller, and the answer says so
    assert s["fte_without_cap"] < s["fte_total"] * 0.99
    text = " ".join(manager_answer(capped))
    assert f"occupancy cap (≤ {CAP:.0%}) decides the plan" in text
    assert f"needs {s['fte_without_cap']:,.1f} FTE" in text
    # a looser service target costs no less than the cap alone asks for
    cap_only = capped.curve[(capped.curve["target"] == "service_level") & (capped.curve["value"] <= 0.8)]
    f = capped.intervals
    load = f["volume"] / f["coverage"] * 180 / 1800
    floor = np.ceil(erlang_c_agents_for_cap(load.to_numpy(), CAP) / 0.7 - 1e-9)
    floor_fte = (floor * 0.5 * f["coverage"]).sum() / 5 / 7.5
    assert (cap_only["fte"] >= floor_fte - 1e-9).all()


def test_best_targets_agree_with_the_curve(capped):
    demand = capped.demand
    curve = capped.curve[capped.curve["target"] == "service_level"].set_index("value")["fte"]
    limit = float(curve.loc[0.9])
    best = achievable_targets(capped.scenario, demand, limit)
    assert best["service_level"] >= 0.9 - 1e-9
    assert _fte(capped.scenario, demand, "service_level", best["service_level"])[0] <= limit + 1e-9
    # below the cap's own cost no service target is reachable: the cap is kept
    cap_cost = float(curve.loc[0.5])
    assert achievable_targets(capped.scenario, demand, cap_cost * 0.9)["service_level"] is None


def test_the_days_figure_keeps_the_cap(capped):
    """'On 80 % of days' never drops below what the occupancy cap asks for at the forecast."""
    f = capped.intervals
    load = (f["volume"] / f["coverage"] * 180 / 1800).to_numpy()
    floor = np.ceil(erlang_c_agents_for_cap(load, CAP) / 0.7 - 1e-9)
    floor_fte = float((floor * 0.5 * f["coverage"]).sum() / 5 / 7.5)
    assert capped.summary["fte_for_target_days"] >= floor_fte - 1e-6


def test_a_percentile_plan_and_its_curve_staff_alike():
    result = run_scenario(scenario(forecast={"staff_to": 0.8}))
    row = result.curve[result.curve["plan"]]
    assert row["fte"].iloc[0] == pytest.approx(result.summary["fte_total"], rel=1e-12)
    assert row["fte"].iloc[0] == pytest.approx(plan_fte_from_table(result), rel=1e-12)
    text = " ".join(manager_answer(result))
    assert each_interval(0.8) == "staffed to the forecast's 80th percentile in each interval"
    assert f"The plan ({result.summary['fte_total']:,.1f} FTE, {each_interval(0.8)})" in text


def test_the_bundled_baseline_s_curve_row_is_its_plan(tracking_store):
    """The demo baseline (forecast by a weekday profile here: no champion needed): 80/20 with
    an occupancy cap of 90 % and Erlang A. The issue's 306.9 against 337.2 came from a curve
    that dropped the cap."""
    s, path = load_scenario("baseline")
    s = s.model_copy(update={"forecast": s.forecast.model_copy(update={"model": "weekday_mean"})})
    result = run_scenario(s, path, store=tracking_store)
    row = result.curve[result.curve["plan"]]
    assert row["fte"].iloc[0] == pytest.approx(result.summary["fte_total"], rel=1e-12)
    assert result.summary["fte_total"] == pytest.approx(plan_fte_from_table(result), rel=1e-12)


def test_each_figure_names_its_question_in_one_set_of_words(run_cli, write_scenario, tracking_store):
    data = {
        **FAST,
        "targets": {"service_level": 0.8, "target_seconds": 20, "max_occupancy": 0.85},
        "supply": {**FAST["supply"], "headcount": 45},
    }
    path = write_scenario("words", data)
    code, out, err = run_cli("targets", path)
    assert code == 0, err
    result = run_scenario(Scenario.model_validate(data), path)
    s = result.summary
    assert f"To meet 80/20 {EACH_INTERVAL} with occupancy ≤ 85%: {s['fte_total']:,.1f} FTE" in out
    assert f"To meet 80/20 {on_days(0.8)} with occupancy ≤ 85%: {s['fte_for_target_days']:,.1f} FTE" in out
    assert (
        f"FTE each target costs ({EACH_INTERVAL}; occupancy ≤ 85%, shrinkage 30%, textbook Erlang C)" in out
    )
    plan_line = next(line for line in out.splitlines() if "← the plan" in line)
    assert f"{s['fte_total']:,.1f}" in plan_line and "80% in 20 s" in plan_line
    assert fte_question("fte_total") == f"FTE {EACH_INTERVAL}"
    assert fte_question("fte_for_target_days", days_share=0.8) == "FTE to meet the target on 80% of days"


def test_agents_on_the_phones_are_the_fte_that_keep_them_there(run_cli, write_scenario, tracking_store):
    """20 agents on the phones in every open interval, 30 % shrinkage: 20 / 0.7 scheduled in
    each, paid for the open part of the interval; an FTE-day is 37.5 / 5 hours."""
    path = write_scenario("phones", FAST)
    code, out, err = run_cli("targets", path, "--agents", "20")
    assert code == 0, err
    quick = run_scenario(Scenario.model_validate(FAST), path, analysis=False)
    f = quick.intervals
    fte = float((20 / 0.7 * 0.5 * f["coverage"]).sum() / f["interval_start"].dt.normalize().nunique() / 7.5)
    assert f"With 20.0 agents on the phones in each open interval ({fte:,.1f} FTE): expect" in out
    code, same, err = run_cli("targets", path, "--headcount", repr(fte))
    assert code == 0, err
    expect = lambda text: text.split("expect ", 1)[1].split(".")[0]  # noqa: E731
    assert expect(out) == expect(same)


@pytest.mark.parametrize("bad", ["0", "-3", "inf", "x"])
def test_agents_must_be_a_positive_number(run_cli, write_scenario, bad):
    path = write_scenario("phones", FAST)
    code, _, err = run_cli("targets", path, "--agents", bad)
    assert code != 0 and "agents" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_headcount_and_agents_are_one_or_the_other(run_cli, write_scenario):
    path = write_scenario("phones", FAST)
    with pytest.raises(SystemExit):
        run_cli("targets", path, "--agents", "20", "--headcount", "40")


def test_erlang_c_of_the_plan_is_the_formula(capped):
    """The plan's service (Erlang C) at its agents, from the Erlang B recursion written out."""
    f = capped.intervals[capped.intervals["volume"] > 0].head(20)
    for _, r in f.iterrows():
        a = r["volume"] / r["coverage"] * 180 / 1800
        n = int(r["required_agents"])
        b = 1.0
        for k in range(1, n + 1):
            b = a * b / (k + a * b)
        c = n * b / (n - a * (1 - b))
        sl = 1 - c * math.exp(-(n - a) * 20 / 180)
        assert r["service_level"] == pytest.approx(sl, abs=1e-9)
        assert a / n <= CAP + 1e-9
