"""The canonical per-contact table every log format is normalized into.

One row per contact that wanted an agent. Absent optional fields are all-NaN columns and are
left out of ``available``, so reports show only what the data really supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

REQUIRED_FIELDS = ("contact_id", "arrival_time")
OPTIONAL_FIELDS = (
    "queue",
    "answer_time",
    "end_time",
    "wait_seconds",
    "handle_seconds",
    "abandoned",
    "customer_id",
    "agent_id",
    "csat",
    "nps",
    "ces",
    "fcr",
)
CONTACT_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
DEFAULT_QUEUE = "all"  # the queue of a log without a queue column
BLANK_QUEUE = "unassigned"  # contacts whose queue cell is empty in a log that has queues
REPEAT_WINDOW = pd.Timedelta(days=7)


@dataclass(frozen=True)
class Contacts:
    """Normalized contacts plus which optional fields the source actually had."""

    frame: pd.DataFrame
    available: frozenset[str] = field(default_factory=frozenset)

    def has(self, *names: str) -> bool:
        return all(n in self.available for n in names)


def finish_contacts(frame: pd.DataFrame, available: set[str]) -> Contacts:
    """Derive handled flag, first-response / resolution times and repeat contacts, vectorized."""
    out = frame.copy()
    for name in CONTACT_FIELDS:
        if name not in out:
            out[name] = np.nan
    named = out["queue"].notna() & (out["queue"].astype(str).str.strip() != "")
    out["queue"] = (
        out["queue"].where(named, BLANK_QUEUE if "queue" in available else DEFAULT_QUEUE).astype(str)
    )
    abandoned = out["abandoned"].astype("boolean").fillna(False).astype(bool)
    # answered: an answer time, a handle time or a recorded wait, unless marked abandoned
    answered = out["answer_time"].notna() | out["handle_seconds"].notna() | out["wait_seconds"].notna()
    out["abandoned"] = abandoned
    out["handled"] = ~abandoned & answered
    if "wait_seconds" not in available and "answer_time" in available:
        waited_until = out["answer_time"].where(out["handled"], out["end_time"].where(abandoned))
        out["wait_seconds"] = (waited_until - out["arrival_time"]).dt.total_seconds()
        available = available | {"wait_seconds"}
    if "handle_seconds" not in available and {"answer_time", "end_time"} <= available:
        out["handle_seconds"] = (
            (out["end_time"] - out["answer_time"]).dt.total_seconds().where(out["handled"])
        )
        available = available | {"handle_seconds"}
    if "wait_seconds" in available:
        # First response is the wait of a handled contact, however the source recorded it.
        out["first_response_seconds"] = out["wait_seconds"].where(out["handled"])
        available = available | {"first_response_seconds"}
    if "end_time" in available:
        out["resolution_seconds"] = (
            (out["end_time"] - out["arrival_time"]).dt.total_seconds().where(out["handled"])
        )
        available = available | {"resolution_seconds"}
    if "customer_id" in available:
        out = _mark_repeats(out)
        available = available | {"repeat", "followed_up"}
    return Contacts(frame=out.reset_index(drop=True), available=frozenset(available))


def _mark_repeats(frame: pd.DataFrame) -> pd.DataFrame:
    """A contact is a repeat if the same customer contacted within the window before it."""
    known = frame["customer_id"].notna() & (frame["customer_id"].astype(str) != "")
    order = frame.loc[known].sort_values(["customer_id", "arrival_time"], kind="stable")
    by_customer = order.groupby("customer_id", sort=False)["arrival_time"]
    since_previous = order["arrival_time"] - by_customer.shift(1)
    until_next = by_customer.shift(-1) - order["arrival_time"]
    frame["repeat"] = pd.Series(since_previous.le(REPEAT_WINDOW), index=order.index).reindex(frame.index)
    followed = until_next.le(REPEAT_WINDOW).astype("boolean")
    # Near the end of the data a follow-up may not be recorded yet: unknown, whichever way it went.
    censored = order["arrival_time"] > frame["arrival_time"].max() - REPEAT_WINDOW
    followed[censored] = pd.NA
    frame["followed_up"] = followed.reindex(frame.index)
    return frame
