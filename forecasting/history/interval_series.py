"""Interval reports: a timestamp column and one or more value columns.

``--value-col Calls`` holds arrivals; ``--value-col Calls=arrivals --value-col AHT=aht`` maps
columns onto interval fields; several plain columns are read as one queue each (wide format);
``--queue-col`` reads a long format with one row per queue and interval.

Weekly or monthly totals are read too: each period's counts are spread evenly over its days
(whole calls, the remainder on its first days) and its rates repeated, so the day tables, KPIs
and accounting work on them as on any report; the reporting period is kept, and forecasts are
made per period by the period models (``forecasting.period_models``), never finer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.intervals import DAY, interval_label, order_columns
from forecasting.history.ledger import RowLedger
from forecasting.history.parsing import (
    blank,
    daylight_saving_notes,
    parse_numbers,
    parse_times_and_offsets,
    reject_stray_times,
)
from forecasting.history.summarize import COUNT_COLUMNS, rollup_intervals
from forecasting.history.tables import RawTable

VALUE_FIELDS = COUNT_COLUMNS + ("aht", "asa", "service_level")


@dataclass(frozen=True)
class ValueColumn:
    column: str
    field: str
    queue: str | None  # None: from --queue-col, or the single default queue


def parse_value_columns(specs: list[str], has_queue_col: bool) -> list[ValueColumn]:
    if not specs:
        raise InputError(
            "no value column", option="value_col", expected="at least one <<value_col>> (COLUMN[=FIELD])"
        )
    parsed = []
    for spec in specs:
        column, _, field = spec.partition("=")
        field = field.strip() or "arrivals"
        if field not in VALUE_FIELDS:
            raise InputError(
                "unknown field",
                option="value_col",
                expected=f"COLUMN=FIELD with FIELD one of {', '.join(VALUE_FIELDS)}",
                found=spec,
            )
        parsed.append(ValueColumn(column.strip(), field, None))
    columns = [v.column for v in parsed]
    twice = next((c for i, c in enumerate(columns) if c in columns[:i]), None)
    if twice is not None:  # the same column read twice doubled the volume
        raise InputError("column given twice", option="value_col", expected="each column once", found=twice)
    plain = [s for s in specs if "=" not in s]
    if len(plain) > 1 and len(plain) == len(specs) and not has_queue_col:
        return [ValueColumn(v.column, "arrivals", v.column) for v in parsed]  # wide: one queue per column
    fields = [v.field for v in parsed]
    if len(set(fields)) != len(fields):
        raise InputError(
            "field given twice",
            option="value_col",
            expected="each field at most once (or plain columns only, for one queue per column)",
            found=" ".join(specs),
        )
    return parsed


def normalize_interval_series(
    raw: RawTable,
    ledger: RowLedger,
    time_col: str,
    value_cols: list[str],
    queue_col: str | None = None,
    time_format: str | None = None,
    default_queue: str = "all",
    timezone: str | None = None,
) -> tuple[pd.DataFrame, pd.Timedelta, str | None]:
    """Validate rows, infer the interval length, and return the tidy table at that length,
    with the reporting period (a pandas frequency, e.g. 'W-SUN' or 'MS') of weekly or monthly
    totals, which come back spread over their days."""
    specs = parse_value_columns(value_cols, queue_col is not None)
    raw.require([time_col] + [v.column for v in specs] + ([queue_col] if queue_col else []))
    f = raw.frame
    ledger.ignore(raw.blank_rows, "blank line")
    ledger.reject(blank(f[time_col]), time_col, "missing timestamp")
    stamps, offsets = parse_times_and_offsets(f[time_col], time_col, ledger, time_format, timezone)
    reject_stray_times(stamps, time_col, ledger, f[time_col])
    for note in daylight_saving_notes(stamps, offsets):
        ledger.warn(note)

    values = {}
    for v in specs:
        kind = "a count" if v.field in COUNT_COLUMNS else "a number"
        values[v] = parse_numbers(f[v.column], v.column, ledger, kind)
        ledger.reject((values[v] < 0).to_numpy(), v.column, f"negative {v.field}", f[v.column])
        if v.field in COUNT_COLUMNS:
            frac = (values[v] % 1 != 0) & values[v].notna()
            ledger.reject(frac.to_numpy(), v.column, f"{v.field} is not a whole number", f[v.column])
        if v.field == "service_level":
            ledger.reject(
                (values[v] > 1).to_numpy(),
                v.column,
                "service level above 1 (give it as a fraction 0–1)",
                f[v.column],
            )

    arrivals = next((values[v] for v in specs if v.field == "arrivals" and v.queue is None), None)
    if arrivals is not None:
        _check_counts_within_arrivals(specs, values, arrivals, ledger)

    no_value = np.logical_and.reduce([values[v].isna().to_numpy() for v in specs])
    ledger.reject(no_value, specs[0].column, "no value in any value column")

    queues = f[queue_col].astype(str).str.strip() if queue_col else pd.Series(default_queue, index=f.index)
    if queue_col:
        ledger.reject(blank(f[queue_col]), queue_col, "missing queue")
    # Only rows still active take part, so a rejected row never shadows a good one.
    # the repeated autumn hour's two rows per slot (same clock time, offsets an hour apart) are
    # both kept and added up below; any other repeat is a duplicate
    offset = offsets if offsets is not None else pd.Series(0.0, index=f.index)
    key = pd.DataFrame({"t": stamps, "q": queues, "o": offset.fillna(0.0)})[ledger.active]
    dup = np.zeros(len(f), bool)
    dup[np.flatnonzero(ledger.active)[key.duplicated(keep="first").to_numpy()]] = True
    ledger.reject(dup, time_col, "duplicate timestamp", stamps.astype(str))

    if not ledger.active.any():
        raise ledger.nothing_usable("at least one valid row")
    period = reporting_period(stamps[ledger.active], queues[ledger.active], raw, time_col)
    length = DAY if period else infer_interval(stamps[ledger.active], queues[ledger.active], raw, time_col)
    counted = [v for v in specs if v.field == "arrivals"]
    if period and counted:
        _leave_out_unfinished_period(ledger, stamps, queues, values[counted[0]], period)
    off_grid = ((stamps - stamps.dt.floor("D")) % length != pd.Timedelta(0)).to_numpy()
    ledger.reject(off_grid, time_col, f"not on the {interval_label(length)} grid", stamps.astype(str))

    keep = ledger.active
    long_parts = []
    for v in specs:
        q = queues if v.queue is None else pd.Series(v.queue, index=f.index)
        long_parts.append(
            pd.DataFrame({"interval_start": stamps, "queue": q, "field": v.field, "value": values[v]})[keep]
        )
    long = pd.concat(long_parts, ignore_index=True)
    table = _one_row_per_slot(long).reset_index()
    table.columns.name = None
    for c in COUNT_COLUMNS:
        if c in table:
            table[c] = table[c].astype("Int64")
    if {"arrivals", "abandoned"} <= set(table.columns):
        table["abandon_rate"] = table["abandoned"] / table["arrivals"].replace(0, np.nan)
    if period:
        table = spread_over_days(table, period)
    return (
        order_columns(table.sort_values(["queue", "interval_start"], kind="stable").reset_index(drop=True)),
        length,
        period,
    )


def _check_counts_within_arrivals(specs, values: dict, arrivals: pd.Series, ledger: RowLedger) -> None:
    """Handled, abandoned or answered-in-target contacts may exceed an interval's arrivals
    (a call arriving at 08:29 is handled in the next interval by some exports), but not the
    file's: twice the arrivals handled is a wrong column, and every rate would be nonsense."""
    rows = ledger.active & arrivals.notna().to_numpy()
    total = float(arrivals[rows].sum())
    for v in specs:
        if v.field in ("handled", "abandoned", "answered_in_target"):
            counted = float(values[v][rows].sum())
            if counted > 1.02 * total + 10:
                raise InputError(
                    f"more {v.field.replace('_', ' ')} than arrivals over the whole file",
                    path=ledger.raw.path,
                    column=v.column,
                    expected=f"at most the arrivals ({total:,.0f}): is it the right column for {v.field}?",
                    found=f"{counted:,.0f}",
                )


def _one_row_per_slot(long: pd.DataFrame) -> pd.DataFrame:
    """Fields per (interval_start, queue). A slot holds one row, or two in the hour a
    daylight-saving change repeats: their counts are added (the slot holds both hours, as a
    contact log's does) and their rates (AHT, ASA, service level) averaged."""
    grouped = long.groupby(["interval_start", "queue", "field"], sort=False)["value"]
    summed, averaged = grouped.sum(min_count=1), grouped.mean()
    is_count = summed.index.get_level_values("field").isin(COUNT_COLUMNS)
    return summed.where(is_count, averaged).unstack("field")


UNFINISHED_SHARE = 0.5  # a last period under half its predecessors' median was exported before it ended


def _leave_out_unfinished_period(
    ledger: RowLedger, stamps: pd.Series, queues: pd.Series, arrivals: pd.Series, period: str
) -> None:
    """A report exported mid-month holds the month so far as if it were a whole month: left in,
    it reads as a collapse of the level. The last period of a queue with under half the median
    of the six before is left out of the history, and said so."""
    frame = pd.DataFrame({"t": stamps, "q": queues, "v": arrivals})[ledger.active]
    unit = "week" if period.startswith("W-") else "month"
    for queue, rows in frame.sort_values("t").groupby("q"):
        before = rows["v"].iloc[-7:-1].dropna()
        last = rows.iloc[-1]
        if len(before) < 3 or not np.isfinite(last["v"]) or before.median() <= 0:
            continue
        share = last["v"] / before.median()
        if share < UNFINISHED_SHARE:
            mask = np.zeros(len(stamps), bool)
            mask[stamps.index.get_loc(rows.index[-1])] = True
            ledger.ignore(mask, f"last {unit} looks unfinished (under half a usual {unit})")
            ledger.warn(
                f"queue {queue}: the last {unit} ({last['t']:%Y-%m-%d}) holds {share:.2f}× the median of the "
                f"{unit}s before it: taken as exported before it ended and left out of the history"
            )


WEEKDAY_CODES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _steps(stamps: pd.Series, queues: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"t": stamps, "q": queues}).sort_values(["q", "t"])
    steps = frame.groupby("q")["t"].diff().dropna()
    return steps[steps > pd.Timedelta(0)]


def _steps_by_queue(stamps: pd.Series, queues: pd.Series) -> pd.Series:
    """Positive steps between consecutive timestamps, indexed by their queue."""
    frame = pd.DataFrame({"t": stamps, "q": queues}).sort_values(["q", "t"])
    steps = frame.groupby("q")["t"].diff()
    keep = steps > pd.Timedelta(0)
    return pd.Series(steps[keep].to_numpy(), index=frame["q"][keep].to_numpy())


def reporting_period(stamps: pd.Series, queues: pd.Series, raw: RawTable, time_col: str) -> str | None:
    """'W-…' for weekly totals (weeks starting on the stamps' weekday), 'MS' or 'ME' for monthly
    totals stamped on the first or last day of their month; None for days or finer."""
    steps = _steps(stamps, queues)
    if steps.empty or steps.mode().iloc[0] < pd.Timedelta(days=7):
        return None
    step = steps.mode().iloc[0]
    if step == pd.Timedelta(days=7):
        starts = stamps.dt.day_of_week.unique()
        if len(starts) == 1:
            return f"W-{WEEKDAY_CODES[(int(starts[0]) - 1) % 7]}"
    elif pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        if (stamps.dt.day == 1).all():
            return "MS"
        if stamps.dt.is_month_end.all():
            return "ME"
    raise InputError(
        "cannot read the reporting period",
        path=raw.path,
        column=time_col,
        expected="daily or finer intervals, weeks stamped on one weekday, or months stamped on "
        "their first or last day",
        found=f"a step of {step}",
    )


def spread_over_days(table: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per day of each period: counts split evenly in whole calls (the remainder on the
    period's first days, so totals are kept exactly), rates and times repeated."""
    stamps = table["interval_start"]
    if period.startswith("W-"):
        start, end = stamps, stamps + pd.Timedelta(days=7)
    else:
        start = stamps.dt.to_period("M").dt.start_time
        end = start + pd.offsets.MonthBegin(1)
    days = ((end - start) // pd.Timedelta(days=1)).to_numpy(int)
    rows = table.loc[table.index.repeat(days)].reset_index(drop=True)
    offset = np.concatenate([np.arange(n) for n in days]) if len(days) else np.array([], int)
    rows["interval_start"] = np.repeat(start.to_numpy(), days) + offset * np.timedelta64(1, "D")
    n = np.repeat(days, days)
    for c in COUNT_COLUMNS:
        if c in rows:
            total = rows[c].astype("Float64")
            base = (total // n).astype("Float64")
            extra = (offset < (total - base * n)).astype("Float64")
            rows[c] = (base + extra).astype("Int64")
    return rows


def infer_interval(stamps: pd.Series, queues: pd.Series, raw: RawTable, time_col: str) -> pd.Timedelta:
    """The most common step between consecutive timestamps of a queue; must divide a day."""
    steps = _steps(stamps, queues)
    if steps.empty:
        raise InputError(
            "cannot infer the interval length",
            path=raw.path,
            column=time_col,
            expected="at least two distinct timestamps per queue",
        )
    length = steps.mode().iloc[0]
    each = _steps_by_queue(stamps, queues).groupby(level=0).agg(lambda s: s.mode().iloc[0])
    if each.nunique() > 1:  # A's half-hour totals would be spread into B's 15-minute slots
        shown = ", ".join(f"{q} every {interval_label(step)}" for q, step in each.items())
        raise InputError(
            "queues reported at different intervals",
            path=raw.path,
            column=time_col,
            expected="one interval length for every queue (ingest such queues one at a time)",
            found=shown,
        )
    if DAY % length != pd.Timedelta(0) and length != DAY:
        raise InputError(
            "cannot infer the interval length",
            path=raw.path,
            column=time_col,
            expected="a regular step that divides 24 hours",
            found=str(length),
        )
    return length


def combine_queues(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """One row per interval for all queues together (counts summed, AHT/ASA/SL weighted)."""
    return order_columns(
        rollup_intervals(table, [table["interval_start"], pd.Series(label, index=table.index, name="queue")])
    )


def resample_intervals(table: pd.DataFrame, native: pd.Timedelta, wanted: pd.Timedelta) -> pd.DataFrame:
    """Aggregate to a coarser interval; finer than the data is impossible and says so."""
    if wanted == native:
        return table
    if wanted < native or wanted % native != pd.Timedelta(0):
        raise InputError(
            "interval not available",
            option="interval",
            expected=f"a multiple of the data's own {interval_label(native)} interval",
            found=interval_label(wanted),
        )
    start = table["interval_start"].dt.floor(wanted).rename("interval_start")
    return order_columns(rollup_intervals(table, [start, table["queue"]]))


SL_GAP_TO_MENTION = 0.02  # handled-based and arrivals-based service level this far apart: say which was read


def rebase_service_level(table: pd.DataFrame, denominator: str, ledger: RowLedger) -> pd.DataFrame:
    """A report's service-level column on capplan's definition, answered in T / arrivals.

    Read over ``handled`` contacts (as many ACD exports measure it), the answered-in-T count is
    SL × handled and the rate is re-based on arrivals, with a note giving both: an export's
    52 % of handled calls is 40 % of arrivals when a quarter hang up. Read over ``arrivals``
    while the report has fewer handled than arrivals, a note says the other reading exists."""
    if "answered_in_target" in table and table["answered_in_target"].notna().any():
        return table  # counted in the export itself: nothing to infer
    t = table.copy()
    arrivals = t["arrivals"].astype(float) if "arrivals" in t else None
    handled = t["handled"].astype(float) if "handled" in t else None
    if denominator == "handled":
        if handled is None or handled.isna().all() or arrivals is None:
            raise InputError(
                "service level over handled contacts needs their count",
                path=ledger.raw.path,
                option="sl_denominator",
                expected="columns mapped to handled and arrivals (COLUMN=handled, COLUMN=arrivals), "
                "or the service level read over arrivals",
            )
        t["answered_in_target"] = t["service_level"] * handled
        t["service_level"] = t["answered_in_target"] / arrivals.replace(0, np.nan)
        own = _overall(t["answered_in_target"], handled)
        ours = _overall(t["answered_in_target"], arrivals)
        ledger.warn(
            f"service level read as a share of handled contacts, as the export measures it ({own:.1%} over the file); "
            f"capplan reports it over arrivals, like Erlang's ({ours:.1%}); the KPI report keeps the export's as "
            "service_level_of_handled"
        )
        return t
    if handled is not None and arrivals is not None:
        ours = _overall(t["service_level"] * arrivals, arrivals)
        other = _overall(t["service_level"] * handled, arrivals)
        if np.isfinite(other) and ours - other > SL_GAP_TO_MENTION:
            ledger.warn(
                f"service level read as a share of arrivals ({ours:.1%} over the file); if the export measures it over "
                f"handled contacts, as many do, it is {other:.1%} of arrivals: say so by setting the service-level "
                "denominator to 'handled'"
            )
    return t


def _overall(answered: pd.Series, base: pd.Series) -> float:
    ok = answered.notna() & base.notna()
    total = float(base[ok].sum())
    return float(answered[ok].sum()) / total if total > 0 else float("nan")
