"""The series a forecast is made of: one field of one queue (or all queues) on open slots."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar
from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestResult

FIELDS = ("arrivals", "aht")
MAX_STRETCHES_NAMED = 5
MIN_SHARE = 0.02  # a queue under 2 % of the total's daily volume has no holes that matter

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()  # (source, warning): a hole is told once per file, not per call


def forecast_series(result: IngestResult, field: str = "arrivals", queue: str | None = None) -> pd.Series:
    """Arrivals (summed) or AHT (handled-weighted) over the chosen queues, open slots only.

    Closed slots and missing open days are left out: a holiday is not "zero demand".

    All queues of an interval report: a day on which a queue has no data at all, inside its own
    span of data (it has data before and after) and on a weekday it works, is a hole in the
    report, not a quiet day: summed without it, the total would read as a drop in demand. Such
    days are left out of the total like missing days, and a warning names the queue and the
    stretches. A queue that starts late (new) or stops (retired) is not a hole: before its first
    day and after its last the total is the other queues', the level the centre had then. A
    contact log's grid is complete (a quiet interval is 0), so it has no such holes.
    """
    t = result.intervals
    if field not in FIELDS:
        raise InputError("unknown field", option="field", expected=" or ".join(FIELDS), found=field)
    if queue not in (None, "all"):
        if queue not in set(t["queue"]):
            raise InputError(
                "unknown queue",
                option="queue",
                expected="one of " + ", ".join(sorted(map(str, t["queue"].unique()))),
                found=queue,
            )
        t = t[t["queue"] == queue]
    return _series_of(t, field, result, every_queue=queue in (None, "all"))


def queue_series(
    result: IngestResult, field: str = "arrivals", failures: dict[str, str] | None = None
) -> dict[str, pd.Series]:
    """Every queue's series (as :func:`forecast_series` gives one), the table split once:
    filtering a table of a thousand queues once per queue takes seconds a queue. A queue with
    nothing to forecast is an error naming it, or with ``failures`` is said there and left out."""
    if field not in FIELDS:
        raise InputError("unknown field", option="field", expected=" or ".join(FIELDS), found=field)
    out = {}
    for q, t in result.intervals.groupby("queue", sort=True, observed=True):
        try:
            out[str(q)] = _series_of(t, field, result, every_queue=False)
        except InputError as exc:
            named = InputError(f"queue {q}: {exc.detail}", column=exc.column, expected=exc.expected)
            if failures is None:
                raise named from None
            failures[str(q)] = str(named)
    return out


def _series_of(t: pd.DataFrame, field: str, result: IngestResult, every_queue: bool) -> pd.Series:
    if field not in t or t[field].notna().sum() == 0:
        raise InputError(
            "no data for this field", column=field, expected=f"a column holding {field} (see <<value_col>>)"
        )
    if field == "arrivals" and not (t["arrivals"].fillna(0) > 0).any():
        raise InputError(
            "no contacts in the history (every value is 0)",
            column=field,
            expected="a history with traffic to forecast from (is it the right column or queue?)",
        )
    grouped = t.groupby("interval_start")
    if field == "arrivals":
        values = grouped["arrivals"].sum(min_count=1)
    else:
        weight = (
            t["handled"].fillna(0).astype(float)
            if t["handled"].notna().any()
            else pd.Series(1.0, index=t.index)
        )
        num = (t["aht"] * weight).groupby(t["interval_start"]).sum(min_count=1)
        values = num / weight.where(t["aht"].notna()).groupby(t["interval_start"]).sum().replace(0, np.nan)
    holes: list = []
    if every_queue and result.contacts is None and t["queue"].nunique() > 1:
        holes = queue_holes(t, field, result)
    return keep_open(values.astype(float).rename(field), result.calendar, holes)


def queue_holes(t: pd.DataFrame, field: str, result: IngestResult) -> list:
    """Days (dates) on which a queue has no ``field`` data inside its own span, on a weekday
    it works (one it has data on at least half as often as on its busiest weekday), for queues
    of at least ``MIN_SHARE`` of the daily volume; a warning per queue, once per file."""
    has = t[t[field].notna()]
    day = pd.DatetimeIndex(has["interval_start"]).normalize()
    all_days = pd.DatetimeIndex(np.unique(day.to_numpy()))
    small: set = set()
    if "arrivals" in t and t["arrivals"].notna().any():
        # a queue too small to move the total (a report may leave out its empty slots: a
        # queue of a few calls a day has days without a row) is not worth a day of the total
        per_day = t.groupby([t["queue"], t["interval_start"].dt.normalize()])["arrivals"].sum()
        mean_day = per_day.groupby(level=0).mean()
        small = set(mean_day.index[mean_day < MIN_SHARE * mean_day.sum()])
    holes: set = set()
    for q, days in pd.Series(day, index=has.index).groupby(has["queue"].to_numpy()):
        if q in small:
            continue
        seen = pd.DatetimeIndex(np.unique(days.to_numpy()))
        span = all_days[(all_days > seen[0]) & (all_days < seen[-1])]
        missing = span.difference(seen)
        if missing.empty:
            continue
        per_weekday = pd.Series(seen.day_of_week).value_counts()
        works = per_weekday.index[per_weekday >= per_weekday.max() / 2]
        missing = missing[np.isin(missing.day_of_week, works)]
        missing = missing[~np.isin(missing.date, np.array(result.calendar.missing_days, dtype=object))]
        if missing.empty:
            continue
        holes.update(missing.date)
        # a stretch: hole days with no day of the queue's data between them
        stretch = np.searchsorted(seen, missing)
        parts = [missing[stretch == s] for s in pd.unique(stretch)]
        named = [
            f"{p[0]:%Y-%m-%d}" if len(p) == 1 else f"{p[0]:%Y-%m-%d} to {p[-1]:%Y-%m-%d}"
            for p in parts[:MAX_STRETCHES_NAMED]
        ]
        more = f" and {len(parts) - MAX_STRETCHES_NAMED} more" if len(parts) > MAX_STRETCHES_NAMED else ""
        message = (
            f"queue {str(q)!r} has no data on {len(missing)} open day{'s' if len(missing) != 1 else ''} "
            f"({', '.join(named)}{more}) between its first and last day: "
            "the total of all queues leaves those days out"
        )
        key = (str(result.source), message)
        if key not in _warned:
            _warned.add(key)
            log.warning(message)
    return sorted(holes)


def keep_open(values: pd.Series, calendar: OperatingCalendar, also_missing: list | None = None) -> pd.Series:
    index = pd.DatetimeIndex(values.index)
    missing_days = list(calendar.missing_days) + list(also_missing or [])
    missing = np.isin(index.normalize().date, np.array(missing_days, dtype=object))
    keep = calendar.is_open(index) & ~missing
    return values[keep].dropna()
