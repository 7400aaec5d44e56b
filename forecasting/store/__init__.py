"""Everything capplan keeps between commands: the MLflow store (runs, registered models, their
aliases and artifacts), its lock and the forecast cache beside it.

Only this package talks to MLflow. A :class:`Store` is built once at the edge (the CLI, the
app, a test) and passed to whatever records or reads runs, so every number of one command
comes from one store.
"""

from forecasting.store.forecast_cache import ForecastCache
from forecasting.store.store import (
    CHALLENGER,
    CHAMPION,
    FORECASTING,
    SCENARIOS,
    ModelVersion,
    RegisteredModel,
    RunLog,
    RunRecord,
    Store,
    StoreError,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "FORECASTING",
    "SCENARIOS",
    "ForecastCache",
    "ModelVersion",
    "RegisteredModel",
    "RunLog",
    "RunRecord",
    "Store",
    "StoreError",
]
