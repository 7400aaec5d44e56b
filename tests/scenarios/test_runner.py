"""The scenario runner against independent computations on the bundled calls."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecasting.forecast_job import make_forecast
from forecasting.series import forecast_series
from scenarios.demand.planning import build_demand, plan_fte
from scenarios.inputs.base_forecast import base_forecast, load_history
from scenarios.inputs.spec import Scenario, load_scenario
from scenarios.runner import run_scenario
from scenarios.staffing.requirements import StaffingTargets, required_agents, service_metrics
from tests.conftest import FAST


def scenario(**changes) -> Scenario:
    data = {**FAST}
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) and key != "queues" else value
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def base_result():
    return run_scenario(scenario())


def test_volumes_are_the_model_forecast_summed_to_half_hours(base_result):
    s = scenario()
    native, _, _ = make_forecast(
        load_history(s.data, "30min"), model="weekday_mean", horizon_days=5, progress=False
    )
    expected = native.groupby(pd.to_datetime(native["timestamp"]).dt.floor("30min"))["forecast"].sum()
    got = base_result.intervals.set_index("interval_start")["volume"]
    np.testing.assert_allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert base_result.intervals["interval_start"].dt.date.nunique() == 5


def test_agents_fte_and_cost_follow_the_textbook(base_result):
    """Erlang C at each interval's arrival rate: the last half-hour holds only the 21:00 slot
    (5 of its 30 minutes are open), so its calls arrive at six times their count per 30 min,
    and its agents are paid for 5 minutes."""
    s = scenario()
    native, _, _ = make_forecast(
        load_history(s.data, "30min"), model="weekday_mean", horizon_days=5, progress=False
    )
    slots = pd.to_datetime(native["timestamp"]).dt.floor("30min").value_counts()
    f = base_result.intervals
    coverage = slots.reindex(f["interval_start"]).to_numpy() / 6
    assert (coverage < 1).sum() == 5  # one closing half-hour a day
    need = required_agents(
        f["volume"] / coverage, 180, 1800, StaffingTargets(service_level=0.8, target_seconds=20)
    )
    np.testing.assert_array_equal(f["required_agents"], need)
    np.testing.assert_array_equal(f["scheduled_agents"], np.ceil(need / 0.7 - 1e-9))
    hours = (f["scheduled_agents"] * 0.5 * coverage).sum()
    assert base_result.summary["fte_total"] == pytest.approx(hours / 5 / (37.5 / 5))
    assert base_result.summary["total_cost"] == pytest.approx(hours * 30)
    assert base_result.summary["peak_agents"] == f["scheduled_agents"].max()
    m = service_metrics(f["volume"] / coverage, 180, 1800, need, 20)
    np.testing.assert_allclose(f["service_level"], m["service_level"])
    assert (f["service_level"] >= 0.8 - 1e-9).all() and base_result.summary[
        "share_intervals_meeting_targets"
    ] == 1
    assert "abandon_rate" not in base_result.summary  # Erlang C: no abandonment to report


def test_same_scenario_twice_gives_the_same_numbers(base_result):
    again = run_scenario(scenario())
    pd.testing.assert_frame_equal(again.intervals, base_result.intervals)
    pd.testing.assert_frame_equal(again.daily, base_result.daily)
    assert again.summary == base_result.summary


def test_campaign_multiplier_applies_only_in_its_window(base_result):
    day = base_result.intervals["interval_start"].dt.normalize().unique()[2]
    campaign = run_scenario(
        scenario(demand={"multipliers": [{"start": str(day.date()), "end": str(day.date()), "factor": 1.2}]})
    )
    ratio = campaign.intervals["volume"] / base_result.intervals["volume"]
    inside = campaign.intervals["interval_start"].dt.normalize() == day
    np.testing.assert_allclose(ratio[inside], 1.2)
    np.testing.assert_allclose(ratio[~inside], 1.0)
    assert campaign.summary["fte_total"] > base_result.summary["fte_total"]


def test_monte_carlo_matches_the_exact_probability_with_fully_correlated_days():
    """With ρ = 1 every interval of a day moves with one normal draw z, so the day meets its
    target exactly when z is below a threshold found here by bisection, without simulation."""
    s = scenario(risk={"simulations": 4000, "correlation": 1.0, "seed": 3}, supply={"headcount": 60})
    result = run_scenario(s)
    f = result.intervals
    for day, part in f.groupby(f["interval_start"].dt.normalize()):
        mean, sd = (
            part["volume"].to_numpy() / part["coverage"].to_numpy(),
            part["volume_sd"].to_numpy() / part["coverage"].to_numpy(),
        )
        weight = part["coverage"].to_numpy()
        agents = part["available_agents"].to_numpy() * 0.7

        def daily_sl(z, mean=mean, sd=sd, weight=weight, agents=agents):
            v = np.maximum(mean + sd * z, 0)
            return np.sum(
                weight * v * service_metrics(v, 180, 1800, agents, 20, asa=False)["service_level"]
            ) / np.sum(weight * v)

        lo, hi = -8.0, 8.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if daily_sl(mid) >= 0.8 else (lo, mid)
        exact = stats.norm.cdf(lo)
        simulated = result.daily.set_index("date").loc[day, "supply_p_meet_target"]
        assert simulated == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 4000) + 0.005)


def test_supply_reports_service_and_understaffed_intervals(base_result):
    enough = run_scenario(scenario(supply={"headcount": base_result.summary["fte_total"]}))
    assert enough.summary["understaffed_intervals"] == 0
    assert enough.summary["supply_service_level"] >= 0.8
    half = run_scenario(scenario(supply={"headcount": base_result.summary["fte_total"] / 2}))
    assert half.summary["understaffed_intervals"] == len(half.intervals)
    assert half.summary["supply_service_level"] < 0.5
    assert (
        half.summary["supply_p_meet_target_mean"] < 0.01 < 0.2 < enough.summary["supply_p_meet_target_mean"]
    )


def test_achievable_target_is_the_best_the_headcount_reaches():
    s = scenario()
    demand = build_demand(s, base_forecast(s.data, s.forecast, s.risk.correlation))
    fte_at_80, _, _ = plan_fte(s, demand, {"voice": {"service_level": 0.8}})
    result = run_scenario(scenario(supply={"headcount": fte_at_80}))
    best = result.achievable["service_level"]
    assert best >= 0.8 - 1e-3
    assert plan_fte(s, demand, {"voice": {"service_level": best}})[0] <= fte_at_80 + 1e-9
    assert plan_fte(s, demand, {"voice": {"service_level": min(best + 0.01, 0.999)}})[0] > fte_at_80
    curve = result.curve[result.curve["target"] == "service_level"]
    assert curve["fte"].is_monotonic_increasing and curve["cost"].is_monotonic_increasing


def test_channels_staff_separately_and_quantile_staffing_costs_more(base_result):
    mixed = run_scenario(
        scenario(
            queues={
                "voice": {"aht_seconds": 180, "share": 0.8},
                "chat": {"channel": "chat", "aht_seconds": 400, "share": 0.1, "concurrency": 2},
                "mail": {"channel": "email", "aht_seconds": 300, "share": 0.1},
            },
            targets={"queues": {"mail": {"response_hours": 4}}},
        )
    )
    assert set(mixed.intervals["queue"]) == {"voice", "chat", "mail"}
    mail = mixed.intervals[mixed.intervals["queue"] == "mail"]
    assert mail["backlog"].notna().all() and mixed.summary["answered_in_time"] >= 0.95
    np.testing.assert_allclose(
        mixed.intervals.groupby("interval_start")["volume"].sum(),
        base_result.intervals.groupby("interval_start")["volume"].sum(),
    )
    p80 = run_scenario(scenario(forecast={"staff_to": 0.8}))
    assert (p80.intervals["volume_staffed"] >= p80.intervals["volume"]).all()
    assert p80.summary["fte_total"] > base_result.summary["fte_total"]
    assert p80.summary["p_meet_target_mean"] > base_result.summary["p_meet_target_mean"]


def test_missing_handle_time_is_a_clear_error():
    from forecasting.common.errors import InputError

    with pytest.raises(InputError, match=r"queues\.voice\.aht_seconds"):
        run_scenario(scenario(queues={"voice": {}}))


def test_bundled_baseline_loads_evidence_from_the_log():
    from scenarios.analysis.realistic_targets import evidence_table
    from scenarios.inputs.load import load_evidence

    s, path = load_scenario("baseline")
    table = evidence_table(s, load_evidence(s, path)).set_index("kpi")
    assert {"service_level", "asa", "abandon_rate"} <= set(table.index)
    assert table.loc["service_level", "scenario_target"] == 0.8


def test_schedule_file_is_checked_row_by_row(base_result, tmp_path):
    from forecasting.common.errors import InputError

    stamps = base_result.intervals["interval_start"]
    good = pd.DataFrame({"interval_start": stamps.dt.strftime("%Y-%m-%d %H:%M"), "agents": 40})
    good.iloc[:-3].to_csv(tmp_path / "schedule.csv", index=False)
    result = run_scenario(
        scenario(supply={"available_agents": str(tmp_path / "schedule.csv")}), analysis=False
    )
    np.testing.assert_allclose(result.intervals["available_agents"].iloc[:-3], 40)
    assert result.intervals["available_agents"].iloc[-3:].eq(0).all()
    assert any("3 open intervals have no row" in w for w in result.warnings)
    bad_cases = {
        "off the grid": (
            good.assign(interval_start=good["interval_start"].str.replace(":00", ":10", regex=False)),
            "not an interval of the horizon",
        ),
        "duplicate": (pd.concat([good, good.iloc[:1]]), "interval given twice"),
        "unknown queue": (good.assign(queue="Voice"), "unknown queue"),
        "bad time": (
            good.assign(interval_start=["soon"] + list(good["interval_start"].iloc[1:])),
            "unparsable time",
        ),
    }
    for label, (frame, message) in bad_cases.items():
        path = tmp_path / f"{label.replace(' ', '_')}.csv"
        frame.to_csv(path, index=False)
        with pytest.raises(InputError, match=message) as info:
            run_scenario(scenario(supply={"available_agents": str(path)}), analysis=False)
        assert str(path) in str(info.value) and "row " in str(info.value), label
    assert "'soon'" in str(info.value)


def test_changes_that_touch_nothing_are_warned_about():
    result = run_scenario(
        scenario(
            demand={
                "multipliers": [{"start": "2010-01-01", "factor": 2}],
                "events": [{"start": "1999-01-01", "lift": 1, "shape": "step"}],
            }
        ),
        analysis=False,
    )
    assert any("demand.multipliers.0 applies to no open interval" in w for w in result.warnings)
    assert any("demand.events.0" in w for w in result.warnings)


def test_forecasts_of_a_log_are_cached_per_planning_interval(tracking_store):
    from tests.conftest import BANK_LOG

    log = {
        "data": {"input": str(BANK_LOG), "format": "anonymous-bank"},
        "forecast": {"model": "weekday_mean", "horizon_days": 3, "interval": "60min"},
        "queues": {"voice": {}},
    }
    hourly = run_scenario(Scenario.model_validate({**FAST, **log}), analysis=False, store=tracking_store)
    log["forecast"] = {**log["forecast"], "interval": "30min"}
    half_hourly = run_scenario(Scenario.model_validate({**FAST, **log}), analysis=False, store=tracking_store)
    assert (
        abs(len(half_hourly.intervals) - 2 * len(hourly.intervals)) <= 3
    )  # calendars inferred at each interval may differ by a slot
    assert half_hourly.summary["volume_total"] == pytest.approx(hourly.summary["volume_total"], rel=0.02)
    assert hourly.intervals["aht"].between(60, 600).all()  # the log's own handle times


def test_analysing_a_computed_what_if_equals_a_full_run(base_result):
    """Load → compute → analyse: the app's "Run and save" analyses the instant what-if it shows,
    and gets the numbers a full run gets."""
    from scenarios.analysis.analyse import analyse
    from scenarios.inputs.load import load_inputs
    from scenarios.runner import compute

    quick = compute(load_inputs(scenario()))
    assert not quick.analysed and quick.daily["p_meet_target"].isna().all() and quick.curve.empty
    full = analyse(quick)
    assert full.analysed and full.summary == base_result.summary
    pd.testing.assert_frame_equal(full.daily, base_result.daily)
    pd.testing.assert_frame_equal(full.curve, base_result.curve)
    pd.testing.assert_frame_equal(
        quick.intervals, base_result.intervals
    )  # the analysis adds, it never restaffs


def test_risk_uses_the_forecasts_own_rate_uncertainty():
    """The rate's standard deviation comes from the model's distribution (negative binomial:
    Var = μ + φμ², so the rate's sd is √φ·μ, φ at the day's lead time), not rebuilt from rounded
    interval bounds; with errors fully correlated within an interval, its sd is √φ times its volume."""
    from forecasting.catalog import make_model

    s = scenario(risk={"correlation": 1.0})
    result = load_history(s.data, "30min")
    model = make_model("weekday_mean").fit(forecast_series(result), result.calendar)
    base = base_forecast(s.data, s.forecast, 1.0)
    t = base.table[base.table["volume"] > 0]
    spread = model.spread_at(pd.DatetimeIndex(t["interval_start"]))  # by lead day: one per interval's day
    np.testing.assert_allclose(t["volume_sd"] / t["volume"], np.sqrt(spread), rtol=1e-9)
    assert model.spread_ > 0


def test_a_scenario_error_names_its_keys_not_command_line_options():
    from forecasting.common.errors import InputError, cli_option

    with pytest.raises(InputError) as err:
        run_scenario(scenario(data={"queue": "nope"}), analysis=False)
    said = err.value.render(cli_option)
    assert "key 'data.queue'" in said and "--queue" not in said
