"""The canonical per-contact table every log format is normalized into.

One row per contact that wanted an agent. Absent optional fields are all-NaN columns and are
left out of ``available``, so reports show only what the data really supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.history.ledger import RowLedger

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
    "team",  # the group that works the ticket or call (KPIs by team: capplan kpis --by team)
    "category",  # what it is about (KPIs by category)
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
# no caller or chatter waits, nor talks, a whole day on the line: beyond it a time is wrong
REALTIME_LONGEST_SECONDS = 86_400.0
# a ticket channel named like phone or chat is answered live only if its tickets are: first
# responses within minutes (median), not a "Phone" ticket logged from a call and answered later
LIVE_RESPONSE_SECONDS = 300.0


@dataclass(frozen=True)
class Contacts:
    """Normalized contacts plus which optional fields the source actually had."""

    frame: pd.DataFrame
    available: frozenset[str] = field(default_factory=frozenset)
    as_of: pd.Timestamp | None = None  # a ticket export's time: open tickets are censored there
    notes: tuple[str, ...] = ()  # what was decided about the data that a user should read

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
    notes: tuple[str, ...] = ()
    if tickets and realtime_channels is None:
        out["realtime"], notes = _answered_live(out, available)
    if tickets and as_of is not None:
        age = (as_of - out["arrival_time"]).dt.total_seconds()
        out["open_age_seconds"] = age.where(out["status"].eq("open") & (age >= 0))
        available = available | {"open_age_seconds"}
    if "customer_id" in available:
        out = _mark_repeats(out)
        available = available | {"repeat", "followed_up"}
    return Contacts(
        frame=out.reset_index(drop=True), available=frozenset(available), as_of=as_of, notes=notes
    )


def _answered_live(out: pd.DataFrame, available: set[str]) -> tuple[pd.Series, tuple[str, ...]]:
    """A ticket export's channels guessed real-time by name keep the voice service level only
    when their tickets are first answered within LIVE_RESPONSE_SECONDS (median of those
    answered); the others are deferred work, said in a note. No first responses: none is."""
    realtime = out["realtime"].astype(bool)
    if not realtime.any():
        return realtime, ()
    if "first_response_seconds" not in available:
        return pd.Series(False, index=out.index), ()
    channel = (out["channel"] if "channel" in available else out["queue"]).astype(str)
    median = out["first_response_seconds"].where(realtime).groupby(channel.where(realtime)).median()
    slow = median[~(median <= LIVE_RESPONSE_SECONDS)]
    notes = tuple(
        f"{name} tickets are first answered after a median {_minutes(seconds)}, not while the customer "
        "waits: no voice service level or ASA for them (name real-time channels with realtime_channels "
        "in the mapping)"
        for name, seconds in slow.items()
    )
    return realtime & ~channel.isin(slow.index), notes


def _minutes(seconds: float) -> str:
    return "unknown time (none answered yet)" if np.isnan(seconds) else f"{seconds / 60:,.1f} min"


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


@dataclass(frozen=True)
class Oddity:
    """Contacts whose values are valid one by one but unlikely: kept (they may be true), but
    warned and counted, as they change the KPIs."""

    kind: str  # its key in the ledger's counts
    rows: np.ndarray  # mask over the contacts
    says: str  # what it is and what it does, in words, with the count


REALTIME_HINT = "wrong times, or a ticket channel? a mapping's realtime_channels names the real-time ones"


def oddities(contacts: Contacts) -> list[Oddity]:
    """Handle times of 0, real-time waits or handle times over a day, and (outside ticket
    exports, where an open ticket is neither yet) contacts neither answered nor abandoned."""
    f = contacts.frame
    handled = f["handled"].to_numpy(bool)
    realtime = f["realtime"].to_numpy(bool)
    found = []

    def add(kind: str, rows: np.ndarray, says) -> None:
        if rows.any():
            found.append(Oddity(kind, rows, says(int(rows.sum()))))

    if contacts.has("handle_seconds"):
        handle = f["handle_seconds"].to_numpy(float)
        n_handled = int(handled.sum())
        add(
            "handle time 0",
            handled & (handle == 0),
            lambda n: (
                f"all {n:,} handled contacts have a handle time of 0 s: AHT is 0 and would staff no one "
                "(is it the right column, in the right unit?)"
                if n == n_handled
                else f"{n:,} of {n_handled:,} handled contacts ({n / n_handled:.1%}) have a handle time of 0 s: they lower AHT"
            ),
        )
        long = handled & realtime & (handle > REALTIME_LONGEST_SECONDS)
        add(
            "real-time handle time over a day",
            long,
            lambda n: (
                f"{n:,} real-time contacts (voice, chat) have a handle time over a day (longest "
                f"{handle[long].max() / 86_400:.1f} days): they raise AHT ({REALTIME_HINT})"
            ),
        )
    if contacts.has("wait_seconds"):
        wait = f["wait_seconds"].to_numpy(float)
        long_wait = realtime & (wait > REALTIME_LONGEST_SECONDS)
        add(
            "real-time wait over a day",
            long_wait,
            lambda n: (
                f"{n:,} real-time contacts (voice, chat) waited over a day (longest "
                f"{wait[long_wait].max() / 86_400:.1f} days): they raise ASA and the patience estimate ({REALTIME_HINT})"
            ),
        )
    if not contacts.tickets:
        neither = ~handled & ~f["abandoned"].to_numpy(bool)
        add(
            "neither answered nor abandoned",
            neither,
            lambda n: (
                f"{n:,} of {len(f):,} contacts are neither answered (no answer time, handle time or wait) nor "
                "abandoned: counted as arrivals, they lower the service level and are in no AHT or abandon rate"
            ),
        )
    return found


def warn_oddities(contacts: Contacts, ledger: RowLedger, lines: np.ndarray | None = None) -> None:
    """Each oddity as a warning with its count and first row (``lines``: each contact's line
    in the file), and counted in the ledger (summary.json's ``warned_by_reason``)."""
    for note in contacts.notes:
        ledger.warn(note)
    for oddity in oddities(contacts):
        first = f" (first at row {int(lines[np.argmax(oddity.rows)])})" if lines is not None else ""
        ledger.note(oddity.kind, int(oddity.rows.sum()), oddity.says + first)
