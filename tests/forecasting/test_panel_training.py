"""Training every queue as one panel model (issue 30): the same panel here as on a Dask cluster,
one run and one registered model, nothing logged when a queue fails, every queue forecast from
its own forecaster in the panel, and retraining that promotes only by the panel rule.

Generated here: a few queues of tests/forecasting/test_panel.py's report (hourly, six weeks)."""

from __future__ import annotations

import json
import os

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from forecasting.common.errors import InputError
from forecasting.forecast_job import forecast_table, horizon_timestamps, make_forecast
from forecasting.forecaster_panel import ForecasterPanel, load_panel
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.model_contract import data_contract
from forecasting.panel import PanelError
from forecasting.panel_training import panel_verdict, retrain_panel, train_panel, train_queue
from forecasting.series import queue_series
from forecasting.store import CHALLENGER, CHAMPION, FORECASTING, Store
from tests.forecasting.test_panel import panel_report

MODELS = ["weekday_mean", "seasonal_naive_week"]
READ = IngestOptions(time_col="timestamp", value_cols=("calls",), queue_col="queue")


def _ingest(frame: pd.DataFrame, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return ingest(path, READ)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> pd.DataFrame:
    return pd.read_csv(panel_report(tmp_path_factory.mktemp("report") / "r.csv", queues=4))


@pytest.fixture
def queues(report, tmp_path):
    return _ingest(report, tmp_path / "queues.csv")


def _train(store: Store, result, names=MODELS, scheduler=None, name=None, **options):
    return train_panel(
        store,
        result,
        "arrivals",
        str(result.source),
        name or store.model_name(result.source, "arrivals", "each"),
        names,
        horizon_days=2,
        n_origins=2,
        progress=False,
        contract=data_contract(result, "arrivals", "each"),
        scheduler=scheduler,
        **options,
    )


def _retrain(store: Store, result, name: str, names=MODELS):
    return retrain_panel(
        store,
        result,
        "arrivals",
        str(result.source),
        name,
        names,
        horizon_days=2,
        n_origins=2,
        eval_origins=3,
        progress=False,
        contract=data_contract(result, "arrivals", "each"),
    )


def test_train_each_logs_one_run_and_registers_one_panel(tracking_store, queues, tmp_path):
    done = _train(tracking_store, queues)
    assert done.promoted and done.version == 1 and done.registered_name == "capplan-queues-arrivals-each"
    assert list(done.queues["queue"]) == ["q00", "q01", "q02", "q03"]
    assert [m.name for m in tracking_store.registered_models()] == [done.registered_name]
    client = MlflowClient(tracking_store.tracking_uri, registry_uri=tracking_store.registry_uri)
    run = client.get_run(done.run_id)
    assert run.info.status == "FINISHED" and run.data.params["queues"] == "4"
    assert run.data.metrics["queues"] == 4
    assert run.data.metrics["mean_mase"] == pytest.approx(done.queues["mase"].mean())
    artifacts = {a.path for a in client.list_artifacts(done.run_id)}
    assert {"queues.csv", "leaderboards.csv", "model"} <= artifacts
    table = tracking_store.artifact_table(done.run_id, "queues.csv")
    assert list(table["queue"]) == ["q00", "q01", "q02", "q03"]
    assert {"model", "mase", "wape", "coverage80", "coverage95", "history_start", "history_end"} <= set(table)
    boards = tracking_store.artifact_table(done.run_id, "leaderboards.csv")
    assert set(boards["queue"]) == set(table["queue"]) and set(MODELS) <= set(boards["model"])
    assert "first champion" in run.data.tags["decision"]
    (dataset,) = [d.dataset for d in run.inputs.dataset_inputs]
    schema = json.loads(dataset.schema)["mlflow_colspec"]  # wide: a column a queue, quick to log
    assert [c["name"] for c in schema] == ["timestamp", "q00", "q01", "q02", "q03"]
    stamps = set().union(*(h.index for h in queue_series(queues, "arrivals").values()))
    assert json.loads(dataset.profile)["num_rows"] == len(stamps)

    forecasters, version = load_panel(tracking_store, done.registered_name)
    assert version.version == 1 and sorted(forecasters) == ["q00", "q01", "q02", "q03"]
    # as any MLflow user sees it: rows of (timestamp, queue), each from its queue's forecaster
    pyfunc = mlflow.pyfunc.load_model(client.download_artifacts(done.run_id, "model", str(tmp_path)))
    stamps = horizon_timestamps(queues.calendar, queues.intervals["interval_start"].max(), 1)
    asked = pd.DataFrame(
        {"timestamp": list(stamps) * 2, "queue": ["q02"] * len(stamps) + ["q00"] * len(stamps)}
    )
    out = pyfunc.predict(asked)
    assert list(out["queue"]) == list(asked["queue"])
    own = forecasters["q00"].predict(stamps)["forecast"].to_numpy()
    np.testing.assert_array_equal(out.loc[out["queue"] == "q00", "forecast"].to_numpy(), own)


def test_a_second_training_is_the_challenger_unless_promoted(tracking_store, queues):
    _train(tracking_store, queues)
    again = _train(tracking_store, queues, names=["weekday_mean"])
    assert not again.promoted and "challenger" in again.decision
    assert tracking_store.model_version(again.registered_name, CHAMPION).version == 1
    assert tracking_store.model_version(again.registered_name, CHALLENGER).version == 2
    forced = _train(tracking_store, queues, names=["weekday_mean"], force=True)
    assert forced.promoted and tracking_store.model_version(forced.registered_name, CHAMPION).version == 3


@pytest.mark.slow
def test_a_cluster_of_two_workers_trains_the_same_panel_as_this_process(queues, tmp_path):
    from distributed import LocalCluster

    here = _train(Store.at(tmp_path / "here"), queues)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        spread = _train(Store.at(tmp_path / "spread"), queues, scheduler=cluster.scheduler_address)
    timings = [c for c in spread.leaderboards if "seconds" in c]  # wall time of the fits, not a result
    pd.testing.assert_frame_equal(here.queues, spread.queues, check_exact=True)
    pd.testing.assert_frame_equal(
        here.leaderboards.drop(columns=timings), spread.leaderboards.drop(columns=timings), check_exact=True
    )
    stamps = horizon_timestamps(queues.calendar, queues.intervals["interval_start"].max(), 2)
    alone, _ = load_panel(Store.at(tmp_path / "here"), here.registered_name)
    cluster_made, _ = load_panel(Store.at(tmp_path / "spread"), spread.registered_name)
    for queue, forecaster in alone.items():
        pd.testing.assert_frame_equal(
            forecaster.predict(stamps), cluster_made[queue].predict(stamps), check_exact=True
        )


MARKED = 12345  # calls in the first hour of the queue whose worker is killed


def _kills_the_marked_queues_worker(history: pd.Series, *args):
    """Kills its worker process (as an out-of-memory kill would) for the marked queue, every time."""
    if history.iloc[0] == MARKED:
        os._exit(1)
    return train_queue(history, *args)


@pytest.mark.slow
def test_a_queue_whose_worker_keeps_dying_is_named_and_nothing_is_logged(
    tracking_store, report, tmp_path, monkeypatch
):
    from distributed import LocalCluster

    import forecasting.panel_training as panel_training

    frame = report.copy()
    frame.loc[frame.index[frame["queue"] == "q02"][0], "calls"] = MARKED
    monkeypatch.setattr(panel_training, "train_queue", _kills_the_marked_queues_worker)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        pytest.raises(PanelError) as caught,
    ):
        _train(tracking_store, _ingest(frame, tmp_path / "queues.csv"), scheduler=cluster.scheduler_address)
    assert "1 of 4 queues not done (q02)" in str(caught.value) and "KilledWorker" in str(caught.value)
    _no_runs_and_no_models(tracking_store)


def _no_runs_and_no_models(store: Store) -> None:
    client = MlflowClient(store.tracking_uri, registry_uri=store.registry_uri)
    experiment = client.get_experiment_by_name(FORECASTING)
    runs = client.search_runs([experiment.experiment_id]) if experiment is not None else []
    assert runs == [] and store.registered_models() == []


def test_a_queue_with_no_contacts_is_named_and_nothing_is_logged(tracking_store, report, tmp_path):
    frame = report.copy()
    frame.loc[frame["queue"] == "q01", "calls"] = 0
    with pytest.raises(PanelError) as caught:
        _train(tracking_store, _ingest(frame, tmp_path / "zero.csv"))
    assert "1 of 4 queues not done (q01)" in str(caught.value) and "no contacts" in str(caught.value)
    _no_runs_and_no_models(tracking_store)


def test_a_queue_whose_training_fails_is_named_and_nothing_is_logged(tracking_store, report, tmp_path):
    frame = report.copy()
    last = pd.to_datetime(frame["timestamp"]).max() - pd.Timedelta(days=2)
    frame = frame[
        (frame["queue"] != "q03") | (pd.to_datetime(frame["timestamp"]) > last)
    ]  # 2 days: no backtest
    with pytest.raises(PanelError) as caught:
        _train(tracking_store, _ingest(frame, tmp_path / "short.csv"))
    assert "1 of 4 queues not done (q03)" in str(caught.value) and "no contacts" not in str(caught.value)
    _no_runs_and_no_models(tracking_store)


def test_every_queue_is_forecast_from_its_own_forecaster_in_the_panel(tracking_store, queues):
    done = _train(tracking_store, queues)
    table, selections, _ = make_forecast(
        queues, queue="each", model="champion", horizon_days=2, store=tracking_store, progress=False
    )
    assert all(f"{done.registered_name} version 1" in s.name for s in selections)
    forecasters, _ = load_panel(tracking_store, done.registered_name)
    stamps = horizon_timestamps(queues.calendar, queues.intervals["interval_start"].max(), 2)
    for queue, part in table.groupby("queue"):
        own = forecast_table(forecasters[queue], stamps)
        pd.testing.assert_frame_equal(
            part.drop(columns="queue").reset_index(drop=True), own, check_exact=True
        )


def test_a_queue_the_panel_lacks_is_named_and_the_others_forecast(tracking_store, report, tmp_path):
    _train(tracking_store, _ingest(report[report["queue"] != "q02"], tmp_path / "queues.csv"))
    more = _ingest(report, tmp_path / "more" / "queues.csv")
    with pytest.raises(PanelError) as caught:
        make_forecast(
            more, queue="each", model="champion", horizon_days=2, store=tracking_store, progress=False
        )
    assert "1 of 4 queues not done (q02)" in str(caught.value) and "has no model of it" in str(caught.value)
    assert sorted(caught.value.partial["queue"].unique()) == ["q00", "q01", "q03"]


def test_a_panel_refuses_data_at_other_intervals(tracking_store, queues, report, tmp_path):
    _train(tracking_store, queues)
    halves = report.assign(timestamp=pd.to_datetime(report["timestamp"]), calls=report["calls"] // 2)
    halves = pd.concat([halves, halves.assign(timestamp=halves["timestamp"] + pd.Timedelta(minutes=30))])
    finer = _ingest(halves.sort_values(["queue", "timestamp"]), tmp_path / "half" / "queues.csv")
    with pytest.raises(InputError) as caught:
        make_forecast(
            finer, queue="each", model="champion", horizon_days=2, store=tracking_store, progress=False
        )
    assert "1-hour slots" in str(caught.value) and "30-minute" in str(caught.value)


def test_retrain_each_keeps_the_champion_when_the_challengers_are_worse(tracking_store, report, tmp_path):
    stamps = pd.to_datetime(report["timestamp"])
    old = _ingest(report[(stamps < "2024-02-01") & (report["queue"] != "q03")], tmp_path / "queues.csv")
    first = _train(tracking_store, old, name="calls")
    new = report[report["queue"] != "q00"]  # q00 retired, q03 new
    # yesterday's same hour, for a week whose days differ: worse than the weekday means
    done = _retrain(
        tracking_store, _ingest(new, tmp_path / "new" / "queues.csv"), "calls", ["seasonal_naive_day"]
    )
    table = done.queues.set_index("queue")
    assert list(table.index) == ["q01", "q02", "q03"]
    assert list(table["status"]) == ["compared", "compared", "new"]
    compared = table.loc[["q01", "q02"]]
    assert (compared["challenger_mase"] > compared["champion_mase"]).all()
    assert not done.promoted and "not promoted" in done.decision
    assert "new in the data" in done.decision and "q03" in done.decision
    assert "without data here" in done.decision and "q00" in done.decision
    assert tracking_store.model_version("calls", CHAMPION).version == first.version == 1
    assert tracking_store.model_version("calls", CHALLENGER).version == done.version == 2
    run = tracking_store.run(done.run_id)
    assert run.tags["decision"] == done.decision and run.metrics["promoted"] == 0.0
    scores = tracking_store.artifact_table(done.run_id, "queues.csv")
    assert {"challenger_mase", "champion_mase", "champion_refit_mase", "status"} <= set(scores)


def test_retrain_each_promotes_by_the_rule(tracking_store, report, tmp_path):
    stamps = pd.to_datetime(report["timestamp"])
    _train(tracking_store, _ingest(report[stamps < "2024-02-01"], tmp_path / "queues.csv"), name="calls")
    done = _retrain(tracking_store, _ingest(report, tmp_path / "new" / "queues.csv"), "calls")
    better, means = panel_verdict(done.queues)
    assert done.promoted == better and means["queues"] == 4
    assert tracking_store.model_version("calls", CHAMPION).version == (2 if better else 1)


def test_the_panel_rule():
    def scores(rows):
        frame = pd.DataFrame(
            rows, columns=["status", "challenger_mase", "champion_mase", "champion_refit_mase"]
        )
        return frame

    better, means = panel_verdict(scores([("compared", 0.8, 1.0, 0.9), ("compared", 1.0, 1.0, 1.0)]))
    assert better and means == {"challenger": 0.9, "champion": 1.0, "champion_refit": 0.95, "queues": 2.0}
    # beats the champion as trained, but its models refitted do better: fresher data won it
    assert not panel_verdict(scores([("compared", 0.9, 1.0, 0.8)]))[0]
    # new queues are the challenger's own: not in the means
    assert (
        panel_verdict(scores([("compared", 0.9, 1.0, 0.9), ("new", 5.0, np.nan, np.nan)]))[1]["challenger"]
        == 0.9
    )
    assert panel_verdict(scores([("new", 0.5, np.nan, np.nan)])) == (False, {})


def test_load_panel_refuses_a_model_of_one_series(tracking_store, queues):
    from forecasting.catalog import make_model

    fitted = make_model("weekday_mean").fit(queues.intervals.groupby("interval_start")["arrivals"].sum())
    with tracking_store.start_run(FORECASTING, "train one") as run:
        number = run.log_forecaster(fitted, "weekday_mean", "one")
    tracking_store.set_alias("one", CHAMPION, number)
    with pytest.raises(InputError, match="not each queue"):
        load_panel(tracking_store, "one")
    assert isinstance(ForecasterPanel({"a": fitted}, {"a": "weekday_mean"}).describe(), str)
