"""Forecasts from weekly or monthly totals, where each period is one observation.

A report of 36 monthly totals holds 36 numbers, not 1,100 days: the daily models would count
each month thirty times over when they measure their own errors, and give bands far too narrow.
Here the candidates work on the periods themselves (seasonal naive, the recent mean, a damped
Holt-Winters, a log-linear trend with a yearly season), are chosen by rolling-origin error scaled
by the seasonal naive's, and the chosen one's bands come from its own rolling-origin errors by
lead (from origins with two years behind them, like the final fit, once there are six; log
ratios, so they are relative and never negative), widening with the lead beyond the leads
measured.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import IsotonicRegression

from forecasting.common.errors import InputError
from forecasting.models.base import LEVELS

SEASON = {"week": 52, "month": 12}  # periods in a year
MIN_PERIODS = 8  # fewer totals than this cannot be forecast with any honesty
MAX_ORIGINS = 12  # rolling origins the candidates are scored on
MIN_SEASONED_ORIGINS = 6  # origins with two years behind them before younger ones' errors are dropped
MIN_BUCKET_ERRORS = 8  # errors pooled per lead bucket before a quantile is taken
LEAD_EDGES = (1, 2, 3, 4, 6, 9, 13, 19, 27, 40, 53, 79)  # lead buckets, in periods

# (history, periods ahead, periods a year, calendar regressors of history and horizon) -> forecast
Predictor = Callable[[np.ndarray, int, int, np.ndarray | None], np.ndarray]
MIN_PERIODS_FOR_MIX = 30  # months of history before the weekday mix of a month is learnt


def seasonal_naive(y: np.ndarray, h: int, m: int, mix: np.ndarray | None = None) -> np.ndarray:
    if len(y) < m:
        return recent_mean(y, h, m)
    return np.resize(y[-m:], h) if h <= m else np.tile(y[-m:], h // m + 1)[:h]


def recent_mean(y: np.ndarray, h: int, m: int, mix: np.ndarray | None = None) -> np.ndarray:
    return np.full(h, np.mean(y[-min(len(y), max(4, m // 4)) :]))


def holt_winters(y: np.ndarray, h: int, m: int, mix: np.ndarray | None = None) -> np.ndarray:
    """Damped additive trend, multiplicative yearly season once two years are there."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "mul" if len(y) >= 2 * m and (y > 0).all() else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(
            y, trend="add", damped_trend=True, seasonal=seasonal, seasonal_periods=m if seasonal else None
        ).fit()
    return np.asarray(fit.forecast(h), float)


def log_trend_season(y: np.ndarray, h: int, m: int, mix: np.ndarray | None = None) -> np.ndarray:
    """log total = level + slope·t + yearly Fourier terms (two years needed for them) + the
    period's weekday mix (a month with five Mondays is busier than one with five Sundays;
    learnt from 30 months on); the slope is the last two years' only, so an old growth spurt
    does not run on."""
    span = min(len(y), 2 * m)
    t = np.arange(len(y) + h, dtype=float)
    harmonics = min(3, m // 2) if len(y) >= 2 * m else 0
    cols = [np.ones_like(t), t]
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * t / m), np.cos(2 * np.pi * k * t / m)]
    if mix is not None and len(y) >= MIN_PERIODS_FOR_MIX:
        cols += list(mix[: len(t)].T)
    design = np.column_stack(cols)
    logs = np.log(np.maximum(y, 1e-9))
    coef = np.linalg.lstsq(design[: len(y)], logs, rcond=None)[0]
    recent = np.linalg.lstsq(
        design[len(y) - span : len(y), :2], (logs - design[: len(y), 2:] @ coef[2:])[-span:], rcond=None
    )[0]
    fitted_end = design[len(y) - 1, :2] @ recent
    ahead = t[len(y) :] - t[len(y) - 1]
    return np.exp(fitted_end + recent[1] * ahead + design[len(y) :, 2:] @ coef[2:])


CANDIDATES: dict[str, Predictor] = {
    "seasonal_naive": seasonal_naive,
    "recent_mean": recent_mean,
    "holt_winters": holt_winters,
    "log_trend_season": log_trend_season,
}


@dataclass
class PeriodForecast:
    table: pd.DataFrame  # timestamp (period start), forecast, lo/hi per level, open_days, complete
    name: str  # the chosen model
    leaderboard: pd.DataFrame  # every candidate's rolling-origin scores


def days_in(index: pd.PeriodIndex) -> np.ndarray:
    return ((index.end_time.normalize() - index.start_time).days + 1).to_numpy(float)


def forecast_periods(totals: pd.Series, unit: str, horizon: int, counts: bool = True) -> PeriodForecast:
    """Forecast ``horizon`` periods after ``totals`` (one value per period, indexed by period).
    Counts are modelled per day of their period, so February's short month or a leap year is
    not taken for a change of level, and multiplied back."""
    index = pd.period_range(totals.index[-1] + 1, periods=horizon, freq=totals.index.freq)
    per_day = days_in(totals.index) if counts else np.ones(len(totals))
    ahead_days = days_in(index) if counts else np.ones(horizon)
    y = totals.to_numpy(float) / per_day
    if len(y) < MIN_PERIODS or not np.isfinite(y).all():
        raise InputError(
            "too little history",
            column=str(totals.name),
            expected=f"at least {MIN_PERIODS} {unit}s of totals",
            found=f"{len(y)} {unit}s",
        )
    m = SEASON[unit]
    mix = weekday_mix(totals.index.append(index)) if unit == "month" and counts else None
    scale = _naive_scale(y, m)
    errors = {name: _rolling_errors(predict, y, horizon, m, mix) for name, predict in CANDIDATES.items()}
    board = pd.DataFrame(
        [
            {
                "model": name,
                "mase": float(np.mean(np.abs(e["actual"] - e["forecast"])) / scale) if len(e) else np.nan,
                "wape": float(np.sum(np.abs(e["actual"] - e["forecast"])) / np.sum(e["actual"]))
                if len(e)
                else np.nan,
                "origins": int(e["origin"].nunique()) if len(e) else 0,
            }
            for name, e in errors.items()
        ]
    ).sort_values("mase", na_position="last", ignore_index=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    name = str(board["model"].iloc[0]) if board["mase"].notna().any() else "recent_mean"
    mean = np.maximum(CANDIDATES[name](y, horizon, m, mix), 0.0) * ahead_days
    log_ratio = _log_ratio_by_lead(_like_the_final_fit(errors[name], m), horizon, y * per_day, mean)
    table = pd.DataFrame({"timestamp": index.start_time, "forecast": mean})
    for level in LEVELS:
        half = log_ratio[level]
        table[f"lo{level}"] = np.minimum(mean * np.exp(-half), mean)
        table[f"hi{level}"] = np.maximum(mean * np.exp(half), mean)
    table["open_days"] = days_in(index).astype(int)
    table["complete"] = True
    return PeriodForecast(table, name, board)


def _like_the_final_fit(errors: pd.DataFrame, m: int) -> pd.DataFrame:
    """The origins whose models had the yearly season the final fit has (two years of history),
    when there are enough of them: younger origins' errors are a season-blind model's."""
    seasoned = errors[errors["origin"] >= 2 * m] if len(errors) else errors
    return seasoned if seasoned["origin"].nunique() >= MIN_SEASONED_ORIGINS else errors


def _naive_scale(y: np.ndarray, m: int) -> float:
    lag = m if len(y) > m else 1
    diff = np.abs(y[lag:] - y[:-lag])
    return float(diff.mean()) if diff.size and diff.mean() > 0 else float(np.mean(np.abs(y)) or 1.0)


def weekday_mix(index: pd.PeriodIndex) -> np.ndarray:
    """Each period's share of Mondays … Saturdays beyond a seventh (Sundays are the rest)."""
    days = pd.date_range(index[0].start_time, index[-1].end_time.normalize(), freq="D")
    share = pd.crosstab(days.to_period(index.freq), days.day_of_week, normalize="index")
    return share.reindex(index, fill_value=0.0).to_numpy()[:, :6] - 1 / 7


def _rolling_errors(
    predict: Predictor, y: np.ndarray, horizon: int, m: int, mix: np.ndarray | None
) -> pd.DataFrame:
    """Forecasts from the last origins (each with at least half the history before it), scored
    on whatever of the horizon the data cover."""
    first = max(MIN_PERIODS, len(y) // 2)
    origins = list(range(first, len(y)))[-MAX_ORIGINS:]
    rows = []
    for origin in origins:
        ahead = min(horizon, len(y) - origin)
        try:
            forecast = np.maximum(predict(y[:origin], ahead, m, mix), 0.0)
        except (ValueError, np.linalg.LinAlgError):
            continue
        rows.append(
            pd.DataFrame(
                {
                    "origin": origin,
                    "lead": np.arange(1, ahead + 1),
                    "actual": y[origin : origin + ahead],
                    "forecast": forecast,
                }
            )
        )
    return (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["origin", "lead", "actual", "forecast"])
    )


def _log_ratio_by_lead(
    errors: pd.DataFrame, horizon: int, y: np.ndarray, mean: np.ndarray
) -> dict[int, np.ndarray]:
    """Half-width of each level's band on the log scale, per lead: the level's quantile of
    |log(actual / forecast)| in pooled lead buckets, never shrinking with the lead, growing
    like √lead beyond the longest lead measured; floored by the Poisson noise of the total."""
    leads = np.arange(1, horizon + 1, dtype=float)
    poisson = 1 / np.sqrt(np.maximum(mean, 1.0))
    part = errors[(errors["actual"] > 0) & (errors["forecast"] > 0)] if len(errors) else errors
    out = {}
    for level in LEVELS:
        z = stats.norm.ppf(0.5 + level / 200)
        if len(part) < MIN_BUCKET_ERRORS:  # too short to measure: the spread of period-to-period changes
            step = np.std(np.diff(np.log(np.maximum(y, 1.0)))) if len(y) > 2 else 0.1
            out[level] = np.maximum(z * step * np.sqrt(leads), z * poisson)
            continue
        size = np.abs(np.log(part["actual"].to_numpy(float) / part["forecast"].to_numpy(float)))
        bucket = np.searchsorted(LEAD_EDGES, part["lead"].to_numpy(), side="left")
        at, value, weight, pool = [], [], [], []
        for b in np.unique(bucket):
            pool.append(b)
            inside = np.isin(bucket, pool)
            if inside.sum() >= MIN_BUCKET_ERRORS or b == bucket.max():
                at.append(part["lead"].to_numpy()[inside].mean())
                value.append(np.quantile(size[inside], level / 100))
                weight.append(inside.sum())
                pool = []
        monotone = IsotonicRegression(increasing=True).fit_transform(at, value, sample_weight=weight)
        inside = np.interp(leads, at, monotone)
        beyond = monotone[-1] * np.sqrt(np.maximum(leads, at[-1]) / at[-1])
        out[level] = np.maximum(np.where(leads > at[-1], beyond, inside), z * poisson)
    return out
