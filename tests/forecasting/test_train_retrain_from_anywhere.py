"""An analyst's loop as a new user runs it: from a folder other than the project, with no MLflow
variable set, train, retrain on a longer file and forecast with the champion, all on one store."""

import os
import subprocess
import sys

import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.conftest import BANK_CALLS


@pytest.mark.slow
def test_train_retrain_forecast_from_another_folder_use_one_store(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    calls = pd.read_csv(BANK_CALLS)
    short = work / "calls_to_may.csv"
    calls[calls["DateTime"] < "2003-05-14"].to_csv(short, index=False)
    longer = work / "calls_to_end_of_may.csv"
    calls.to_csv(longer, index=False)
    home = tmp_path / "home"  # where the default store goes (CAPPLAN_HOME)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"CAPPLAN_HOME": str(home)}
    capplan = [sys.executable, "-m", "capplan.cli", "-q"]
    common = ["--time-col", "DateTime", "--value-col", "Calls", "--registered-model", "calls", "--jobs", "1"]
    models = ["--models", "weekday_mean,seasonal_naive_week", "--origins", "2"]

    def run(*args):
        done = subprocess.run(
            capplan + list(args), cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr
        return done

    run("train", "--input", short.name, *common, *models)
    retrained = run("retrain", "--input", longer.name, *common, *models, "--eval-origins", "3")
    assert "champion" in retrained.stdout
    run(
        "forecast",
        "--input",
        longer.name,
        *common[:-2],
        "--model",
        "champion",
        "--registered-model",
        "calls",
        "--out",
        "f.csv",
    )
    forecast = pd.read_csv(work / "f.csv")
    assert len(forecast) > 0 and (forecast["forecast"] >= 0).all()

    assert (
        not list(work.rglob("mlflow.db")) and not (work / "mlruns").exists()
    )  # nothing stray in the working folder
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)  # not a registry an earlier test in this process set
    versions = {int(v.version) for v in client.search_model_versions("name = 'calls'")}
    assert versions == {1, 2}  # the retrain found the champion the train registered, in the same store
    runs = client.search_runs([client.get_experiment_by_name("forecasting").experiment_id])
    assert sorted(r.data.params["kind"] for r in runs) == ["retrain", "train"]
