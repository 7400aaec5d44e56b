"""Generic per-contact logs (calls, tickets, chats), with a YAML mapping for other exports.

A file whose columns already carry the canonical names needs no mapping. Otherwise a mapping
file names the source column of each canonical field and the time format, e.g.::

    columns:
      contact_id: TicketID
      arrival_time: Created
      first_response_seconds: {column: FirstResponseMin, unit: minutes}
      resolution_seconds: {column: ResolutionHours, unit: hours}
      status: {column: Status, resolved: [Resolved, Closed], open: [In Progress, Escalated]}
      channel: Channel
      priority: Priority
    time_format: "%d/%m/%Y %H:%M"
    sep: ";"

A duration is read in its stated unit (seconds unless said), or from H:MM:SS text. A status
column makes the log a ticket export: resolved tickets are handled, open ones are the backlog
(see ``forecasting.history.tickets``); a value in neither list is rejected with its row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from forecasting.history.config import load_yaml
from forecasting.history.contacts import (
    CONTACT_FIELDS,
    REQUIRED_FIELDS,
    Contacts,
    finish_contacts,
    warn_oddities,
)
from forecasting.history.durations import Unit, parse_durations
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

# first_response_seconds is the helpdesk's name for a ticket's wait: mapped, it is wait_seconds
MAPPED_FIELDS = CONTACT_FIELDS + ("first_response_seconds",)
Field = Literal[MAPPED_FIELDS]  # type: ignore[valid-type]
TIME_FIELDS = ("arrival_time", "answer_time", "end_time")
DURATION_FIELDS = ("wait_seconds", "first_response_seconds", "handle_seconds", "resolution_seconds")
SLA_FLAG_FIELDS = ("first_response_sla_met", "resolution_sla_met")
SURVEY_RANGES = {"csat": (1, 5, "1–5"), "nps": (0, 10, "0–10"), "ces": (1, 7, "1–7")}
TEXT_FIELDS = ("customer_id", "agent_id", "queue", "channel", "priority", "team", "category")


class ColumnSpec(BaseModel):
    """One field's source column, with what it takes to read it: a duration's ``unit``, a
    status column's ``resolved`` / ``open`` values (and ``ignore``: spam, merged duplicates)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str
    unit: Unit | None = None
    resolved: tuple[str, ...] | None = None
    open: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @field_validator("resolved", "open", "ignore", mode="before")
    @classmethod
    def _values_as_text(cls, value):  # YAML reads a status code 3 as a number
        if isinstance(value, (str, int, float)):
            value = [value]
        return tuple(str(v).strip() for v in value) if isinstance(value, (list, tuple)) else value


class LogMapping(BaseModel):
    """How an export's columns map onto the canonical contact fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[Field, ColumnSpec] = {}
    time_format: str | None = None
    sep: str | None = None
    # channels answered while the customer waits, where the voice service level (answered
    # within T seconds) applies; default: voice, phone, call and chat by name (in a ticket
    # export only if their tickets are first answered within minutes: contacts._answered_live)
    realtime_channels: tuple[str, ...] | None = None
    # when the export was taken: open tickets are censored there (default: its latest time)
    exported_at: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _plain_names(cls, value):
        """``field: Column`` is ``field: {column: Column}``."""
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, (str, int, float)) else v for k, v in value.items()}
        return value

    @field_validator("realtime_channels", mode="before")
    @classmethod
    def _channel_names(cls, value):
        return tuple(str(v).strip() for v in value) if isinstance(value, (list, tuple)) else value

    @field_validator("exported_at", mode="before")
    @classmethod
    def _a_time(cls, value):
        if value is None:
            return value
        when = pd.to_datetime(str(value), format="ISO8601", errors="coerce")
        if pd.isna(when):
            raise ValueError("a time like 2024-12-31 23:59 (ISO 8601)")
        return str(when.tz_localize(None) if when.tzinfo else when)

    @model_validator(mode="after")
    def _specs_fit_fields(self) -> LogMapping:
        for name, spec in self.columns.items():
            if spec.unit is not None and name not in DURATION_FIELDS:
                raise ValueError(f"columns.{name}: a unit only for durations ({', '.join(DURATION_FIELDS)})")
            status_lists = spec.resolved is not None or spec.open or spec.ignore
            if status_lists and name != "status":
                raise ValueError(f"columns.{name}: resolved / open / ignore lists only for status")
            if name == "status" and not spec.resolved:
                raise ValueError(
                    "columns.status: {column: NAME, resolved: [...], open: [...]} "
                    "(which of its values mean resolved and which open)"
                )
            if name == "status":
                values = [v.lower() for v in (*spec.resolved, *spec.open, *spec.ignore)]
                twice = sorted({v for v in values if values.count(v) > 1})
                if twice:
                    raise ValueError(f"columns.status: each value in one list only ('{twice[0]}' is in two)")
        if {"wait_seconds", "first_response_seconds"} <= set(self.columns):
            raise ValueError("wait_seconds or first_response_seconds, not both (they are the same field)")
        return self

    def source(self, name: str) -> str:
        spec = self.columns.get(name)
        return spec.column if spec else name

    def unit(self, name: str) -> Unit:
        spec = self.columns.get(name)
        return (spec.unit if spec else None) or "seconds"


def load_mapping(path: str | Path | None) -> LogMapping:
    if path is None:
        return LogMapping()
    allowed = "a canonical field: " + ", ".join(MAPPED_FIELDS)
    return load_yaml(path, LogMapping, "mapping file", allowed)


def normalize_contact_log(
    raw: RawTable, ledger: RowLedger, mapping: LogMapping, timezone: str | None = None
) -> Contacts:
    """Validate and normalize a generic log; defects are rejected by row or, if fatal, raised."""
    f = raw.frame
    present = {name for name in MAPPED_FIELDS if mapping.source(name) in f.columns}
    raw.require([mapping.source(n) for n in REQUIRED_FIELDS], what="required column")
    for name, spec in mapping.columns.items():
        if spec.column not in f.columns:
            raw.require([spec.column], what=f"column mapped to {name}")
    col = {name: f[mapping.source(name)] for name in present}
    # a ticket's first response is the wait of a call (a file may name it either way)
    ticket_name = "first_response_seconds" in present and "wait_seconds" not in present
    wait_name = "first_response_seconds" if ticket_name else "wait_seconds"
    if ticket_name:
        present.add("wait_seconds")
        col["wait_seconds"] = col.pop("first_response_seconds")
    present.discard("first_response_seconds")
    col.pop("first_response_seconds", None)
    source = {name: mapping.source(wait_name if name == "wait_seconds" else name) for name in present}
    ledger.ignore(raw.blank_rows, "blank line")

    contact_id = col["contact_id"].astype(str).str.strip()
    ledger.reject(blank(col["contact_id"]), source["contact_id"], "missing contact id")
    first_row = pd.Series(raw.line.to_numpy(), index=f.index).where(ledger.active)
    first_seen = first_row.groupby(contact_id.where(ledger.active)).transform("min")
    dup = ledger.active & contact_id.duplicated(keep="first").to_numpy()
    if dup.any():
        where = contact_id + " (first at row " + first_seen.astype("Int64").astype(str) + ")"
        ledger.reject(dup, source["contact_id"], "duplicate contact id", where)

    if "status" in present:
        status = _read_status(col["status"], source["status"], mapping.columns["status"], ledger)
    ledger.reject(blank(col["arrival_time"]), source["arrival_time"], "missing arrival time")
    out = pd.DataFrame(index=f.index)
    out["contact_id"] = contact_id
    offsets = {}
    for name in TIME_FIELDS:
        if name in present:
            out[name], offsets[name] = parse_times_and_offsets(
                col[name], source[name], ledger, mapping.time_format, timezone
            )
    if "arrival_time" in out:
        reject_stray_times(out["arrival_time"], source["arrival_time"], ledger, col["arrival_time"])
    _on_arrival_clock(out, offsets)
    if "arrival_time" in offsets:
        for note in daylight_saving_notes(out["arrival_time"], offsets["arrival_time"]):
            ledger.warn(note)
    _check_order(out, ledger, mapping)
    for name in ("wait_seconds", "handle_seconds", "resolution_seconds"):
        if name in present:
            out[name] = parse_durations(
                col[name], source[name], ledger, mapping.unit(source_field(name, wait_name))
            )
    for name, (low, high, label) in SURVEY_RANGES.items():
        if name in present:
            out[name] = parse_numbers(col[name], source[name], ledger, f"a score {label}")
            reject_outside(out[name], source[name], ledger, low, high, f"the {name.upper()} scale {label}")
    if "abandoned" in present:
        out["abandoned"] = parse_flags(col["abandoned"], source["abandoned"], ledger, blank_means=False)
    # survey answers and the export's own SLA verdicts: blank means not asked / not judged
    for name in ("fcr", *SLA_FLAG_FIELDS):
        if name in present:
            out[name] = parse_flags(col[name], source[name], ledger, blank_means=None)
    # abandoned means never answered: an answer time or a handle time above 0 says the opposite,
    # and which one is wrong the file does not say (a handle time was silently dropped)
    answered_signs = {
        "answer_time": ("an answer time", lambda v: v.notna()),
        "handle_seconds": ("a handle time", lambda v: v.gt(0)),
    }
    for name, (sign, shown) in answered_signs.items():
        if "abandoned" in present and name in present:
            ledger.reject(
                (out["abandoned"] & shown(out[name])).to_numpy(dtype=bool),
                source["abandoned"],
                f"abandoned but has {sign}",
                col["abandoned"],
            )
    for name in TEXT_FIELDS:
        if name in present:
            out[name] = col[name].astype(str).str.strip().replace("", np.nan)
    if "status" in present:
        out["status"] = status
        _note_unplaced(out, present, ledger, source)
    if "queue" not in present and "channel" in present:
        out["queue"] = out["channel"]
        present.add("queue")
    lines = raw.line.to_numpy()[ledger.active]
    out = out[ledger.active]
    as_of = _exported_at(mapping, out, ledger) if "status" in present else None
    contacts = finish_contacts(out, present, realtime_channels=mapping.realtime_channels, as_of=as_of)
    warn_oddities(contacts, ledger, lines)
    return contacts


def _note_unplaced(out: pd.DataFrame, present: set[str], ledger: RowLedger, source: dict) -> None:
    """Say how many resolved tickets have no resolution time: they are left out of the
    resolution times and of the backlog counts (when they closed is not known)."""
    timed = [name for name in ("resolution_seconds", "end_time") if name in present]
    if not timed:
        return
    resolved = out["status"].eq("resolved").to_numpy() & ledger.active
    missing = resolved & np.logical_and.reduce([out[name].isna().to_numpy() for name in timed])
    if missing.any():
        columns = " or ".join(source[name] for name in timed)
        ledger.warn(
            f"{int(missing.sum()):,} resolved tickets have no {columns}: left out of resolution times "
            "and of backlog counts (when they closed is not known)"
        )


def source_field(name: str, wait_name: str) -> str:
    """The mapping's name of a canonical field (wait_seconds may be mapped as first response)."""
    return wait_name if name == "wait_seconds" else name


def _read_status(values: pd.Series, column: str, spec: ColumnSpec, ledger: RowLedger) -> pd.Series:
    """'resolved' or 'open' per row, by the mapping's lists (case and spaces aside); rows of an
    ``ignore`` value are ignored (counted by value), any other value is rejected with its row."""
    text = values.astype(str).str.strip()
    key = text.str.lower()
    kind = pd.Series(np.nan, index=values.index, dtype=object)
    kind[key.isin([v.lower() for v in spec.resolved]).to_numpy()] = "resolved"
    kind[key.isin([v.lower() for v in spec.open]).to_numpy()] = "open"
    ignored = key.isin([v.lower() for v in spec.ignore]).to_numpy()
    for value in pd.unique(text[ignored & ledger.active]):
        ledger.ignore(ignored & (text == value).to_numpy(), f"status {value} (ignored by the mapping)")
    listed = "resolved: " + ", ".join(spec.resolved) + "; open: " + (", ".join(spec.open) or "none")
    ledger.reject(
        kind.isna().to_numpy() & ~ignored, column, f"status not in the mapping ({listed})", values=text
    )
    return kind


def _exported_at(mapping: LogMapping, out: pd.DataFrame, ledger: RowLedger) -> pd.Timestamp | None:
    """When the export was taken: the mapping's ``exported_at``, else the latest time it holds
    (an arrival, an answer or end, or an arrival plus a duration): an open ticket has been
    open at least until then."""
    latest = [out[c].max() for c in TIME_FIELDS if c in out and out[c].notna().any()]
    for name in ("wait_seconds", "resolution_seconds"):
        if name in out and out[name].notna().any():
            latest.append((out["arrival_time"] + pd.to_timedelta(out[name], unit="s")).max())
    last = max(latest) if latest else None
    if mapping.exported_at is None:
        return last
    when = pd.Timestamp(mapping.exported_at)
    if last is not None and when < out["arrival_time"].max():
        ledger.warn(
            f"exported_at {when} is before the latest arrival ({out['arrival_time'].max()}): "
            "tickets created after it are left out of the backlog and its ages"
        )
    return when


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
