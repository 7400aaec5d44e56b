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
    "channel",
    "priority",
    "status",  # 'resolved' or 'open' (a ticket export); see forecasting.history.tickets
    "resolution_seconds",
    "first_response_sla_met",  # the export's own SLA verdicts, checked against ours
    "resolution_sla_met",
)
CONTACT_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
DEFAULT_QUEUE = "all"  # the queue of a log without a queue column
BLANK_QUEUE = "unassigned"  # contacts whose queue cell is empty in a log that has queues
REPEAT_WINDOW = pd.Timedelta(days=7)
REALTIME_WORDS = ("voice", "phone", "call", "chat", "tel")  # answered while the customer waits
DEFERRED_WORDS = ("mail", "ticket", "web", "form", "social", "sms", "message", "letter", "fax", "portal")


@dataclass(frozen=True)
class Contacts:
    """Normalized contacts plus which optional fields the source actually had."""

    frame: pd.DataFrame
    available: frozenset[str] = field(default_factory=frozenset)
    as_of: pd.Timestamp | None = None  # a ticket export's time: open tickets are censored there

    @property
    def tickets(self) -> bool:
        """A ticket export (a status column): resolved tickets are handled, open ones waiting."""
        return "status" in self.available

    def has(self, *names: str) -> bool:
        return all(n in self.available for n in names)


def finish_contacts(
    frame: pd.DataFrame,
    available: set[str],
    realtime_channels: tuple[str, ...] | None = None,
    as_of: pd.Timestamp | None = None,
) -> Contacts:
    """Derive handled flag, first-response / resolution times and repeat contacts, vectorized.

    A ticket export (``status`` available) counts its resolved tickets as handled and keeps
    each open ticket's age at ``as_of`` (``open_age_seconds``): the censored time that
    Kaplan-Meier estimates of response and resolution need.
    """
    out = frame.copy()
    for name in CONTACT_FIELDS:
        if name not in out:
            out[name] = np.nan
    named = out["queue"].notna() & (out["queue"].astype(str).str.strip() != "")
    out["queue"] = (
        out["queue"].where(named, BLANK_QUEUE if "queue" in available else DEFAULT_QUEUE).astype(str)
    )
    tickets = "status" in available
    abandoned = out["abandoned"].astype("boolean").fillna(False).astype(bool)
    out["abandoned"] = abandoned
    if tickets:
        out["handled"] = out["status"].eq("resolved").to_numpy() & ~abandoned
    else:  # answered: an answer time, a handle time or a recorded wait, unless marked abandoned
        answered = out["answer_time"].notna() | out["handle_seconds"].notna() | out["wait_seconds"].notna()
        out["handled"] = ~abandoned & answered
    out["realtime"] = _realtime(out, available, realtime_channels)
    if "wait_seconds" not in available and "answer_time" in available:
        responded = out["answer_time"].notna() if tickets else out["handled"]
        waited_until = out["answer_time"].where(responded, out["end_time"].where(abandoned))
        out["wait_seconds"] = (waited_until - out["arrival_time"]).dt.total_seconds()
        available = available | {"wait_seconds"}
    if "handle_seconds" not in available and {"answer_time", "end_time"} <= available:
        out["handle_seconds"] = (
            (out["end_time"] - out["answer_time"]).dt.total_seconds().where(out["handled"])
        )
        available = available | {"handle_seconds"}
    if "resolution_seconds" in available:
        out["resolution_seconds"] = out["resolution_seconds"].where(out["handled"])
    elif "end_time" in available:
        out["resolution_seconds"] = (
            (out["end_time"] - out["arrival_time"]).dt.total_seconds().where(out["handled"])
        )
        available = available | {"resolution_seconds"}
    if "wait_seconds" in available:
        # First response is the wait of a handled contact, however the source recorded it; a
        # ticket's whether or not it is resolved (one resolved unanswered was answered then)
        if tickets:
            out["first_response_seconds"] = out["wait_seconds"].fillna(out["resolution_seconds"])
        else:
            out["first_response_seconds"] = out["wait_seconds"].where(out["handled"])
        available = available | {"first_response_seconds"}
    if tickets and as_of is not None:
        age = (as_of - out["arrival_time"]).dt.total_seconds()
        out["open_age_seconds"] = age.where(out["status"].eq("open") & (age >= 0))
        available = available | {"open_age_seconds"}
    if "customer_id" in available:
        out = _mark_repeats(out)
        available = available | {"repeat", "followed_up"}
    return Contacts(frame=out.reset_index(drop=True), available=frozenset(available), as_of=as_of)


def _realtime(out: pd.DataFrame, available: set[str], named: tuple[str, ...] | None) -> np.ndarray:
    """Contacts answered while the customer waits, where a voice service level means something.

    The mapping's ``realtime_channels`` when given; else by channel name: in a ticket export
    only voice / phone / call / chat channels are, elsewhere every channel but email-, ticket-,
    web- or message-like ones (a call log without channels: every contact)."""
    channel = out["channel"] if "channel" in available else out["queue"]
    name = channel.astype(str).str.strip().str.lower()
    if named is None and "status" not in available and "channel" not in available:
        return np.ones(len(out), bool)  # a call log's queues are lines, whatever their names
    if named is not None:
        return name.isin([n.lower() for n in named]).to_numpy()
    if "status" in available:
        if "channel" not in available:
            return np.zeros(len(out), bool)
        return name.str.contains("|".join(REALTIME_WORDS), regex=True).to_numpy()
    return ~name.str.contains("|".join(DEFERRED_WORDS), regex=True).to_numpy()


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
