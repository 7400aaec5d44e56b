from pathlib import Path

import pandas as pd
import pytest
import yaml

from forecasting.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"
BANK_LOG = DATA / "anonymous_bank_1999-02-01_14.tsv"
BANK_CALLS = DATA / "bank_calls_2003-03-03_2003-05-28.csv"

FAST = {  # a small, quick scenario on the bundled calls: no champion needed
    "name": "fast",
    "data": {"input": str(BANK_CALLS), "time_col": "DateTime", "value_col": "Calls"},
    "forecast": {"model": "weekday_mean", "horizon_days": 5, "interval": "30min"},
    "queues": {"voice": {"aht_seconds": 180}},
    "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30},
    "risk": {"simulations": 200},
}


@pytest.fixture(autouse=True)
def no_ambient_store(tmp_path_factory, monkeypatch):
    """No test reads or writes the developer's own store: no MLFLOW_* variables, and the default
    local store in a folder of the test session."""
    for key in [k for k in __import__("os").environ if k.startswith("MLFLOW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CAPPLAN_HOME", str(tmp_path_factory.getbasetemp() / "capplan-home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache-home"))


@pytest.fixture
def tracking_store(tmp_path, monkeypatch) -> Store:
    """A fresh SQLite MLflow store for one test (the real store type users get by default); the
    CLI run by ``run_cli`` in the same test uses it too."""
    store = Store.at(tmp_path / "store")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    return store


@pytest.fixture
def run_cli(capsys):
    """Run ``capplan`` in-process; returns (exit code, stdout, stderr)."""
    from capplan.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["-q", *map(str, args)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def write_scenario(tmp_path):
    """Write scenario YAML files into a folder of their own; returns the path."""

    def write(name: str, content: dict | str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
        return path

    return write


@pytest.fixture(scope="session")
def bank_result():
    """The bundled calls, ingested once for the session."""
    from forecasting.history.ingest import IngestOptions, ingest

    return ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))


@pytest.fixture(scope="session")
def bank_history(bank_result) -> pd.Series:
    from forecasting.series import forecast_series

    return forecast_series(bank_result)
