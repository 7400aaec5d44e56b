"""Generic per-contact logs (calls, tickets, chats), with a YAML mapping for other exports.

A file whose columns already carry the canonical names needs no mapping. Otherwise a mapping
file names the source column of each canonical field and the time format, e.g.::

    columns: {contact_id: TicketID, arrival_time: Created, answer_time: FirstReply,
              end_time: Solved, queue: Group, csat: Satisfaction}
    time_format: "%d/%m/%Y %H:%M"
    sep: ";"
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from forecasting.history.config import load_yaml
from forecasting.history.contacts import CONTACT_FIELDS, REQUIRED_FIELDS, Contacts, finish_contacts
from forecasting.history.ledger import RowLedger
from forecasting.history.parsing import (
    blank,
    daylight_saving_notes,
    parse_flags,
    parse_numbers,
    parse_times_and_offsets,
    reject_outside,
    reject_stray_times,
)
from forecasting.history.tables import RawTable

Field = Literal[CONTACT_FIELDS + ("channel",)]  # type: ignore[valid-type]
TIME_FIELDS = ("arrival_time", "answer_time", "end_time")
SURVEY_RANGES = {"csat": (1, 5, "1–5"), "nps": (0, 10, "0–10"), "ces": (1, 7, "1–7")}


class LogMapping(BaseModel):
    """How an export's columns map onto the canonical contact fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[Field, str] = {}
    time_format: str | None = None
    sep: str | None = None

    def source(self, name: str) -> str:
        return self.columns.get(name, name)


def load_mapping(path: str | Path | None) -> LogMapping:
    if path is None:
        return LogMapping()
    allowed = "a canonical field: " + ", ".join(CONTACT_FIELDS + ("channel",))
    return load_yaml(path, LogMapping, "mapping file", allowed)


def normalize_contact_log(
    raw: RawTable, ledger: RowLedger, mapping: LogMapping, timezone: str | None = None
) -> Contacts:
    """Validate and normalize a generic log; defects are rejected by row or, if fatal, raised."""
    f = raw.frame
    present = {name for name in CONTACT_FIELDS + ("channel",) if mapping.source(name) in f.columns}
    raw.require([mapping.source(n) for n in REQUIRED_FIELDS], what="required column")
    for name, source in mapping.columns.items():
        if source not in f.columns:
            raw.require([source], what=f"column mapped to {name}")
    col = {name: f[mapping.source(name)] for name in present}
    ledger.ignore(raw.blank_rows, "blank line")

    contact_id = col["contact_id"].astype(str).str.strip()
    ledger.reject(blank(col["contact_id"]), mapping.source("contact_id"), "missing contact id")
    first_row = pd.Series(raw.line.to_numpy(), index=f.index).where(ledger.active)
    first_seen = first_row.groupby(contact_id.where(ledger.active)).transform("min")
    dup = ledger.active & contact_id.duplicated(keep="first").to_numpy()
    if dup.any():
        where = contact_id + " (first at row " + first_seen.astype("Int64").astype(str) + ")"
        ledger.reject(dup, mapping.source("contact_id"), "duplicate contact id", where)

    ledger.reject(blank(col["arrival_time"]), mapping.source("arrival_time"), "missing arrival time")
    out = pd.DataFrame(index=f.index)
    out["contact_id"] = contact_id
    offsets = {}
    for name in TIME_FIELDS:
        if name in present:
            out[name], offsets[name] = parse_times_and_offsets(
                col[name], mapping.source(name), ledger, mapping.time_format, timezone
            )
    if "arrival_time" in out:
        reject_stray_times(out["arrival_time"], mapping.source("arrival_time"), ledger, col["arrival_time"])
    _on_arrival_clock(out, offsets)
    if "arrival_time" in offsets:
        for note in daylight_saving_notes(out["arrival_time"], offsets["arrival_time"]):
            ledger.warn(note)
    _check_order(out, ledger, mapping)
    for name in ("wait_seconds", "handle_seconds"):
        if name in present:
            out[name] = parse_numbers(col[name], mapping.source(name), ledger, "a number of seconds")
            ledger.reject((out[name] < 0).to_numpy(), mapping.source(name), "negative duration", col[name])
    for name, (low, high, label) in SURVEY_RANGES.items():
        if name in present:
            out[name] = parse_numbers(col[name], mapping.source(name), ledger, f"a score {label}")
            reject_outside(
                out[name], mapping.source(name), ledger, low, high, f"the {name.upper()} scale {label}"
            )
    if "abandoned" in present:
        out["abandoned"] = parse_flags(
            col["abandoned"], mapping.source("abandoned"), ledger, blank_means=False
        )
    if "fcr" in present:  # a survey answer: blank means not asked, not "unresolved"
        out["fcr"] = parse_flags(col["fcr"], mapping.source("fcr"), ledger, blank_means=None)
    if "abandoned" in present and "answer_time" in present:
        ledger.reject(
            (out["abandoned"] & out["answer_time"].notna()).to_numpy(dtype=bool),
            mapping.source("abandoned"),
            "abandoned but has an answer time",
            col["abandoned"],
        )
    for name in ("customer_id", "agent_id", "queue", "channel"):
        if name in present:
            out[name] = col[name].astype(str).str.strip().replace("", np.nan)
    if "queue" not in present and "channel" in present:
        out["queue"] = out.pop("channel")
        present.add("queue")
    present.discard("channel")
    out = out.drop(columns=[c for c in ("channel",) if c in out])[ledger.active]
    return finish_contacts(out, present)


def _on_arrival_clock(out: pd.DataFrame, offsets: dict) -> None:
    """Express a contact's later times on its arrival's clock when the times carry UTC
    offsets, so every duration is one between instants: across a daylight-saving change an
    answer at 03:00:05+02:00 is 10 s after an arrival at 01:59:55+01:00, not an hour and 10 s
    (and autumn's answers no longer come 'before' their arrival). Arrivals keep their local
    clock time, which is what intervals and days are counted by."""
    arrival = offsets.get("arrival_time")
    if arrival is None:
        return
    for name, offset in offsets.items():
        if name != "arrival_time" and offset is not None:
            shift = (offset - arrival).fillna(0.0)
            if shift.any():
                out[name] = out[name] - pd.to_timedelta(shift, unit="s")


def _check_order(out: pd.DataFrame, ledger: RowLedger, mapping: LogMapping) -> None:
    """Answer and end cannot precede arrival, nor end precede answer: the file is wrong if so."""
    pairs = [
        ("answer_time", "arrival_time", "answer before arrival"),
        ("end_time", "arrival_time", "end before start"),
        ("end_time", "answer_time", "end before answer"),
    ]
    for later, earlier, reason in pairs:
        if later in out and earlier in out:
            bad = (out[later] < out[earlier]).to_numpy()
            if not bad.any():
                continue
            ledger.fail_or_reject(
                bad,
                mapping.source(later),
                reason,
                f"a time at or after {mapping.source(earlier)}",
                out[later].astype(str),
            )
