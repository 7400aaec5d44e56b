"""A scenario's schedule section end to end: the week's requirement from the staffing, the
service the schedule delivers through the queue's service model, `capplan schedule` on a
scenario and on a requirements table, and `scenario run` carrying the schedule's metrics."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from forecasting.common.errors import InputError
from scenarios.inputs.spec import load_scenario
from scenarios.runner import run_scenario
from scenarios.scheduling.plan import week_requirement, week_slot
from scenarios.staffing.requirements import service_metrics
from tests.conftest import BANK_CALLS

SCHEDULE = {
    "templates": [
        {
            "name": "full",
            "hours": 8.5,
            "start_window": "06:30-13:00",
            "breaks": [{"minutes": 30, "after_hours": [3, 5]}],
            "cost_per_hour": 30,
        },
        {
            "name": "part",
            "hours": 4,
            "start_window": "08:00-17:00",
            "start_step_minutes": 60,
            "days_per_week": 4,
            "consecutive_days_off": False,
            "part_time": True,
            "cost_per_hour": 25,
        },
    ],
    "max_part_time_share": 0.3,
    "min_on_duty": 2,
}


def scenario_file(folder: Path, schedule: dict, **queue) -> Path:
    scenario = {
        "name": "shifts",
        "data": {"input": str(BANK_CALLS), "time_col": "DateTime", "value_col": "Calls"},
        "forecast": {"model": "seasonal_naive_week", "horizon_days": 5},
        "queues": {"voice": {"aht_seconds": 180, **queue}},
        "targets": {"service_level": 0.8, "target_seconds": 20},
        "supply": {"shrinkage": 0.3},
        "schedule": schedule,
    }
    path = folder / "shifts.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


def test_the_week_takes_each_weekday_and_interval_at_its_busiest():
    stamps = pd.date_range("2024-01-01 08:00", periods=3, freq="7D").append(
        pd.DatetimeIndex(["2024-01-02 09:30"])
    )
    need = week_requirement(stamps, [3, 5.2, 4, 7], pd.Timedelta(minutes=30), min_on_duty=4)
    slots = week_slot(stamps, pd.Timedelta(minutes=30))
    assert slots.tolist() == [16, 16, 16, 48 + 19]
    assert need[16] == 6 and need[48 + 19] == 7  # the busiest Monday 08:00 (rounded up)
    assert need.sum() == 13


@pytest.mark.slow
def test_the_schedule_covers_the_plan_and_its_service_is_erlang_on_the_agents_on_duty(tmp_path):
    scenario, path = load_scenario(scenario_file(tmp_path, SCHEDULE, model="erlang-c"))
    result = run_scenario(scenario, path, analysis=False)
    sched = result.schedule
    assert sched.schedule.covered and not sched.notes
    rows = result.intervals
    on_duty = sched.service.set_index("interval_start")["on_duty"].reindex(rows["interval_start"]).to_numpy()
    assert (on_duty >= rows["scheduled_agents"].to_numpy() - 1e-9).all()  # every interval of the plan held
    assert (on_duty >= 2).all()
    agents = sched.schedule.patterns.groupby("template")["agents"].sum()
    assert agents.get("part", 0) <= 0.3 * agents.sum()
    # the delivered service is Erlang C on the agents on the phones (independently recomputed)
    s = sched.service.merge(rows[["interval_start", "coverage"]], on="interval_start")
    busy = s[s["volume"] > 0].iloc[::7]
    rate = (
        busy["volume"] / busy["coverage"]
    ).to_numpy()  # a half-open interval's calls come in half the time
    m = service_metrics(rate, 180.0, 1800.0, busy["on_phones"].to_numpy(), 20.0, "erlang-c")
    assert busy["service_level"].to_numpy() == pytest.approx(m["service_level"], abs=1e-9)
    assert (busy["on_phones"] == busy["on_duty"] * 0.7).all()
    assert (
        sched.summary["schedule_service_level"] >= result.summary["service_level"] - 1e-9
    )  # more agents, no worse
    assert set(sched.daily.columns) >= {"date", "service_level", "intervals_missing_targets"}


@pytest.mark.slow
def test_capplan_schedule_on_a_scenario_and_on_its_intervals(run_cli, tracking_store, tmp_path):
    path = scenario_file(tmp_path, SCHEDULE)
    code, out, err = run_cli("schedule", path, "--out", tmp_path / "out")
    assert code == 0, err
    folder = tmp_path / "out" / "shifts"
    for name in (
        "schedule_shifts.csv",
        "schedule_patterns.csv",
        "schedule_coverage.csv",
        "schedule_service.csv",
    ):
        assert (folder / name).is_file()
    patterns = pd.read_csv(folder / "schedule_patterns.csv")
    assert f"agents on the schedule {patterns['agents'].sum()}" in out
    run = tracking_store.latest_run("schedules", tags={"scenario": "shifts"})
    assert run.metrics["schedule_agents"] == patterns["agents"].sum()
    # the scenario's own intervals, scheduled from the table alone: the same week of shifts
    code, _, err = run_cli("scenario", "run", path, "--out", tmp_path / "runs", "--no-track")
    assert code == 0, err
    templates = tmp_path / "templates.yaml"
    templates.write_text(yaml.safe_dump({"schedule": SCHEDULE}))
    code, out, err = run_cli(
        "schedule",
        tmp_path / "runs" / "shifts" / "intervals.csv",
        "--templates",
        templates,
        "--out",
        tmp_path / "table",
    )
    assert code == 0, err
    again = pd.read_csv(tmp_path / "table" / "intervals" / "schedule_patterns.csv")
    assert again["agents"].sum() == patterns["agents"].sum()
    assert (tmp_path / "runs" / "shifts" / "schedule_shifts.csv").is_file()  # scenario run wrote it too


def test_bad_schedule_inputs_are_refused_naming_the_key(tmp_path, run_cli):
    bad = {
        **SCHEDULE,
        "templates": [{**SCHEDULE["templates"][0], "breaks": [{"minutes": 30, "after_hours": [5, 3]}]}],
    }
    with pytest.raises(InputError) as caught:
        load_scenario(scenario_file(tmp_path, bad))
    assert "schedule.templates.0.breaks.0" in str(caught.value) and "earliest, latest" in str(caught.value)
    twice = {**SCHEDULE, "templates": [SCHEDULE["templates"][0]] * 2}
    with pytest.raises(InputError, match="a name of its own"):
        load_scenario(scenario_file(tmp_path, twice))
    code, _, err = run_cli("schedule", "baseline", "--out", tmp_path, "--no-track")
    assert code == 2 and "no schedule section" in err
    table = tmp_path / "need.csv"
    table.write_text("interval_start,scheduled_agents\n2024-01-01 08:00,3\n2024-01-01 08:30,x\n")
    code, _, err = run_cli("schedule", table, "--templates", tmp_path / "nope.yaml", "--out", tmp_path)
    assert code == 2 and "nope.yaml" in err
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"schedule": SCHEDULE}))
    code, _, err = run_cli("schedule", table, "--templates", tmp_path / "t.yaml", "--out", tmp_path)
    assert code == 2 and "row 3" in err and "scheduled_agents" in err


def test_templates_too_fine_to_schedule_are_refused_before_solving(tmp_path, run_cli):
    wide = {
        "templates": [
            {
                "name": "wide",
                "hours": 9,
                "start_window": "00:00-23:00",
                "start_step_minutes": 15,
                "breaks": [
                    {"minutes": 15, "after_hours": [1, 4]},
                    {"minutes": 30, "after_hours": [3, 6]},
                    {"minutes": 15, "after_hours": [5, 8]},
                ],
            }
        ]
    }
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"schedule": wide}))
    table = tmp_path / "need.csv"
    table.write_text("interval_start,scheduled_agents\n2024-01-01 08:00,3\n2024-01-01 08:30,4\n")
    code, _, err = run_cli("schedule", table, "--templates", tmp_path / "t.yaml", "--out", tmp_path)
    assert code == 2
    assert (
        "key 'schedule.templates'" in err
        and "start and break placements a day" in err
        and "larger start step" in err
    )
