"""Backtest cells kept on disk, so ``train`` after ``backtest``, ``forecast --model auto`` after
``train`` and ``retrain`` on a longer history refit no model at an origin already scored.

A cell is one model's point forecast of one origin's test days, fitted on the past before the
origin. Its key is a digest of what it depends on: the past and the test days' actuals (their
content, not the file), the interval, the model's name and parameters, and the source of the
models and of the mending they learn from (an upgraded capplan never meets an old cell). A
longer history shares its earlier origins' pasts, so their cells are found again.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pandas as pd

from forecasting.store.forecast_cache import ForecastCache, digest, series_digest

_CODE = ("models", "history/anomalies.py", "slots.py", "calendar.py", "special_days.py")


@cache
def code_digest() -> str:
    """The source of the models and of what they learn from: a changed model is a new cell."""
    root = Path(__file__).resolve().parents[1]
    files = sorted(
        f
        for part in _CODE
        for f in ((root / part).rglob("*.py") if (root / part).is_dir() else [root / part])
    )
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def model_config(model) -> dict:
    """A model's class and parameters as plain values (special days by their description)."""
    params = {
        k: (v.describe() if hasattr(v, "describe") else v) for k, v in model.get_params(deep=False).items()
    }
    return {"class": type(model).__name__, "params": {k: str(v) for k, v in sorted(params.items())}}


class BacktestCells:
    """Forecast frames of backtest cells by key (see :func:`cell_key`)."""

    def __init__(self, folder: Path):
        self.tables = ForecastCache(folder)

    def get(self, key: str) -> tuple[pd.DataFrame, float] | None:
        """The cell's forecast frame and the seconds its fit took, or None."""
        hit = self.tables.get(key)
        if hit is None:
            return None
        frame, meta = hit
        frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        return frame.set_index("timestamp"), float(meta.get("seconds", 0.0))

    def put(self, key: str, frame: pd.DataFrame, seconds: float) -> None:
        self.tables.put(key, frame.reset_index(), {"seconds": seconds})


def cells_of(store) -> BacktestCells:
    """The cells kept beside a store's other caches."""
    return BacktestCells(store.home / "cache" / "backtests")


def cell_key(model, train: pd.Series, test: pd.Series, interval: pd.Timedelta) -> str:
    """A cell's key: not the name it is shown under (a retrain's 'challenger' is a model too)."""
    return digest(
        {
            "config": model_config(model),
            "train": series_digest(train),
            "test": series_digest(test),
            "interval": str(interval),
            "code": code_digest(),
        }
    )
