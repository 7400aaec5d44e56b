"""Preset for the Anonymous Bank call log (Technion SEE lab), definitions as in data/README.md.

A call *wants an agent* if a real agent served it (AGENT, server not NO_SERVER) or it hung up
while queued (HANG with q_time > 0); it arrives at ``vru_exit``. PHANTOM calls and calls that
never wanted an agent are ignored and counted, never silently dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.history.contacts import Contacts, finish_contacts, warn_oddities
from forecasting.history.intervals import DAY
from forecasting.history.ledger import RowLedger
from forecasting.history.parsing import blank, parse_numbers
from forecasting.history.tables import RawTable

COLUMNS = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
]
OUTCOMES = {"AGENT", "HANG", "PHANTOM"}
NO_SERVER = "NO_SERVER"
_CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d:[0-5]\d$"
_HALF_DAY = pd.Timedelta(hours=12)


def normalize_anonymous_bank(raw: RawTable, ledger: RowLedger) -> Contacts:
    raw.require(COLUMNS)
    f = raw.frame
    ledger.ignore(raw.blank_rows, "blank line")
    outcome = f["outcome"].str.strip().str.upper()
    ledger.ignore(outcome.eq("PHANTOM"), "PHANTOM (virtual call, ignored by definition)")
    ledger.reject(
        ~outcome.isin(OUTCOMES), "outcome", "unknown outcome (expected AGENT, HANG or PHANTOM)", f["outcome"]
    )

    date = pd.to_datetime(f["date"].str.strip(), format="%y%m%d", errors="coerce")
    ledger.fail_or_reject(
        date.isna().to_numpy(), "date", "unparsable date", "a date as YYMMDD, e.g. 990201", f["date"]
    )
    clock = {c: _parse_clock(f[c], c, ledger) for c in ("vru_entry", "vru_exit", "ser_start", "ser_exit")}
    seconds = {
        c: parse_numbers(f[c], c, ledger, "a whole number of seconds")
        for c in ("vru_time", "q_time", "ser_time")
    }
    for c in ("q_time", "ser_time"):
        ledger.reject((seconds[c] < 0).to_numpy(), c, "negative duration", f[c])

    server = f["server"].str.strip()
    ledger.reject(
        clock["vru_exit"].isna().to_numpy(), "vru_exit", "missing arrival time (vru_exit)", f["vru_exit"]
    )
    ledger.reject(
        (outcome.eq("AGENT") & server.eq("")).to_numpy(),
        "server",
        "missing server (expected an agent name or NO_SERVER)",
    )
    served = outcome.eq("AGENT") & server.ne(NO_SERVER)
    abandoned = outcome.eq("HANG") & (seconds["q_time"] > 0)
    ledger.ignore(
        outcome.eq("AGENT") & server.eq(NO_SERVER), "AGENT with NO_SERVER (served without an agent)"
    )
    ledger.ignore(outcome.eq("HANG") & ~abandoned, "HANG with q_time 0 (left before queueing)")

    keep = ledger.active
    negative_vru = int(((seconds["vru_time"] < 0).to_numpy() & keep).sum())
    if negative_vru:
        ledger.warn(
            f"{negative_vru} used calls have vru_exit before vru_entry (negative vru_time); arrival is vru_exit as defined"
        )

    # Clock times carry no date: a time far earlier than the one it follows is past midnight.
    arrival = date + clock["vru_exit"]
    arrival = arrival + DAY * (clock["vru_exit"] < clock["vru_entry"] - _HALF_DAY).astype(int)
    answer = _after(date + clock["ser_start"], arrival)
    end = _after(date + clock["ser_exit"], answer)
    frame = pd.DataFrame(
        {
            "contact_id": f["vru+line"].str.strip() + ":" + f["call_id"].str.strip(),
            "queue": f["type"].str.strip(),
            "arrival_time": arrival,
            "answer_time": answer.where(served),
            "end_time": end.where(served),
            "wait_seconds": seconds["q_time"],
            "handle_seconds": seconds["ser_time"].where(served),
            "abandoned": abandoned,
            "customer_id": f["customer_id"].str.strip().replace("0", np.nan),
            "agent_id": server.where(served),
            "priority": f["priority"].str.strip(),
        }
    )[keep]
    contacts = finish_contacts(
        frame,
        {
            "contact_id",
            "arrival_time",
            "queue",
            "answer_time",
            "end_time",
            "wait_seconds",
            "handle_seconds",
            "abandoned",
            "customer_id",
            "agent_id",
        },
    )
    warn_oddities(contacts, ledger, raw.line.to_numpy()[keep])
    return contacts


def _parse_clock(values: pd.Series, column: str, ledger: RowLedger) -> pd.Series:
    text = values.str.strip()
    bad = ~text.str.match(_CLOCK) & ~pd.Series(blank(values), index=values.index)
    ledger.fail_or_reject(
        bad.to_numpy(),
        column,
        "unparsable time",
        "a clock time H:MM:SS (0:00:00 to 23:59:59) such as 7:02:47",
        text,
    )
    parsed = pd.to_timedelta(text.where(~bad), errors="coerce")
    return parsed.where(parsed != pd.Timedelta(0))  # 0:00:00 means "none" in this format


def _after(moment: pd.Series, reference: pd.Series) -> pd.Series:
    """Move a same-date clock time to the next day when it would otherwise be hours before."""
    return moment + DAY * (moment < reference - _HALF_DAY).astype(int)
