"""``capplan train/retrain --queue each`` and ``forecast --model champion --queue each``: one
panel model for every queue, exit codes, nothing logged when a queue fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecasting.forecaster_panel import load_panel
from forecasting.store import CHAMPION, FORECASTING
from tests.forecasting.test_panel import panel_report

READ = ["--time-col", "timestamp", "--value-col", "calls", "--queue-col", "queue"]
FAST = [
    "--models",
    "weekday_mean,seasonal_naive_week",
    "--horizon-days",
    "2",
    "--origins",
    "2",
    "--jobs",
    "1",
]


@pytest.fixture
def report(tmp_path):
    return panel_report(tmp_path / "queues.csv", queues=3)


def test_train_each_registers_one_panel_that_forecasts_every_queue(run_cli, tracking_store, report, tmp_path):
    code, out, err = run_cli("train", report, *READ, "--queue", "each", *FAST)
    assert code == 0, err
    assert "q00" in out and "q02" in out and "is the first champion" in out
    assert "capplan-queues-arrivals-each version 1" in out
    assert [m.name for m in tracking_store.registered_models()] == ["capplan-queues-arrivals-each"]
    assert len(tracking_store.runs(FORECASTING)) == 1

    code, out, err = run_cli(
        "forecast",
        report,
        *READ,
        "--queue",
        "each",
        "--model",
        "champion",
        "--horizon-days",
        "2",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 0, err
    assert "capplan-queues-arrivals-each version 1" in out
    assert sorted(pd.read_csv(tmp_path / "f.csv")["queue"].unique()) == ["q00", "q01", "q02"]

    code, out, err = run_cli("retrain", report, *READ, "--queue", "each", *FAST, "--eval-origins", "2")
    assert (
        code == 2 and "no new data since the champion" in err
    )  # same data in every queue: nothing to compare on, refused
    assert len(err.strip().splitlines()) == 1
    assert len(tracking_store.runs(FORECASTING)) == 1
    assert tracking_store.model_version("capplan-queues-arrivals-each", CHAMPION).version == 1


def train_on_january(run_cli, report: Path, tmp_path: Path) -> pd.DataFrame:
    """The champion panel trained on the report's January, the same file's name; returns the report."""
    frame = pd.read_csv(report)
    old = tmp_path / "old" / report.name
    old.parent.mkdir()
    frame[frame["timestamp"] < "2024-02-01"].to_csv(old, index=False)
    code, _, err = run_cli("train", old, *READ, "--queue", "each", *FAST)
    assert code == 0, err
    return frame


def test_retrain_each_says_its_decision(run_cli, tracking_store, report, tmp_path):
    train_on_january(run_cli, report, tmp_path)
    code, out, err = run_cli("retrain", report, *READ, "--queue", "each", *FAST, "--eval-origins", "3")
    assert code == 0, err
    assert "challenger version 2 mean MASE" in out and "over 3 of 3 queues" in out
    assert "champion_mase" in out


def test_a_queue_whose_feed_stopped_keeps_its_model_and_the_others_retrain(
    run_cli, tracking_store, report, tmp_path
):
    frame = train_on_january(run_cli, report, tmp_path)
    stopped = frame[(frame["queue"] != "q01") | (frame["timestamp"] < "2024-02-01")]
    stopped.to_csv(report, index=False)  # q01's feed stopped where the champion's data ended
    code, out, err = run_cli("retrain", report, *READ, "--queue", "each", *FAST, "--eval-origins", "3")
    assert code == 0, err
    assert (
        "over 2 of 3 queues" in out and "no new data since the champion (its models carried over): q01" in out
    )
    run = tracking_store.runs(FORECASTING)[0]
    table = pd.read_csv(tracking_store.artifact_file(run.run_id, "queues.csv", tmp_path / "artifacts"))
    status = dict(zip(table["queue"], table["status"], strict=True))
    assert status == {"q00": "compared", "q01": "kept", "q02": "compared"}
    panel, _ = load_panel(tracking_store, "capplan-queues-arrivals-each", "challenger")
    assert panel["q01"].history_end_ < pd.Timestamp("2024-02-01")


def test_a_failing_queue_exits_1_naming_it_and_logs_nothing(run_cli, tracking_store, report):
    frame = pd.read_csv(report)
    frame.loc[frame["queue"] == "q01", "calls"] = 0
    frame.to_csv(report, index=False)
    code, _, err = run_cli("train", report, *READ, "--queue", "each", *FAST)
    assert code == 1 and "1 of 3 queues not done (q01)" in err and "nothing logged" in err
    assert len(err.strip().splitlines()) == 1
    assert tracking_store.runs(FORECASTING) == [] and tracking_store.registered_models() == []


def test_a_queue_the_panel_lacks_is_named_and_the_others_written(run_cli, tracking_store, report, tmp_path):
    frame = pd.read_csv(report)
    fewer = tmp_path / "fewer" / "queues.csv"
    fewer.parent.mkdir()
    frame[frame["queue"] != "q02"].to_csv(fewer, index=False)
    code, _, err = run_cli("train", fewer, *READ, "--queue", "each", *FAST)
    assert code == 0, err
    out = tmp_path / "f.csv"
    code, stdout, err = run_cli(
        "forecast", report, *READ, "--queue", "each", "--model", "champion", "--out", out
    )
    assert code == 1 and "1 of 3 queues not done (q02)" in err and not out.exists()
    assert "f_partial.csv" in stdout
    assert sorted(pd.read_csv(tmp_path / "f_partial.csv")["queue"].unique()) == ["q00", "q01"]


def test_a_model_of_one_series_cannot_forecast_every_queue(run_cli, tracking_store, report, tmp_path):
    code, _, err = run_cli("train", report, *READ, "--queue", "q00", *FAST, "--registered-model", "one")
    assert code == 0, err
    code, _, err = run_cli(
        "forecast",
        report,
        *READ,
        "--queue",
        "each",
        "--model",
        "champion",
        "--registered-model",
        "one",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 2 and "every queue" in err and "--registered-model" in err
    code, _, err = run_cli("retrain", report, *READ, "--queue", "each", *FAST, "--registered-model", "one")
    assert code == 2 and "every queue" in err


def test_a_scheduler_needs_many_queues(run_cli, tracking_store, report):
    code, _, err = run_cli("train", report, *READ, "--queue", "q00", *FAST, "--scheduler", "local")
    assert code == 2 and "--scheduler" in err and "--queue each" in err


def test_a_panel_named_by_registered_model_forecasts_here(run_cli, tracking_store, report, tmp_path):
    code, _, err = run_cli("train", report, *READ, "--queue", "each", *FAST, "--registered-model", "pan")
    assert code == 0, err
    code, out, err = run_cli(
        "forecast",
        report,
        *READ,
        "--queue",
        "each",
        "--model",
        "champion",
        "--registered-model",
        "pan",
        "--scheduler",
        "tcp://127.0.0.1:1",  # stored forecasters need no workers: never reached
        "--horizon-days",
        "2",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 0, err
    assert "(pan version 1)" in out and pd.read_csv(tmp_path / "f.csv")["queue"].nunique() == 3


@pytest.mark.parametrize("function", ["train", "retrain"])
def test_the_api_refuses_a_scheduler_for_one_series(tracking_store, report, function):
    import capplan
    from capplan.errors import InputError

    history = capplan.ingest(report, time_col="timestamp", value_col="calls", queue_col="queue")
    with pytest.raises(InputError, match="scheduler"):
        getattr(capplan, function)(tracking_store, history, queue="q00", scheduler="local")
    assert tracking_store.runs(FORECASTING) == []
