"""The tidy interval table: one row per queue and planning interval, the input to forecasting."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.contacts import Contacts
from forecasting.history.summarize import COUNT_COLUMNS, summarize_contacts

INTERVAL_COLUMNS = [
    "interval_start",
    "queue",
    "arrivals",
    "handled",
    "abandoned",
    "answered_in_target",
    "aht",
    "asa",
    "service_level",
    "abandon_rate",
]
OPTIONAL_INTERVAL_COLUMNS = [
    "first_response_mean_s",
    "first_response_p90_s",
    "resolution_mean_s",
    "resolution_p90_s",
]
DAY = pd.Timedelta(days=1)


def parse_interval(text: str) -> pd.Timedelta:
    """'5min', '15min', '30min', '60min', '1h' or 'day' -> a length that divides a day."""
    t = text.strip().lower()
    if t in {"day", "1d", "d", "daily", "24h", "1440min"}:
        return DAY
    match = re.fullmatch(r"(\d+)\s*(min|m|h)", t)
    if match:
        n, unit = int(match.group(1)), match.group(2)
        length = pd.Timedelta(hours=n) if unit == "h" else pd.Timedelta(minutes=n)
        if length > pd.Timedelta(0) and DAY % length == pd.Timedelta(0):
            return length
    raise InputError(
        "bad interval",
        option="interval",
        expected="5min, 15min, 30min, 60min or day (a length dividing 24 h)",
        found=text,
    )


def interval_label(length: pd.Timedelta) -> str:
    """The label ``parse_interval`` reads back: '30min' or 'day'."""
    return "day" if length == DAY else f"{interval_minutes(length)}min"


def interval_minutes(length: pd.Timedelta) -> int:
    return int(length.total_seconds() // 60)


def day_grid(days: pd.DatetimeIndex, length: pd.Timedelta) -> pd.DatetimeIndex:
    """Every interval start of the given days, day by day: the full grid of a horizon."""
    per_day = int(DAY / length)
    offsets = np.arange(per_day) * length.to_timedelta64()
    return pd.DatetimeIndex(
        (pd.DatetimeIndex(days).normalize().to_numpy()[:, None] + offsets[None, :]).ravel()
    )


def contacts_to_intervals(contacts: Contacts, length: pd.Timedelta, target_seconds: float) -> pd.DataFrame:
    """Aggregate contacts by arrival interval, on a complete grid so quiet intervals show as 0."""
    f = contacts.frame
    start = f["arrival_time"].dt.floor(length)
    table = summarize_contacts(contacts, [start.rename("interval_start"), f["queue"]], target_seconds)
    return complete_grid(table, length)


def complete_grid(table: pd.DataFrame, length: pd.Timedelta) -> pd.DataFrame:
    """Every interval of every day in the range for every queue; counts 0, metrics NaN."""
    first = table["interval_start"].min().floor("D")
    last = table["interval_start"].max().floor("D") + DAY
    grid = pd.date_range(first, last, freq=length, inclusive="left")
    queues = sorted(table["queue"].unique())
    index = pd.MultiIndex.from_product([grid, queues], names=["interval_start", "queue"])
    full = table.set_index(["interval_start", "queue"]).reindex(index)
    counts = [c for c in full.columns if c in COUNT_COLUMNS or c.endswith("_contacts")]
    full[counts] = full[counts].fillna(0).astype(np.int64)
    return order_columns(full.reset_index())


def order_columns(table: pd.DataFrame) -> pd.DataFrame:
    for c in INTERVAL_COLUMNS:
        if c not in table:
            table[c] = np.nan
    extra = [c for c in OPTIONAL_INTERVAL_COLUMNS if c in table]
    return table[INTERVAL_COLUMNS + extra]
