"""The models to beat: seasonal naive and the mean of the last k same-weekday slots.

For horizons beyond a couple of days these are hard to beat in call centers (Taylor 2008);
every other model must prove itself against them in a rolling-origin backtest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models.base import CALIBRATION_DAYS, Forecaster
from forecasting.slots import slot_table

WEEK_CHOICES = (2, 3, 4, 5, 6, 8)


def _lookup(table: pd.Series, keys: pd.DataFrame, fallback: pd.Series | None = None) -> np.ndarray:
    """Values of a (key...) -> value table for each row of ``keys``; NaN where unknown."""
    index = pd.MultiIndex.from_frame(keys) if keys.shape[1] > 1 else pd.Index(keys.iloc[:, 0])
    out = np.array(table.reindex(index).to_numpy(dtype=float))  # a copy: filled in below
    if fallback is not None:
        missing = np.isnan(out)
        if missing.any():
            out[missing] = fallback.reindex(pd.Index(keys["slot"].to_numpy()[missing])).to_numpy(dtype=float)
    return np.nan_to_num(out, nan=0.0)


class SeasonalNaive(Forecaster):
    """Each slot as it was on the last same weekday (``season='week'``) or the last open day."""

    def __init__(self, season: str = "week", clean: bool = True):
        self.season = season
        self.clean = clean

    def _fit(self, history: pd.Series) -> None:
        t = slot_table(history.index, self.calendar_.interval).assign(value=history.to_numpy())
        keys = ["weekday", "slot"] if self.season == "week" else ["slot"]
        self.last_ = t.groupby(keys)["value"].last()
        self.by_slot_ = t.groupby("slot")["value"].last()

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        t = slot_table(timestamps, self.calendar_.interval)
        keys = ["weekday", "slot"] if self.season == "week" else ["slot"]
        return _lookup(self.last_, t[keys], self.by_slot_)


class SameWeekdayMean(Forecaster):
    """Mean (or, robust to one-off days, the median) of the last ``weeks`` observations of the
    same weekday and slot.

    ``weeks='auto'`` picks k from WEEK_CHOICES by the model's own holdout error on the last
    days of the history (a small rolling-origin backtest inside ``fit``).
    """

    def __init__(self, weeks: int | str = "auto", clean: bool = True, statistic: str = "mean"):
        self.weeks = weeks
        self.clean = clean
        self.statistic = statistic

    def _fit(self, history: pd.Series) -> None:
        self.weeks_ = self._choose_weeks(history) if self.weeks == "auto" else int(self.weeks)
        self.table_ = _recent_means(history, self.calendar_.interval, self.weeks_, self.statistic)

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        t = slot_table(timestamps, self.calendar_.interval)
        return _lookup(self.table_["mean"], t[["weekday", "slot"]], self.table_["by_slot"])

    def _choose_weeks(self, history: pd.Series) -> int:
        days = history.index.normalize().unique()
        errors = {k: 0.0 for k in WEEK_CHOICES}
        for back in (1, 2, 3):
            start = len(days) - back * CALIBRATION_DAYS
            if start < 7:
                break
            cut, stop = days[start], days[start + CALIBRATION_DAYS] if back > 1 else None
            train = history[history.index < cut]
            test = (
                history[(history.index >= cut) & (history.index < stop)]
                if stop is not None
                else history[history.index >= cut]
            )
            keys = slot_table(test.index, self.calendar_.interval)[["weekday", "slot"]]
            for k in WEEK_CHOICES:
                table = _recent_means(train, self.calendar_.interval, k, self.statistic)
                errors[k] += float(
                    np.abs(_lookup(table["mean"], keys, table["by_slot"]) - test.to_numpy()).sum()
                )
        return min(errors, key=errors.get) if any(errors.values()) else 4


def _recent_means(
    history: pd.Series, interval: pd.Timedelta, weeks: int, statistic: str = "mean"
) -> dict[str, pd.Series]:
    t = slot_table(history.index, interval).assign(value=history.to_numpy())
    recent = t.groupby(["weekday", "slot"], sort=False).tail(weeks)
    return {
        "mean": recent.groupby(["weekday", "slot"])["value"].agg(statistic),
        "by_slot": recent.groupby("slot")["value"].agg(statistic),
    }
