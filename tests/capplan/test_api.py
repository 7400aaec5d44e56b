"""The public Python API as a notebook uses it: every name documented, an instant import, and
the steps on the bundled data giving what the packages below give."""

import io
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import yaml

import capplan

DATA = Path(__file__).resolve().parents[2] / "data"
BANK_CALLS = DATA / "bank_calls_2003-03-03_2003-05-28.csv"


def test_help_lists_the_whole_api_each_with_a_docstring():
    text = io.StringIO()
    with redirect_stdout(text):
        help(capplan)
    for name in capplan.__all__:
        assert name in text.getvalue()
        assert (getattr(capplan, name).__doc__ or "").strip(), name


def test_importing_capplan_loads_no_heavy_library():
    code = "import sys, capplan; print(sorted(m for m in ('pandas', 'sklearn', 'mlflow', 'scipy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_staff_gives_domain_reference_agents():
    # 100 calls in 30 minutes, AHT 180 s, 80 % in 20 s: 14 agents (DOMAIN.md)
    table = capplan.staff(100, 180, 30, service_level=0.8, target_seconds=20, shrinkage=0.3)
    assert table["agents"].tolist() == [14] and table["scheduled_agents"].tolist() == [20]


@pytest.mark.slow
def test_a_notebook_day_ingest_kpis_forecast_train_and_scenario(tmp_path):
    history = capplan.ingest(BANK_CALLS, time_col="DateTime", value_col="Calls")
    assert history.summary()["rows_read"] == 10_140
    report = capplan.kpis(history, periods=("week",))
    assert set(report["period"]) == {"week"} and len(report)
    board = capplan.backtest(history, ["weekday_mean", "seasonal_naive_week"], origins=3)
    assert set(board["model"]) >= {"weekday_mean", "seasonal_naive_week"}
    made = capplan.forecast(history, "weekday_mean", horizon_days=2, granularity="day")
    assert len(made.table) == 2 and (made.table["hi80"] >= made.table["forecast"]).all()
    store = capplan.open_store(tmp_path / "store")
    outcome = capplan.train(store, history, models=["weekday_mean", "seasonal_naive_week"], origins=3)
    assert outcome.version == 1
    champion = capplan.forecast(history, "champion", horizon_days=1, store=store)
    assert champion.table["forecast"].sum() > 0
    # a scenario with a schedule, run from a file, and its week of shifts made again from the API
    templates = [
        {
            "name": "full",
            "hours": 8.5,
            "start_window": "07:00-13:00",
            "breaks": [{"minutes": 30, "after_hours": [3, 5]}],
        }
    ]
    scenario = {
        "name": "api",
        "data": {"input": str(BANK_CALLS), "time_col": "DateTime", "value_col": "Calls"},
        "forecast": {"model": "seasonal_naive_week", "horizon_days": 5},
        "queues": {"voice": {"aht_seconds": 180}},
        "schedule": {"templates": templates},
    }
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump(scenario))
    result = capplan.run_scenario(path, analysis=False)
    assert result.summary["fte_total"] > 0 and result.schedule is not None
    from scenarios.scheduling.plan import week_requirement

    demand = result.demand
    need = result.intervals.groupby("interval_start")["scheduled_agents"].sum()
    week = week_requirement(need.index, need.to_numpy(), demand.grid.interval)
    again = capplan.schedule(week, templates)
    assert again.summary["agents"] == result.schedule.summary["schedule_agents"]
    assert np.array_equal(again.coverage["on_duty"], result.schedule.schedule.coverage["on_duty"])
