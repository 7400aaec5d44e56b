"""The models to beat: seasonal naive and the mean of the last k same-weekday slots.

For horizons beyond a couple of days these are hard to beat in call centers (Taylor 2008);
every other model must prove itself against them in a rolling-origin backtest.
"""

from __future__ import annotations

import warnings

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
            tables = _recent_tables(train, self.calendar_.interval, WEEK_CHOICES, self.statistic)
            for k, table in tables.items():
                errors[k] += float(
                    np.abs(_lookup(table["mean"], keys, table["by_slot"]) - test.to_numpy()).sum()
                )
        return min(errors, key=errors.get) if any(errors.values()) else 4


def _recent_means(
    history: pd.Series, interval: pd.Timedelta, weeks: int, statistic: str = "mean"
) -> dict[str, pd.Series]:
    return _recent_tables(history, interval, (weeks,), statistic)[weeks]


def _recent_tables(
    history: pd.Series, interval: pd.Timedelta, weeks: tuple[int, ...], statistic: str = "mean"
) -> dict[int, dict[str, pd.Series]]:
    """Per k in ``weeks``: the mean (or median) of the last k values of each weekday and slot,
    and of each slot over those of all weekdays (the fallback for a weekday never seen), as
    ``groupby(...).tail(k)`` then ``agg`` gives them: every k from one array of the last
    values (groups × weeks), where grouping anew for each k was most of the model's fit."""
    t = slot_table(history.index, interval)
    weekday, slot = t["weekday"].to_numpy(), t["slot"].to_numpy()
    n_slots = int(slot.max()) + 1 if len(slot) else 1
    code = weekday * n_slots + slot
    order = np.lexsort((np.arange(len(code)), code))  # by group, then as the history runs
    grouped, values = code[order], history.to_numpy(float)[order]
    starts = np.r_[0, np.flatnonzero(np.diff(grouped)) + 1] if len(grouped) else np.array([], int)
    ends = np.r_[starts[1:], len(grouped)]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    from_end = ends[group] - 1 - np.arange(len(grouped))  # 0 = the group's latest value
    latest = max(weeks)
    recent = np.full((len(starts), latest), np.nan)
    kept = from_end < latest
    recent[group[kept], from_end[kept]] = values[kept]
    codes = grouped[starts]
    keys = pd.MultiIndex.from_arrays([codes // n_slots, codes % n_slots], names=["weekday", "slot"])
    slots = np.unique(codes % n_slots)
    by_slot_rows = np.full((len(slots), 7, latest), np.nan)  # slot × weekday × latest values
    by_slot_rows[np.searchsorted(slots, codes % n_slots), codes // n_slots] = recent
    reduce = np.nanmean if statistic == "mean" else np.nanmedian
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group of NaN only: NaN, as pandas gives
        for k in weeks:
            out[k] = {
                "mean": pd.Series(reduce(recent[:, :k], axis=1), index=keys, name="value"),
                "by_slot": pd.Series(
                    reduce(by_slot_rows[:, :, :k].reshape(len(slots), -1), axis=1),
                    index=pd.Index(slots, name="slot"),
                    name="value",
                ),
            }
    return out
