"""Did a model's bands hold in its backtest, and by how much must they widen to hold?

The rolling-origin backtest measures what share of the actuals fell inside each band. A model's
own spreads come from holdouts inside its fit (forecasting.models.base); when the backtest finds
them far off (a level drop, a trend the model does not follow: 47 % inside an 80 % band), the
bands are widened by the split-conformal factor: the smallest k such that the backtest's bands,
their half-widths around the forecast times k, hold the nominal share of its actuals. The fitted
model's bands are then widened alike (``Forecaster.recalibrate``), and the leaderboard and the
forecast say so. Bands wider than needed are only reported: narrowing is left to the
model's own lead-by-lead calibration, which the pooled backtest cannot replace.

The backtest's own bands come from its errors too (:func:`conformal_bands`): its cells are
point forecasts, fitted once each, and each origin's bands are matched by lead to the same
model's errors at the other origins (or, for an honest benchmark, at the origins already over),
split-conformal per lead bucket as a fitted model's are (forecasting.models.base.lead_spreads).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models.base import (
    LEVELS,
    SPREAD_FLOOR,
    HoldoutError,
    backtest_errors,
    error_needs,
    lead_spreads,
    nested_bands,
    spread_on_curve,
)

BIAS_LIMIT = 0.15  # a backtest bias beyond ±15 % of the actuals is said
MAX_WIDENING = 10.0  # a band needing more is beyond repair by widening: capped and said
MIN_POINTS = 10  # fewer (origin, day) pairs than this say nothing about coverage
SEQUENTIAL_ORIGINS = 10  # a sequential band rests on the errors of at most this many origins already over


def conformal_bands(
    forecasts: pd.DataFrame, distributions: dict[str, str], sequential: bool = False
) -> pd.DataFrame:
    """The backtest's rows with lo/hi columns: each origin's bands from the same model's
    errors at the other origins (cross-conformal: every origin scored, as the leaderboard
    needs), or with ``sequential`` at the origins whose test days were all over before it (the
    last ``SEQUENTIAL_ORIGINS``; none yet: no band), as a model fitted at that origin would have
    had them. ``distributions``: each model's, "negbin" or "normal"."""
    out = []
    for model, part in forecasts.groupby("model", sort=False):
        by_origin = dict(list(part.groupby("origin", sort=True)))
        errors = {origin: backtest_errors(rows)[0] for origin, rows in by_origin.items()}
        errors = {o: e._replace(needs=error_needs(e, distributions[model])) for o, e in errors.items()}
        ends = {origin: rows["timestamp"].max() for origin, rows in by_origin.items()}
        for origin, rows in by_origin.items():
            if sequential:
                used = [o for o in by_origin if ends[o] < origin][-SEQUENTIAL_ORIGINS:]
            else:
                used = [o for o in by_origin if o != origin]
            out.append(_banded(rows, [errors[o] for o in used], distributions[model]))
    return pd.concat(out).loc[forecasts.index] if out else forecasts


def _banded(rows: pd.DataFrame, errors: list[HoldoutError], distribution: str) -> pd.DataFrame:
    spreads = lead_spreads(errors, distribution, sharing=False)
    rows = rows.copy()
    if spreads.points == 0:
        for level in LEVELS:
            rows[f"lo{level}"] = rows[f"hi{level}"] = np.nan
        return rows
    mean, leads = rows["forecast"].to_numpy(float), rows["horizon_day"].to_numpy(float)
    bands = nested_bands(
        mean,
        LEVELS,
        distribution,
        lambda level: spread_on_curve(spreads.curves[level], leads, SPREAD_FLOOR * spreads.pooled[level]),
    )
    for level, (lo, hi) in bands.items():
        rows[f"lo{level}"], rows[f"hi{level}"] = lo, hi
    return rows


def tolerance(level: int, independent: int) -> float:
    """How far a backtest's coverage may stray from ``level`` % before it counts as off: half
    the nominal miss rate (±10 points for 80 %, ±2.5 for 95 %), or two binomial standard errors
    of a share measured on ``independent`` points when that is wider. Errors of one origin's
    day are shared by its slots, so the points are the (origin, day) pairs, not the rows."""
    p = level / 100
    return max((1 - p) / 2, 2 * np.sqrt(p * (1 - p) / max(independent, 1)))


def widening(frame: pd.DataFrame, level: int) -> float:
    """The split-conformal factor on the ``level`` % band's half-widths: the smallest k whose
    widened bands hold the nominal share of the backtest's actuals (1 when they already do)."""
    f, a = frame["forecast"].to_numpy(float), frame["actual"].to_numpy(float)
    lo, hi = frame[f"lo{level}"].to_numpy(float), frame[f"hi{level}"].to_numpy(float)
    below = a < f
    half = np.where(below, f - lo, hi - f)
    miss = np.abs(a - f)
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(miss == 0, 0.0, np.where(half > 0, miss / half, np.inf))
    n = len(need)
    if n == 0:
        return 1.0
    rank = min(int(np.ceil((n + 1) * level / 100)), n)  # split conformal's finite-sample rank
    k = float(np.sort(need)[rank - 1])
    return float(np.clip(k, 1.0, MAX_WIDENING))


def band_calibration(frame: pd.DataFrame) -> dict:
    """``calibration`` (one line: "ok", or what is off and what was done) and the widening of
    each level's band (``band_factor80``, ``band_factor95``: 1 unless the backtest's coverage
    is below nominal by more than :func:`tolerance`) for one leaderboard entry's backtest rows."""
    independent = int(
        frame.assign(day=pd.DatetimeIndex(frame["timestamp"]).normalize()).groupby(["origin", "day"]).ngroups
    )
    out: dict = {f"band_factor{level}": 1.0 for level in LEVELS}
    said = []
    for level in LEVELS:
        if f"lo{level}" not in frame or independent < MIN_POINTS:
            continue
        inside = (frame["actual"] >= frame[f"lo{level}"]) & (frame["actual"] <= frame[f"hi{level}"])
        coverage = float(inside.mean())
        off = coverage - level / 100
        if abs(off) <= tolerance(level, independent):
            continue
        if off < 0:
            k = widening(frame, level)
            out[f"band_factor{level}"] = k
            capped = " (capped)" if k >= MAX_WIDENING else ""
            said.append(
                f"backtest {coverage * 100:.0f} % inside its {level} % band: widened ×{k:.2g}{capped}"
            )
        else:
            said.append(
                f"backtest {coverage * 100:.0f} % inside its {level} % band: wider than needed, left so"
            )
    actual = float(frame["actual"].sum())
    bias = float((frame["forecast"] - frame["actual"]).sum() / actual) if actual else 0.0
    if abs(bias) > BIAS_LIMIT:
        said.append(
            f"biased: forecasts {abs(bias) * 100:.0f} % {'above' if bias > 0 else 'below'} the backtest's actuals"
        )
    out["calibration"] = "; ".join(said) or "ok"
    return out


def band_factors(entry: pd.Series | dict) -> dict[int, float]:
    """The widening of each level's band a leaderboard row (``entry``) asks for."""
    return {level: float(entry.get(f"band_factor{level}", 1.0) or 1.0) for level in LEVELS}


def needs_recalibration(entry: pd.Series | dict) -> bool:
    return any(factor > 1.0 for factor in band_factors(entry).values())
