"""A stored forecast against the actuals that arrived since: what ``capplan accuracy`` and the
Forecast page show, the first step before deciding to retrain.

Pure: a forecast table (timestamp, forecast, lo/hi 80 and 95, at interval, day, week or month
rows) and the actuals (an ingested series at the same or a finer interval) in, tables out. The
actuals are totalled into each forecast row's span, never the forecast spread over finer rows,
and actuals coarser than the forecast are refused. Each level (the forecast's own rows, then
day, week and month totals) is scored with the backtest's measures (``forecasting.metrics``)
on the rows whose span the actuals cover completely: a period the actuals cover in part is
listed, not scored, and forecast rows without actuals (a gap, or times not yet reached) are
counted, never silently left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar
from forecasting.common.errors import InputError
from forecasting.forecast_job import (
    OUTPUT_COLUMNS,
    PERIODS,
    call_weights,
    check_horizon,
    converted_forecast_table,
    forecast_table,
)
from forecasting.metrics import accuracy, weekly_naive_scale
from forecasting.slots import open_slots
from forecasting.store import FORECASTING, ModelVersion, Store

LEVELS = ("interval", "day", "week", "month")  # finest first
BANDS = ("lo80", "hi80", "lo95", "hi95")
SCORED = "scored"
MIN_SCALE_WEEKS = 2  # of history before the forecast, for its own MASE scale
RETRAIN_MASE_RATIO = 1.25  # live MASE this much above the backtest's: worse than promised
RETRAIN_COVERAGE_DROP = 0.15  # 80 % band coverage this far below the backtest's: bands too narrow
LIVE_PREFIX = "capplan.live."  # model-version tags holding the latest live accuracy


@dataclass(frozen=True)
class Actuals:
    """What happened: one field of one queue (or all) on the data's open intervals."""

    series: pd.Series  # values at open interval starts (``forecasting.series.forecast_series``)
    interval: pd.Timedelta  # the series' step
    calendar: OperatingCalendar  # whose open slots a completely covered period holds
    granularity: str = "interval"  # the finest rows the data really tell (week: weekly totals)
    week: str = PERIODS["week"]  # the data's own weeks (weekly totals), else Monday to Sunday
    weights: pd.Series | None = None  # handle times: the calls each interval's AHT is weighed by

    @property
    def counts(self) -> bool:
        return self.series.name != "aht"

    @classmethod
    def from_ingest(cls, result, field: str = "arrivals", queue: str | None = None) -> Actuals:
        from forecasting.series import forecast_series

        series = forecast_series(result, field, queue)
        weights = None
        if field == "aht":
            try:
                weights = forecast_series(result, "arrivals", queue).reindex(series.index).fillna(0.0)
            except InputError:
                weights = None
        granularity = result.reported_by or ("day" if result.interval >= pd.Timedelta(days=1) else "interval")
        week = result.period if result.reported_by == "week" and result.period else PERIODS["week"]
        return cls(series, result.interval, result.calendar, granularity, week, weights)


@dataclass
class Accuracy:
    """The comparison: a summary per level and every compared row."""

    summary: pd.DataFrame  # one row per level: counts, period, MASE, WAPE, bias, coverage
    rows: pd.DataFrame  # level, timestamp, forecast, actual, error, bands, inside80/95, status
    granularity: str  # the forecast's own rows
    scale_from: str  # where the MASE scale came from, in words
    note: str = ""  # how the forecast's rows were met with the actuals, when not as they came

    def level(self, name: str) -> dict | None:
        found = self.summary[self.summary["level"] == name]
        return None if found.empty else found.iloc[0].to_dict()

    def headline_level(self) -> str | None:
        """The level a planner reads first: days when scored (an intraday forecast's slots are
        noisy, weeks few), else the forecast's own rows, else the first scored level."""
        scored = self.summary[self.summary["n"] > 0]["level"].tolist()
        for name in ("day", self.granularity, *scored):
            if name in scored:
                return name
        return None


# ---------------------------------------------------------------------------- the forecast table
def read_forecast(path: str | Path, queue: str | None = None) -> pd.DataFrame:
    """A forecast CSV as ``capplan forecast`` writes it (timestamp, forecast, lo80, hi80, lo95,
    hi95; per period also open_days and complete), checked: one line naming file, row and
    column for anything else. A table of every queue (``queue`` column) needs ``queue``."""
    from forecasting.history.tables import read_table

    raw = read_table(path)
    frame = raw.frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in ("timestamp", "forecast"):
        if column not in frame:
            raise InputError(
                "not a forecast table",
                path=raw.path,
                column=column,
                expected="the columns timestamp, forecast, lo80, hi80, lo95, hi95 (as `capplan forecast` writes)",
                found=", ".join(map(str, frame.columns[:8])),
            )
    if "queue" in frame:
        queues = sorted(frame["queue"].astype(str).unique())
        if queue in (None, "all") and len(queues) > 1:
            raise InputError(
                "a forecast of several queues",
                path=raw.path,
                column="queue",
                expected="one queue chosen with <<queue>> (the actuals of the same queue)",
                found=", ".join(queues[:5]),
            )
        if queue not in (None, "all"):
            if queue not in queues:
                raise InputError(
                    "no rows of this queue",
                    path=raw.path,
                    column="queue",
                    expected=f"rows of queue '{queue}'",
                    found=", ".join(queues[:5]),
                )
            frame = frame[frame["queue"].astype(str) == queue]
    stamps = _wall_clock(frame["timestamp"])
    _refuse_rows(raw, frame, stamps.isna(), "timestamp", "not a timestamp", "a date or date and time")
    _refuse_rows(raw, frame, stamps.duplicated(), "timestamp", "duplicate timestamp", "each timestamp once")
    out = pd.DataFrame({"timestamp": pd.DatetimeIndex(stamps)}, index=frame.index)
    for column in ("forecast", *BANDS):
        if column not in frame:
            out[column] = np.nan  # a table without bands: scored without coverage
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        if column != "forecast" and frame[column].isna().all():  # an empty band column: no band
            out[column] = np.nan
            continue
        bad = values.isna() | ~np.isfinite(values.fillna(0)) | (values < 0)
        _refuse_rows(raw, frame, bad, column, "not a forecast value", "a number of 0 or more")
        out[column] = values.astype(float)
    if "complete" in frame:
        out["complete"] = frame["complete"].astype(str).str.strip().str.lower().isin(("true", "1", "yes"))
    if "open_days" in frame:
        out["open_days"] = pd.to_numeric(frame["open_days"], errors="coerce")
    if out.empty:
        raise InputError("no forecast rows", path=raw.path, expected="at least one row")
    return out.sort_values("timestamp").reset_index(drop=True)


def _wall_clock(text: pd.Series) -> pd.Series:
    """Timestamps as written: times with a UTC offset keep their clock time (as ingest reads
    them), so a forecast written with offsets lines up with actuals written without."""
    cleaned = text.astype(str).str.strip().str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
    return pd.to_datetime(cleaned.where(text.notna()), errors="coerce", format="mixed")


def _refuse_rows(raw, frame: pd.DataFrame, bad, column: str, what: str, expected: str) -> None:
    bad = np.asarray(bad, bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            what + (f" ({int(bad.sum())} rows in all)" if bad.sum() > 1 else ""),
            path=raw.path,
            row=raw.row_number(raw.frame.index.get_loc(frame.index[i])),
            column=column,
            expected=expected,
            found=frame[column].iloc[i],
        )


def forecast_step(forecast: pd.DataFrame, fallback: pd.Timedelta) -> pd.Timedelta:
    """A row forecast's interval: the shortest step between its timestamps (one row: the data's)."""
    diffs = np.diff(_ns(forecast["timestamp"]).asi8)
    diffs = diffs[diffs > 0]
    return pd.Timedelta(int(diffs.min()), unit="ns") if diffs.size else fallback


def forecast_granularity(forecast: pd.DataFrame, fallback: pd.Timedelta) -> str:
    """What a forecast's rows are: periods (a table with ``open_days``) by their spacing, else
    intervals (days when the interval is a day)."""
    stamps = pd.DatetimeIndex(forecast["timestamp"])
    if "open_days" not in forecast:
        return "day" if forecast_step(forecast, fallback) >= pd.Timedelta(days=1) else "interval"
    if len(stamps) > 1:
        step = forecast_step(forecast, fallback)
        if step == pd.Timedelta(days=1):
            return "day"
        return "month" if step >= pd.Timedelta(days=28) and (stamps.day == 1).all() else "week"
    days = float(forecast["open_days"].iloc[0])
    return "day" if days <= 1 else "month" if stamps[0].day == 1 and days > 7 else "week"


# ---------------------------------------------------------------------------- spans and totals
def _span_ends(starts: pd.DatetimeIndex, level: str, step: pd.Timedelta) -> pd.DatetimeIndex:
    if level == "interval":
        return starts + step
    if level == "month":
        return starts + pd.offsets.MonthBegin(1)
    return starts + pd.Timedelta(days=1 if level == "day" else 7)


def _period_starts(stamps: pd.DatetimeIndex, level: str, week: str, step: pd.Timedelta) -> pd.DatetimeIndex:
    """The start of the row of ``level`` each timestamp falls in."""
    if level == "interval":
        day = stamps.normalize()
        return day + ((stamps - day) // step) * step
    if level == "day":
        return stamps.normalize()
    freq = week if level == "week" else PERIODS["month"]
    return pd.DatetimeIndex(stamps.to_period(freq).start_time)


def _ns(stamps) -> pd.DatetimeIndex:
    """Timestamps in nanoseconds, whatever unit they came in (their integers are compared)."""
    return pd.DatetimeIndex(stamps).as_unit("ns")


def _locate(stamps: pd.DatetimeIndex, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the span holding each stamp (-1: none); spans sorted and not overlapping."""
    at = _ns(stamps).asi8
    i = np.searchsorted(starts, at, side="right") - 1
    inside = (i >= 0) & (at < ends[np.maximum(i, 0)])
    return np.where(inside, i, -1)


def _totals(actuals: Actuals, starts: pd.DatetimeIndex, ends: pd.DatetimeIndex) -> pd.DataFrame:
    """Per span: the actual total (handle times: their call-weighted mean), the open intervals
    the data's calendar has in it and how many of them have a value."""
    s, e = _ns(starts).asi8, _ns(ends).asi8
    series = actuals.series.dropna()
    where = _locate(pd.DatetimeIndex(series.index), s, e)
    keep = where >= 0
    n = len(starts)
    present = np.bincount(where[keep], minlength=n)
    values = series.to_numpy(float)[keep]
    if actuals.counts:
        total = np.bincount(where[keep], weights=values, minlength=n)
    else:
        w = (
            np.ones(keep.sum())
            if actuals.weights is None
            else actuals.weights.reindex(series.index).to_numpy(float)[keep]
        )
        w = np.where(np.isfinite(w), w, 0.0)
        sum_w = np.bincount(where[keep], weights=w, minlength=n)
        plain = np.bincount(where[keep], weights=values, minlength=n) / np.maximum(present, 1)
        weighted = np.bincount(where[keep], weights=values * w, minlength=n) / np.where(sum_w > 0, sum_w, 1.0)
        total = np.where(sum_w > 0, weighted, plain)
    expected = np.zeros(n, int)
    if n:
        days = pd.date_range(starts.min().normalize(), (ends.max() - pd.Timedelta(1)).normalize(), freq="D")
        slots = open_slots(actuals.calendar, days)
        slot_where = _locate(slots, s, e)
        expected = np.bincount(slot_where[slot_where >= 0], minlength=n)
    return pd.DataFrame({"actual": total, "present": present, "expected": np.maximum(expected, present)})


def _status(spans: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """Why a row is scored or not: its actuals complete, a part, none (a gap, before or after
    the actuals), or the forecast covers only part of its period."""
    present, expected = spans["present"].to_numpy(), spans["expected"].to_numpy()
    starts, ends = pd.DatetimeIndex(spans["timestamp"]), pd.DatetimeIndex(spans["end"])
    after, before = starts > last, ends <= first
    within = ~after & ~before
    status = np.select(
        [
            ~spans["forecast_complete"].to_numpy(bool),
            (present == expected) & (expected > 0),
            (expected == 0) & within,  # closed all along: nothing came, and nothing was due
            (present > 0) & (present < expected),
            after,
            before,
        ],
        ["partial forecast", SCORED, SCORED, "partial actuals", "after the actuals", "before the actuals"],
        default="gap in the actuals",
    )
    return status


# ---------------------------------------------------------------------------- levels
def _aggregate_forecast(
    own: pd.DataFrame, level: str, actuals: Actuals, step: pd.Timedelta, level0: str
) -> pd.DataFrame:
    """The forecast's own rows totalled per day, week or month; handle times averaged with the
    weights the actuals are averaged with (the calls of each row's span), so both sides of a
    day's AHT weigh its intervals alike. Bands cannot be added up from rows (their errors are
    shared), so they are left empty here."""
    stamps = pd.DatetimeIndex(own["timestamp"])
    keys = _period_starts(stamps, level, actuals.week, step)
    values = own["forecast"].astype(float)
    if actuals.counts:
        forecast = values.groupby(keys).sum()
    else:
        weights = _row_weights(actuals, stamps, _span_ends(stamps, level0, step))
        total = weights.groupby(keys).sum()
        weighted = (values * weights).groupby(keys).sum() / total.where(total > 0)
        forecast = weighted.fillna(values.groupby(keys).mean())  # no calls to weigh by: a plain mean
    table = forecast.rename("forecast").rename_axis("timestamp").reset_index()
    for band in BANDS:
        table[band] = np.nan
    return table


def _row_weights(actuals: Actuals, starts: pd.DatetimeIndex, ends: pd.DatetimeIndex) -> pd.Series:
    """The calls in each forecast row's span (handle times' weights; 1 without arrivals)."""
    if actuals.weights is None:
        return pd.Series(1.0, index=range(len(starts)))
    weights = actuals.weights.dropna()
    where = _locate(pd.DatetimeIndex(weights.index), _ns(starts).asi8, _ns(ends).asi8)
    keep = where >= 0
    return pd.Series(np.bincount(where[keep], weights=weights.to_numpy(float)[keep], minlength=len(starts)))


def _forecast_covers(
    table: pd.DataFrame, own: pd.DataFrame, level: str, step: pd.Timedelta, calendar: OperatingCalendar
) -> np.ndarray:
    """Whether the forecast's own rows run from the first to the last open day (by the
    actuals' calendar) of each period of ``table``: a Monday-to-Friday centre's week is whole
    on its Friday."""
    first, last = (
        pd.Timestamp(own["timestamp"].min()).normalize(),
        pd.Timestamp(own["timestamp"].max()).normalize(),
    )
    starts = pd.DatetimeIndex(table["timestamp"])
    ends = _span_ends(starts, level, step)
    days = pd.date_range(starts.min(), (ends.max() - pd.Timedelta(1)).normalize(), freq="D")
    open_days = pd.DatetimeIndex(open_slots(calendar, days).normalize().unique())
    where = _locate(open_days, _ns(starts).asi8, _ns(ends).asi8)
    frame = pd.DataFrame({"period": where, "day": open_days})[where >= 0]
    span = frame.groupby("period")["day"].agg(["min", "max"]).reindex(range(len(starts)))
    covered = ((span["min"] >= first) & (span["max"] <= last)) | span["min"].isna()  # none open: none due
    return covered.to_numpy(bool)


def _level_series(series: pd.Series, level: str, actuals: Actuals, step: pd.Timedelta) -> pd.Series:
    """A series totalled (handle times: averaged) per row of ``level``; weeks and months cut
    at both ends, which may be partial."""
    if series.empty:
        return series
    keys = _period_starts(pd.DatetimeIndex(series.index), level, actuals.week, step)
    grouped = series.groupby(keys)
    out = grouped.sum() if actuals.counts else grouped.mean()
    if level in ("week", "month"):
        out = out.iloc[1:-1]
    return out


def _scale(series: pd.Series, level: str) -> float:
    """The MASE scale: the one-week seasonal naive's mean absolute error (months: the month
    before, the naive a month ahead can use)."""
    if len(series) < 2:
        return float("nan")
    if level == "month":
        return float(np.mean(np.abs(np.diff(series.to_numpy(float)))))
    return weekly_naive_scale(series)


def compare(
    forecast: pd.DataFrame,
    actuals: Actuals,
    granularity: str | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
    history: pd.Series | None = None,
) -> Accuracy:
    """Score ``forecast`` (its own rows, then day, week and month totals) against ``actuals``.

    ``granularity``: the forecast's rows (default: told from the table). ``tables``: forecast
    tables of coarser levels with their own bands (a stored model makes them; a file's rows
    are only totalled, without bands). ``history``: data before the forecast for the MASE
    scale (default: the actuals before the forecast's first timestamp)."""
    missing = [c for c in ("timestamp", "forecast") if c not in forecast]
    if missing:
        raise InputError("not a forecast table", column=missing[0], expected=", ".join(OUTPUT_COLUMNS))
    own = forecast.sort_values("timestamp").reset_index(drop=True).copy()
    own["timestamp"] = _ns(own["timestamp"])
    for band in BANDS:
        if band not in own:
            own[band] = np.nan
    step = forecast_step(own, actuals.interval)
    level0 = granularity or forecast_granularity(own, actuals.interval)
    note = ""
    if _totalled_up(actuals, level0):
        note = (
            f"the forecast's {len(own)} intervals are totalled per day, as the actuals are reported "
            "(a day counts when the forecast holds all of it)"
        )
        own, level0, step = _totalled_forecast(own, actuals, level0, step), "day", pd.Timedelta(days=1)
    _check_not_coarser(actuals, level0, step, own)
    nesting = {"interval": LEVELS[1:], "day": ("week", "month"), "week": (), "month": ()}
    levels = [level0, *nesting[level0]]
    series = actuals.series.dropna()
    first_actual, last_actual = series.index.min(), series.index.max()
    start = own["timestamp"].min()
    before = (history if history is not None else series[series.index < start]).dropna()
    scale_from = _scale_source(before, series)
    summaries, frames = [], []
    for level in levels:
        if level == level0:
            table = own
        elif tables and level in tables:
            table = tables[level].copy()
        else:
            table = _aggregate_forecast(own, level, actuals, step, level0)
        table = table.sort_values("timestamp").reset_index(drop=True)
        starts = pd.DatetimeIndex(table["timestamp"])
        ends = _span_ends(starts, level, step)
        spans = _totals(actuals, starts, ends)
        spans["timestamp"], spans["end"] = starts, ends
        if level != level0:
            spans["forecast_complete"] = _forecast_covers(table, own, level, step, actuals.calendar)
        else:
            spans["forecast_complete"] = table["complete"].to_numpy(bool) if "complete" in table else True
        status = _status(spans, first_actual, last_actual)
        rows = pd.DataFrame(
            {"level": level, "timestamp": starts, "forecast": table["forecast"].to_numpy(float)}
        )
        rows["actual"] = np.where(status == SCORED, spans["actual"].to_numpy(float), np.nan)
        rows["error"] = rows["forecast"] - rows["actual"]
        for band in BANDS:
            rows[band] = table[band].to_numpy(float) if band in table else np.nan
        for level_ in (80, 95):
            inside = (rows["actual"] >= rows[f"lo{level_}"]) & (rows["actual"] <= rows[f"hi{level_}"])
            known = rows["actual"].notna() & rows[f"lo{level_}"].notna()
            rows[f"inside{level_}"] = inside.where(known)
        rows["status"] = status
        rows["end"] = ends
        scale = _scale(
            _level_series(before if scale_from.startswith("history") else series, level, actuals, step), level
        )
        summaries.append(_summarise(rows, level, scale))
        frames.append(rows)
    summary = pd.DataFrame(summaries)
    summary.attrs["scale_from"] = scale_from
    return Accuracy(summary, pd.concat(frames, ignore_index=True), level0, scale_from, note)


def _totalled_up(actuals: Actuals, level: str) -> bool:
    """Counts per interval against daily actuals (a scenario's 30-minute plan against the daily
    report it was made from): the forecast's rows add up to days, so they are totalled, not
    refused. Handle times are not: a day's AHT needs each interval's calls, which daily
    actuals do not tell."""
    return actuals.counts and actuals.granularity == "day" and level == "interval"


def _totalled_forecast(own: pd.DataFrame, actuals: Actuals, level0: str, step: pd.Timedelta) -> pd.DataFrame:
    """The forecast's intervals totalled per day, without bands (they do not add up). Days
    between the first and the last are whole; the first and the last are whole when they have
    as many rows as the whole days of their weekday (else as the median whole day): a forecast
    starting or ending mid-day does not score its cut days (a short forecast's Saturday may be
    left out: counted, never a wrong day)."""
    table = _aggregate_forecast(own, "day", actuals, step, level0)
    stamps = pd.DatetimeIndex(own["timestamp"])
    rows = pd.Series(1, index=stamps).groupby(stamps.normalize()).size()
    inner = rows.iloc[1:-1]
    complete = pd.Series(True, index=rows.index)
    for day in {rows.index[0], rows.index[-1]}:
        same = inner[inner.index.day_of_week == day.day_of_week]
        usual = same.max() if len(same) else (inner.median() if len(inner) else rows.max())
        complete[day] = rows[day] >= usual
    table["complete"] = complete.reindex(pd.DatetimeIndex(table["timestamp"])).fillna(False).to_numpy(bool)
    return table


def _scale_source(before: pd.Series, series: pd.Series) -> str:
    span = before.index.max() - before.index.min() if len(before) else pd.Timedelta(0)
    if span >= pd.Timedelta(weeks=MIN_SCALE_WEEKS):
        return f"history before the forecast ({before.index.min():%Y-%m-%d} to {before.index.max():%Y-%m-%d})"
    return "the actuals themselves (under two weeks of history before the forecast)"


def _summarise(rows: pd.DataFrame, level: str, scale: float) -> dict:
    scored = rows[rows["status"] == SCORED]
    counts = rows["status"].value_counts()
    out = {
        "level": level,
        "n": len(scored),
        "from": scored["timestamp"].min() if len(scored) else pd.NaT,
        "to": scored["timestamp"].max() if len(scored) else pd.NaT,
        "end": scored["end"].max() if len(scored) else pd.NaT,
        "mase": np.nan,
        "wape": np.nan,
        "bias": np.nan,
        "coverage80": np.nan,
        "coverage95": np.nan,
        "mae": np.nan,
        "scale": scale,
    }
    if len(scored):
        frame = scored.assign(scale=scale if np.isfinite(scale) and scale > 0 else np.nan)
        bands = [b for b in BANDS if frame[b].notna().all()]
        got = accuracy(frame.drop(columns=[b for b in BANDS if b not in bands]))
        out.update(
            {k: got.get(k, np.nan) for k in ("mase", "wape", "bias", "coverage80", "coverage95", "mae")}
        )
    for status in (
        "partial forecast",
        "partial actuals",
        "gap in the actuals",
        "after the actuals",
        "before the actuals",
    ):
        out[status.replace(" ", "_")] = int(counts.get(status, 0))
    return out


def _check_not_coarser(actuals: Actuals, level: str, step: pd.Timedelta, own: pd.DataFrame) -> None:
    """Actuals are totalled into the forecast's rows, never spread over them: actuals coarser
    than the forecast (or on another grid) are refused."""
    if LEVELS.index(actuals.granularity) > LEVELS.index(level):
        raise InputError(
            f"the actuals are totals per {actuals.granularity}, coarser than the forecast's {level} rows",
            option="input",
            expected=f"actuals per {level} or finer (or a forecast per {actuals.granularity})",
        )
    if level == "interval" and (step < actuals.interval or step % actuals.interval != pd.Timedelta(0)):
        raise InputError(
            "the actuals' intervals do not add up to the forecast's",
            option="input",
            expected=f"actuals at {_minutes(step)} minutes or an interval that divides it",
            found=f"{_minutes(actuals.interval)}-minute intervals",
        )
    stamps = pd.DatetimeIndex(own["timestamp"])
    if level == "interval":
        off = (stamps - stamps.normalize()) % actuals.interval != pd.Timedelta(0)
        expected = f"interval starts every {_minutes(actuals.interval)} minutes, as the actuals'"
    else:
        off = (stamps != stamps.normalize()) | ((stamps.day != 1) if level == "month" else False)
        expected = f"each {level} at its first day's midnight"
    if np.asarray(off).any():
        raise InputError(
            "forecast timestamps off the actuals' grid",
            column="timestamp",
            expected=expected,
            found=f"{stamps[np.asarray(off)][0]:%Y-%m-%d %H:%M}",
        )
    if level == "week" and actuals.granularity == "week":
        stamps = pd.DatetimeIndex(own["timestamp"])
        off = stamps != pd.DatetimeIndex(stamps.to_period(actuals.week).start_time)
        if off.any():
            raise InputError(
                "the forecast's weeks are not the actuals' weeks",
                option="input",
                expected=f"weeks starting as the actuals' ({actuals.week})",
                found=f"{stamps[off][0]:%Y-%m-%d} ({stamps[off][0]:%A})",
            )


def _minutes(step: pd.Timedelta) -> int:
    return int(step / pd.Timedelta(minutes=1))


# ---------------------------------------------------------------------------- words
def verdict(result: Accuracy, promised: dict[str, float] | None = None) -> str:
    """One sentence a planner acts on: the headline level's numbers, and whether they are
    within what the backtest promised (or, without one, better than last week repeated)."""
    name = result.headline_level()
    if name is None:
        return "nothing to score yet: no forecast row has complete actuals (see the counts above)"
    row = result.level(name)
    days = int(np.ceil((pd.Timestamp(row["end"]) - pd.Timestamp(row["from"])) / pd.Timedelta(days=1)))
    span = f"{days // 7} weeks" if days >= 14 else f"{days} days"
    counted = f"{row['n']} {_plural(name)}"
    text = f"last {span}" + ("" if counted == span else f" ({counted})")
    text += f": WAPE {_pct(row['wape'])}, bias {_pct(row['bias'], '+')}"
    if np.isfinite(row["coverage80"]):
        text += f", {100 * row['coverage80']:.0f} % inside the 80 % band"
    own = result.level(result.granularity) or row
    mase = own["mase"]
    judged = f"MASE {mase:.2f}" + (f" per {result.granularity}" if result.granularity != name else "")
    if promised and np.isfinite(promised.get("mase", np.nan)) and np.isfinite(mase):
        worse = mase > RETRAIN_MASE_RATIO * promised["mase"]
        cov, promised_cov = own.get("coverage80", np.nan), promised.get("coverage80", np.nan)
        narrow = np.isfinite(cov) and np.isfinite(promised_cov) and cov < promised_cov - RETRAIN_COVERAGE_DROP
        if worse or narrow:
            why = (
                f"{judged} against the backtest's {promised['mase']:.2f}"
                if worse
                else (
                    f"{100 * cov:.0f} % inside the 80 % band against the backtest's {100 * promised_cov:.0f} %"
                )
            )
            return f"{text} — worse than the backtest ({why}): consider `capplan retrain`"
        return f"{text} — within what the backtest promised ({judged}, backtest {promised['mase']:.2f})"
    if np.isfinite(mase):
        if mase >= 1:
            return f"{text} — {judged}: no better than repeating last week; consider `capplan retrain`"
        return f"{text} — {judged} (below 1 beats repeating last week)"
    return text


def _pct(value: float, sign: str = "") -> str:
    return f"{100 * value:{sign}.1f} %"


def _plural(level: str) -> str:
    return {"interval": "intervals", "day": "days", "week": "weeks", "month": "months"}[level]


def live_tags(result: Accuracy) -> dict[str, str]:
    """The headline numbers as model-version tags (``capplan.live.*``) for ``capplan store``
    and the app to show beside the version."""
    name = result.headline_level()
    if name is None:
        return {}
    row = result.level(name)
    tags = {
        "level": name,
        "n": str(row["n"]),
        "from": f"{row['from']:%Y-%m-%d}",
        "to": f"{row['to']:%Y-%m-%d}",
    }
    for key in ("mase", "wape", "bias", "coverage80", "coverage95"):
        if np.isfinite(row[key]):
            tags[key] = f"{row[key]:.4g}"
    own = result.level(result.granularity)
    if own is not None and np.isfinite(own["mase"]):
        tags[f"mase_{result.granularity}"] = f"{own['mase']:.4g}"
    tags["at"] = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
    return {f"{LIVE_PREFIX}{k}": v for k, v in tags.items()}


def describe_live(tags: dict[str, str]) -> str | None:
    """A version's live accuracy from its tags, in words ('by day over 2024-01-01 to
    2024-01-28 (20 rows): WAPE 6.2 %, ...'); None when none was logged."""
    live = {k.removeprefix(LIVE_PREFIX): v for k, v in tags.items() if k.startswith(LIVE_PREFIX)}
    if not live:
        return None
    parts = [
        f"{label} {_pct(float(live[key]))}"
        for key, label in (("wape", "WAPE"), ("bias", "bias"))
        if key in live
    ]
    if "coverage80" in live:
        parts.append(f"{100 * float(live['coverage80']):.0f} % inside the 80 % band")
    if "mase" in live:
        parts.append(f"MASE {float(live['mase']):.2f}")
    when = f" over {live.get('from', '?')} to {live.get('to', '?')} ({live.get('n', '?')} rows)"
    logged = f"; logged {live['at']}" if "at" in live else ""
    return f"by {live.get('level', '?')}{when}: " + ", ".join(parts) + logged


def live_metrics(result: Accuracy) -> dict[str, float]:
    """Every level's measures as MLflow metrics, ``<level>.<measure>``."""
    out = {}
    for row in result.summary.to_dict("records"):
        for key in ("n", "mase", "wape", "bias", "coverage80", "coverage95", "mae"):
            out[f"{row['level']}.{key}"] = float(row[key])
    return out


# ---------------------------------------------------------------------------- a stored model
@dataclass
class ModelForecast:
    """A stored model's forecast of the actuals' open intervals after its training data."""

    table: pd.DataFrame  # the data's own rows (intervals, or days)
    tables: dict[str, pd.DataFrame]  # every level, each period total with its own band
    granularity: str
    history: pd.Series  # the actuals up to the model's training end: the MASE scale's
    start: pd.Timestamp  # the training data's end
    end: pd.Timestamp  # the actuals' last interval


def model_forecast(
    model,
    fit,
    result,
    actuals: Actuals,
    field: str = "arrivals",
    queue: str | None = None,
    label: str = "the model",
) -> ModelForecast:
    """What the model (loaded and checked by ``model_contract.load_checked``; ``fit`` how its
    slots make the data's intervals) forecast for every open interval of the data after its
    training end: the actuals that arrived since are what is scored."""
    from forecasting.model_contract import check_hours

    check_hours(model, actuals.series, fit, label)
    start = pd.Timestamp(model.history_end_)
    last = actuals.series.index.max()
    if last <= start:
        raise InputError(
            f"no actuals after the training data of {label} (it ends {start:%Y-%m-%d %H:%M})",
            option="input",
            expected=f"data running past {start:%Y-%m-%d %H:%M}",
            found=f"data up to {last:%Y-%m-%d %H:%M}",
        )
    days = pd.date_range(start.normalize(), last.normalize(), freq="D")
    stamps = open_slots(result.calendar, days)
    stamps = stamps[(stamps > start) & (stamps <= last)]
    check_horizon(model, stamps, option="input")
    own = "day" if result.interval >= pd.Timedelta(days=1) else "interval"

    def table(level: str) -> pd.DataFrame:
        granularity = "interval" if level == own else level
        if fit is not None and fit.converts:
            return converted_forecast_table(model, stamps, fit, granularity)
        weights = (
            call_weights(result, queue, stamps) if field == "aht" and granularity != "interval" else None
        )
        return forecast_table(model, stamps, granularity, weights)

    tables = {level: table(level) for level in LEVELS[LEVELS.index(own) :]}
    history = actuals.series[actuals.series.index <= start]
    return ModelForecast(tables[own], tables, own, history, start, last)


def promised(metrics: dict[str, float]) -> dict[str, float] | None:
    """What the backtest of the run that registered a version measured for it (a training's
    winner, or a retraining's challenger on the recent window)."""
    mase = metrics.get("mase", metrics.get("window.challenger.mase"))
    if mase is None:
        return None
    return {"mase": mase, "coverage80": metrics.get("coverage80", np.nan)}


def log_live(store: Store, version: ModelVersion, result: Accuracy, source: str) -> str:
    """An accuracy run in the forecasting experiment (every level's measures, both tables),
    and its headline as ``capplan.live.*`` tags on the version; returns the run id."""
    from forecasting.common.csv_safety import write_csv

    row = result.level(result.headline_level())
    with store.start_run(FORECASTING, f"accuracy {version.name}") as run:
        run.set_tags(
            {"kind": "accuracy", "capplan.model": version.name, "capplan.model_version": str(version.version)}
        )
        run.log_params(
            {
                "kind": "accuracy",
                "source": source,
                "registered_model": version.name,
                "version": version.version,
                "from": row["from"],
                "to": row["to"],
                "scale_from": result.scale_from,
            }
        )
        run.log_metrics(live_metrics(result))
        run.log_text(
            write_csv(result.summary, index=False, name="accuracy_summary.csv"), "accuracy_summary.csv"
        )
        run.log_text(write_csv(result.rows, index=False, name="accuracy_rows.csv"), "accuracy_rows.csv")
        run_id = run.run_id
    store.set_version_tags(version, live_tags(result) | {f"{LIVE_PREFIX}run_id": run_id})
    return run_id
