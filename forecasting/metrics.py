"""Forecast accuracy measures used by backtests and the leaderboard."""

from __future__ import annotations

import numpy as np
import pandas as pd


def weekly_naive_scale(history: pd.Series) -> float:
    """In-sample MAE of the one-week seasonal naive (same slot 7 days earlier): the MASE scale."""
    earlier = history.reindex(history.index - pd.Timedelta(weeks=1)).to_numpy()
    diff = np.abs(history.to_numpy() - earlier)
    diff = diff[np.isfinite(diff)]
    return float(diff.mean()) if diff.size else float("nan")


def median_mase(frame: pd.DataFrame) -> float:
    """The median over origins of each origin's MASE: how a model does on a typical week, which
    one wild week cannot move (the mean MASE can)."""
    per_origin = frame.groupby("origin").apply(
        lambda p: np.mean(np.abs(p["forecast"] - p["actual"]) / p["scale"]), include_groups=False
    )
    return float(per_origin.median()) if len(per_origin) else float("nan")


def accuracy(frame: pd.DataFrame, levels=(80, 95)) -> dict[str, float]:
    """MAE, RMSE, MASE, WAPE, bias and coverage of a frame with actual, forecast, scale, lo/hi."""
    err = frame["forecast"].to_numpy() - frame["actual"].to_numpy()
    actual_sum = float(frame["actual"].sum())
    out = {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mase": float(np.mean(np.abs(err) / frame["scale"].to_numpy())),
        "wape": float(np.sum(np.abs(err)) / actual_sum) if actual_sum else float("nan"),
        "bias": float(np.sum(err) / actual_sum) if actual_sum else float("nan"),
    }
    for level in levels:
        if f"lo{level}" in frame:  # rows without a band (a backtest's first origins) are not scored
            banded = frame[frame[f"lo{level}"].notna()]
            inside = (banded["actual"] >= banded[f"lo{level}"]) & (banded["actual"] <= banded[f"hi{level}"])
            out[f"coverage{level}"] = float(inside.mean()) if len(banded) else float("nan")
    return out
