"""Vectorized parsing of text cells into times, numbers and flags, reporting bad cells by row.

Each parser returns the parsed column plus a mask of cells that were present but unreadable,
so the caller decides (through the ledger) whether that is fatal or a rejection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.history.ledger import RowLedger

_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n"}


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
    try:
        parsed = pd.to_datetime(text.where(~empty), format=time_format or "ISO8601", errors="coerce")
    except ValueError as exc:  # a bad directive, or %z offsets that differ
        mixed = "zone" in str(exc).lower()
        raise InputError(
            "mixed time zones" if mixed else "bad time_format",
            path=ledger.raw.path,
            column=column,
            expected="one UTC offset in every row" if mixed else "strftime codes such as %d/%m/%Y %H:%M",
            found=None if mixed else time_format,
        ) from None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy() & ~empty
    example = "a time like " + (time_format or "2003-03-03 07:00:00 (ISO 8601)")
    ledger.fail_or_reject(bad, column, "unparsable time", example, values=text)
    return parsed.astype("datetime64[ns]")


def _strip_single_offset(text: pd.Series, empty: np.ndarray, column: str, ledger: RowLedger) -> pd.Series:
    """Drop UTC offsets, keeping local clock time, when they tell one consistent story: every
    row marked, with one offset or a daylight-saving change (±1 h a few times a year)."""
    # contains/replace run in Arrow's C++ regex engine; extract would loop in Python
    has = text.str.contains(_OFFSET.replace("(", "(?:", 1), regex=True).to_numpy(dtype=bool)
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
    stripped = text.str.replace(_OFFSET, "", regex=True)
    # a row that is not a time at all is reported as unparsable later, not as another zone
    looks_like_time = (
        pd.to_datetime(stripped.where(differs), format="ISO8601", errors="coerce").notna().to_numpy()
    )
    differs &= looks_like_time
    if differs.any() and not _daylight_saving(
        kind, stripped, ~empty & (looks_like_time | ~(kind != reference).to_numpy())
    ):
        row = int(np.flatnonzero(differs)[0])
        raise InputError(
            "mixed time zones",
            path=ledger.raw.path,
            row=ledger.raw.row_number(row),
            column=column,
            expected=f"the same UTC offset as the first row ({reference}), or one zone's daylight-saving changes",
            found=text.iloc[row],
        )
    return stripped


def _daylight_saving(kind: pd.Series, local: pd.Series, present: np.ndarray) -> bool:
    """True if every row has an offset and offsets step by one hour only, a few times a year,
    in time order: one zone's daylight-saving changes rather than a mix of zones."""
    if (present & (kind == "no offset").to_numpy()).any():
        return False
    k = kind[present]
    sign = np.where(k.str.slice(0, 1) == "-", -1, 1)
    minutes = sign * (
        k.str.slice(1, 3).astype(int).to_numpy() * 60 + k.str.slice(4, 6).astype(int).to_numpy()
    )
    when = pd.to_datetime(local[present], format="ISO8601", errors="coerce")
    changes = np.diff(minutes[np.argsort(when.to_numpy(), kind="stable")])
    changes = changes[changes != 0]
    return bool(len(changes) <= 2 * when.dt.year.nunique() + 1 and np.all(np.abs(changes) == 60))


def parse_numbers(values: pd.Series, column: str, ledger: RowLedger, what: str = "a number") -> pd.Series:
    """Parse numbers; present-but-unreadable cells are rejected, and so are infinite ones
    (``inf``, ``Infinity``, ``1e400``: no count or duration is infinite, and one would make
    every mean infinite); blanks become NaN."""
    if pd.api.types.is_numeric_dtype(values):
        parsed = values.astype(float)
        text = values.astype(str)
    else:
        text = values.astype(str).str.strip()
        parsed = pd.to_numeric(text.where(~blank(values)), errors="coerce").astype(float)
        bad = parsed.isna().to_numpy() & ~blank(values)
        ledger.reject(bad, column, f"not {what}", values=text)
    infinite = np.isinf(parsed.to_numpy())
    ledger.reject(infinite, column, f"not {what} (infinite)", values=text)
    return parsed.where(~infinite)


def parse_flags(
    values: pd.Series, column: str, ledger: RowLedger, blank_means: bool | None = False
) -> pd.Series:
    """Parse yes/no flags into a nullable boolean; blanks become ``blank_means`` (None: unknown),
    anything unrecognised is rejected."""
    if pd.api.types.is_bool_dtype(values) or str(values.dtype) == "boolean":
        flags = values.astype("boolean")
    else:
        text = values.astype(str).str.strip().str.lower()
        empty = blank(values)
        truthy = text.isin(TRUE_WORDS).to_numpy()
        falsy = text.isin(FALSE_WORDS).to_numpy() & ~empty
        ledger.reject(
            ~truthy & ~falsy & ~empty,
            column,
            "not a yes/no flag (1/0, true/false, yes/no)",
            values=values.astype(str),
        )
        flags = pd.Series(
            pd.array(np.where(truthy, True, np.where(falsy, False, None)), dtype="boolean"),
            index=values.index,
        )
    return flags.fillna(blank_means) if blank_means is not None else flags


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
