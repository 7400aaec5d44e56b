"""The Store: which store a command uses, two stores side by side in one process, the cache."""

import os

import pandas as pd
import pytest

from forecasting.store import CHAMPION, ForecastCache, Store, StoreError
from forecasting.store.forecast_cache import digest, series_digest
from forecasting.training import train


def test_store_comes_from_the_option_then_the_environment_then_the_default(tmp_path):
    env = {"CAPPLAN_HOME": str(tmp_path / "home")}
    assert Store.open(env=env).tracking_uri == f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    env["MLFLOW_TRACKING_URI"] = "http://team-server:5000"
    server = Store.open(env=env)
    assert server.tracking_uri == server.registry_uri == "http://team-server:5000" and server.database is None
    assert (
        Store.open(str(tmp_path / "other.db"), env=env).tracking_uri == f"sqlite:///{tmp_path / 'other.db'}"
    )
    env["MLFLOW_REGISTRY_URI"] = "http://registry:5000"
    assert Store.open(env=env).registry_uri == "http://registry:5000"


def test_a_relative_sqlite_path_means_the_same_file_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = Store.open("sqlite:///stores/a.db", env={})
    assert (
        store.tracking_uri == f"sqlite:///{tmp_path / 'stores' / 'a.db'}"
        and store.home == tmp_path / "stores"
    )
    assert Store.open("stores", env={}).tracking_uri == f"sqlite:///{tmp_path / 'stores' / 'mlflow.db'}"


def test_the_default_store_of_an_installed_capplan_is_in_the_user_data_folder(tmp_path, monkeypatch):
    import forecasting.store.store as module

    monkeypatch.setattr(module, "SOURCE_DIR", tmp_path / "site-packages")  # no checkout around the code
    assert module.default_home({"XDG_DATA_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "capplan"


def test_two_stores_in_one_process_keep_their_own_champions(tmp_path, bank_history, bank_result):
    a, b = Store.at(tmp_path / "a"), Store.at(tmp_path / "b")
    train(
        a,
        bank_history,
        bank_result.calendar,
        "calls.csv",
        "calls",
        ["weekday_mean"],
        n_origins=2,
        progress=False,
    )
    assert a.model_version("calls", CHAMPION).version == 1
    assert b.model_version("calls", CHAMPION) is None  # b has no such model, though a does
    train(
        b,
        bank_history * 2,
        bank_result.calendar,
        "calls.csv",
        "calls",
        ["seasonal_naive_week"],
        n_origins=2,
        progress=False,
    )
    _fa, name_a, va = a.load_forecaster("calls")
    _fb, name_b, vb = b.load_forecaster("calls")
    assert (name_a, name_b) == ("weekday_mean", "seasonal_naive_week") and va.run_id != vb.run_id
    assert not any(k.startswith("MLFLOW_") for k in os.environ)  # nothing left behind for the next command
    assert not (tmp_path / "mlflow.db").exists() and not os.path.exists("mlflow.db")


def test_a_store_that_is_not_a_database_is_a_one_line_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    store = Store.open(str(path), env={})
    with pytest.raises(StoreError, match="the MLflow store failed") as err:
        store.runs("scenarios")
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_reading_a_store_that_is_not_there_creates_nothing(tmp_path):
    store = Store.open(str(tmp_path / "typo.db"), env={})
    assert store.model_version("calls") is None and store.runs("scenarios") == []
    assert not (tmp_path / "typo.db").exists()


def test_cache_keys_cover_what_they_depend_on_and_entries_are_whole(tmp_path):
    series = pd.Series(
        [1.0, 2.0, 3.0], index=pd.date_range("2024-01-01", periods=3, freq="h"), name="arrivals"
    )
    assert series_digest(series) != series_digest(series.where(series.index != series.index[1], 2.5))
    assert digest({"store": "sqlite:///a.db", "run": "1"}) != digest({"store": "sqlite:///b.db", "run": "1"})
    cache = ForecastCache(tmp_path / "cache")
    assert cache.get("k") is None
    cache.put("k", pd.DataFrame({"forecast": [1.0]}), {"model": "m"})
    table, meta = cache.get("k")
    assert table["forecast"].tolist() == [1.0] and meta == {"model": "m"}
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "k.json",
        "k.parquet",
    ]  # no temporary files left
    (tmp_path / "cache" / "k.json").unlink()  # the marker written last is missing: the entry does not count
    assert cache.get("k") is None
