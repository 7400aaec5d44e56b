"""The one place capplan talks to MLflow: a :class:`Store` names a tracking store and a model
registry, and reads and writes runs, registered forecasters, their aliases and artifacts.

MLflow's fluent API keeps its target and the active run in process-wide state (and copies the
target into the environment). A Store never uses it: every call goes through a client bound
to the store and names its run, so two stores in one process (a test, a switch to a team
server), or the app's sessions in their threads, never see each other's runs or models.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.store.forecast_cache import ForecastCache

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
FORECASTING = "forecasting"  # experiment of training and retraining runs
SCENARIOS = "scenarios"  # experiment of scenario runs
MAX_PARAM = 6000  # MLflow's limit on a parameter value
PIP_REQUIREMENTS = ["pandas", "numpy", "scipy", "scikit-learn", "statsmodels", "prophet"]
BARE_SCHEMES = ("databricks", "databricks-uc", "uc")  # MLflow URIs with no colon
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # forecasting/: travels with every logged model
SOURCE_DIR = PACKAGE_DIR.parent
PID_TAG, PID_START_TAG, HOST_TAG = "capplan.pid", "capplan.pid_start", "capplan.host"  # who runs a run
CHECKSUM_TAG = "capplan.model_sha256"  # of a registered version's files, checked before loading them
CONTRACT_PREFIX = "capplan.contract."  # model-version tags: what a model was trained on
UNREADABLE_MODEL = (  # what unpickling a damaged or foreign model file raises
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    SyntaxError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
    MemoryError,
)
_READY: set[tuple[str, str]] = set()  # stores whose schema this process has made sure of
_READY_GUARD = threading.Lock()
_CREATED: set[Path] = set()  # databases this process created


class StoreError(InputError):
    """The store cannot be reached or read: the user fixes the URI, the server or the file."""


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version behind an alias."""

    name: str
    version: int
    run_id: str


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model as ``capplan store`` lists it: versions, aliases, each version's tags."""

    name: str
    versions: tuple[int, ...]
    aliases: dict[str, int]  # champion, challenger -> version
    tags: dict[int, dict[str, str]]  # version -> its tags (contract, checksum, live accuracy)
    run_ids: dict[int, str]  # version -> the run that registered it

    def version(self, number: int) -> ModelVersion:
        return ModelVersion(self.name, number, self.run_ids[number])


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

    def created_by_this_process(self) -> bool:
        """Whether this process created the local store's database: of several processes starting
        on a new store at once, exactly one (so exactly one says it made the store)."""
        return self.database is not None and self.database in _CREATED

    @property
    def forecast_cache(self) -> ForecastCache:
        return ForecastCache(self.home / "cache" / "forecasts")

    @property
    def choice_cache(self) -> ForecastCache:
        """Backtest leaderboards by the content they were run on, for ``forecast --model auto``."""
        return ForecastCache(self.home / "cache" / "choices")

    @staticmethod
    def model_name(source: str | Path, field: str = "arrivals", queue: str | None = None) -> str:
        """The registered-model name for a history file, a field and (optionally) one queue: only
        letters, digits, '-', '_' and '.' (MLflow refuses a queue called 'a/b' after the backtest)."""
        parts = ["capplan", Path(source).stem, field] + ([queue] if queue and queue != "all" else [])
        return re.sub(r"[^A-Za-z0-9_.\-]+", "_", "-".join(map(str, parts)))

    # ------------------------------------------------------------------ MLflow access
    def _client(self):
        """A client bound to this store: no MLflow process-wide state is read or set, so several
        stores, threads (the app's sessions) and runs at once never see each other's."""
        from mlflow import MlflowClient

        _quiet_mlflow()
        key = (self.tracking_uri, self.registry_uri)
        if self.database is None or key in _READY:
            return MlflowClient(self.tracking_uri, registry_uri=self.registry_uri)
        # The first client of a local store in this process creates or checks its schema (MLflow
        # runs its migrations on an empty database): two processes doing it at once fail, so it
        # happens under the store's lock, with the clean-up of runs whose process is gone.
        with self.lock():
            self.database.parent.mkdir(parents=True, exist_ok=True)
            if not self.database.is_file():  # only one process sees it missing: the lock is held
                _create_database(self.database, self.tracking_uri)
                _CREATED.add(self.database)
            if key not in _READY:
                try:  # the tracking store is made (and checked) here, the registry's just below
                    client = MlflowClient(self.tracking_uri, registry_uri=self.registry_uri)
                    client.search_registered_models(max_results=1)
                except Exception as exc:
                    if "out-of-date database schema" not in str(exc) and _half_created(self.database):
                        raise StoreError(
                            "the store's database was left half-created by a process that was killed:"
                            f" move {self.database} away and run again",
                            path=self.tracking_uri,
                            expected="a complete MLflow database (a new one is made when none is there)",
                        ) from None
                    raise
                _end_orphaned_runs(client, self.tracking_uri)
                with _READY_GUARD:
                    _READY.add(key)
                return client
        return MlflowClient(self.tracking_uri, registry_uri=self.registry_uri)

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

    def _experiment_id(self, client, name: str) -> str:
        """Get or create an experiment; local stores keep artifacts beside the database."""
        found = client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        location = (self.home / "mlartifacts" / name).as_uri() if self.database is not None else None
        try:
            return client.create_experiment(name, artifact_location=location)
        except Exception as exc:  # another process created it first, or the store refuses
            found = client.get_experiment_by_name(name)
            if found is None:
                raise StoreError(
                    f"cannot create the experiment '{name}': {str(exc).strip()[:200]}",
                    path=self.tracking_uri,
                    expected="a store capplan may write to",
                ) from None
            return found.experiment_id

    # ------------------------------------------------------------------ runs
    @contextlib.contextmanager
    def start_run(self, experiment: str, run_name: str) -> Iterator[RunLog]:
        """A run in ``experiment``, finished when the block ends (failed if it raises, killed on
        Ctrl-C or SIGTERM). Its process is tagged so that, if it dies without a word (SIGKILL, a
        power cut), the next process on this host marks the run KILLED instead of RUNNING for ever."""
        with self._errors():
            client = self._client()
            run = client.create_run(
                self._experiment_id(client, experiment), run_name=run_name, tags=_process_tags()
            )
        status = "FAILED"
        try:
            with _sigterm_as_exit():
                yield RunLog(self, client, run.info.run_id, run.info.artifact_uri)
            status = "FINISHED"
        except (KeyboardInterrupt, SystemExit):
            status = "KILLED"
            raise
        finally:
            try:
                with self._errors():
                    client.set_terminated(run.info.run_id, status)
            except StoreError:
                if status == "FINISHED":
                    raise  # otherwise the body's own error is the one to report
                log.warning("could not mark run %s as %s in %s", run.info.run_id, status, self.tracking_uri)

    @contextlib.contextmanager
    def lock(self, timeout_seconds: float = 300.0) -> Iterator[None]:
        """Hold a local SQLite store for one process at a time (a file lock beside it).

        SQLite lets one writer in at a time and MLflow's first use creates the schema; two
        planners logging at once could otherwise see "database is locked" and lose a run, or
        both register a first champion. A block holding it may take it again (the first use of
        the store inside it does). Servers handle concurrency themselves: no lock there.
        """
        if self.database is None:
            yield
            return
        path = self.database.with_name(self.database.name + ".lock")
        with _HELD_GUARD:
            held = _HELD.setdefault(path, _HeldLock())
        busy = StoreError(
            f"the MLflow store stayed busy for {timeout_seconds:.0f} s",
            path=self.tracking_uri,
            expected="the other capplan process to finish",
        )
        deadline = time.monotonic() + timeout_seconds
        # reentrant in a thread (a locked block may open the store for the first time), exclusive
        # between threads (the flock alone would not be) and between processes (the flock)
        if not held.thread_lock.acquire(timeout=timeout_seconds):
            raise busy
        try:
            if held.depth == 0:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(path, "a+")  # noqa: SIM115 - held across the yield, closed below
                while True:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            handle.close()
                            raise busy from None
                        time.sleep(0.1)
                held.handle = handle
            held.depth += 1
            try:
                yield
            finally:
                held.depth -= 1
                if held.depth == 0 and held.handle is not None:
                    fcntl.flock(held.handle, fcntl.LOCK_UN)
                    held.handle.close()
                    held.handle = None
        finally:
            held.thread_lock.release()

    def runs(
        self,
        experiment: str,
        tags: Mapping[str, str] | None = None,
        run_name_suffix: str | None = None,
        max_results: int | None = None,
    ) -> list[RunRecord]:
        """Finished runs of an experiment, newest first, optionally with these tag values or a
        run name ending in ``run_name_suffix``. A store without the experiment has none."""
        if not self.exists():
            return []
        conditions = ["attributes.status = 'FINISHED'"]
        exact = {
            k: v for k, v in (tags or {}).items() if "'" in v and '"' in v
        }  # checked here, not by MLflow
        conditions += [f"tags.`{k}` = {_literal(v)}" for k, v in (tags or {}).items() if k not in exact]
        if run_name_suffix and not ("'" in run_name_suffix and '"' in run_name_suffix):
            conditions.append(f"attributes.run_name LIKE {_literal('%' + run_name_suffix)}")
        with self._errors():
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
                runs.extend(
                    r
                    for r in page
                    if all(r.data.tags.get(k) == v for k, v in exact.items())
                    and (not run_name_suffix or (r.info.run_name or "").endswith(run_name_suffix))
                )  # LIKE's _ and % match more than themselves: the exact test is here
                token = page.token
                if not token or (max_results and len(runs) >= max_results):
                    break
        return [_record(r) for r in runs[:max_results]]

    def latest_run(
        self, experiment: str, tags: Mapping[str, str] | None = None, run_name_suffix: str | None = None
    ) -> RunRecord | None:
        found = self.runs(experiment, tags, run_name_suffix, max_results=None if run_name_suffix else 1)
        return found[0] if found else None

    def artifact_file(self, run_id: str, name: str, folder: str | Path) -> Path | None:
        """An artifact of a run downloaded into ``folder``; None if the run has no such file."""
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
        with self._errors():
            try:
                found = self._client().get_model_version_by_alias(name, alias)
            except MlflowException as exc:
                code, text = str(exc.error_code), str(exc)
                missing_alias = code == "INVALID_PARAMETER_VALUE" and "alias" in text and "not found" in text
                if code == "RESOURCE_DOES_NOT_EXIST" or missing_alias:
                    return None
                raise  # a server that is not an MLflow store, say: a store error, not "no model"
        return ModelVersion(name, int(found.version), str(found.run_id))

    def set_alias(self, name: str, alias: str, version: int) -> None:
        with self._errors():
            self._client().set_registered_model_alias(name, alias, str(version))

    def load_forecaster(self, name: str, alias: str = CHAMPION, version: ModelVersion | None = None):
        """The fitted forecaster behind ``name@alias`` (or the given version): (forecaster,
        model name, version). The version is looked up once, so a promotion meanwhile never
        mixes one version's number with another's model."""
        import mlflow

        version = version or self.model_version(name, alias)
        if version is None:
            raise InputError(
                f"no {alias} model registered under '{name}' in {self.tracking_uri}",
                expected="a model trained first on this data (train it with the same input and <<registered_model>>)",
            )
        from mlflow.exceptions import MlflowException

        with self._errors(), tempfile.TemporaryDirectory() as tmp:
            client = self._client()
            recorded = client.get_model_version(name, str(version.version)).tags.get(CHECKSUM_TAG)
            source = client.get_model_version_download_uri(name, str(version.version))
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=tmp, tracking_uri=self.tracking_uri
            )
            if not Path(local).resolve().is_relative_to(Path(tmp).resolve()):  # never touch the store's own
                local = shutil.copytree(local, Path(tmp) / "copy")
            for path in sorted(Path(local).rglob("*"), reverse=True):  # no unchecked file is loaded
                if _not_model(Path(local), path):
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            self._check_model_files(Path(local), recorded, name, version.version)
            try:  # unpickling runs the file's code: only after the checksum matched
                wrapper = mlflow.pyfunc.load_model(local).unwrap_python_model()
                forecaster, model_name = wrapper.forecaster, str(wrapper.name)
            except (*UNREADABLE_MODEL, MlflowException) as exc:
                first = (str(exc).strip().splitlines() or [""])[0][:200]
                raise StoreError(
                    f"the model files of {name} version {version.version} cannot be read "
                    f"({type(exc).__name__}: {first})",
                    path=self.tracking_uri,
                    expected="a model saved whole by capplan (train it again)",
                ) from None
        return forecaster, model_name, version

    def _check_model_files(self, folder: Path, recorded: str | None, name: str, number: int) -> None:
        """Refuse model files that are not the ones registered: loading them runs their code."""
        if recorded is None:  # registered before capplan recorded checksums
            if (self.tracking_uri, name, number) not in _UNCHECKED_WARNED:
                _UNCHECKED_WARNED.add((self.tracking_uri, name, number))
                log.warning(
                    "warning: %s version %d has no checksum of its files (registered by an older "
                    "capplan): loaded unchecked; train it again to have them checked",
                    name,
                    number,
                )
            return
        if model_digest(folder) != recorded:
            raise StoreError(
                f"the model files of {name} version {number} do not match the checksum recorded at "
                "registration: refusing to load them (a shared store is code you run)",
                path=self.tracking_uri,
                expected="model files as capplan registered them (train the model again)",
            )

    def model_contract(self, version: ModelVersion) -> dict[str, str]:
        """What a registered version was trained on (recorded by ``log_forecaster(contract=…)``);
        empty for versions registered without one."""
        with self._errors():
            tags = self._client().get_model_version(version.name, str(version.version)).tags
        return {k.removeprefix(CONTRACT_PREFIX): v for k, v in tags.items() if k.startswith(CONTRACT_PREFIX)}

    def model_version_number(self, name: str, number: int) -> ModelVersion | None:
        """Version ``number`` of the registered model ``name``, or None when there is none."""
        from mlflow.exceptions import MlflowException

        if not self.exists():
            return None
        with self._errors():
            try:
                found = self._client().get_model_version(name, str(int(number)))
            except MlflowException as exc:
                if str(exc.error_code) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                    return None
                raise
        return ModelVersion(name, int(found.version), str(found.run_id))

    def run(self, run_id: str) -> RunRecord | None:
        """One run by its id (any experiment), or None when the store has no such run."""
        from mlflow.exceptions import MlflowException

        if not self.exists():
            return None
        with self._errors():
            try:
                return _record(self._client().get_run(run_id))
            except MlflowException as exc:
                if str(exc.error_code) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                    return None
                raise

    def set_version_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Tags on a registered version (its live accuracy, say), beside its contract."""
        with self._errors():
            client = self._client()
            for key, value in tags.items():
                client.set_model_version_tag(version.name, str(version.version), key, str(value))

    def version_tags(self, version: ModelVersion) -> dict[str, str]:
        with self._errors():
            return dict(self._client().get_model_version(version.name, str(version.version)).tags)

    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model with its versions, aliases and each version's tags, by name."""
        if not self.exists():
            return []
        out = []
        with self._errors():
            client = self._client()
            models, token = [], None
            while True:
                page = client.search_registered_models(max_results=1000, page_token=token)
                models.extend(page)
                token = page.token
                if not token:
                    break
            for model in sorted(models, key=lambda m: m.name):
                versions = client.search_model_versions(f"name = {_literal(model.name)}")
                found = sorted(versions, key=lambda v: int(v.version))
                out.append(
                    RegisteredModel(
                        model.name,
                        tuple(int(v.version) for v in found),
                        {alias: int(number) for alias, number in (model.aliases or {}).items()},
                        {int(v.version): dict(v.tags) for v in found},
                        {int(v.version): str(v.run_id) for v in found},
                    )
                )
        return out


class RunLog:
    """What a run records: parameters, metrics, tags, tables, figures, the data set and models,
    all through the store's own client and the run's id."""

    def __init__(self, store: Store, client, run_id: str, artifact_uri: str):
        self.store = store
        self.client = client
        self.run_id = run_id
        self.artifact_uri = artifact_uri

    def log_params(self, params: Mapping[str, object]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)[:MAX_PARAM]) for k, v in params.items()]
        with self.store._errors():
            for chunk in range(0, len(items), 100):
                self.client.log_batch(self.run_id, params=items[chunk : chunk + 100])

    def log_metrics(self, metrics: Mapping[str, float | None], step: int | None = None) -> None:
        """Finite values only (MLflow stores NaN, but nobody can compare with it)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(metric_key(k), float(v), now, step or 0)
            for k, v in metrics.items()
            if v is not None and np.isfinite(v)
        ]
        with self.store._errors():
            for chunk in range(0, len(items), 1000):
                self.client.log_batch(self.run_id, metrics=items[chunk : chunk + 1000])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        with self.store._errors():
            self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def set_note(self, text: str) -> None:
        self.set_tags({"mlflow.note.content": text})

    def log_text(self, text: str, name: str) -> None:
        with self.store._errors():
            self.client.log_text(self.run_id, text, name)

    def log_table(self, table: pd.DataFrame, name: str) -> None:
        with self.store._errors():
            self.client.log_table(self.run_id, table, name)

    def log_figure(self, figure, name: str) -> None:
        with self.store._errors():
            self.client.log_figure(self.run_id, figure, name)

    def log_artifacts(self, folder: str | Path, path: str | None = None) -> None:
        with self.store._errors():
            self.client.log_artifacts(self.run_id, str(folder), path)

    def log_dataset(
        self, frame: pd.DataFrame, source: str, name: str, targets: str | None, context: str
    ) -> None:
        import mlflow
        from mlflow.entities import DatasetInput, InputTag
        from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

        with (
            warnings.catch_warnings()
        ):  # MLflow cannot tell which kind of local path a source is; either is fine
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(frame, source=source, name=name, targets=targets)
        entity = DatasetInput(dataset._to_mlflow_entity(), [InputTag(MLFLOW_DATASET_CONTEXT, context)])
        with self.store._errors():
            self.client.log_inputs(self.run_id, datasets=[entity])

    def log_forecaster(
        self,
        forecaster,
        model_name: str,
        registered_name: str,
        contract: Mapping[str, str] | None = None,
    ) -> int:
        """Log a fitted forecaster as a pyfunc model under ``model/`` and register it; returns
        the version.

        The pyfunc takes a DataFrame with a ``timestamp`` column and returns the forecast
        table, so anything that can call MLflow (a notebook, another service) can forecast
        without knowing which model won; the forecasting package travels with the model.
        A panel of per-queue forecasters (``forecasting.forecaster_panel``) goes the same way:
        one registered model for every queue, answering rows of timestamp and queue.
        The version carries the SHA-256 of its files (checked before they are unpickled) and
        ``contract``, what it was trained on, as ``capplan.contract.<key>`` tags."""
        import mlflow
        from mlflow.exceptions import MlflowException

        with self.store._errors(), tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "model"
            mlflow.pyfunc.save_model(
                folder,
                python_model=_python_model_class()(forecaster, model_name),
                # no signature: timestamps may come as datetimes or as text, and predict parses both
                pip_requirements=PIP_REQUIREMENTS,
                code_paths=[str(PACKAGE_DIR)],
            )
            checksum = model_digest(folder)
            self.set_tags({CHECKSUM_TAG: checksum})
            self.client.log_artifacts(self.run_id, str(folder), "model")
            try:
                self.client.create_registered_model(registered_name)
            except MlflowException as exc:
                if str(exc.error_code) != "RESOURCE_ALREADY_EXISTS":
                    raise
            tags = {CHECKSUM_TAG: checksum} | {
                f"{CONTRACT_PREFIX}{k}": str(v) for k, v in (contract or {}).items()
            }
            found = self.client.create_model_version(  # with its tags: never a version without them
                registered_name, f"{self.artifact_uri}/model", run_id=self.run_id, tags=tags
            )
        return int(found.version)


def model_digest(folder: Path) -> str:
    """SHA-256 of a saved model's files (names and contents, in name order): the pickle and the
    code beside it, which loading the model runs."""
    total = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and not _not_model(folder, p)):
        total.update(path.relative_to(folder).as_posix().encode() + b"\0")
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def _not_model(folder: Path, path: Path) -> bool:
    """Files that are not the saved model: Python's bytecode caches (regenerated, and deleted
    before loading, since they would run unchecked) and the note MLflow writes into a local
    model folder each time it is loaded through ``models:/``."""
    relative = path.relative_to(folder)
    return (
        "__pycache__" in relative.parts
        or path.suffix == ".pyc"
        or relative.as_posix() == "registered_model_meta"
    )


@dataclass
class _HeldLock:
    """A store lock as this process holds it: one thread at a time, nested blocks counted."""

    thread_lock: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    handle: object = None


_HELD: dict[Path, _HeldLock] = {}
_HELD_GUARD = threading.Lock()
_UNCHECKED_WARNED: set[tuple[str, str, int]] = set()


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot, Linux), telling it from a later process
    given the same pid; None where /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 and fields[0] != "Z" else "zombie"


def _process_tags() -> dict[str, str]:
    pid = os.getpid()
    return {PID_TAG: str(pid), PID_START_TAG: _process_start(pid) or "", HOST_TAG: socket.gethostname()}


def _process_alive(pid: str | None, started: str | None) -> bool:
    """Whether the process that tagged a run still runs (unknown pids count as alive)."""
    try:
        number = int(pid or "")
        os.kill(number, 0)
    except ValueError:
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    now = _process_start(number)
    return now != "zombie" and (not started or now is None or now == started)


def _end_orphaned_runs(client, uri: str) -> None:
    """Mark KILLED the runs this host left RUNNING in processes that are gone (SIGKILL, a crash):
    a run no process will finish must not look as if one still might."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    host = socket.gethostname()
    try:
        ids = [e.experiment_id for e in client.search_experiments(max_results=1000)]
        if not ids:
            return
        running = client.search_runs(
            ids, f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = {_literal(host)}", max_results=1000
        )
        for run in running:
            tags = run.data.tags
            if tags.get(HOST_TAG) == host and not _process_alive(tags.get(PID_TAG), tags.get(PID_START_TAG)):
                client.set_terminated(run.info.run_id, "KILLED")
                log.warning(
                    "marked run %s (%s) KILLED: its process %s ended without finishing it",
                    run.info.run_id,
                    run.info.run_name,
                    tags.get(PID_TAG),
                )
    except (
        MlflowException,
        SQLAlchemyError,
        OSError,
    ) as exc:  # a read-only store, say: not the command's fault
        log.warning("could not check %s for runs left running: %s", uri, str(exc).strip()[:200])


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """In the main thread, a SIGTERM (``kill``, a stopped container) during a run raises
    SystemExit, so the run is marked KILLED as with Ctrl-C; handlers someone else set are kept."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) not in (
        signal.SIG_DFL,
        None,
    ):
        yield
        return

    def stop(signum: int, _frame) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _quiet_mlflow() -> None:
    """MLflow's start-up chatter and warnings about our own pickled class are noise to a planner;
    a server that is down should answer in seconds, not after minutes of retries."""
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    # its artifact download bars are not progress a planner asked for (and -q promises quiet)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def metric_key(text: str) -> str:
    """MLflow metric names allow letters, digits, _ - . / and spaces; '+' (combinations) is not."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", text.replace("+", "__"))


def _python_model_class():
    """The pyfunc wrapper, defined when needed (importing mlflow is slow) and pickled by value."""
    import mlflow.pyfunc

    class ForecastModel(mlflow.pyfunc.PythonModel):
        """Wraps a fitted forecaster; input: DataFrame with 'timestamp' (and 'queue', for a panel
        of per-queue forecasters); output: forecast table."""

        def __init__(self, forecaster, name: str):
            self.forecaster = forecaster
            self.name = name

        def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
            column = model_input["timestamp"] if "timestamp" in model_input else model_input.iloc[:, 0]
            text = column.dtype == object or pd.api.types.is_string_dtype(column)
            stamps = pd.DatetimeIndex(
                pd.to_datetime(column, format="ISO8601") if text else pd.to_datetime(column)
            )
            if hasattr(self.forecaster, "predict_queues"):  # a panel: each row's queue from its own model
                return self.forecaster.predict_queues(stamps, model_input["queue"])
            return self.forecaster.predict(stamps).reset_index()

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


def _literal(text: str) -> str:
    """A string in MLflow's search syntax, which knows no escapes: quoted with the kind of quote
    the text does not hold (callers check texts holding both themselves)."""
    text = str(text)
    return f'"{text}"' if "'" in text else f"'{text}'"


def _create_database(database: Path, uri: str) -> None:
    """Create a local store's whole schema (MLflow's migrations: tracking and registry) in a file
    beside ``database``, then move it into place: a process killed at any moment leaves either no
    database or a complete one, never a half-migrated one. Called under the store's lock."""
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    for stale in database.parent.glob(f".{database.name}.*.partial*"):  # left by killed processes
        pid = stale.name.removeprefix(f".{database.name}.").split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()
    partial = database.with_name(f".{database.name}.{os.getpid()}.partial")
    query = uri.partition("?")[2]
    partial_uri = f"sqlite:///{partial}" + (f"?{query}" if query else "")
    try:
        store = SqlAlchemyStore(partial_uri, DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)
        store.engine.dispose()  # no connection left open on the file that is moved
        with SqlAlchemyStore._engine_map_lock:
            SqlAlchemyStore._engine_map.pop(partial_uri, None)
        os.replace(partial, database)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def _half_created(database: Path) -> bool:
    """Whether a local store's database has tables but is not at MLflow's schema head: what a
    process killed while MLflow migrated a new store leaves (a complete store of an older MLflow
    fails with "out-of-date database schema" instead, and is not called half-created)."""
    import sqlite3

    from mlflow.store.db.utils import _get_latest_schema_revision

    try:
        with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables:
                return bool(tables)  # MLflow's tables without their version: a kill before it was set
            versions = [v for (v,) in db.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.Error:
        return False
    return versions != [_get_latest_schema_revision()]


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (without any ``?option=`` part)."""
    return Path(uri.removeprefix("sqlite:///").split("?")[0]) if uri.startswith("sqlite:///") else None


def _normal_uri(uri: str) -> str:
    """Local paths and relative SQLite or file-store paths as absolute URIs, so a store means the
    same thing whichever folder a command runs from. A plain path (no ``scheme:``) is a SQLite
    file, or a folder to hold ``mlflow.db``; any other URI is passed on as MLflow reads it."""
    uri = str(uri).strip()
    if uri.startswith("sqlite:///"):
        path, _, query = uri.removeprefix("sqlite:///").partition("?")
        return f"sqlite:///{Path(path).expanduser().resolve()}" + (f"?{query}" if query else "")
    if uri.startswith("file:") and not uri.startswith("file:///"):
        return Path(uri.removeprefix("file:").removeprefix("//")).expanduser().resolve().as_uri()
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) or uri in BARE_SCHEMES:
        return uri
    path = Path(uri).expanduser().resolve()
    return f"sqlite:///{path / 'mlflow.db' if path.is_dir() or not path.suffix else path}"
