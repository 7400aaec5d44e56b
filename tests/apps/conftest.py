"""A real MLflow store with a champion and two scenario runs, made once for the app tests."""

import os
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "apps" / "streamlit_app.py"


def prepare_store(folder: Path) -> str:
    """Train a quick champion on the bundled calls and run the baseline and one scenario."""
    from forecasting.ingest import IngestOptions, ingest
    from forecasting.series import forecast_series
    from forecasting.training import registered_name_for, train
    from scenarios.scenario_command import run_one
    from tests.conftest import BANK_CALLS

    result = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    history = forecast_series(result)
    train(history, result.calendar, str(BANK_CALLS), registered_name_for(BANK_CALLS, "arrivals", None), ["weekday_mean"],
          n_origins=2, progress=False)  # fmt: skip
    for name in ("baseline", "campaign_week"):
        run_one(name, None)
    return os.environ["MLFLOW_TRACKING_URI"]


@pytest.fixture(scope="session")
def filled_store(tmp_path_factory):
    """(tracking URI, cache folder) of a store with a champion and runs of baseline and campaign_week."""
    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "CAPPLAN_CACHE_DIR")}
    os.environ.update(MLFLOW_TRACKING_URI=uri, CAPPLAN_CACHE_DIR=str(folder / "cache"))
    try:
        prepare_store(folder)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return uri, str(folder / "cache")


@pytest.fixture
def store(filled_store, monkeypatch):
    uri, cache = filled_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CAPPLAN_CACHE_DIR", cache)
    return uri


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("CAPPLAN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path
