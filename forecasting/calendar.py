"""Operating calendar inferred from history: opening hours per weekday and missing open days.

Forecasts must not predict calls for closed slots, and a holiday or outage in the history must
not be read as "no demand"; both follow from this calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PRESENCE_SHARE = 0.5  # a weekday or slot counts as open if it had traffic on at least half its days
OBSERVED_REACH = 3  # days: a day with data within ±3 days puts a day inside a stretch with data
STRAY_SHARE = (
    0.05  # a slot with less than 5 % of its day's typical slot volume is a stray call, not opening hours
)


@dataclass(frozen=True)
class OperatingCalendar:
    """Open ranges per weekday (0 = Monday) as (start, end) offsets from midnight."""

    interval: pd.Timedelta
    hours: dict[int, tuple[tuple[pd.Timedelta, pd.Timedelta], ...]]
    first_day: dt.date
    last_day: dt.date
    missing_days: tuple[dt.date, ...] = field(default_factory=tuple)

    def is_open(self, timestamps: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Whether each interval starting at these times lies within opening hours."""
        ts = pd.DatetimeIndex(timestamps)
        offset = ts - ts.normalize()
        weekday = ts.day_of_week.to_numpy()
        out = np.zeros(len(ts), dtype=bool)
        for day, ranges in self.hours.items():
            on_day = weekday == day
            for start, end in ranges:
                out |= on_day & (offset >= start) & (offset < end)
        return out

    def describe_hours(self) -> dict[str, str]:
        """Opening hours as clock ranges; the end is the end of the last open slot."""
        return {name: _ranges_text(self.hours.get(i, ())) for i, name in enumerate(WEEKDAYS)}

    def describe_slots(self) -> dict[str, str]:
        """The same hours as first and last slot start, which is how interval reports label them."""
        out = {}
        for i, name in enumerate(WEEKDAYS):
            ranges = self.hours.get(i, ())
            n = sum(int((e - s) / self.interval) for s, e in ranges)
            text = ", ".join(f"{_clock(s)} to {_clock(e - self.interval)}" for s, e in ranges)
            out[name] = f"slots starting {text} ({n} slots)" if ranges else "closed"
        return out

    def missing_stretches(self) -> list[tuple[dt.date, dt.date, int]]:
        """Missing open days grouped into stretches (first, last, open days) with no open day
        of data inside: a hole of months reads as one stretch, not a hundred dates."""
        if not self.missing_days or not self.hours:
            return []
        days = pd.date_range(self.first_day, self.last_day, freq="D")
        days = days[np.isin(days.day_of_week, list(self.hours))]
        missing = days.isin(pd.DatetimeIndex(pd.to_datetime(list(self.missing_days))))
        run = np.cumsum(~missing)[missing]  # one id per stretch: open days with data in between
        stretch = pd.Series(days[missing], index=run).groupby(level=0)
        return [
            (a.date(), b.date(), int(n))
            for a, b, n in zip(stretch.min(), stretch.max(), stretch.size(), strict=True)
        ]

    def describe_missing(self) -> str:
        """'35 (2024-01-25 to 2024-03-13: 35 days; 2024-05-01)': the count, then each stretch."""
        parts = [
            a.isoformat() if n == 1 else f"{a.isoformat()} to {b.isoformat()}: {n} days"
            for a, b, n in self.missing_stretches()
        ]
        return f"{len(self.missing_days)}" + (f" ({'; '.join(parts)})" if parts else "")

    def to_dict(self) -> dict:
        return {
            "interval_minutes": int(self.interval.total_seconds() // 60),
            "hours": self.describe_hours(),
            "slots": self.describe_slots(),
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "missing_days": [d.isoformat() for d in self.missing_days],
        }

    @classmethod
    def from_dict(cls, data: dict) -> OperatingCalendar:
        hours = {}
        for i, name in enumerate(WEEKDAYS):
            text = data["hours"].get(name, "closed")
            if text != "closed":
                hours[i] = tuple(_parse_range(r) for r in text.split(", "))
        return cls(
            interval=pd.Timedelta(minutes=data["interval_minutes"]),
            hours=hours,
            first_day=dt.date.fromisoformat(data["first_day"]),
            last_day=dt.date.fromisoformat(data["last_day"]),
            missing_days=tuple(dt.date.fromisoformat(d) for d in data["missing_days"]),
        )


def infer_calendar(intervals: pd.DataFrame, length: pd.Timedelta) -> OperatingCalendar:
    """Infer hours from slots with traffic on most days; missing days are open weekdays without any.

    A weekday is open if it has traffic on most of its days that lie within stretches of data,
    so a hole of any length is missing open days, never a closure."""
    total = intervals.groupby("interval_start")["arrivals"].sum(min_count=1)
    positive = total[total > 0]
    typical = positive.groupby(positive.index.normalize()).transform("mean")
    busy = positive[positive >= STRAY_SHARE * typical]
    if positive.empty:
        first = last = intervals["interval_start"].min().date()
        return OperatingCalendar(length, {}, first, last)
    days = pd.date_range(
        intervals["interval_start"].min().normalize(), intervals["interval_start"].max().normalize(), freq="D"
    )
    busy_days = pd.DatetimeIndex(busy.index.normalize().unique())
    has_data = days.isin(busy_days)
    seen = observed_days(has_data)
    weekday = days.day_of_week
    open_weekdays = [
        d
        for d in range(7)
        if (seen & (weekday == d)).any() and has_data[seen & (weekday == d)].mean() >= PRESENCE_SHARE
    ]
    slot = pd.Series(((busy.index - busy.index.normalize()) // length).astype(int), index=busy.index)
    frame = pd.DataFrame(
        {"day": busy.index.normalize(), "weekday": busy.index.day_of_week, "slot": slot.to_numpy()}
    )
    days_per_weekday = frame.drop_duplicates("day").groupby("weekday").size()
    counts = frame.groupby(["weekday", "slot"]).size()
    share = counts / days_per_weekday.reindex(counts.index.get_level_values("weekday")).to_numpy()
    hours = {}
    for d in open_weekdays:
        if d in days_per_weekday.index:
            day_share = share.xs(d, level="weekday")
            slots = np.sort(day_share.index[day_share >= PRESENCE_SHARE].to_numpy())
            if len(slots):
                hours[d] = _runs(slots, length)
    missing = tuple(
        day.date() for day, ok in zip(days, has_data, strict=False) if not ok and day.weekday() in hours
    )
    return OperatingCalendar(length, hours, days[0].date(), days[-1].date(), missing)


def observed_days(has_data: np.ndarray) -> np.ndarray:
    """Days within a stretch of data: some day within ±3 days has data. A day deep inside a hole
    of a week or more says nothing about which weekdays open (every weekday is missing there),
    so it must not vote "closed"; a genuinely closed weekday (Sunday) sits between days with
    data and still does."""
    window = 2 * OBSERVED_REACH + 1
    near = pd.Series(np.asarray(has_data, dtype=float)).rolling(window, center=True, min_periods=1).max()
    return near.to_numpy() > 0


def _runs(slots: np.ndarray, length: pd.Timedelta) -> tuple[tuple[pd.Timedelta, pd.Timedelta], ...]:
    breaks = np.flatnonzero(np.diff(slots) != 1)
    starts = np.r_[slots[0], slots[breaks + 1]]
    ends = np.r_[slots[breaks], slots[-1]] + 1
    return tuple((int(s) * length, int(e) * length) for s, e in zip(starts, ends, strict=False))


def _clock(offset: pd.Timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _ranges_text(ranges) -> str:
    return ", ".join(f"{_clock(s)}–{_clock(e)}" for s, e in ranges) if ranges else "closed"


def _parse_range(text: str) -> tuple[pd.Timedelta, pd.Timedelta]:
    start, end = text.split("–")
    return tuple(pd.Timedelta(hours=int(t[:2]), minutes=int(t[3:])) for t in (start, end))  # type: ignore[return-value]
