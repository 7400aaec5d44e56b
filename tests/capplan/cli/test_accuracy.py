"""``capplan accuracy`` end to end: a forecast file, and a registered model whose live accuracy
is logged to MLflow and shown by ``capplan store``."""

from __future__ import annotations

import pandas as pd
import pytest

from forecasting.store import FORECASTING
from forecasting.stress import StressCase, generate

HORIZON = 42


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A generated daily report (weekday and yearly season): the history a forecast was made
    from, and the same report after the horizon's actuals arrived."""
    folder = tmp_path_factory.mktemp("report")
    history, future = generate(StressCase("plain"), "day", 420, HORIZON, seed=5)

    def write(series: pd.Series, name: str):
        path = folder / name
        pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "calls": series.to_numpy()}).to_csv(
            path, index=False
        )
        return path

    return write(history, "history.csv"), write(pd.concat([history, future]), "latest.csv"), future


COLUMNS = ["--time-col", "date", "--value-col", "calls"]


def test_a_forecast_file_against_the_actuals(tmp_path, run_cli, report):
    history, latest, future = report
    code, _, err = run_cli(
        "forecast",
        history,
        *COLUMNS,
        "--model",
        "weekday_mean",
        "--horizon-days",
        HORIZON,
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 0, err
    code, out, err = run_cli(
        "accuracy", "--input", latest, *COLUMNS, "--forecast", tmp_path / "f.csv", "--out", tmp_path / "acc"
    )
    assert code == 0, err
    forecast = pd.read_csv(tmp_path / "f.csv", parse_dates=["timestamp"]).set_index("timestamp")["forecast"]
    wape = (forecast - future).abs().sum() / future.sum()
    summary = pd.read_csv(tmp_path / "acc" / "accuracy_summary.csv").set_index("level")
    assert summary.loc["day", "wape"] == pytest.approx(wape, rel=1e-4)
    assert summary.loc["day", "n"] == HORIZON
    rows = pd.read_csv(tmp_path / "acc" / "accuracy_rows.csv")
    assert set(rows["level"]) == {"day", "week", "month"}
    assert (tmp_path / "acc" / "accuracy.png").stat().st_size > 0
    assert f"WAPE {100 * wape:.1f} %" in out


def test_a_registered_model_logs_its_live_accuracy(tmp_path, run_cli, report, tracking_store):
    history, latest, future = report
    code, _, err = run_cli(
        "train",
        history,
        *COLUMNS,
        "--models",
        "weekday_mean",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        "daily",
    )
    assert code == 0, err
    code, out, err = run_cli("accuracy", latest, *COLUMNS, "--model", "daily:1")
    assert code == 0, err
    assert "live accuracy logged" in out
    version = tracking_store.model_version("daily")
    tags = tracking_store.version_tags(version)
    assert tags["capplan.live.level"] == "day"
    assert int(tags["capplan.live.n"]) == HORIZON
    runs = tracking_store.runs(FORECASTING, tags={"capplan.model": "daily"})
    assert len(runs) == 1 and runs[0].metrics["day.n"] == HORIZON
    assert float(tags["capplan.live.wape"]) == pytest.approx(runs[0].metrics["day.wape"], rel=1e-3)
    code, out, err = run_cli("store")
    assert code == 0, err
    assert "registered models: 1" in out and "daily: 1 version; champion 1" in out
    assert "arrivals of all queues per 1-day" in out
    assert f"live accuracy: by day over {future.index[0]:%Y-%m-%d}" in out
    assert f"WAPE {100 * float(tags['capplan.live.wape']):.1f} %" in out


def test_refusals_are_one_line(tmp_path, run_cli, report, tracking_store):
    _, latest, _ = report
    code, _, err = run_cli("accuracy", latest, *COLUMNS, "--model", "nothing:3")
    assert code == 2 and "no such registered model version" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("accuracy", latest, *COLUMNS, "--model", "a/b")
    assert code == 2 and "--model" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,forecast\n2024-01-01 08:00,3\n2024-01-01 08:30,4\n")
    code, out, err = run_cli("accuracy", latest, *COLUMNS, "--forecast", bad)  # intervals against days
    assert code == 0 and "totalled per day" in out, err
    weekly = tmp_path / "weekly_actuals.csv"
    days = pd.read_csv(latest)
    days = days.groupby(pd.to_datetime(days[COLUMNS[1]]).dt.to_period("W-SUN").dt.start_time)[
        COLUMNS[3]
    ].sum()
    days.rename_axis(COLUMNS[1]).reset_index().to_csv(weekly, index=False)
    daily_forecast = tmp_path / "daily_forecast.csv"
    daily_forecast.write_text("timestamp,forecast\n2024-01-01,3\n2024-01-02,4\n")
    code, _, err = run_cli("accuracy", weekly, *COLUMNS, "--forecast", daily_forecast)
    assert code == 2 and "coarser than the forecast" in err
    with pytest.raises(SystemExit) as stopped:  # a usage mistake: argparse's one line
        run_cli("accuracy", latest, *COLUMNS)
    assert stopped.value.code == 2


def test_a_scenario_run_against_the_actuals(tmp_path, run_cli, write_scenario, tracking_store):
    """A plan's demand (its latest run's intervals) against the report that came in since: each
    30-minute planning interval is the total of the report's 5-minute rows."""
    from tests.conftest import BANK_CALLS, FAST

    raw = pd.read_csv(BANK_CALLS)
    stamps = pd.to_datetime(raw["DateTime"]).dt.tz_localize(None)
    cut = stamps.dt.normalize().max() - pd.Timedelta(days=9)
    older = tmp_path / "older.csv"
    raw[stamps < cut].to_csv(older, index=False)
    scenario = write_scenario("fast", {**FAST, "data": {**FAST["data"], "input": str(older)}})
    code, _, err = run_cli("scenario", "run", scenario)
    assert code == 0, err
    code, out, err = run_cli(
        "accuracy",
        BANK_CALLS,
        "--time-col",
        "DateTime",
        "--value-col",
        "Calls",
        "--run",
        "fast",
        "--out",
        tmp_path / "acc",
    )
    assert code == 0, err
    assert "scenario run" in out and "no bands" in out
    rows = pd.read_csv(tmp_path / "acc" / "accuracy_rows.csv", parse_dates=["timestamp"])
    own = rows[(rows["level"] == "interval") & (rows["status"] == "scored")].set_index("timestamp")
    actual = raw.assign(at=stamps.dt.floor("30min")).groupby("at")["Calls"].sum()
    assert len(own) > 100
    assert own["actual"].to_numpy() == pytest.approx(actual[own.index].to_numpy())
    summary = pd.read_csv(tmp_path / "acc" / "accuracy_summary.csv").set_index("level")
    error = own["forecast"] - actual[own.index]
    assert summary.loc["interval", "wape"] == pytest.approx(
        error.abs().sum() / actual[own.index].sum(), rel=1e-4
    )
    assert pd.isna(summary.loc["interval", "coverage80"])
    assert summary.loc["week", "n"] == 1  # Monday to Friday: the bank's whole week
