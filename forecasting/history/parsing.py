"""Vectorized parsing of text cells into times, numbers and flags, reporting bad cells by row.

Each parser returns the parsed column plus a mask of cells that were present but unreadable,
so the caller decides (through the ledger) whether that is fatal or a rejection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.ledger import RowLedger

_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
YEARS = "a time in the years 1900 to 2199"
STRAY_GAP = pd.Timedelta(days=366)  # data this far from the rest is a typo, not history
STRAY_SHARE = 0.05
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
    """Parse a time column to naive local clock time (see :func:`parse_times_and_offsets`)."""
    return parse_times_and_offsets(values, column, ledger, time_format)[0]


def parse_times_and_offsets(
    values: pd.Series,
    column: str,
    ledger: RowLedger,
    time_format: str | None = None,
    timezone: str | None = None,
) -> tuple[pd.Series, pd.Series | None]:
    """Parse a time column to naive local clock time, and each row's UTC offset in seconds
    (None when the times carry none).

    Local clock time is what a centre plans by (its opening hours, its intraday profile);
    the offsets let a caller measure durations between instants across a daylight-saving
    change (an answer at 03:00:05+02:00 is 10 s after an arrival at 01:59:55+01:00).
    Offsets are accepted if every row carries the same one (exports often mark local time as
    'Z') or they step as one zone's daylight-saving changes; a file mixing offsets otherwise,
    or mixing marked and unmarked times, is refused because its intraday pattern would be
    shifted for part of the rows.

    With ``timezone`` (the centre's IANA zone, e.g. Europe/Berlin) any offsets are allowed:
    each marked time is an instant and becomes that zone's local clock time (a UTC export of
    a Berlin centre keeps its 08:00 opening all year); unmarked times are taken as that
    zone's clock already.
    """
    zone = _zone(timezone, ledger) if timezone else None
    if pd.api.types.is_datetime64_any_dtype(values):
        tz = getattr(values.dt, "tz", None)
        if tz is None:
            local, offsets = values.astype("datetime64[ns]"), None
        else:
            local = values.dt.tz_localize(None).astype("datetime64[ns]")
            offsets = (local - values.dt.tz_convert("UTC").dt.tz_localize(None)).dt.total_seconds()
        return _in_zone(local, offsets, zone) if zone else (local, offsets)
    text = values.astype(str).str.strip()
    empty = blank(values)
    offsets = None
    if time_format is None:
        text, offsets = _strip_single_offset(text, empty, column, ledger, checked=zone is None)
    try:
        parsed = pd.to_datetime(text.where(~empty), format=time_format or "ISO8601", errors="coerce")
    except (ValueError, OverflowError) as exc:  # a bad directive, or %z offsets that differ
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
    outside = (parsed.notna() & ((parsed < EARLIEST) | (parsed >= LATEST))).to_numpy()
    ledger.fail_or_reject(outside, column, "year out of range", YEARS, values=text)
    parsed = parsed.where(~outside).astype("datetime64[ns]")
    return _in_zone(parsed, offsets, zone) if zone else (parsed, offsets)


def _zone(name: str, ledger: RowLedger):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            "unknown time zone",
            path=ledger.raw.path,
            option="timezone",
            expected="an IANA time zone such as Europe/Berlin, America/New_York or UTC",
            found=name,
        ) from None


def _in_zone(local: pd.Series, offsets: pd.Series | None, zone) -> tuple[pd.Series, pd.Series]:
    """Times as ``zone``'s local clock and that zone's offset at each: marked times are
    instants (clock − offset) converted to the zone; unmarked ones are its clock already
    (their offset unknown in the repeated autumn hour and the skipped spring one)."""
    marked = offsets.notna() if offsets is not None else pd.Series(False, index=local.index)
    instants = local - pd.to_timedelta(offsets.where(marked, 0.0) if offsets is not None else 0.0, unit="s")
    converted = instants.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    clock = converted.where(marked, local)
    on_clock = local.where(~marked).dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    unmarked_offset = (local - on_clock.dt.tz_convert("UTC").dt.tz_localize(None)).dt.total_seconds()
    offset = (clock - instants).dt.total_seconds().where(marked, unmarked_offset)
    return clock.astype("datetime64[ns]"), offset


def _strip_single_offset(
    text: pd.Series, empty: np.ndarray, column: str, ledger: RowLedger, checked: bool = True
) -> tuple[pd.Series, pd.Series | None]:
    """Local clock time without the UTC offsets, and the offsets in seconds, when they tell
    one consistent story (``checked``): every row marked, with one offset or a daylight-saving
    change (±1 h a few times a year)."""
    # contains/replace run in Arrow's C++ regex engine; extract would loop in Python
    has = text.str.contains(_OFFSET.replace("(", "(?:", 1), regex=True).to_numpy(dtype=bool)
    if not has.any():
        return text, None
    offset = text.str.replace(r"^.*?" + _OFFSET, r"\1", regex=True).where(has)
    kind = (
        offset.str.replace("Z", "+00:00", regex=False)
        .str.replace(r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
        .fillna("no offset")
    )
    present = np.flatnonzero(~empty)
    stripped = text.str.replace(_OFFSET, "", regex=True)
    # the first row that is a time sets the reference: an unreadable first row is reported
    # as unparsable, not as the others being in 'another zone'
    head = present[:1000]
    readable = pd.to_datetime(stripped.iloc[head], format="ISO8601", errors="coerce").notna().to_numpy()
    reference = kind.iloc[head[readable][0] if readable.any() else present[0]]
    differs = (kind != reference).to_numpy() & ~empty
    # a row that is not a time at all is reported as unparsable later, not as another zone
    looks_like_time = (
        pd.to_datetime(stripped.where(differs), format="ISO8601", errors="coerce").notna().to_numpy()
    )
    differs &= looks_like_time
    if (
        checked
        and differs.any()
        and not _daylight_saving(kind, stripped, ~empty & (looks_like_time | ~(kind != reference).to_numpy()))
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
    return stripped, pd.Series(_offset_seconds(kind.where(kind != "no offset")), index=text.index)


def daylight_saving_notes(local: pd.Series, offsets: pd.Series | None) -> list[str]:
    """One sentence per daylight-saving change in the data, saying what it does to local
    slots: a skipped hour has no slots, a repeated hour's slots hold both of its hours (the
    day's total is complete either way)."""
    if offsets is None:
        return []
    known = offsets.notna() & local.notna()
    if not known.any():
        return []
    frame = pd.DataFrame({"local": local[known], "offset": offsets[known]})
    frame = frame.assign(instant=frame["local"] - pd.to_timedelta(frame["offset"], unit="s"))
    frame = frame.sort_values("instant", kind="stable")
    step = frame["offset"].diff()
    notes = []
    for at in np.flatnonzero(step.fillna(0).to_numpy() != 0):
        hours = step.iloc[at] / 3600
        before, after = frame["local"].iloc[at - 1].date(), frame["local"].iloc[at].date()
        day = f"on {after}" if before == after else f"between {before} and {after}"
        if hours > 0:
            notes.append(f"daylight saving {day}: clocks went forward {hours:g} h, that hour has no slots")
        else:
            notes.append(
                f"daylight saving {day}: clocks went back {-hours:g} h; the repeated hour's slots "
                "hold the contacts of both (the day's total is complete)"
            )
    return notes


def _offset_seconds(kind: pd.Series) -> np.ndarray:
    """'+02:00' → 7200.0, '-05:30' → -19800.0; NaN where there is none."""
    sign = np.where(kind.str.slice(0, 1) == "-", -1.0, 1.0)
    hours = pd.to_numeric(kind.str.slice(1, 3), errors="coerce").to_numpy(float)
    minutes = pd.to_numeric(kind.str.slice(4, 6), errors="coerce").to_numpy(float)
    return sign * (hours * 3600 + minutes * 60)


def _daylight_saving(kind: pd.Series, local: pd.Series, present: np.ndarray) -> bool:
    """True if every row has an offset and offsets step by one hour only, a few times a year,
    in time order: one zone's daylight-saving changes rather than a mix of zones."""
    if (present & (kind == "no offset").to_numpy()).any():
        return False
    seconds = _offset_seconds(kind[present])
    when = pd.to_datetime(local[present], format="ISO8601", errors="coerce")
    # in instant order: by local time, the repeated autumn hour interleaves its two offsets
    instant = when - pd.to_timedelta(seconds, unit="s")
    order = np.argsort(instant.to_numpy(), kind="stable")
    changes = np.diff(seconds[order])
    changes = changes[(changes != 0) & np.isfinite(changes)]
    return bool(len(changes) <= 2 * when.dt.year.nunique() + 1 and np.all(np.abs(changes) == 3600))


def reject_stray_times(stamps: pd.Series, column: str, ledger: RowLedger, values=None) -> None:
    """Rows more than a year away from the bulk of the data (a few rows at most): a typed year
    (2204 for 2024) would otherwise stretch the interval grid over two centuries."""
    active = stamps.notna().to_numpy() & ledger.active
    if active.sum() < 2:
        return
    days = stamps[active].dt.normalize()
    unique = np.sort(days.unique())
    jumps = np.flatnonzero(np.diff(unique) > STRAY_GAP.to_timedelta64())
    if not len(jumps):
        return
    segment = np.searchsorted(unique[jumps + 1], days.to_numpy(), side="right")
    sizes = np.bincount(segment)
    main = int(np.argmax(sizes))
    stray = (segment != main) & (sizes[segment] <= STRAY_SHARE * len(days))
    mask = np.zeros(len(stamps), bool)
    mask[np.flatnonzero(active)[stray]] = True
    first, last = (
        unique[jumps[main - 1] + 1] if main else unique[0],
        unique[jumps[main]] if main < len(jumps) else unique[-1],
    )
    expected = f"a time near the rest of the data ({pd.Timestamp(first):%Y-%m-%d} to {pd.Timestamp(last):%Y-%m-%d}; a typo in the year?)"
    ledger.fail_or_reject(
        mask,
        column,
        "time far from the rest of the data",
        expected,
        values=stamps.astype(str) if values is None else values,
    )


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
