from pathlib import Path

import pytest

from forecasting.store import Store

DATA = Path(__file__).resolve().parents[1] / "data"
BANK_LOG = DATA / "anonymous_bank_1999-02-01_14.tsv"
BANK_CALLS = DATA / "bank_calls_2003-03-03_2003-05-28.csv"


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
