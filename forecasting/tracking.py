"""Where runs go: the project's local SQLite MLflow store unless MLFLOW_TRACKING_URI says otherwise.

The SQLite file and artifacts live in the project's ``data/`` folder (git-ignored), so a fresh
clone works with no server, and ``mlflow ui --backend-store-uri sqlite:///data/mlflow.db``
shows the same runs. Setting MLFLOW_TRACKING_URI points every command at a shared server.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_DIR / "data"
DEFAULT_DB = DATA_DIR / "mlflow.db"
# MLflow writes set_registry_uri into os.environ; remember only what the user set
USER_REGISTRY_URI = os.environ.get("MLFLOW_REGISTRY_URI")


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{DEFAULT_DB}"


def use_store() -> str:
    """Point MLflow at the store and quieten its start-up chatter; returns the URI."""
    import mlflow

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")  # a down server: an answer in seconds, not minutes
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(USER_REGISTRY_URI or uri)
    return uri


def experiment(name: str) -> str:
    """Get or create an experiment; local stores keep artifacts beside the database."""
    import mlflow

    use_store()
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    uri = tracking_uri()
    location = None
    if uri.startswith("sqlite:///"):  # keep artifacts beside the database, not in the working folder
        location = (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts" / name).as_uri()
    try:
        return mlflow.create_experiment(name, artifact_location=location)
    except Exception:  # another process created it first
        return mlflow.get_experiment_by_name(name).experiment_id


def metric_key(text: str) -> str:
    """MLflow metric names allow letters, digits, _ - . / and spaces; '+' (combinations) is not."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", text.replace("+", "__"))


@contextlib.contextmanager
def store_lock(timeout_seconds: float = 300.0):
    """Hold the local SQLite store for one process at a time (a file lock beside it).

    SQLite lets only one writer in at a time and MLflow's first use creates the schema; two
    planners logging at once could otherwise see "database is locked" and lose a run. Shared
    servers (http, postgresql) handle concurrency themselves: no lock there.
    """
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        yield
        return
    path = Path(uri.removeprefix("sqlite:///") + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the MLflow store {uri} stayed busy for {timeout_seconds:.0f} s") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
