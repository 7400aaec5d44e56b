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
    assert not {"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"} & set(
        os.environ
    )  # nothing left for the next command
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


def test_uris_mlflow_reads_otherwise_are_passed_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Store.open("file:mlruns", env={}).tracking_uri == (tmp_path / "mlruns").as_uri()
    assert Store.open("databricks", env={}).tracking_uri == "databricks"
    with_options = Store.open("sqlite:///x.db?timeout=30", env={})
    assert with_options.tracking_uri == f"sqlite:///{tmp_path / 'x.db'}?timeout=30"
    assert with_options.database == tmp_path / "x.db"


def test_runs_are_found_by_names_with_quotes(tmp_path):
    store = Store.at(tmp_path)
    for name in ("O'Brien calls", 'the "big" queue', "bank_calls", "bank-calls"):
        with store.start_run("scenarios", f"train {name}") as run:
            run.set_tags({"scenario": name})
    for name in ("O'Brien calls", 'the "big" queue', "bank_calls"):
        assert [r.tags["scenario"] for r in store.runs("scenarios", tags={"scenario": name})] == [name]
        assert store.latest_run("scenarios", run_name_suffix=f"train {name}").tags["scenario"] == name


def test_the_app_sessions_threads_keep_their_runs_apart(tmp_path):
    """Sessions of the app run in threads: one logging runs while another reads the store must
    neither lose a run nor send one to another store."""
    import threading

    store = Store.at(tmp_path / "store")
    store.runs("scenarios")
    errors, done = [], threading.Event()

    def read():
        while not done.is_set():
            try:
                store.runs("scenarios")
            except Exception as exc:
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(8):
            with store.start_run("scenarios", f"run {i}") as run:
                run.log_metrics({"x": i})
                run.set_tags({"scenario": f"s{i}"})
    finally:
        done.set()
        reader.join()
    assert not errors
    assert sorted(r.metrics["x"] for r in store.runs("scenarios")) == list(range(8))
    assert not (tmp_path / "mlflow.db").exists() and not os.path.exists("mlflow.db")


def test_a_server_that_is_not_an_mlflow_store_is_a_store_error(tmp_path):
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = Store.open(f"http://127.0.0.1:{server.server_address[1]}", env={})
        with pytest.raises(StoreError, match="the MLflow store failed"):
            store.model_version("calls")
    finally:
        server.shutdown()
