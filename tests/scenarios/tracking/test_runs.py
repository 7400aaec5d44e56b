"""Scenario runs in a real MLflow store: what is recorded, comparison read back, two planners at once."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.conftest import FAST


@pytest.fixture
def store(tracking_store):
    return tracking_store.tracking_uri


def _runs(uri: str) -> list:
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("scenarios")
    return client.search_runs([experiment.experiment_id]) if experiment else []


def test_run_records_everything_and_compare_reads_it_back(run_cli, write_scenario, store, tmp_path):
    base = write_scenario("base", {**FAST, "name": "base"})
    busy = write_scenario("busy", {"extends": "base", "demand": {"growth_pct": 20}})
    code, out, err = run_cli("scenario", "run", base, busy, "--out", tmp_path / "out")
    assert code == 0, err
    assert (tmp_path / "out" / "busy" / "intervals.csv").is_file()
    runs = {r.data.tags["scenario"]: r for r in _runs(store)}
    assert set(runs) == {"base", "busy"}
    run = runs["busy"]
    assert {"fte_total", "peak_agents", "service_level", "total_cost", "p_meet_target_mean"} <= set(
        run.data.metrics
    )
    assert run.data.params["demand.growth_pct"] == "20.0" and run.data.params["extends"] == "base"
    assert (
        run.data.tags["baseline"] == "base" and run.data.tags["baseline_run_id"] == runs["base"].info.run_id
    )
    client = MlflowClient(store)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        "scenario.yaml",
        "intervals.parquet",
        "daily.csv",
        "fte.csv",
        "agents_by_interval.png",
        "service_by_day.png",
    } <= artifacts
    local = client.download_artifacts(run.info.run_id, "intervals.parquet", str(tmp_path))
    table = pd.read_parquet(local)
    assert table["scheduled_agents"].max() == run.data.metrics["peak_agents"]
    assert (
        "growth_pct: 20"
        in Path(client.download_artifacts(run.info.run_id, "scenario.yaml", str(tmp_path))).read_text()
    )

    code, out, err = run_cli("scenario", "compare", "base", "busy", "--out", tmp_path / "cmp.csv")
    assert code == 0, err
    cmp = pd.read_csv(tmp_path / "cmp.csv", index_col="metric")
    assert cmp.loc["volume_total", "busy"] == pytest.approx(1.2 * cmp.loc["volume_total", "base"], rel=1e-6)
    delta = cmp.loc["fte_total", "busy - base"]
    assert delta == pytest.approx(
        runs["busy"].data.metrics["fte_total"] - runs["base"].data.metrics["fte_total"]
    )
    assert "fte_total" in out and "busy - base" in out
    code, _, err = run_cli("scenario", "compare", "base", "missing")
    assert code == 2 and "missing" in err and "scenario run" in err


@pytest.mark.slow
def test_two_planners_at_once_on_one_sqlite_store(write_scenario, store, tmp_path):
    """Two processes run scenarios on the same new SQLite store at the same time: both succeed
    and every run is recorded with its metrics and tables."""
    names = ["a1", "a2", "b1", "b2"]
    paths = [write_scenario(n, {**FAST, "name": n, "demand": {"growth_pct": i}}) for i, n in enumerate(names)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {
        "MLFLOW_TRACKING_URI": store
    }
    cmd = [sys.executable, "-m", "capplan.cli", "-q", "scenario", "run", "--out", str(tmp_path / "out")]
    procs = [
        subprocess.Popen(
            cmd + [str(p) for p in pair], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for pair in (paths[:2], paths[2:])
    ]
    results = [p.communicate(timeout=600) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=False):
        assert proc.returncode == 0, err
    runs = _runs(store)
    assert sorted(r.data.tags["scenario"] for r in runs) == names
    client = MlflowClient(store)
    for r in runs:
        assert r.info.status == "FINISHED" and "fte_total" in r.data.metrics
        assert "intervals.parquet" in {a.path for a in client.list_artifacts(r.info.run_id)}


def test_list_shows_files_and_latest_runs(run_cli, store):
    code, out, err = run_cli("scenario", "list")
    assert code == 0, err
    assert "baseline" in out and "campaign_week" in out and "ok" in out
