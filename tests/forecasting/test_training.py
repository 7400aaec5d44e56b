"""Training and retraining against a real (SQLite) MLflow store."""

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.tracking._model_registry import utils as registry_utils

from forecasting.training import retrain, train

MODELS = ["weekday_mean", "ets_topdown"]


def test_train_registers_champion_and_retrain_decides(tracking_store, bank_history, bank_result, monkeypatch):
    old = bank_history[bank_history.index < "2003-05-01"]
    first = train(
        tracking_store,
        old,
        bank_result.calendar,
        "bank_calls.csv",
        "bank",
        MODELS,
        n_origins=3,
        progress=False,
    )
    assert first.promoted and first.version == 1
    client = MlflowClient(tracking_store.tracking_uri, registry_uri=tracking_store.registry_uri)
    assert str(client.get_model_version_by_alias("bank", "champion").version) == "1"
    run = client.get_run(first.run_id)
    assert run.data.params["chosen_model"] == first.model
    assert {"mase", "wape", "coverage80", "weekday_mean.mase", "ets_topdown.mase"} <= set(run.data.metrics)
    history = client.get_metric_history(first.run_id, "weekday_mean.mase_by_horizon")
    assert sorted(m.step for m in history) == [1, 2, 3, 4, 5]
    artifacts = {a.path for a in client.list_artifacts(first.run_id)}
    assert {"leaderboard.csv", "forecast_vs_actual.png"} <= artifacts
    assert run.inputs.dataset_inputs and run.inputs.dataset_inputs[0].dataset.name.endswith(":arrivals")

    _forecaster, name, version = tracking_store.load_forecaster(
        "bank"
    )  # through the pyfunc, as other tools would
    assert name == first.model and version.version == 1 and version.run_id == first.run_id
    # MLflow's process-wide registry (and the variable it copies it to) put back after the test:
    # a later test's client without a registry URI would otherwise look in this test's store
    monkeypatch.setattr(registry_utils, "_registry_uri", registry_utils._registry_uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", tracking_store.registry_uri)
    mlflow.set_registry_uri(tracking_store.registry_uri)
    pyfunc = mlflow.pyfunc.load_model("models:/bank@champion")
    stamps = pd.DataFrame({"timestamp": pd.date_range("2003-05-01 07:00", periods=3, freq="5min")})
    out = pyfunc.predict(stamps)
    assert list(out.columns) == ["timestamp", "forecast", "lo80", "hi80", "lo95", "hi95"]
    as_text = pyfunc.predict(pd.DataFrame({"timestamp": ["2003-05-01 07:00:00", "2003-05-01 07:05:00"]}))
    np.testing.assert_allclose(as_text["forecast"], out["forecast"].iloc[:2])

    again = train(
        tracking_store,
        old,
        bank_result.calendar,
        "bank_calls.csv",
        "bank",
        ["seasonal_naive_day"],
        n_origins=2,
        progress=False,
    )
    assert not again.promoted and "challenger" in again.decision
    assert str(client.get_model_version_by_alias("bank", "champion").version) == "1"

    second = retrain(
        tracking_store,
        bank_history,
        bank_result.calendar,
        "bank_calls.csv",
        "bank",
        MODELS,
        n_origins=3,
        eval_origins=3,
        progress=False,
    )
    run = client.get_run(second.run_id)
    assert run.data.tags["decision"] == second.decision
    champion = str(client.get_model_version_by_alias("bank", "champion").version)
    assert str(client.get_model_version_by_alias("bank", "challenger").version) == str(second.version) == "3"
    champion_mase = run.data.metrics["window.champion.mase"]
    refit_mase = run.data.metrics["window.champion_refit.mase"]
    challenger_mase = run.data.metrics["window.challenger.mase"]
    assert second.promoted == (challenger_mase < champion_mase and challenger_mase <= refit_mase + 1e-12)
    assert champion == (str(second.version) if second.promoted else "1")


def test_retrain_without_champion_says_so(tracking_store, bank_history, bank_result, run_cli):
    code, _out, err = run_cli(
        "retrain",
        "--input",
        "data/bank_calls_2003-03-03_2003-05-28.csv",
        "--time-col",
        "DateTime",
        "--value-col",
        "Calls",
        "--registered-model",
        "nothing-here",
    )
    assert code == 2
    assert "no champion model registered under 'nothing-here'" in err
