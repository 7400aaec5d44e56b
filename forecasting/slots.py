"""Series on the open slots of an operating calendar: the shape every forecaster works on.

A history is a ``pd.Series`` indexed by interval start holding only open slots; closed slots
and missing days are simply absent. Helpers here turn it into day × slot views and list the
open slots of future days, so models never forecast a closed slot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar, infer_calendar
from forecasting.common.errors import InputError
from forecasting.history.intervals import day_grid


def as_history(values: pd.Series, name: str | None = None) -> pd.Series:
    """A clean, sorted float series with a DatetimeIndex; NaNs (unknown values) are dropped."""
    s = pd.Series(values, dtype=float).dropna().sort_index()
    s.index = pd.DatetimeIndex(s.index, name="timestamp")
    return s.rename(name or values.name or "arrivals")


def interval_of(history: pd.Series) -> pd.Timedelta:
    """The most common step between timestamps."""
    return pd.Series(history.index).diff().dropna().mode().iloc[0]


def calendar_of(history: pd.Series, interval: pd.Timedelta | None = None) -> OperatingCalendar:
    """Infer the operating calendar of a bare series (used when fit() is given none)."""
    length = interval or interval_of(history)
    table = pd.DataFrame({"interval_start": history.index, "arrivals": history.to_numpy(), "queue": "all"})
    return infer_calendar(table, length)


def slot_table(index: pd.DatetimeIndex, interval: pd.Timedelta) -> pd.DataFrame:
    """Date, weekday and slot-of-day number of each timestamp."""
    day = index.normalize()
    return pd.DataFrame(
        {
            "date": day,
            "weekday": index.day_of_week,
            "slot": ((index - day) // interval).astype(int),
        },
        index=index,
    )


def open_slots(calendar: OperatingCalendar, days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """All open slot starts on the given days, in order."""
    grid = day_grid(days, calendar.interval)
    return grid[calendar.is_open(grid)]


def next_open_days(calendar: OperatingCalendar, after: pd.Timestamp, count: int) -> pd.DatetimeIndex:
    """The next ``count`` days after ``after`` (a date) whose weekday has opening hours."""
    if not calendar.hours:
        raise InputError("no opening hours", expected="a history with at least one open weekday")
    days = pd.date_range(after.normalize() + pd.Timedelta(days=1), periods=count * 7 + 7, freq="D")
    days = days[np.isin(days.day_of_week, list(calendar.hours))]
    return days[:count]


def daily_totals(history: pd.Series) -> pd.Series:
    return history.groupby(history.index.normalize()).sum()


def open_stretches(timestamps) -> np.ndarray:
    """A number per timestamp that changes wherever the series skips time (a closed night, a
    weekend, a missing interval): the step is the series' most common spacing. Lines and bands
    are drawn per stretch, so nothing is drawn across time the centre was closed."""
    t = pd.to_datetime(pd.Series(timestamps)).reset_index(drop=True)
    order = np.argsort(t.to_numpy(), kind="stable")
    gaps = t.iloc[order].diff()
    step = gaps[gaps > pd.Timedelta(0)].mode()
    jumps = (gaps > step.iloc[0]).to_numpy() if len(step) else np.zeros(len(t), bool)
    out = np.empty(len(t), int)
    out[order] = np.cumsum(jumps)
    return out
