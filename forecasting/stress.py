"""Generated histories with known structure: what the models are tested and benchmarked on
beyond the bundled files, so nothing is tuned to one centre's data.

Each generator draws counts from a negative binomial around a known mean (level × trend ×
weekday × time of year × intraday profile), then adds the troubles real feeds have: one-day
spikes, a lasting level shift, holidays, a feed that stopped, gaps, and clocks that jump at a
daylight-saving change. The mean is returned too, so a test can score against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.special_days import SpecialDays

WEEKDAY_SHAPE = np.array([1.10, 1.0, 0.97, 0.95, 0.90, 0.45, 0.30])  # Monday busiest, Sunday quietest


@dataclass(frozen=True)
class StressCase:
    """One kind of trouble, and how much of it."""

    name: str
    spikes: int = 0  # days with 3-4× their usual volume
    level_shift: float = 1.0  # the level after a date two thirds through, relative to before
    holidays: str | None = None  # a country whose holidays take 80 % of a day's volume
    stopped_days: int = 0  # trailing days of zeros
    gap_days: int = 0  # open days missing from the history
    dst_zone: str | None = None  # intraday only: profile in local time, timestamps in UTC


def generate(
    case: StressCase,
    granularity: str = "day",
    history_days: int = 1100,
    horizon_days: int = 364,
    seed: int = 0,
    start: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """(history with the case's troubles, the future as it then happens, without them): daily
    totals (three years of trend and yearly season by default) or 30-minute slots of a centre
    open 08:00-20:00 every day (``granularity='30min'``), from ``start`` (the generator's
    default date when None)."""
    dated = {"start": start} if start else {}
    if granularity == "day":
        observed, _ = daily_history(case, days=history_days + horizon_days, seed=seed, **dated)
    else:
        observed, _ = intraday_history(
            case, days=history_days + horizon_days, interval=granularity, seed=seed, **dated
        )
    days = observed.index.normalize()
    cut = days.unique()[history_days]
    history = observed[days < cut]
    rng = np.random.default_rng(seed + 1)
    return _troubles(rng, history, case), observed[days >= cut]


def daily_history(
    case: StressCase,
    start: str = "2021-01-04",
    days: int = 1100,
    level: float = 1000.0,
    trend_per_year: float = 0.08,
    yearly_amplitude: float = 0.15,
    dispersion: float = 0.004,
    seed: int = 0,
) -> tuple[pd.Series, pd.Series]:
    """(daily counts, the true mean) over ``days`` days: trend, weekday, yearly season, the
    case's level shift and holidays (the troubles of a feed are :func:`generate`'s)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    mean = _daily_mean(index, level, trend_per_year, yearly_amplitude, case)
    observed = pd.Series(_draw(rng, mean, dispersion), index=index, name="arrivals")
    return observed, pd.Series(mean, index=index, name="mean")


def _daily_mean(index: pd.DatetimeIndex, level, trend_per_year, yearly_amplitude, case) -> np.ndarray:
    years = (index - index[0]).days.to_numpy(float) / 365.25
    season = 1 + yearly_amplitude * np.sin(2 * np.pi * (index.day_of_year.to_numpy(float) - 80) / 365.25)
    mean = level * (1 + trend_per_year) ** years * WEEKDAY_SHAPE[index.day_of_week] * season
    if case.level_shift != 1.0:
        mean = np.where(np.arange(len(index)) >= int(len(index) * 2 / 3), mean * case.level_shift, mean)
    if case.holidays:
        days = SpecialDays(case.holidays).between(index[0], index[-1]).index
        mean = np.where(index.isin(days), 0.2 * mean, mean)
    return mean


def _draw(rng, mean: np.ndarray, dispersion: float) -> np.ndarray:
    n = 1 / dispersion
    return rng.negative_binomial(n, n / (n + np.maximum(mean, 1e-9))).astype(float)


def _troubles(rng, observed: pd.Series, case: StressCase) -> pd.Series:
    observed = observed.copy()
    days = observed.index.normalize().unique()
    if case.spikes:
        picked = rng.choice(days[:-14], size=case.spikes, replace=False)
        on = observed.index.normalize().isin(picked)
        observed[on] = np.round(observed[on] * rng.uniform(3, 4, on.sum()))
    if case.stopped_days:
        observed[observed.index.normalize().isin(days[-case.stopped_days :])] = 0.0
    if case.gap_days:
        picked = rng.choice(days[7:-30], size=case.gap_days, replace=False)
        observed = observed[~observed.index.normalize().isin(picked)]
    return observed


def intraday_history(
    case: StressCase,
    start: str = "2024-01-08",
    days: int = 120,
    interval: str = "30min",
    level: float = 3000.0,
    open_hours: tuple[int, int] = (8, 20),
    dispersion: float = 0.01,
    seed: int = 0,
) -> tuple[pd.Series, pd.Series]:
    """(interval counts, true mean) on open slots; with ``dst_zone`` the centre
    keeps local hours and the timestamps are UTC, so the profile moves an hour at each change."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    daily = _daily_mean(index, level, 0.0, 0.0, case)
    step = pd.Timedelta(interval)
    slots = np.arange(int(pd.Timedelta(hours=open_hours[1] - open_hours[0]) / step))
    centre = len(slots) / 2
    profile = np.exp(-0.5 * ((slots - centre * 0.8) / (len(slots) / 3.5)) ** 2)
    profile = profile / profile.sum()
    offsets = np.timedelta64(open_hours[0], "h") + slots * step.to_timedelta64()
    local = index.to_numpy()[:, None] + offsets[None, :]
    stamps = pd.DatetimeIndex(local.ravel())
    if case.dst_zone:
        stamps = stamps.tz_localize(case.dst_zone, nonexistent="shift_forward", ambiguous=False)
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    mean = (daily[:, None] * profile[None, :]).ravel()
    observed = pd.Series(_draw(rng, mean, dispersion), index=stamps, name="arrivals")
    return observed, pd.Series(mean, index=stamps, name="mean")


CASES = (
    StressCase("plain"),
    StressCase("spikes", spikes=8),
    StressCase("level_shift", level_shift=1.4),
    StressCase("holidays", holidays="US"),
    StressCase("stopped_feed", stopped_days=5),
    StressCase("gaps", gap_days=10),
)
INTRADAY_CASES = (
    StressCase("plain"),
    StressCase("spikes", spikes=4),
    StressCase("level_shift", level_shift=1.4),
    StressCase("stopped_feed", stopped_days=2),
    StressCase("dst", dst_zone="Europe/Berlin"),
)

# horizon buckets (last open day ahead in each) the benchmark reports accuracy and coverage by
HORIZON_BUCKETS = {"day": (7, 28, 91, 182, 364), "30min": (1, 7, 14)}
SETUPS = {"day": (CASES, 1100, 364), "30min": (INTRADAY_CASES, 120, 14)}  # cases, history, horizon days


def benchmark_draw(case_index: int, seed: int, granularity: str) -> dict:
    """The ``seed`` and ``start`` of one benchmark series: every case and seed gets a base
    series of its own (cases sharing one would score the same noise six times), and daily
    series start on different days of the year so the horizon does not always begin in
    January; intraday series keep their start, which puts the DST change inside."""
    draw = 1000 * seed + case_index
    if granularity != "day":
        return {"seed": draw}
    start = pd.Timestamp("2021-01-04") + pd.Timedelta(days=int(draw * 53 % 364))
    return {"seed": draw, "start": str(start.date())}


def horizon_bucket(horizon_day: np.ndarray, granularity: str) -> np.ndarray:
    """'1-7', '8-28', … for each open day ahead (1 = the first day after the history)."""
    edges = HORIZON_BUCKETS[granularity]
    starts = (1, *(e + 1 for e in edges[:-1]))
    labels = np.array([f"{a}-{b}" if a != b else f"{a}" for a, b in zip(starts, edges, strict=True)])
    return labels[np.searchsorted(np.array(edges), horizon_day, side="left").clip(0, len(edges) - 1)]


def score_rows(pred: pd.DataFrame, future: pd.Series, scale: float, series_kind: str, **key) -> list[dict]:
    """Accuracy rows of one forecast of a generated future (columns forecast, lo/hi per level,
    in the future's order): overall (bucket 'all') and per horizon bucket of ``series_kind``
    ('day' or '30min'), each with ``key``.
    One home for the stress benchmarks' scoring, ours and the peers'."""
    from forecasting.metrics import accuracy

    days = future.index.normalize()
    lead = np.searchsorted(days.unique(), days) + 1
    frame = pred.reset_index(drop=True).assign(
        actual=future.to_numpy(), scale=scale, bucket=horizon_bucket(lead, series_kind)
    )
    rows = [{**key, "bucket": "all", **accuracy(frame)}]
    rows += [{**key, "bucket": b, **accuracy(part)} for b, part in frame.groupby("bucket", sort=False)]
    return rows
