"""A real MLflow store with a champion and two scenario runs, made once for the app tests."""

from pathlib import Path

import pytest

from forecasting.store import Store

APP = Path(__file__).resolve().parents[2] / "apps" / "streamlit_app.py"


def prepare_store(store: Store) -> None:
    """Train a quick champion on the bundled calls and run the baseline and one scenario."""
    from capplan.cli.scenario import run_one
    from forecasting.history.ingest import IngestOptions, ingest
    from forecasting.series import forecast_series
    from forecasting.training import train
    from tests.conftest import BANK_CALLS

    result = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    history = forecast_series(result)
    train(
        store,
        history,
        result.calendar,
        str(BANK_CALLS),
        store.model_name(BANK_CALLS),
        ["weekday_mean"],
        n_origins=2,
        progress=False,
    )
    for name in ("baseline", "campaign_week"):
        run_one(store, name, None)


@pytest.fixture(scope="session")
def filled_store(tmp_path_factory) -> Store:
    """A store with a champion and runs of baseline and campaign_week."""
    store = Store.at(tmp_path_factory.mktemp("store"))
    prepare_store(store)
    return store


@pytest.fixture
def store(filled_store, monkeypatch) -> Store:
    """The filled store, as the app finds it (MLFLOW_TRACKING_URI)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", filled_store.tracking_uri)
    return filled_store


@pytest.fixture
def empty_store(tmp_path, monkeypatch) -> Store:
    store = Store.at(tmp_path / "empty")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    return store
