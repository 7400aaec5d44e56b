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
    code, out, err = run_cli(*common, "--out", tmp_path / "here.csv")
    assert code == 0, err
    code, out, err = run_cli(*common, "--scheduler", "local", "--out", tmp_path / "cluster.csv")
    assert code == 0, err
    here, cluster = pd.read_csv(tmp_path / "here.csv"), pd.read_csv(tmp_path / "cluster.csv")
    assert here["queue"].nunique() == 8
    pd.testing.assert_frame_equal(here, cluster, check_exact=True)


def test_a_scheduler_needs_many_queues(run_cli, tracking_store, tmp_path):
    path = panel_report(tmp_path / "queues.csv", queues=2)
    code, _, err = run_cli("forecast", path, *READ, "--scheduler", "local", "--out", tmp_path / "f.csv")
    assert code == 2 and "--scheduler" in err and "--queue each" in err
    assert not (tmp_path / "f.csv").exists()
