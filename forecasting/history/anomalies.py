"""What is unusual in a history, found and reported before anything is forecast from it.

A planner must see what a model would otherwise learn silently: a feed that stopped (a
trailing run of zeros where there is normally traffic), single intervals far off their
usual value (a mistyped 1e5 calls, a handle time of 1e12 s), special days (a holiday, a
one-day surge), a lasting change of level, and open days with no data.

"Usual" is robust and local: for each weekday and slot of the day, the median of the same
weekday-slot over the surrounding weeks (±4), and the spread is the median absolute deviation
there, floored by the Poisson noise of counts, so one bad value never hides another and a
trend or a level shift is not mistaken for an outlier.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from forecasting.calendar import OperatingCalendar

COLUMNS = ["kind", "queue", "field", "start", "end", "slots", "value", "expected", "detail"]
WINDOW = 9  # same-weekday days around a day (±4 weeks) that define its usual value
SLOT_Z = 8.0  # robust z-score beyond which a single interval is an outlier
DAY_RATIO = 2.0  # a day with more than twice (or under half) its usual total is special
SHIFT_RATIO = 1.25  # a lasting change of level by 25 % or more
SHIFT_SCREEN = 1.15  # the two sides' medians differ this much: then the change is measured
SHIFT_MIN_DAYS = 10  # open days each side of a level shift
SHIFT_FIT_DAYS = 60  # open days each side a level shift's size is measured on
FIELDS = ("arrivals", "aht")
LEVEL_SHIFT_ATTR = (
    "mended_level_shift"  # the mended series' attrs: the day the older days were rescaled before
)
MIN_DAYS_AFTER_SHIFT = 28  # open days after a level shift before models learn from them alone


def detect_anomalies(intervals: pd.DataFrame, calendar: OperatingCalendar) -> pd.DataFrame:
    """One row per anomaly: kind (stopped_feed, spike, dip, special_day, level_shift, gap),
    queue, field, first and last interval (or day), number of slots, the value seen and the
    value expected, and a sentence saying what it is."""
    rows = [
        {
            "kind": "gap",
            "queue": "all",
            "field": "arrivals",
            "start": pd.Timestamp(day),
            "end": pd.Timestamp(day),
            "slots": np.nan,
            "value": np.nan,
            "expected": np.nan,
            "detail": "an open weekday with no data at all",
        }
        for day in calendar.missing_days
    ]
    holes = _holes(intervals, calendar)
    for queue, part in intervals.groupby("queue", sort=True):
        stamps = pd.DatetimeIndex(part["interval_start"])
        open_ = calendar.is_open(stamps) & ~stamps.normalize().isin(holes)
        for field in FIELDS:
            if field not in part or part[field].notna().sum() == 0:
                continue
            series = pd.Series(part[field].to_numpy(float), index=stamps)[open_].dropna()
            contacts = None  # a mean's contacts: an AHT of two tickets is no special day
            if field != "arrivals" and "handled" in part and part["handled"].notna().any():
                contacts = pd.Series(part["handled"].to_numpy(float), index=stamps).reindex(series.index)
            if series.index.normalize().nunique() >= 7:
                rows += [
                    {"queue": str(queue), "field": field, **row}
                    for row in series_anomalies(series, calendar.interval, field, contacts)
                ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    for feed in table[
        table["kind"] == "stopped_feed"
    ].itertuples():  # its days have no traffic: not gaps of their own
        inside = (
            (table["kind"] == "gap")
            & (table["start"] >= feed.start.normalize())
            & (table["start"] <= feed.end)
        )
        table = table[~inside]
    return table.sort_values(["queue", "field", "start", "kind"], ignore_index=True)


def _holes(intervals: pd.DataFrame, calendar: OperatingCalendar) -> pd.DatetimeIndex:
    """Missing open days before the last day with traffic: a log's grid holds zeros there, which
    are no one's usual value (a long hole would make every day after it a spike). Trailing
    missing days stay in, to be read as a stopped feed."""
    missing = pd.DatetimeIndex(pd.to_datetime(list(calendar.missing_days)))
    traffic = (
        intervals.loc[intervals["arrivals"].fillna(0) > 0, "interval_start"]
        if "arrivals" in intervals
        else []
    )
    if missing.empty or len(traffic) == 0:
        return missing[:0]
    return missing[missing < pd.Timestamp(traffic.max()).normalize()]


def series_anomalies(
    series: pd.Series, interval: pd.Timedelta, field: str = "arrivals", contacts: pd.Series | None = None
) -> list[dict]:
    """Anomalies of one series of open slots (timestamps → values); ``contacts`` (per slot)
    are what a mean such as AHT was taken over: a day's mean is off only beyond its noise."""
    return _find(series, interval, field == "arrivals", contacts)[0]


def clean_series(
    series: pd.Series, interval: pd.Timedelta, counts: bool = True, keep: pd.DatetimeIndex | None = None
) -> pd.Series:
    """The series as a model should learn from it: outlying intervals and special days at
    their usual values, a stopped feed's zeros left out, and the days before a level shift brought
    to the new level when at least four weeks remain after it. Uses only the series itself (a backtest cleans
    each origin's past alone), and an ordinary series comes back unchanged. Days in ``keep``
    (known holidays, whose effect a model learns) stay as they are. A level shift so mended
    is named in the result's ``attrs[LEVEL_SHIFT_ATTR]``."""
    if series.index.normalize().nunique() < 7:
        return series
    rows, grid, expected, stopped = _find(series, interval, counts)
    if keep is not None and len(keep):
        known = set(pd.DatetimeIndex(keep).normalize())
        rows = [r for r in rows if r["kind"] == "level_shift" or r["start"].normalize() not in known]
    if not rows:
        return series
    cleaned, shifted = grid.copy(), None
    outlying = [
        (r["start"].normalize(), (r["start"] - r["start"].normalize()) // interval)
        for r in rows
        if r["kind"] in ("spike", "dip")
    ]
    for day, slot in outlying:
        cleaned.loc[day, slot] = expected.loc[day, slot]
    for r in rows:
        if r["kind"] == "special_day":
            cleaned.loc[r["start"]] = expected.loc[r["start"]].where(grid.loc[r["start"]].notna())
        if r["kind"] == "level_shift" and (cleaned.index >= r["start"]).sum() >= MIN_DAYS_AFTER_SHIFT:
            # the old days brought to the new level: they still teach the weekly and yearly shape
            cleaned.loc[cleaned.index < r["start"]] *= r["value"]
            shifted = r["start"]
    if stopped is not None:
        cleaned = cleaned.where(~stopped.reindex_like(cleaned).fillna(False).astype(bool))
    values = cleaned.stack().dropna()
    stamps = values.index.get_level_values(0) + values.index.get_level_values(1).to_numpy() * interval
    out = pd.Series(
        values.to_numpy(float), index=pd.DatetimeIndex(stamps, name=series.index.name), name=series.name
    )
    if shifted is not None:  # errors measured across it say little about the future (models.base.fit)
        out.attrs[LEVEL_SHIFT_ATTR] = shifted
    return out


def _find(series: pd.Series, interval: pd.Timedelta, counts: bool, contacts: pd.Series | None = None):
    """(anomaly rows, day × slot grid, usual values, stopped-feed mask or None)."""
    grid = _day_by_slot(series, interval)
    per_day = None if contacts is None else _day_by_slot(contacts.fillna(0.0), interval).sum(axis=1)
    found: list[dict] = []
    stopped = _stopped_feed(grid, counts, interval)
    mask = None
    if stopped is not None:
        found.append(stopped["row"])
        mask = stopped["mask"]
        grid = grid.where(~mask)  # not part of anyone's usual value
    expected, spread = _usual(grid, counts)
    found += _special_days(grid, expected, counts, per_day)
    special = {row["start"].normalize() for row in found if row["kind"] == "special_day"}
    found += _outlying_slots(grid, expected, spread, special, interval)
    found += _level_shifts(grid, expected)
    return found, grid, expected, mask


def _day_by_slot(series: pd.Series, interval: pd.Timedelta) -> pd.DataFrame:
    """Days down, slots of the day across; NaN where a slot has no value."""
    index = pd.DatetimeIndex(series.index)
    days = index.normalize()
    slots = ((index - days) // interval).astype(int)
    grid = pd.DataFrame({"day": days, "slot": slots, "value": series.to_numpy(float)})
    return grid.pivot_table(index="day", columns="slot", values="value", aggfunc="sum", dropna=False)


def _usual(grid: pd.DataFrame, counts: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling same-weekday median and robust spread of every cell."""
    expected = pd.DataFrame(np.nan, index=grid.index, columns=grid.columns)
    spread = expected.copy()
    weekday = grid.index.day_of_week
    for day in np.unique(weekday):
        rows = weekday == day
        same = grid[rows].to_numpy(float)
        med = _centred_median(same, WINDOW, min_periods=3)
        expected.loc[rows] = med
        spread.loc[rows] = _centred_median(np.abs(same - med), WINDOW, min_periods=3) * 1.4826
    floor = np.sqrt(expected.clip(lower=1.0)) if counts else 0.0
    spread = np.maximum(spread.fillna(0.0), np.maximum(floor, 0.1 * expected.abs().fillna(0.0)))
    return expected, spread


def _centred_median(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """pandas' ``rolling(window, center=True, min_periods).median()`` down the rows of a day ×
    slot array, all slots at once (pandas goes slot by slot: most of the mending's time)."""
    before, after = window // 2, (window - 1) // 2
    empty = np.full((before + after, values.shape[1]), np.nan)
    padded = np.vstack([empty[:before], values, empty[before:]])
    windows = sliding_window_view(padded, window, axis=0)  # rows × slots × window
    enough = np.sum(~np.isnan(windows), axis=2) >= min_periods
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: NaN, as pandas gives
        return np.where(enough, np.nanmedian(windows, axis=2), np.nan)


def _stopped_feed(grid: pd.DataFrame, counts: bool, interval: pd.Timedelta) -> dict | None:
    """A trailing run of zeros at least a day long where the same slots usually have traffic."""
    if not counts:
        return None
    values = grid.stack(future_stack=True).dropna()
    nonzero = np.flatnonzero(values.to_numpy() > 0)
    last = nonzero[-1] if len(nonzero) else -1
    run = values.iloc[last + 1 :]
    per_day = int(grid.notna().sum(axis=1).median()) if len(grid) else 0
    before = values.iloc[: last + 1]
    typical = float(before.mean()) if len(before) else 0.0
    if len(run) < max(per_day, 1) or typical * len(run) < 20:
        return None
    flags = pd.Series(np.arange(len(values)) > last, index=values.index)
    mask = flags.unstack().reindex(index=grid.index, columns=grid.columns).fillna(False).astype(bool)
    start, end = (pd.Timestamp(day) + slot * interval for day, slot in (run.index[0], run.index[-1]))
    days = run.index.get_level_values(0).nunique()
    row = {
        "kind": "stopped_feed",
        "start": start,
        "end": end,
        "slots": len(run),
        "value": 0.0,
        "expected": typical * len(run),
        "detail": f"no contacts in the last {len(run)} open intervals ({days} days); about {typical * len(run):,.0f} were expected: "
        "a feed that stopped, not a quiet spell",
    }
    return {"row": row, "mask": mask}


MEAN_CV = 1.0  # spread of single handle times around their mean (lognormal ones: 0.5 to 1)


def _special_days(
    grid: pd.DataFrame, expected: pd.DataFrame, counts: bool, contacts: pd.Series | None = None
) -> list[dict]:
    """Whole days off their usual level: the typical slot of the day (the median of its ratios
    to the usual values) at twice or half its usual, so one wild interval does not make a day
    special, and for counts, a total beyond the Poisson noise; for a mean over a known number
    of contacts, beyond that mean's noise (4 standard errors)."""
    ratios = (grid / expected.where(expected > 0)).median(axis=1)
    seen = grid.sum(axis=1, min_count=1) if counts else grid.mean(axis=1)
    usual = (
        expected.where(grid.notna()).sum(axis=1, min_count=1)
        if counts
        else expected.where(grid.notna()).mean(axis=1)
    )
    if counts:
        noise = 4 * np.sqrt(usual.clip(lower=1.0))
    elif contacts is not None:
        noise = 4 * MEAN_CV * usual / np.sqrt(contacts.reindex(grid.index).clip(lower=1.0))
    else:
        noise = 0.0
    off = ((ratios >= DAY_RATIO) | (ratios <= 1 / DAY_RATIO)) & ((seen - usual).abs() > noise)
    rows = []
    for day in grid.index[off.fillna(False).to_numpy(bool)]:
        what = (
            ("busier" if ratios[day] > 1 else "quieter")
            if counts
            else ("higher" if ratios[day] > 1 else "lower")
        )
        rows.append(
            {
                "kind": "special_day",
                "start": day,
                "end": day,
                "slots": int(grid.loc[day].notna().sum()),
                "value": float(seen[day]),
                "expected": float(usual[day]),
                "detail": f"{ratios[day]:.1f}× the usual {day:%A}: {what} than an ordinary day (a holiday, an outage, a campaign?)",
            }
        )
    return rows


def _outlying_slots(grid, expected, spread, special_days: set, interval: pd.Timedelta) -> list[dict]:
    """Single intervals far off their weekday-slot's usual value (outside special days)."""
    z = (grid - expected) / spread
    hit = (z.abs() > SLOT_Z).fillna(False).astype(bool)
    hit.loc[hit.index.isin(list(special_days))] = False
    rows = []
    cells = hit.stack()
    for day, slot in cells[cells.astype(bool)].index:
        value, usual = float(grid.loc[day, slot]), float(expected.loc[day, slot])
        stamp = day + slot * interval
        kind = "spike" if value > usual else "dip"
        rows.append(
            {
                "kind": kind,
                "start": stamp,
                "end": stamp,
                "slots": 1,
                "value": value,
                "expected": usual,
                "detail": f"{value:,.6g} where about {usual:,.4g} is usual for {stamp:%A %H:%M} (robust z {z.loc[day, slot]:+.0f})",
            }
        )
    return rows


def _level_shifts(grid: pd.DataFrame, expected: pd.DataFrame) -> list[dict]:
    """A lasting change of level: the median day before and after a date differ by 30 % or
    more, each side steady. Days are first put on one scale by their weekday's typical total."""
    totals = grid.sum(axis=1, min_count=1).dropna()
    totals = totals[totals > 0]
    if len(totals) < 2 * SHIFT_MIN_DAYS:
        return []
    weekday_level = totals.groupby(totals.index.day_of_week).transform("median")
    level = (totals / weekday_level).to_numpy()
    gaps = _median_gaps(level, SHIFT_MIN_DAYS, 3 * SHIFT_MIN_DAYS)
    best_k = SHIFT_MIN_DAYS + int(np.argmax(gaps)) if len(gaps) and gaps.max() > 0 else None
    if best_k is None or gaps.max() < np.log(SHIFT_SCREEN):
        return []
    before = level[max(0, best_k - 3 * SHIFT_MIN_DAYS) : best_k]
    after = level[best_k : best_k + 3 * SHIFT_MIN_DAYS]
    steady = all(
        np.median(np.abs(side - np.median(side))) / np.median(side) < 0.2 for side in (before, after)
    )
    if not steady:
        return []
    nearby = range(max(1, best_k - SHIFT_MIN_DAYS), min(len(level) - 1, best_k + SHIFT_MIN_DAYS + 1))
    fits = {k: _shift_fit(np.log(level), k) for k in nearby}  # the medians only roughly place it
    best_k = min(fits, key=lambda k: fits[k][1])
    day, ratio = totals.index[best_k], fits[best_k][0]
    if abs(np.log(ratio)) < np.log(SHIFT_RATIO):
        return []
    after = int((grid.index >= day).sum())
    how = (
        "models should learn from the new level"
        if after >= MIN_DAYS_AFTER_SHIFT
        else f"only {after} open days follow, too few to learn the new level from alone "
        f"({MIN_DAYS_AFTER_SHIFT} needed): models still learn from the older days as they are"
    )
    return [
        {
            "kind": "level_shift",
            "start": day,
            "end": totals.index[-1],
            "slots": np.nan,
            "value": ratio,
            "expected": 1.0,
            "detail": f"from {day:%Y-%m-%d} the level is {ratio:.2f}× what it was before: {how}",
        }
    ]


def _median_gaps(level: np.ndarray, least: int, side: int) -> np.ndarray:
    """|log(median after / median before)| for each split k from ``least`` to len − ``least``,
    each side up to ``side`` values (fewer at the ends): full windows all at once."""
    splits = np.arange(least, len(level) - least + 1)
    before, after = np.empty(len(splits)), np.empty(len(splits))
    full = (splits >= side) & (splits + side <= len(level))
    if full.any():
        medians = np.median(sliding_window_view(level, side), axis=1)  # window j: level[j : j + side]
        before[full], after[full] = medians[splits[full] - side], medians[splits[full]]
    for i in np.flatnonzero(~full):
        k = splits[i]
        before[i], after[i] = np.median(level[max(0, k - side) : k]), np.median(level[k : k + side])
    return np.abs(np.log(after / before))


def _shift_fit(log_level: np.ndarray, k: int) -> tuple[float, float]:
    """(new level over old, mean absolute misfit) of a step at day ``k`` in a line fitted
    through the weeks each side (outlying days refitted out), so a trend or the slope of a
    yearly season around the change is not taken for part of it, as comparing the two sides'
    medians would."""
    lo, hi = max(0, k - SHIFT_FIT_DAYS), min(len(log_level), k + SHIFT_FIT_DAYS)
    t = np.arange(lo, hi, dtype=float) - k
    y = log_level[lo:hi]
    design = np.column_stack([np.ones_like(t), t, (t >= 0).astype(float)])
    keep = np.ones(len(t), bool)
    for _ in range(3):
        coef = np.linalg.lstsq(design[keep], y[keep], rcond=None)[0]
        resid = y - design @ coef
        scale = 1.4826 * np.median(np.abs(resid[keep] - np.median(resid[keep]))) + 1e-9
        keep = np.abs(resid) <= 3 * scale
    return float(np.exp(coef[2])), float(np.mean(np.abs(resid)))


def in_words(counts: dict[str, int]) -> str:
    """'3 gaps, 1 spike': counts by kind as the CLI and the app say them."""
    return ", ".join(f"{n:,} {kind.replace('_', ' ')}{'s' if n != 1 else ''}" for kind, n in counts.items())


def summary(anomalies: pd.DataFrame) -> dict[str, int]:
    """Counts by kind, for the ingest summary."""
    return {str(k): int(v) for k, v in anomalies["kind"].value_counts().sort_index().items()}
