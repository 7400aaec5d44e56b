"""Vectorized parsing of text cells into times, numbers and flags, reporting bad cells by row.

Each parser returns the parsed column plus a mask of cells that were present but unreadable,
so the caller decides (through the ledger) whether that is fatal or a rejection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.ledger import RowLedger

_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
_HAS_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n", ""}


def blank(values: pd.Series) -> np.ndarray:
    """Cells that hold nothing (empty text or a missing value)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return (values.isna() | values.astype(str).str.strip().eq("")).to_numpy()
    return values.isna().to_numpy()


def parse_times(
    values: pd.Series,
    column: str,
    ledger: RowLedger,
    time_format: str | None = None,
) -> pd.Series:
    """Parse a time column to naive local clock time.

    Offsets are accepted if every row carries the same one (exports often mark local time as
    'Z'); a file mixing offsets, or mixing marked and unmarked times, is refused because its
    intraday pattern would be shifted for part of the rows.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        return parsed.astype("datetime64[ns]")
    text = values.astype(str).str.strip()
    empty = blank(values)
    if time_format is None:
        text = _strip_single_offset(text, empty, column, ledger)
    parsed = pd.to_datetime(text.where(~empty), format=time_format or "ISO8601", errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy() & ~empty
    example = "a time like " + (time_format or "2003-03-03 07:00:00 (ISO 8601)")
    ledger.fail_or_reject(bad, column, "unparsable time", example, values=text)
    return parsed.astype("datetime64[ns]")


def _strip_single_offset(text: pd.Series, empty: np.ndarray, column: str, ledger: RowLedger) -> pd.Series:
    # contains/replace run in Arrow's C++ regex engine; extract would loop in Python
    has = text.str.contains(_HAS_OFFSET, regex=True).to_numpy(dtype=bool)
    if not has.any():
        return text
    offset = text.str.replace(r"^.*?" + _OFFSET, r"\1", regex=True).where(has)
    kind = (
        offset.str.replace("Z", "+00:00", regex=False)
        .str.replace(r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
        .fillna("no offset")
    )
    present = np.flatnonzero(~empty)
    reference = kind.iloc[present[0]]
    differs = (kind != reference).to_numpy() & ~empty
    if differs.any():
        row = int(np.flatnonzero(differs)[0])
        raise InputError(
            "mixed time zones",
            path=ledger.raw.path,
            row=row + ledger.raw.first_row,
            column=column,
            expected=f"the same UTC offset as the first row ({reference})",
            found=text.iloc[row],
        )
    return text.str.replace(_OFFSET, "", regex=True)


def parse_numbers(values: pd.Series, column: str, ledger: RowLedger, what: str = "a number") -> pd.Series:
    """Parse numbers; present-but-unreadable cells are rejected, blanks become NaN."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    text = values.astype(str).str.strip()
    parsed = pd.to_numeric(text.where(~blank(values)), errors="coerce").astype(float)
    bad = parsed.isna().to_numpy() & ~blank(values)
    ledger.reject(bad, column, f"not {what}", values=text)
    return parsed


def parse_flags(values: pd.Series, column: str, ledger: RowLedger) -> pd.Series:
    """Parse yes/no style flags; blanks count as no, anything unrecognised is rejected."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(bool)
    text = values.astype(str).str.strip().str.lower()
    truthy = text.isin(TRUE_WORDS).to_numpy()
    falsy = text.isin(FALSE_WORDS).to_numpy() | blank(values)
    ledger.reject(~truthy & ~falsy, column, "not a yes/no flag (1/0, true/false, yes/no)", values=values.astype(str))
    return pd.Series(truthy, index=values.index)


def reject_outside(
    values: pd.Series, column: str, ledger: RowLedger, low: float | None, high: float | None, what: str
) -> None:
    """Reject numbers outside [low, high]; NaN (absent) is left alone."""
    arr = values.to_numpy(dtype=float)
    out = np.zeros(arr.size, dtype=bool)
    with np.errstate(invalid="ignore"):
        if low is not None:
            out |= arr < low
        if high is not None:
            out |= arr > high
    ledger.reject(out, column, f"outside {what}", values=values)
