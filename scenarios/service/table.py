"""The per-interval table a service model is calibrated and checked on: what was offered
(arrivals, AHT), what was there (agents seen and present) and what came of it (abandonment,
ASA, service level), all queues pooled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.history.contacts import Contacts
from forecasting.history.intervals import contacts_to_intervals
from scenarios.service.presence import PRESENCE_GAPS, agents_present, agents_seen

COUNTS = ["arrivals", "handled", "abandoned", "answered_in_target"]


def present_column(gap_seconds: float) -> str:
    return f"present_{gap_seconds:g}"


def service_table(
    contacts: Contacts, length: pd.Timedelta, target_seconds: float, gaps: tuple[float, ...] = PRESENCE_GAPS
) -> pd.DataFrame:
    """One row per interval with arrivals: counts, AHT and ASA of served calls, agents seen
    and present (one column per gap), observed abandonment and service level, hour, weekday."""
    table = contacts_to_intervals(contacts, length, target_seconds)
    table = table.groupby("interval_start", as_index=False)[COUNTS].sum()
    served = contacts.frame[contacts.frame["handled"].astype(bool)]
    start = served["arrival_time"].dt.floor(length).rename("interval_start")
    table = table.join(served["handle_seconds"].groupby(start).mean().rename("aht"), on="interval_start")
    table = table.join(served["wait_seconds"].groupby(start).mean().rename("asa"), on="interval_start")
    table = table.join(agents_seen(contacts, length), on="interval_start")
    table["agents_seen"] = table["agents_seen"].fillna(0.0)
    stamps = pd.DatetimeIndex(table["interval_start"])
    for gap in gaps:
        table[present_column(gap)] = agents_present(contacts, length, gap, stamps).to_numpy()
    arrivals = table["arrivals"].replace(0, np.nan)
    table["abandon_rate"] = table["abandoned"] / arrivals
    table["service_level"] = table["answered_in_target"] / arrivals
    table["hour"] = stamps.hour + stamps.minute / 60
    table["weekday"] = stamps.day_of_week
    usable = (table["arrivals"] > 0) & (table["agents_seen"] > 0) & table["aht"].notna()
    return table[usable].reset_index(drop=True)
