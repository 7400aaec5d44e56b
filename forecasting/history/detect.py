"""Guess how to read a file from its columns, so an upload starts from a sensible mapping
instead of an error: which format, which column holds the times, and which interval field
each numeric column of a report probably is. Only a suggestion: the planner confirms it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from forecasting.history.anonymous_bank import COLUMNS as ANONYMOUS_BANK_COLUMNS
from forecasting.history.contacts import REQUIRED_FIELDS

# a column name's words -> the interval field it usually holds (first match wins)
FIELD_WORDS = (
    ("service_level", r"\b(sl|service ?level|svc ?lvl|in ?sla)\b"),
    ("answered_in_target", r"(answered|handled) (in|within) (target|sl|threshold)"),
    ("abandoned", r"aband|hang ?up|lost"),
    ("handled", r"handled|answered|accepted|served"),
    ("aht", r"\baht\b|handle ?time|handling"),
    ("asa", r"\basa\b|speed of answer|avg wait|wait time"),
    ("arrivals", r"offered|arrivals|calls|contacts|volume|incoming|received|tickets|chats|count"),
)


@dataclass
class Suggestion:
    format: str  # log, anonymous-bank or intervals
    time_col: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # report column -> interval field (intervals)


def suggest_reading(frame: pd.DataFrame) -> Suggestion:
    """The format and mapping a file's first rows suggest."""
    columns = [str(c) for c in frame.columns]
    if set(ANONYMOUS_BANK_COLUMNS) <= set(columns):
        return Suggestion("anonymous-bank")
    if set(REQUIRED_FIELDS) <= set(columns) or _looks_like_a_log(frame):
        return Suggestion("log")
    time_col = next((c for c in columns if _looks_like_times(frame[c])), None)
    fields: dict[str, str] = {}
    for c in columns:
        if c == time_col or not _looks_numeric(frame[c]):
            continue
        name = re.sub(r"[_\-.]+", " ", c.lower())
        guess = next((f for f, pattern in FIELD_WORDS if re.search(pattern, name)), None)
        if guess and guess not in fields.values():
            fields[c] = guess
    if fields and "arrivals" not in fields.values():  # the first plain count is the volume
        first = next(
            (c for c in columns if c != time_col and c not in fields and _looks_numeric(frame[c])), None
        )
        if first:
            fields[first] = "arrivals"
    return Suggestion("intervals", time_col, fields)


ID_WORDS = r"\b(id|ticket|case|incident|contact|call|chat|number|no|ref)\b"
LOG_WORDS = r"status|priority|channel|agent|assignee|requester|customer|subject"


def _looks_like_a_log(frame: pd.DataFrame) -> bool:
    """One row per contact: a column of distinct identifiers (Ticket ID, Case No.) beside
    columns a contact has (status, priority, channel, agent), as helpdesk exports are."""
    names = {c: re.sub(r"[_\-.#]+", " ", str(c).lower()) for c in frame.columns}
    ids = [
        c
        for c, name in names.items()
        if re.search(ID_WORDS, name) and frame[c].notna().all() and frame[c].astype(str).is_unique
    ]
    return bool(ids) and any(re.search(LOG_WORDS, name) for name in names.values())


def _looks_like_times(values: pd.Series) -> bool:
    text = values.dropna().astype(str).head(50)
    if text.empty or text.str.fullmatch(r"-?\d+(\.\d+)?").all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.9)


def _looks_numeric(values: pd.Series) -> bool:
    text = values.dropna().astype(str).str.replace(",", "", regex=False).head(50)
    return not text.empty and bool(pd.to_numeric(text, errors="coerce").notna().mean() > 0.9)
