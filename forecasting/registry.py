"""Forecasters as MLflow pyfunc models, registered with the alias ``champion``.

The pyfunc takes a DataFrame with a ``timestamp`` column and returns the forecast table, so
anything that can call MLflow (the scenario runner, the app, a notebook) can forecast
without knowing which model won.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from forecasting.errors import InputError
from forecasting.models.base import Forecaster

CHAMPION = "champion"
CHALLENGER = "challenger"
PIP_REQUIREMENTS = ["pandas", "numpy", "scipy", "scikit-learn", "statsmodels", "prophet"]


def _python_model_class():
    import mlflow.pyfunc

    class ForecastModel(mlflow.pyfunc.PythonModel):
        """Wraps a fitted forecaster; input: DataFrame with 'timestamp'; output: forecast table."""

        def __init__(self, forecaster: Forecaster, name: str):
            self.forecaster = forecaster
            self.name = name

        def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
            column = model_input["timestamp"] if "timestamp" in model_input else model_input.iloc[:, 0]
            stamps = pd.to_datetime(column, format="ISO8601") if column.dtype == object or pd.api.types.is_string_dtype(column) else pd.to_datetime(column)
            return self.forecaster.predict(pd.DatetimeIndex(stamps)).reset_index()

    return ForecastModel


def log_forecaster(forecaster: Forecaster, model_name: str, registered_name: str, example: pd.DatetimeIndex) -> int:
    """Log the fitted forecaster in the active run and register it; returns the version number."""
    import mlflow

    ForecastModel = _python_model_class()
    # our own class, pickled on purpose, with timestamps as text or datetimes: MLflow's warnings
    # about both are noise to a planner
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=ForecastModel(forecaster, model_name),
        # no signature: timestamps may come as datetimes or as text, and predict parses both
        registered_model_name=registered_name,
        pip_requirements=PIP_REQUIREMENTS,
        code_paths=[str(Path(__file__).resolve().parent)],  # the forecasting package travels with the model
    )
    return int(info.registered_model_version)


def set_alias(registered_name: str, alias: str, version: int) -> None:
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(registered_name, alias, str(version))


def alias_version(registered_name: str, alias: str):
    """The model version behind an alias, or None when there is none yet."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return MlflowClient().get_model_version_by_alias(registered_name, alias)
    except MlflowException:
        return None


def load_forecaster(registered_name: str, alias: str = CHAMPION) -> tuple[Forecaster, str, int]:
    """The fitted forecaster behind ``name@alias``: (forecaster, model name, version)."""
    import mlflow

    version = alias_version(registered_name, alias)
    if version is None:
        raise InputError(
            f"no {alias} model registered under '{registered_name}'",
            expected="a model trained first with `capplan train` (same input and --registered-model)",
        )
    wrapper = mlflow.pyfunc.load_model(f"models:/{registered_name}@{alias}").unwrap_python_model()
    return wrapper.forecaster, wrapper.name, int(version.version)
