"""Loading a registered model runs the code in its files (a pickle, the package beside it): files
that are not the ones registered are refused before anything is unpickled, damaged ones are one
line, and what a model was trained on travels with its version."""

import pickle
from pathlib import Path

import pytest
from mlflow import MlflowClient

from forecasting.catalog import make_model
from forecasting.store import CHAMPION, ModelVersion, Store, StoreError
from forecasting.store.store import CHECKSUM_TAG


@pytest.fixture
def registered(tmp_path, bank_history, bank_result) -> tuple[Store, ModelVersion]:
    """A champion registered in a fresh local store, with a contract."""
    store = Store.at(tmp_path / "store")
    fitted = make_model("weekday_mean").fit(bank_history, bank_result.calendar)
    with store.start_run("forecasting", "train calls") as run:
        number = run.log_forecaster(
            fitted, "weekday_mean", "calls", contract={"interval": "5min", "queue": "all"}
        )
    store.set_alias("calls", CHAMPION, number)
    return store, store.model_version("calls", CHAMPION)


def _pickle_of(store: Store, version: ModelVersion) -> Path:
    """The model's pickle as stored, in the store's artifact folder beside the database."""
    source = MlflowClient(store.tracking_uri).get_model_version(version.name, str(version.version)).source
    path = Path(source.removeprefix("file://")) / "python_model.pkl"
    assert path.is_file() and path.is_relative_to(store.home / "mlartifacts")
    return path


class Plant:
    """A pickle that, once loaded, makes a folder: proof that its code ran."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __reduce__(self):
        import os

        return os.mkdir, (str(self.folder),)


def test_a_registered_model_loads_back_with_its_contract(registered):
    store, version = registered
    forecaster, name, loaded = store.load_forecaster("calls")
    assert name == "weekday_mean" and loaded == version and forecaster.history_end_ is not None
    assert store.model_contract(version) == {"interval": "5min", "queue": "all"}
    tags = MlflowClient(store.tracking_uri).get_model_version("calls", str(version.version)).tags
    assert len(tags[CHECKSUM_TAG]) == 64


def test_a_model_whose_files_were_replaced_is_refused_before_its_code_runs(registered, tmp_path):
    store, version = registered
    marker = tmp_path / "the pickle ran"
    _pickle_of(store, version).write_bytes(pickle.dumps(Plant(marker)))
    with pytest.raises(StoreError, match="do not match the checksum recorded at registration") as err:
        store.load_forecaster("calls")
    assert "\n" not in str(err.value) and "calls version 1" in str(err.value)
    assert not marker.exists()


def test_code_added_beside_the_model_is_refused_too(registered):
    store, version = registered
    code = _pickle_of(store, version).parent / "code"
    (code / "pandas.py").write_text("raise SystemExit('ran')\n")  # would shadow a module on load
    with pytest.raises(StoreError, match="do not match the checksum"):
        store.load_forecaster("calls")


def test_a_truncated_model_is_one_line(registered):
    store, version = registered
    path = _pickle_of(store, version)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(StoreError, match="do not match the checksum") as err:
        store.load_forecaster("calls")
    assert "\n" not in str(err.value)


def test_a_model_registered_before_checksums_loads_with_a_warning_unless_damaged(registered, caplog):
    store, version = registered
    client = MlflowClient(store.tracking_uri)
    client.delete_model_version_tag(
        "calls", str(version.version), CHECKSUM_TAG
    )  # as an older capplan left it
    with caplog.at_level("WARNING"):
        _forecaster, name, _ = store.load_forecaster("calls")
    assert name == "weekday_mean" and "no checksum" in caplog.text
    path = _pickle_of(store, version)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(StoreError, match="cannot be read") as err:
        store.load_forecaster("calls")
    assert "\n" not in str(err.value) and "train it again" in str(err.value)


def test_a_version_registered_without_a_contract_has_an_empty_one(registered, bank_history, bank_result):
    store, _ = registered
    fitted = make_model("weekday_mean").fit(bank_history, bank_result.calendar)
    with store.start_run("forecasting", "train calls") as run:
        number = run.log_forecaster(fitted, "weekday_mean", "calls")
    assert number == 2 and store.model_contract(ModelVersion("calls", number, run.run_id)) == {}


def test_forecast_with_a_tampered_champion_is_one_line_from_the_command(registered, run_cli, tmp_path):
    store, version = registered
    marker = tmp_path / "the pickle ran"
    _pickle_of(store, version).write_bytes(pickle.dumps(Plant(marker)))
    code, _out, err = run_cli(
        "--store",
        store.home,
        "forecast",
        "--input",
        Path(__file__).resolve().parents[3] / "data" / "bank_calls_2003-03-03_2003-05-28.csv",
        "--time-col",
        "DateTime",
        "--value-col",
        "Calls",
        "--model",
        "champion",
        "--registered-model",
        "calls",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 2 and "do not match the checksum" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not marker.exists()
