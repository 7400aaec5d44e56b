"""A table of intervals to staff, read and checked: the volume and AHT of each row, the
patience and shrinkage a row may carry, and the intervals' length. Daily or weekly totals are
spread to intervals by an intraday profile first, so they are never staffed as one long
interval. The command line (``capplan staff --input``) and any other front end read a table
through :func:`read_staffing_table`, and every refusal names the file, row and column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.common.input_rules import check_column
from forecasting.history.intervals import interval_label, parse_interval
from forecasting.history.tables import RawTable, read_table
from forecasting.intraday_profile import DAY

DEFAULT_INTERVAL = "30min"
VOLUME_COLUMNS = ("calls", "arrivals", "volume", "forecast")
TIME_COLUMNS = ("interval_start", "timestamp", "date")
PER_ROW = ("patience", "shrinkage")  # settings a row may carry for itself


@dataclass(frozen=True)
class StaffingTable:
    """The intervals to staff, after spreading days or weeks: ``rows`` holds the columns that
    name each interval (its time, its queue), the arrays are one value per interval."""

    rows: pd.DataFrame
    time_col: str | None
    volume: np.ndarray
    aht: np.ndarray
    per_row: dict[str, np.ndarray]  # patience, shrinkage where the table gives them
    interval_seconds: float
    note: str | None  # how days or weeks were spread to intervals, said to the user
    warnings: tuple[str, ...] = ()
    typical_profile: bool = False  # spread by the generic day, not the centre's own: worth saying


def within_day(step: pd.Timedelta, found: str | None) -> pd.Timedelta:
    """A day's contacts staffed as one 24-hour interval need a handful of agents (they would
    arrive evenly round the clock): refused, saying how a day is staffed."""
    if step >= pd.Timedelta(hours=12):
        raise InputError(
            "staffing needs intervals within the day",
            option="interval",
            expected="15min, 30min, 60min …; days or weeks as a table with <<input>> (a column "
            "interval_start, timestamp or date), spread to intervals by an intraday profile (<<profile>>)",
            found=found,
        )
    return step


def read_staffing_table(
    path: Path, *, interval: str | None = None, aht_seconds: float | None = None, profile: Path | None = None
) -> StaffingTable:
    """Read and check ``path``: a volume column (calls, arrivals, volume or forecast), ``aht``
    (``aht_seconds`` fills the intervals without one), optional ``patience`` and ``shrinkage``
    per row, a time column (interval_start, timestamp or date) and ``queue``. ``interval`` may
    state the rows' spacing but not contradict it; ``profile`` spreads daily or weekly rows."""
    raw = read_table(path)
    frame = raw.frame
    volume_col = next((c for c in VOLUME_COLUMNS if c in frame.columns), None)
    if volume_col is None:
        raise InputError(
            "missing column",
            path=path,
            row=1,
            column="calls",
            expected="a column calls, arrivals, volume or forecast",
        )
    numbers = _numbers(raw, volume_col, aht_seconds)
    time_col = next((c for c in TIME_COLUMNS if c in frame.columns), None)
    if time_col:
        _refuse_duplicates(raw, time_col)
    volume = numbers.pop(volume_col)
    aht = _filled_aht(raw, volume, numbers.pop("aht", None), aht_seconds)
    period, stamps = _period(raw, time_col, interval) if time_col else (None, None)
    if period is None:
        step = _spacing(raw, time_col, interval)
        rows = frame[[c for c in (*TIME_COLUMNS, "queue") if c in frame.columns]].reset_index(drop=True)
        return StaffingTable(rows, time_col, volume, aht, numbers, step.total_seconds(), None)
    return _spread(raw, stamps, time_col, period, volume, aht, numbers, interval, profile)


def _numbers(raw: RawTable, volume_col: str, aht_seconds: float | None) -> dict[str, np.ndarray]:
    """The numeric columns, each held to its rule; a handle time only where there are contacts."""
    frame = raw.frame
    numbers = {}
    for col in [volume_col, "aht", *(c for c in PER_ROW if c in frame.columns)]:
        if col not in frame.columns and col == "aht" and aht_seconds is not None:
            continue
        raw.require([col])
        values = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce")
        bad = values.isna() & frame[col].astype(str).str.strip().ne("")
        if bad.any():
            _refuse_first(raw, bad, "not a number", col, expected="a number")
        numbers[col] = values.to_numpy(float)
    has_calls = np.nan_to_num(numbers[volume_col]) > 0
    rules = {volume_col: "calls", "aht": "aht", "patience": "patience", "shrinkage": "shrinkage"}
    for col, rule in rules.items():
        if col in numbers:
            values = np.where(has_calls, numbers[col], np.nan) if col == "aht" else numbers[col]
            check_column(values, rule, raw.row_number, path=raw.path, column=col)
    missing = np.isnan(numbers[volume_col])
    if missing.any():
        _refuse_first(
            raw,
            missing,
            "missing volume",
            volume_col,
            expected="a number of contacts in every row (0 for none)",
            show_found=False,
        )
    return numbers


def _refuse_first(
    raw: RawTable, mask, detail: str, column: str, *, expected: str, show_found: bool = True
) -> None:
    """Refuse the table at the first row ``mask`` marks, naming its file, row and column."""
    i = int(np.flatnonzero(np.asarray(mask))[0])
    found = raw.frame[column].iloc[i] if show_found and column in raw.frame else None
    raise InputError(
        detail, path=raw.path, row=raw.row_number(i), column=column, expected=expected, found=found
    )


def _refuse_duplicates(raw: RawTable, time_col: str) -> None:
    frame = raw.frame
    key = frame[[time_col] + (["queue"] if "queue" in frame.columns else [])].astype(str)
    twice = key.duplicated().to_numpy()
    if twice.any():
        _refuse_first(raw, twice, "duplicate interval", time_col, expected="each interval once (per queue)")


def _filled_aht(
    raw: RawTable, volume: np.ndarray, aht: np.ndarray | None, aht_seconds: float | None
) -> np.ndarray:
    """``aht_seconds`` fills the intervals whose AHT is unknown (every contact abandoned, say);
    an interval without contacts needs none."""
    aht = np.full(volume.shape, np.nan) if aht is None else aht
    if aht_seconds:
        aht = np.where(np.isnan(aht), aht_seconds, aht)
    aht = np.where(np.isnan(aht) & (volume == 0), 1.0, aht)
    if np.isnan(aht).any():
        _refuse_first(
            raw,
            np.isnan(aht),
            "missing AHT",
            "aht",
            expected="an AHT for every interval with contacts (or <<aht>>)",
            show_found=False,
        )
    return aht


def _times(raw: RawTable, time_col: str) -> pd.Series:
    from forecasting.history.ledger import RowLedger
    from forecasting.history.parsing import parse_times

    return parse_times(raw.frame[time_col], time_col, RowLedger(raw, strict=True))


def _spacing(raw: RawTable, time_col: str | None, interval: str | None) -> pd.Timedelta:
    """The intervals' length: the spacing of the rows' start times (15-minute rows staffed as
    half-hours needed 14 agents instead of 24), which ``interval`` may state but not
    contradict; ``interval`` (default 30min) where the rows carry no times or only one."""
    from forecasting.history.interval_series import infer_interval

    given = parse_interval(interval) if interval else None
    if time_col is None:
        return within_day(given or parse_interval(DEFAULT_INTERVAL), interval)
    stamps = _times(raw, time_col)
    frame = raw.frame
    queues = frame["queue"].astype(str) if "queue" in frame.columns else pd.Series("all", index=stamps.index)
    if stamps.groupby(queues).nunique().max() < 2:
        return given or parse_interval(DEFAULT_INTERVAL)
    spacing = infer_interval(stamps, queues, raw, time_col)
    if given is not None and given != spacing:
        raise InputError(
            "<<interval>> differs from the rows' spacing",
            option="interval",
            expected=f"{interval_label(spacing)}, the spacing of {time_col} in {raw.path.name} (or no <<interval>>)",
            found=interval,
        )
    return spacing


def _period(
    raw: RawTable, time_col: str, interval: str | None
) -> tuple[pd.Timedelta | None, pd.DatetimeIndex]:
    """A day or a week when the rows are daily or weekly totals (midnight timestamps a day or
    more apart within each queue, dates without a time, or an ``interval`` of a day), else None;
    and the rows' times."""
    from forecasting.intraday_profile import period_of

    frame = raw.frame
    stamps = pd.DatetimeIndex(_times(raw, time_col))
    queues = frame["queue"].astype(str).to_numpy() if "queue" in frame.columns else None
    period = period_of(stamps, queues)
    dates_only = not frame[time_col].astype(str).str.contains(":").any()
    midnight = len(stamps) > 0 and (stamps == stamps.normalize()).all()
    if period is None and midnight and "open_days" in frame:  # one period of `capplan forecast`
        days = pd.to_numeric(frame["open_days"], errors="coerce").max()
        period = DAY if days <= 1 else 7 * DAY if days <= 7 else pd.Timedelta(days=int(days))
    if period is None and dates_only and midnight:
        period = DAY  # dates without a time of day (one a queue): days
    given = parse_interval(interval) if interval else None
    if given is not None and given >= DAY:
        if (period is not None and period != given) or (stamps != stamps.normalize()).any():
            raise InputError(
                "<<interval>> differs from the rows' spacing",
                option="interval",
                expected=f"{interval_label(period) if period is not None else 'intervals within the day'}, "
                f"the spacing of {time_col} in {raw.path.name} (or no <<interval>>)",
                found=interval,
            )
        period = given
    return period, stamps


def read_profile(profile: Path | None):
    """The profile file (a profile, or an intraday report to take one from), else the typical
    day and the warning that says so."""
    from forecasting.history.ingest import IngestOptions, ingest
    from forecasting.intraday_profile import WEEKDAY_NAMES, from_ingest, profile_from_table, typical_profile

    if profile is None:  # its source says it is generic, in the command's summary line
        return typical_profile(), None
    raw = read_table(profile)
    columns = {str(c).strip().lower() for c in raw.frame.columns}
    days = {n.lower() for n in WEEKDAY_NAMES} | {n[:3].lower() for n in WEEKDAY_NAMES}
    if "share" in columns or columns & days:
        found = profile_from_table(raw.frame, profile, raw.row_number)
        return found, "; ".join(found.notes) or None
    time_col = next(
        (c for c in raw.frame.columns if str(c).strip().lower() in ("interval_start", "timestamp")), None
    )
    value_col = next(
        (c for c in raw.frame.columns if str(c).strip().lower() in ("calls", "arrivals", "volume")), None
    )
    if time_col is None or value_col is None:
        raise InputError(
            "not an intraday profile",
            path=profile,
            row=1,
            expected="columns weekday, time, share (or time and one column per weekday), or an intraday "
            "report with columns interval_start and calls",
        )
    queue_col = next((c for c in raw.frame.columns if str(c).strip().lower() == "queue"), None)
    options = IngestOptions(
        format="intervals",
        time_col=str(time_col),
        value_cols=(str(value_col),),
        queue_col=None if queue_col is None else str(queue_col),
    )
    result = ingest(profile, options)  # its queues summed: one shape of the day
    return from_ingest(result, source=f"the intraday report {profile.name}"), None


def _spread(
    raw: RawTable,
    stamps: pd.DatetimeIndex,
    time_col: str,
    period: pd.Timedelta,
    volume: np.ndarray,
    aht: np.ndarray,
    per_row: dict[str, np.ndarray],
    interval: str | None,
    profile_path: Path | None,
) -> StaffingTable:
    """Daily or weekly rows spread to intervals by the intraday profile: the volume by its
    shares (totals kept), the AHT and other columns held in each of a row's intervals. The
    intervals' times are in ``interval_start`` (or the table's own ``timestamp`` column)."""
    frame = raw.frame
    profile, warning = read_profile(profile_path)
    given = parse_interval(interval) if interval else None
    step = (
        given
        if given is not None and given < DAY
        else max(profile.interval, parse_interval(DEFAULT_INTERVAL))
    )
    profile = profile.at(step, key={"option": "interval"})
    where = {"path": raw.path, "column": time_col}
    if period == DAY:
        spread, note = profile.spread_days(stamps, volume, what="table", where=where), None
        unit = "day"
    elif period == 7 * DAY:
        partial = (
            frame["complete"].astype(str).str.strip().str.lower().isin(("false", "0"))
            if "complete" in frame
            else None
        )
        if (
            partial is not None and partial.any()
        ):  # a forecast's first or last week: which days it holds is not said
            _refuse_first(
                raw,
                partial,
                "a partial week cannot be spread to its days",
                "complete",
                expected="whole weeks (or a daily forecast: capplan forecast without <<granularity>> week)",
            )
        spread, note = profile.spread_weeks(stamps, volume, what="table", where=where)
        unit = "week"
    else:
        raise InputError(
            f"totals per {period.days} days cannot be spread to intervals",
            **where,
            expected="intervals within the day, or daily or weekly totals (a weekly row dated its first day)",
        )
    rows = spread["row"].to_numpy()
    name = "timestamp" if time_col == "timestamp" else "interval_start"
    out = pd.DataFrame({name: pd.DatetimeIndex(spread["timestamp"])})
    if "queue" in frame.columns:
        out["queue"] = frame["queue"].to_numpy()[rows]
    said = (
        f"{len(frame):,} {unit}{'s' if len(frame) != 1 else ''} spread to {interval_label(step)} intervals "
        f"by {profile.source}"
    )
    return StaffingTable(
        rows=out,
        time_col=name,
        volume=spread["volume"].to_numpy(),
        aht=np.asarray(aht, float)[rows],
        per_row={k: np.asarray(v, float)[rows] for k, v in per_row.items()},
        interval_seconds=step.total_seconds(),
        note=said,
        warnings=tuple(w for w in (warning, note) if w),
        typical_profile=profile.typical,
    )
