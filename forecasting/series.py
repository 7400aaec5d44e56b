"""The series a forecast is made of: one field of one queue (or all queues) on open slots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar
from forecasting.errors import InputError
from forecasting.history.ingest import IngestResult

FIELDS = ("arrivals", "aht")


def forecast_series(result: IngestResult, field: str = "arrivals", queue: str | None = None) -> pd.Series:
    """Arrivals (summed) or AHT (handled-weighted) over the chosen queues, open slots only.

    Closed slots and missing open days are left out: a holiday is not "zero demand".
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
    return keep_open(values.astype(float).rename(field), result.calendar)


def keep_open(values: pd.Series, calendar: OperatingCalendar) -> pd.Series:
    index = pd.DatetimeIndex(values.index)
    missing = np.isin(index.normalize().date, np.array(calendar.missing_days, dtype=object))
    keep = calendar.is_open(index) & ~missing
    return values[keep].dropna()
