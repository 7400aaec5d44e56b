"""The one place capplan talks to MLflow: a :class:`Store` names a tracking store and a model
registry, and reads and writes runs, registered forecasters, their aliases and artifacts.

MLflow keeps its target in process-wide state (and copies it into the environment). A Store
points MLflow at itself before every call and puts the environment back afterwards, so two
stores in one process (a test, a switch to a team server) never see each other's runs or
models, and nothing a command does depends on which store was used last.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.store.forecast_cache import ForecastCache

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
FORECASTING = "forecasting"  # experiment of training and retraining runs
SCENARIOS = "scenarios"  # experiment of scenario runs
MAX_PARAM = 6000  # MLflow's limit on a parameter value
PIP_REQUIREMENTS = ["pandas", "numpy", "scipy", "scikit-learn", "statsmodels", "prophet"]
_ENV_KEYS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_HTTP_REQUEST_MAX_RETRIES")
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # forecasting/: travels with every logged model
SOURCE_DIR = PACKAGE_DIR.parent


class StoreError(InputError):
    """The store cannot be reached or read: the user fixes the URI, the server or the file."""


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version behind an alias."""

    name: str
    version: int
    run_id: str


@dataclass(frozen=True)
class RunRecord:
    """A finished run as the rest of capplan sees it: plain values, no MLflow types."""

    run_id: str
    run_name: str
    start_time: pd.Timestamp  # UTC, without time zone (as MLflow's UI shows it)
    status: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """Where the default local store lives: ``CAPPLAN_HOME``; else the ``data/`` folder of the
    source checkout capplan runs from (``make run``); else the user's data folder
    (``$XDG_DATA_HOME/capplan``, by default ``~/.local/share/capplan``), never the installed package."""
    env = os.environ if env is None else env
    if env.get("CAPPLAN_HOME"):
        return Path(env["CAPPLAN_HOME"]).expanduser().resolve()
    if (SOURCE_DIR / "pyproject.toml").is_file() and (SOURCE_DIR / "experiments").is_dir():
        return SOURCE_DIR / "data"
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "capplan"


def _user_cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "capplan"


@dataclass(frozen=True)
class Store:
    """An MLflow tracking store and model registry, and the local folder beside them (lock,
    forecast cache). Build it with :meth:`open` at the edge and pass it on."""

    tracking_uri: str
    registry_uri: str
    home: Path  # lock and forecast cache

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, uri: str | None = None, *, env: Mapping[str, str] | None = None) -> Store:
        """The store ``uri`` names, else ``MLFLOW_TRACKING_URI``, else the default local SQLite
        store (see :func:`default_home`). The registry follows the store unless
        ``MLFLOW_REGISTRY_URI`` says otherwise."""
        env = os.environ if env is None else env
        tracking = uri or env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{default_home(env) / 'mlflow.db'}"
        tracking = _normal_uri(tracking)
        registry = _normal_uri(env.get("MLFLOW_REGISTRY_URI") or tracking)
        path = _sqlite_path(tracking)
        home = path.parent if path is not None else _user_cache_dir(env)
        return cls(tracking, registry, home)

    @classmethod
    def at(cls, folder: str | Path) -> Store:
        """A local SQLite store in ``folder`` (``mlflow.db``, artifacts and cache beside it)."""
        folder = Path(folder).expanduser().resolve()
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        return cls(uri, uri, folder)

    def __str__(self) -> str:
        return self.tracking_uri

    @property
    def database(self) -> Path | None:
        """The SQLite file of a local store (None for a server)."""
        return _sqlite_path(self.tracking_uri)

    def exists(self) -> bool:
        """False for a local store whose database file is not there yet (a new or mistyped path)."""
        return self.database is None or self.database.is_file()

    @property
    def forecast_cache(self) -> ForecastCache:
        return ForecastCache(self.home / "cache" / "forecasts")

    @staticmethod
    def model_name(source: str | Path, field: str = "arrivals", queue: str | None = None) -> str:
        """The registered-model name for a history file, a field and (optionally) one queue."""
        return "-".join(["capplan", Path(source).stem, field] + ([queue] if queue and queue != "all" else []))

    # ------------------------------------------------------------------ MLflow access
    @contextlib.contextmanager
    def _active(self) -> Iterator[None]:
        """Point MLflow at this store for one call, with one-line errors; afterwards MLflow's
        targets and the environment are as they were (as MLflow's own ``_use_tracking_uri`` does)."""
        import mlflow
        from mlflow.tracking._model_registry import utils as registry_state
        from mlflow.tracking._tracking_service import utils as tracking_state

        for name in ("mlflow", "alembic", "sqlalchemy"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("mlflow.pyfunc").setLevel(
            logging.ERROR
        )  # our own pickled class: noise to a planner
        saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
        saved = (
            getattr(tracking_state, "_tracking_uri", None),
            getattr(registry_state, "_registry_uri", None),
        )
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")  # a down server: an answer in seconds
        try:
            with self._errors():
                if self.database is not None:
                    self.database.parent.mkdir(parents=True, exist_ok=True)
                mlflow.set_tracking_uri(self.tracking_uri)
                mlflow.set_registry_uri(self.registry_uri)
            yield
        finally:
            mlflow.set_tracking_uri(saved[0])
            mlflow.set_registry_uri(saved[1])
            for key, value in saved_env.items():
                os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        from mlflow.exceptions import MlflowException
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except (MlflowException, SQLAlchemyError, OSError) as exc:
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise StoreError(
                f"the MLflow store failed: {first[:200]}",
                path=self.tracking_uri,
                expected="a reachable store (check <<store>> or MLFLOW_TRACKING_URI)",
            ) from None

    def _client(self):
        from mlflow import MlflowClient

        return MlflowClient(self.tracking_uri, registry_uri=self.registry_uri)

    def _experiment_id(self, name: str) -> str:
        """Get or create an experiment; local stores keep artifacts beside the database."""
        client = self._client()
        found = client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        location = (self.home / "mlartifacts" / name).as_uri() if self.database is not None else None
        try:
            return client.create_experiment(name, artifact_location=location)
        except Exception:  # another process created it first
            return client.get_experiment_by_name(name).experiment_id

    # ------------------------------------------------------------------ runs
    @contextlib.contextmanager
    def start_run(self, experiment: str, run_name: str) -> Iterator[RunLog]:
        """A run in ``experiment``, finished when the block ends (failed if it raises)."""
        import mlflow

        with self._active():
            with self._errors():
                run = mlflow.start_run(experiment_id=self._experiment_id(experiment), run_name=run_name)
            status = "FAILED"
            try:
                yield RunLog(self, run.info.run_id)
                status = "FINISHED"
            except KeyboardInterrupt:
                status = "KILLED"
                raise
            finally:
                with self._errors():
                    mlflow.end_run(status)

    @contextlib.contextmanager
    def lock(self, timeout_seconds: float = 300.0) -> Iterator[None]:
        """Hold a local SQLite store for one process at a time (a file lock beside it).

        SQLite lets one writer in at a time and MLflow's first use creates the schema; two
        planners logging at once could otherwise see "database is locked" and lose a run.
        Servers handle concurrency themselves: no lock there.
        """
        if self.database is None:
            yield
            return
        path = self.database.with_name(self.database.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as handle:
            deadline = time.monotonic() + timeout_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(
                            f"the MLflow store stayed busy for {timeout_seconds:.0f} s",
                            path=self.tracking_uri,
                            expected="the other capplan process to finish",
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def runs(
        self,
        experiment: str,
        tags: Mapping[str, str] | None = None,
        run_name_like: str | None = None,
        max_results: int | None = None,
    ) -> list[RunRecord]:
        """Finished runs of an experiment, newest first, optionally with these tag values or a
        run name matching an SQL LIKE pattern. A store without the experiment has none."""
        if not self.exists():
            return []
        conditions = ["attributes.status = 'FINISHED'"]
        conditions += [f"tags.`{k}` = '{_quoted(v)}'" for k, v in (tags or {}).items()]
        if run_name_like:
            conditions.append(f"attributes.run_name LIKE '{_quoted(run_name_like)}'")
        with self._active(), self._errors():
            client = self._client()
            found = client.get_experiment_by_name(experiment)
            if found is None:
                return []
            runs, token = [], None
            while True:
                page = client.search_runs(
                    [found.experiment_id],
                    " and ".join(conditions),
                    order_by=["attributes.start_time DESC"],
                    max_results=min(max_results or 1000, 1000),
                    page_token=token,
                )
                runs.extend(page)
                token = page.token
                if not token or (max_results and len(runs) >= max_results):
                    break
        return [_record(r) for r in runs[:max_results]]

    def latest_run(
        self, experiment: str, tags: Mapping[str, str] | None = None, run_name_like: str | None = None
    ) -> RunRecord | None:
        found = self.runs(experiment, tags, run_name_like, max_results=1)
        return found[0] if found else None

    def artifact_file(self, run_id: str, name: str, folder: str | Path) -> Path | None:
        """An artifact of a run downloaded into ``folder``; None if the run has no such file."""
        with self._active():
            try:
                return Path(self._client().download_artifacts(run_id, name, str(folder)))
            except Exception:  # an older run without this file, or an unreachable artifact store
                return None

    def artifact_table(self, run_id: str, name: str) -> pd.DataFrame | None:
        """A table (CSV or Parquet) logged with a run; None if the run has no such table."""
        with tempfile.TemporaryDirectory() as tmp:
            local = self.artifact_file(run_id, name, tmp)
            if local is None:
                return None
            return pd.read_parquet(local) if name.endswith(".parquet") else pd.read_csv(local)

    # ------------------------------------------------------------------ registry
    def model_version(self, name: str, alias: str = CHAMPION) -> ModelVersion | None:
        """The version behind ``name@alias``, or None when there is none (or no store yet)."""
        from mlflow.exceptions import MlflowException

        if not self.exists():
            return None
        with self._active(), self._errors():
            try:
                found = self._client().get_model_version_by_alias(name, alias)
            except MlflowException as exc:
                if "RESOURCE_DOES_NOT_EXIST" in str(exc.error_code) or "not found" in str(exc).lower():
                    return None
                raise
        return ModelVersion(name, int(found.version), str(found.run_id))

    def set_alias(self, name: str, alias: str, version: int) -> None:
        with self._active(), self._errors():
            self._client().set_registered_model_alias(name, alias, str(version))

    def load_forecaster(self, name: str, alias: str = CHAMPION):
        """The fitted forecaster behind ``name@alias``: (forecaster, model name, version)."""
        import mlflow

        version = self.model_version(name, alias)
        if version is None:
            raise InputError(
                f"no {alias} model registered under '{name}' in {self.tracking_uri}",
                expected="a model trained first on this data (train it with the same input and <<registered_model>>)",
            )
        with self._active(), self._errors():
            wrapper = mlflow.pyfunc.load_model(f"models:/{name}/{version.version}").unwrap_python_model()
        return wrapper.forecaster, wrapper.name, version


class RunLog:
    """What a run records: parameters, metrics, tags, tables, figures, the data set and models."""

    def __init__(self, store: Store, run_id: str):
        self.store = store
        self.run_id = run_id

    def log_params(self, params: Mapping[str, object]) -> None:
        import mlflow

        items = [(k, str(v)[:MAX_PARAM]) for k, v in params.items()]
        with self.store._errors():
            for chunk in range(0, len(items), 100):
                mlflow.log_params(dict(items[chunk : chunk + 100]))

    def log_metrics(self, metrics: Mapping[str, float | None], step: int | None = None) -> None:
        """Finite values only (MLflow stores NaN, but nobody can compare with it)."""
        import mlflow

        clean = {metric_key(k): float(v) for k, v in metrics.items() if v is not None and np.isfinite(v)}
        with self.store._errors():
            mlflow.log_metrics(clean, step=step)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        import mlflow

        with self.store._errors():
            mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def set_note(self, text: str) -> None:
        self.set_tags({"mlflow.note.content": text})

    def log_text(self, text: str, name: str) -> None:
        import mlflow

        with self.store._errors():
            mlflow.log_text(text, name)

    def log_table(self, table: pd.DataFrame, name: str) -> None:
        import mlflow

        with self.store._errors():
            mlflow.log_table(table, name)

    def log_figure(self, figure, name: str) -> None:
        import mlflow

        with self.store._errors():
            mlflow.log_figure(figure, name)

    def log_artifacts(self, folder: str | Path) -> None:
        import mlflow

        with self.store._errors():
            mlflow.log_artifacts(str(folder))

    def log_dataset(self, frame: pd.DataFrame, source: str, name: str, targets: str, context: str) -> None:
        import mlflow

        with (
            warnings.catch_warnings()
        ):  # MLflow cannot tell which kind of local path a source is; either is fine
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(frame, source=source, name=name, targets=targets)
        with self.store._errors():
            mlflow.log_input(dataset, context=context)

    def log_forecaster(self, forecaster, model_name: str, registered_name: str) -> int:
        """Log a fitted forecaster as a pyfunc model and register it; returns the version.

        The pyfunc takes a DataFrame with a ``timestamp`` column and returns the forecast
        table, so anything that can call MLflow (a notebook, another service) can forecast
        without knowing which model won; the forecasting package travels with the model."""
        import mlflow

        with self.store._errors():
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=_python_model_class()(forecaster, model_name),
                # no signature: timestamps may come as datetimes or as text, and predict parses both
                registered_model_name=registered_name,
                pip_requirements=PIP_REQUIREMENTS,
                code_paths=[str(PACKAGE_DIR)],
            )
        return int(info.registered_model_version)


def metric_key(text: str) -> str:
    """MLflow metric names allow letters, digits, _ - . / and spaces; '+' (combinations) is not."""
    import re

    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", text.replace("+", "__"))


def _python_model_class():
    """The pyfunc wrapper, defined when needed (importing mlflow is slow) and pickled by value."""
    import mlflow.pyfunc

    class ForecastModel(mlflow.pyfunc.PythonModel):
        """Wraps a fitted forecaster; input: DataFrame with 'timestamp'; output: forecast table."""

        def __init__(self, forecaster, name: str):
            self.forecaster = forecaster
            self.name = name

        def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
            column = model_input["timestamp"] if "timestamp" in model_input else model_input.iloc[:, 0]
            text = column.dtype == object or pd.api.types.is_string_dtype(column)
            stamps = pd.to_datetime(column, format="ISO8601") if text else pd.to_datetime(column)
            return self.forecaster.predict(pd.DatetimeIndex(stamps)).reset_index()

    return ForecastModel


def _record(run) -> RunRecord:
    start = pd.Timestamp(run.info.start_time, unit="ms") if run.info.start_time else pd.NaT
    return RunRecord(
        run.info.run_id,
        run.info.run_name or "",
        start,
        run.info.status,
        dict(run.data.params),
        dict(run.data.metrics),
        dict(run.data.tags),
    )


def _quoted(text: str) -> str:
    return str(text).replace("'", "\\'")


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def _normal_uri(uri: str) -> str:
    """Local paths and relative SQLite files as absolute ``sqlite:///`` URIs, so a store means
    the same file whichever folder a command runs from."""
    uri = str(uri).strip()
    if uri.startswith("sqlite:///"):
        return f"sqlite:///{Path(uri.removeprefix('sqlite:///')).expanduser().resolve()}"
    if "://" not in uri:  # a plain path: a SQLite file, or a folder to hold one
        path = Path(uri).expanduser().resolve()
        return f"sqlite:///{path / 'mlflow.db' if path.is_dir() or not path.suffix else path}"
    return uri
