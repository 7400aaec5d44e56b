"""Where runs go: the project's local SQLite MLflow store unless MLFLOW_TRACKING_URI says otherwise.

The SQLite file and artifacts live in the project's ``data/`` folder (git-ignored), so a fresh
clone works with no server, and ``mlflow ui --backend-store-uri sqlite:///data/mlflow.db``
shows the same runs. Setting MLFLOW_TRACKING_URI points every command at a shared server.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_DIR / "data"
DEFAULT_DB = DATA_DIR / "mlflow.db"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{DEFAULT_DB}"


def use_store() -> str:
    """Point MLflow at the store and quieten its start-up chatter; returns the URI."""
    import mlflow

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI") or uri)
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
