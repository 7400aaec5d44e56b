"""``capplan forecast --queue each --scheduler local``: the same file as in one process, and a
scheduler without many queues refused in one line."""

import pandas as pd
import pytest

from tests.forecasting.test_panel import panel_report

READ = ["--time-col", "timestamp", "--value-col", "calls", "--queue-col", "queue"]


@pytest.mark.slow
def test_forecast_on_a_local_cluster_writes_what_one_process_writes(run_cli, tracking_store, tmp_path):
    path = panel_report(tmp_path / "queues.csv", queues=8)
    common = ["forecast", path, *READ, "--queue", "each", "--model", "weekday_mean", "--horizon-days", "3"]
    code, _, err = run_cli(*common, "--out", tmp_path / "here.csv")
    assert code == 0, err
    code, _, err = run_cli(*common, "--scheduler", "local", "--out", tmp_path / "cluster.csv")
    assert code == 0, err
    here, cluster = pd.read_csv(tmp_path / "here.csv"), pd.read_csv(tmp_path / "cluster.csv")
    assert here["queue"].nunique() == 8
    pd.testing.assert_frame_equal(here, cluster, check_exact=True)


def test_a_scheduler_needs_many_queues(run_cli, tracking_store, tmp_path):
    path = panel_report(tmp_path / "queues.csv", queues=2)
    code, _, err = run_cli("forecast", path, *READ, "--scheduler", "local", "--out", tmp_path / "f.csv")
    assert code == 2 and "--scheduler" in err and "--queue each" in err
    assert not (tmp_path / "f.csv").exists()


@pytest.mark.slow
def test_backtest_of_every_queue_on_a_local_cluster_equals_one_process(run_cli, tracking_store, tmp_path):
    path = panel_report(tmp_path / "queues.csv", queues=6)
    common = ["backtest", path, *READ, "--queue", "each", "--models", "weekday_mean,ets_topdown"]
    common += ["--horizon-days", "2", "--origins", "3"]
    code, out, err = run_cli(*common, "--out", tmp_path / "here")
    assert code == 0, err
    assert "backtest of 6 queues" in out
    code, _, err = run_cli(*common, "--scheduler", "local", "--out", tmp_path / "cluster")
    assert code == 0, err
    for name in ("leaderboard.csv", "by_horizon.csv", "backtest_forecasts.csv"):
        here, cluster = pd.read_csv(tmp_path / "here" / name), pd.read_csv(tmp_path / "cluster" / name)
        assert here["queue"].nunique() == 6
        timings = [c for c in here.columns if "seconds" in c]  # wall time of the fits, not a result
        pd.testing.assert_frame_equal(
            here.drop(columns=timings), cluster.drop(columns=timings), check_exact=True
        )


def test_a_queue_with_nothing_to_forecast_is_named_and_the_others_kept(run_cli, tracking_store, tmp_path):
    path = panel_report(tmp_path / "queues.csv", queues=3)
    frame = pd.read_csv(path)
    frame.loc[frame["queue"] == "q01", "calls"] = 0  # a queue that never had a contact
    frame.to_csv(path, index=False)
    out = tmp_path / "f.csv"
    code, stdout, err = run_cli(
        "forecast", path, *READ, "--queue", "each", "--model", "weekday_mean", "--out", out
    )
    assert code == 1 and "1 of 3 queues not done (q01)" in err and "no contacts" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    partial = pd.read_csv(tmp_path / "f_partial.csv")
    assert sorted(partial["queue"].unique()) == ["q00", "q02"] and "f_partial.csv" in stdout


def test_the_scheduler_variable_leaves_one_series_in_this_process(
    run_cli, tracking_store, tmp_path, monkeypatch
):
    monkeypatch.setenv("CAPPLAN_DASK_SCHEDULER", "tcp://127.0.0.1:1")  # never reached for one series
    path = panel_report(tmp_path / "queues.csv", queues=2)
    code, _, err = run_cli("forecast", path, *READ, "--model", "weekday_mean", "--out", tmp_path / "f.csv")
    assert code == 0, err


def test_each_queues_backtest_choice_is_remembered_for_its_forecast(run_cli, tracking_store, tmp_path):
    from forecasting.forecast_job import candidate_names, choice_key, recalled_choice
    from forecasting.history.ingest import IngestOptions, ingest
    from forecasting.series import queue_series

    path = panel_report(tmp_path / "queues.csv", queues=2)
    models = "weekday_mean,seasonal_naive_week"
    code, _, err = run_cli(
        "backtest",
        path,
        *READ,
        "--queue",
        "each",
        "--models",
        models,
        "--horizon-days",
        "2",
        "--origins",
        "2",
    )
    assert code == 0, err
    result = ingest(path, IngestOptions(time_col="timestamp", value_cols=("calls",), queue_col="queue"))
    names = candidate_names("arrivals", models)
    for history in queue_series(result).values():
        recalled = recalled_choice(tracking_store.choice_cache, choice_key(history, names, True, None), 2)
        assert recalled is not None and recalled[1]["winner"] in recalled[0]["model"].tolist()
