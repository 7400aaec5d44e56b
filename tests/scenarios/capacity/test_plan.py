"""A scenario's capacity section end to end: validation, a long daily history planned without
extrapolation, the bundled plan through `capplan capacity` (tables, workbook, MLflow) and
through `capplan scenario run` (the plan's metrics beside the staffing's)."""

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from forecasting.common.errors import InputError
from forecasting.stress import StressCase, daily_history
from scenarios.capacity.plan import (
    capacity_requirements,
    compute_capacity,
    load_capacity_inputs,
    plan_start,
    shrinkage_by_week,
)
from scenarios.inputs.spec import load_scenario
from scenarios.tracking.runs import CAPACITY_EXPERIMENT, CAPACITY_OUTPUTS
from tests.conftest import BANK_CALLS

CAPACITY = {
    "weeks": 52,
    "percentile": 0.8,
    "growth_pct_per_year": 10,
    "shrinkage_by_month": {12: 0.4},
    "team": [{"heads": 40, "tenure_weeks": 100}, {"heads": 6, "tenure_weeks": 2}],
    "attrition": [{"after_weeks": 0, "monthly": 0.06}, {"after_weeks": 13, "monthly": 0.03}],
    "training_weeks": 3,
    "ramp": [0.5, 0.75],
    "hiring": {"lead_weeks": 2, "every_weeks": 4, "max_class": 8},
    "overtime_max_share": 0.05,
    "costs": {"per_hire": 2000, "per_fte_week": 1000},
}


def daily_scenario(folder: Path, capacity: dict, days: int = 1100) -> Path:
    daily, _ = daily_history(StressCase("plain"), days=days, level=1200.0, seed=3)
    daily.rename_axis("date").rename("contacts").to_csv(folder / "daily.csv")
    scenario = {
        "name": "plan",
        "data": {"input": "daily.csv", "time_col": "date", "value_col": "contacts"},
        "queues": {"voice": {"aht_seconds": 300}},
        "targets": {"service_level": 0.8, "target_seconds": 20},
        "supply": {"shrinkage": 0.3},
        "capacity": capacity,
    }
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"attrition": [{"after_weeks": 13, "monthly": 0.03}]}, "after_weeks start at 0"),
        ({"attrition": [{"after_weeks": 0, "monthly": 1.2}]}, "less than 1"),
        ({"hiring": {"min_class": 9, "max_class": 8}}, "min_class (9) at most max_class (8)"),
        ({"weeks": 100}, "less than or equal to 78"),
        ({"team": []}, "at least 1"),
        ({"teem": []}, "teem"),
    ],
)
def test_a_wrong_capacity_section_is_refused_naming_the_key(tmp_path, change, words):
    path = daily_scenario(tmp_path, {**CAPACITY, **change}, days=60)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert "capacity" in text and words in text


def test_one_attrition_rate_for_every_tenure(tmp_path):
    scenario, _ = load_scenario(daily_scenario(tmp_path, {**CAPACITY, "attrition": 0.03}, days=60))
    assert [(b.after_weeks, b.monthly) for b in scenario.capacity.attrition] == [(0, 0.03)]


@pytest.mark.slow
def test_three_years_of_daily_totals_plan_a_year_without_extrapolating(tmp_path):
    scenario, path = load_scenario(daily_scenario(tmp_path, CAPACITY))
    inputs = load_capacity_inputs(scenario, path)
    assert inputs.week_starts[0] == plan_start(pd.Timestamp("2021-01-04") + pd.Timedelta(days=1099))
    assert inputs.week_starts[0].day_of_week == 0 and len(inputs.week_starts) == 52
    assert not any("carry" in n for n in inputs.notes)  # the forecast reaches the whole plan
    assert any("typical" in n for n in inputs.notes)  # daily totals spread by the generic day, said
    history_week = 1200 * 7 * 1.08**3  # the generated level after three years of 8 % trend
    assert 0.8 * history_week < inputs.volume.mean() < 1.3 * history_week
    assert (inputs.volume_sd > 0).all()
    req = capacity_requirements(inputs)
    assert (req.total >= np.sum(list(req.median.values()), axis=0) - 1e-9).all()  # P80 over P50
    december = (inputs.week_starts + pd.Timedelta(days=3)).month == 12
    assert shrinkage_by_week(scenario, inputs.week_starts)[december].tolist() == [0.4] * december.sum()
    result = compute_capacity(inputs, req)
    weeks = result.weeks
    assert len(weeks) == 52 and weeks["week"].tolist() == list(range(1, 53))
    assert (weeks["covered_fte"] + weeks["gap"] >= weeks["required_fte_p80"] - 1e-6).all()
    assert result.plan.classes["hires"].le(8).all()
    assert set(result.plan.classes["start_week"]) <= set(range(3, 53, 4))
    assert result.sensitivity["case"].tolist()[0] == "as planned"
    more = result.sensitivity.set_index("case")
    assert more.loc["attrition +2 points", "hires"] >= more.loc["as planned", "hires"]
    assert more.loc["volume -10 %", "hires"] <= more.loc["as planned", "hires"]


@pytest.mark.slow
def test_capplan_capacity_writes_the_plan_and_records_it(run_cli, tracking_store, tmp_path, caplog):
    code, out, err = run_cli("capacity", "capacity_growth", "--out", tmp_path)
    assert code == 0, err
    folder = tmp_path / "capacity_growth"
    for name in CAPACITY_OUTPUTS:
        assert (folder / name).is_file()
    weeks = pd.read_csv(folder / "capacity_weeks.csv")
    classes = pd.read_csv(folder / "capacity_classes.csv")
    assert len(weeks) == 78
    assert "hire" in out and f"hire {classes['hires'].sum()} in {len(classes)} classes" in out
    book = openpyxl.load_workbook(folder / "capacity_plan.xlsx", read_only=True)
    assert book.sheetnames == ["weekly plan", "hiring classes", "sensitivity", "costs", "notes"]
    assert book["weekly plan"].max_row == 79  # a header and 78 weeks
    run = tracking_store.latest_run(CAPACITY_EXPERIMENT, tags={"scenario": "capacity_growth"})
    assert run is not None
    assert run.metrics["capacity_hires"] == classes["hires"].sum()
    assert run.params["capacity.weeks"] == "78"
    # the bundled history is 12 weeks long: the plan says the weeks beyond are carried on
    assert "carry its last" in caplog.text


def test_a_scenario_without_capacity_section_is_told_how(run_cli, tmp_path):
    code, _, err = run_cli("capacity", "baseline", "--out", tmp_path, "--no-track")
    assert code == 2
    assert "no capacity section" in err and "baseline.yaml" in err and "capacity:" in err


@pytest.mark.slow
def test_scenario_run_carries_the_plan(run_cli, tracking_store, tmp_path):
    bundled, _ = load_scenario("capacity_growth")
    scenario = {
        "name": "growth_plan",
        "data": {"input": str(BANK_CALLS), "time_col": "DateTime", "value_col": "Calls"},
        "forecast": {"model": "seasonal_naive_week", "horizon_days": 5},
        "queues": {"voice": {"aht_seconds": 180}},
        "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 32},
        "risk": {"simulations": 100},
        "capacity": bundled.capacity.model_dump(mode="json") | {"weeks": 26},
    }
    path = tmp_path / "growth_plan.yaml"
    path.write_text(yaml.safe_dump(scenario))
    code, out, err = run_cli("scenario", "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    assert "capacity over 26 weeks: hire" in out
    folder = tmp_path / "out" / "growth_plan"
    assert (folder / "capacity_weeks.csv").is_file() and (folder / "intervals.csv").is_file()
    run = tracking_store.latest_run("scenarios", tags={"scenario": "growth_plan"})
    assert "capacity_hires" in run.metrics and "fte_total" in run.metrics
    code, out, _ = run_cli("scenario", "compare", "growth_plan")
    assert code == 0 and "hires in the plan" in out
