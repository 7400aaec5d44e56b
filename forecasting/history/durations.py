"""Durations as exports and targets write them: numbers in a stated unit, ``H:MM:SS`` text, or
``4h`` / ``60s`` / ``30 min`` / ``2d`` in a targets file.

One home for the units, so a mapping's ``unit: minutes`` and a target's ``30 min`` agree: a
helpdesk export's first response "66" in minutes read as seconds turns a missed 10-minute
target into a met one, silently.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from forecasting.history.ledger import RowLedger
from forecasting.history.parsing import blank

Unit = Literal["seconds", "minutes", "hours", "days"]
UNIT_SECONDS: dict[str, float] = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86_400.0}
_SUFFIXES = {  # what a targets file may write after a number
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86_400.0),
}
_WITH_SUFFIX = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")
DURATION_WORDS = "seconds as a number, or a number with s, min, h or d (60s, 30 min, 4h, 2d), or H:MM:SS"


def duration_seconds(value: object) -> float:
    """Seconds of a duration written in a targets file: ``90``, ``"4h"``, ``"30 min"``,
    ``"1:30:00"``; ValueError (with the accepted forms) otherwise."""
    if isinstance(value, bool):
        raise ValueError(DURATION_WORDS)
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        match = _WITH_SUFFIX.match(text)
        if match and match.group(2) in _SUFFIXES:
            seconds = float(match.group(1)) * _SUFFIXES[match.group(2)]
        elif ":" in text:
            seconds = _clock_seconds(pd.Series([text]))[0]
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise ValueError(f"{DURATION_WORDS}, not {value!r}") from None
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a positive duration ({DURATION_WORDS}), not {value!r}")
    return seconds


def _clock_seconds(text: pd.Series) -> np.ndarray:
    """``H:MM:SS`` (hours may pass 24, as helpdesks write 50:12:00) or ``D days HH:MM:SS``;
    NaN where the text is neither."""
    parts = text.str.extract(r"^\s*(?:(\d+)\s*days?,?\s*)?(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)\s*$")
    numbers = parts.apply(pd.to_numeric, errors="coerce").to_numpy(float)
    days = np.nan_to_num(numbers[:, 0])
    return days * 86_400 + numbers[:, 1] * 3600 + numbers[:, 2] * 60 + numbers[:, 3]


def parse_durations(values: pd.Series, column: str, ledger: RowLedger, unit: Unit = "seconds") -> pd.Series:
    """Durations in seconds: numbers in ``unit``, or ``H:MM:SS`` text whatever the unit.
    Unreadable, infinite and negative cells are rejected with their row; blanks are NaN."""
    factor = UNIT_SECONDS[unit]
    if pd.api.types.is_numeric_dtype(values):
        seconds = values.astype(float) * factor
        text = values.astype(str)
    else:
        text = values.astype(str).str.strip()
        empty = blank(values)
        numbers = pd.to_numeric(text.where(~empty), errors="coerce").astype(float) * factor
        clock = text.str.contains(":", regex=False).to_numpy() & ~empty
        seconds = numbers.copy()
        if clock.any():
            seconds[clock] = _clock_seconds(text[clock])
        bad = seconds.isna().to_numpy() & ~empty
        ledger.reject(bad, column, f"not a duration ({unit}, or H:MM:SS)", values=text)
    infinite = np.isinf(seconds.to_numpy())
    ledger.reject(infinite, column, f"not a duration in {unit} (infinite)", values=text)
    seconds = seconds.where(~infinite)
    ledger.reject((seconds < 0).to_numpy(), column, "negative duration", values=text)
    return seconds.where(seconds >= 0)
