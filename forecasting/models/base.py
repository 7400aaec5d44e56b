"""The forecaster contract and the prediction intervals every model shares.

Intervals come from the model's own out-of-sample errors: ``fit`` first refits the model on
the history without its last days, forecasts those days, and finds for each level the spread
(negative-binomial dispersion for counts, relative spread for handle times) whose interval
holds that share of the held-out actuals: conformal-style, so a few wild days in a holdout
widen the 95 % band, not the 80 % one, as squared errors would. A model that forecasts badly
gets wide intervals, as it should.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special, stats
from sklearn.base import BaseEstimator, clone
from threadpoolctl import ThreadpoolController

from forecasting.calendar import OperatingCalendar
from forecasting.common.errors import InputError
from forecasting.history.anomalies import LEVEL_SHIFT_ATTR, MIN_DAYS_AFTER_SHIFT, clean_series
from forecasting.slots import as_history, calendar_of

LEVELS = (80, 95)
CALIBRATION_ORIGINS = 3  # inner holdouts used to measure the model's own error
CALIBRATION_DAYS = 5  # open days per inner holdout
IN_SAMPLE_WIDENING = 2.0  # applied to in-sample spread when the history is too short for holdouts
SPREAD_FLOOR = 0.5  # no lead time's spread below half the pooled one: bands never collapse
MEDIUM_CALIBRATION_LEAD = 14  # open days of the two-week holdout: leads beyond the short ones measured
LONG_CALIBRATION_MIN_DAYS = 182  # open days of history before long holdouts are drawn
LONG_CALIBRATION_LEADS = (28, 91, 182, 364)  # open days each long holdout forecasts
# lead days pooled per spread estimate: single days for the first week, then wider buckets
LEAD_BUCKET_EDGES = np.array([2, 3, 4, 5, 6, 7, 8, 15, 29, 57, 92, 183, 274, 365])
MIN_BUCKET_POINTS = 60  # neighbouring buckets are pooled until each holds this many errors
SHORT_LEAD_DAYS = 7  # a backtest with fewer than MIN_BUCKET_POINTS errors this close gets short holdouts too


def mended_once(
    models: Iterable[tuple[str, Forecaster]],
    history: pd.Series,
    interval: pd.Timedelta,
    done: dict | None = None,
) -> dict[str, pd.Series | None]:
    """Each model's history mended as it learns from it (None: as it is), mended once per way
    of mending (most models mend alike); ``done``: the mended histories so far, by way of
    mending, kept across calls on the same history."""
    done = {} if done is None else done
    out = {}
    for name, model in models:
        key = model.mending_key(history)
        if key is not None and key not in done:
            done[key] = model.mended(history, interval)
        out[name] = done.get(key) if key is not None else None
    return out


_thread_pools: tuple[int, ThreadpoolController] | None = None  # (modules loaded, their pools)


def one_thread() -> AbstractContextManager:
    """Fits and forecasts run on one thread of OpenMP and BLAS. A series of a few thousand
    points gains nothing from more, and with the cores busy (the backtest's other process, any
    other program) their threads spin-wait on each other: on the 2-core machine, with another
    job running, a gradient-boosting fit took 3-19 s instead of 0.5 s and a Poisson GLM's
    gradient 18 ms instead of 2. Parallelism is the backtest's, over processes.

    Finding the loaded thread pools walks every shared library (3 ms, fifty times a forecast),
    so they are found again only when a module was imported since (a new pool comes with one)."""
    global _thread_pools
    if _thread_pools is None or _thread_pools[0] != len(sys.modules):
        _thread_pools = (len(sys.modules), ThreadpoolController())
    return _thread_pools[1].limit(limits=1)


class Forecaster(BaseEstimator):
    """Base class: subclasses implement ``_fit`` and ``_predict_mean`` on open slots only."""

    min_history_days: int = 7  # open days of history the model needs
    distribution: str = "negbin"  # "negbin" for counts, "normal" for handle times
    clean: bool = (
        True  # learn from the history with its anomalies mended (see fit); a parameter of every model
    )

    # --- public contract ------------------------------------------------------------------
    def fit(
        self,
        history: pd.Series,
        calendar: OperatingCalendar | None = None,
        residuals: pd.DataFrame | None = None,
        mended: pd.Series | None = None,
    ) -> Forecaster:
        """Fit the model and its bands. ``residuals``: this model's out-of-sample errors from a
        rolling-origin backtest of the same history (rows with origin, actual, forecast,
        horizon_day; see :func:`backtest_errors`): the bands are matched to them by lead, and
        the model is fitted once. Backtest origins weeks apart (a year ahead) leave few errors
        a few days ahead: then the short holdouts below are added (``_few_short_errors``).
        Origins before a level shift the mending rescaled the older days for forecast the old
        level into the new one: their errors are left out (with fewer than two origins left, the holdouts below instead; on
        generated daily series with a shift, the bands held 0.89-0.98 of the future otherwise).
        Without residuals the model holds out its own last days, a refit per holdout
        (``_holdout_errors``): what a model fitted with no backtest needs. ``mended``: the
        history already mended as ``mending_key`` says (see ``fit_point``)."""
        history, days = self._prepare(history, calendar, mended)
        with one_thread():
            if residuals is None:
                errors = self._holdout_errors(history, days)
            else:
                errors = backtest_errors(_after_level_shift(residuals, history))
                if len(errors) < 2:  # a level shift mended lately: the holdouts of the mended history
                    errors = self._holdout_errors(history, days)
                elif _few_short_errors(residuals, errors):
                    errors += self._holdout_errors(history, days, short_only=True)
            self._fit(history)
            self._set_spreads(errors, history)
        return self

    def fit_point(
        self, history: pd.Series, calendar: OperatingCalendar | None = None, mended: pd.Series | None = None
    ) -> Forecaster:
        """Fit for point forecasts only (``predict(..., levels=())``): a backtest cell, whose
        bands come from the other cells' errors (forecasting.calibration.conformal_bands).
        ``mended``: the history already mended as ``mending_key`` says (a backtest mends each
        origin's past once for all models that mend it alike)."""
        history, _ = self._prepare(history, calendar, mended)
        with one_thread():
            self._fit(history)
        return self

    def mending_key(self, history: pd.Series) -> tuple | None:
        """What mending ``history`` depends on for this model (None: it learns from it as it
        is): models with equal keys learn from the same mended history."""
        if not getattr(self, "clean", True):
            return None
        return (self.distribution, tuple(self._known_days(history)))

    def mended(self, history: pd.Series, interval: pd.Timedelta) -> pd.Series:
        """The history as this model learns from it (see ``fit``)."""
        history = as_history(history)
        if self.mending_key(history) is None:
            return history
        return clean_series(history, interval, self.distribution == "negbin", keep=self._known_days(history))

    def _prepare(
        self, history: pd.Series, calendar: OperatingCalendar | None, mended: pd.Series | None = None
    ) -> tuple[pd.Series, pd.DatetimeIndex]:
        """The history checked and mended as the model learns from it, and its days."""
        history = as_history(history)
        self.calendar_ = calendar or calendar_of(history)
        days = history.index.normalize().unique()
        if len(days) < self.min_history_days:
            raise InputError(
                "too little history",
                column=str(history.name),
                expected=f"at least {self.min_history_days} days with data for {type(self).__name__}",
                found=f"{len(days)} days",
            )
        self.history_end_ = history.index.max()  # forecasts start after the data as given, cleaned or not
        if mended is not None:
            history = mended
            days = history.index.normalize().unique()
        elif getattr(
            self, "clean", True
        ):  # spikes, special days, a stopped feed, an old level: not the future
            history = self.mended(history, self.calendar_.interval)
            days = history.index.normalize().unique()
        return history, days

    def _set_spreads(self, errors: list[HoldoutError], history: pd.Series) -> None:
        """Spreads by lead and level from out-of-sample errors; in-sample ones, widened, when
        the history was too short to hold any days out."""
        spreads = lead_spreads(errors, self.distribution)
        if spreads.points == 0:  # in-sample errors, widened because they flatter the model
            fitted = np.clip(self._predict_mean(history.index), 0.0, None)
            y = history.to_numpy()
            pooled = {
                level: IN_SAMPLE_WIDENING * estimate_spread(y, fitted, self.distribution, level)
                for level in LEVELS
            }
            spreads = LeadSpreads(
                pooled, {level: _spread_curve([], pooled[level]) for level in LEVELS}, 0, None
            )
        self.pooled_spreads_, self.spread_curves_ = spreads.pooled, spreads.curves
        self.calibration_points_, self.error_sharing_ = spreads.points, spreads.sharing
        self.spread_ = spreads.pooled[LEVELS[0]]  # the narrower level's: the 'typical' spread (rate_sd)
        self.spread_curve_ = spreads.curves[LEVELS[0]]

    def predict(self, timestamps, levels: tuple[int, ...] = LEVELS) -> pd.DataFrame:
        """Forecast and interval bounds per timestamp; closed slots are 0."""
        ts = pd.DatetimeIndex(timestamps)
        is_open = self.calendar_.is_open(ts)
        mean = np.zeros(len(ts))
        if is_open.any():
            with one_thread():
                mean[is_open] = np.clip(np.asarray(self._predict_mean(ts[is_open]), dtype=float), 0.0, None)
        out = pd.DataFrame({"forecast": mean}, index=ts)
        out.index.name = "timestamp"
        bands = nested_bands(
            mean, levels, self.distribution, lambda level: self.spread_at(ts, level), self.band_factor
        )
        for level, (lo, hi) in bands.items():
            out[f"lo{level}"], out[f"hi{level}"] = np.where(is_open, lo, 0.0), np.where(is_open, hi, 0.0)
        return out

    def spread_at(self, timestamps, level: int = LEVELS[0]) -> np.ndarray | float:
        """The spread (φ, or the relative error) of the ``level`` % interval at each timestamp's
        lead time: errors grow the further ahead a day is, as the model's own holdouts measured
        per lead bucket (never shrinking with the lead, growing along the fitted line beyond
        the longest lead measured but at most in proportion to the lead, never below half the
        pooled spread)."""
        leads = open_days_ahead(self.calendar_, self.history_end_, pd.DatetimeIndex(timestamps))
        curves = getattr(self, "spread_curves_", None)
        curve = curves[level] if curves else getattr(self, "spread_curve_", None)
        floor = SPREAD_FLOOR * (self.pooled_spreads_[level] if curves else self.spread_)
        if curve is None:  # a model fitted before spreads depended on the lead
            slope = getattr(self, "spread_slope_", None)
            if slope is None:
                return self.spread_
            return np.maximum(self.spread_level_ + slope * leads, SPREAD_FLOOR * self.spread_)
        return spread_on_curve(curve, leads, floor)

    def band_factor(self, level: int = LEVELS[0]) -> float:
        """The factor on the half-widths of the ``level`` % band that the backtest's calibration
        set (1 until ``recalibrate``; see forecasting.calibration)."""
        return float(getattr(self, "band_factors_", {}).get(level, 1.0))

    def recalibrate(self, factors: dict[int, float]) -> Forecaster:
        """Widen each level's band around the forecast by ``factors[level]`` from now on (on top
        of any earlier factor), and the rate's uncertainty (``rate_sd``, which period totals and
        scenarios use) by the 80 % band's: the one place a backtest's measured coverage corrects
        a fitted model's bands. Half-widths, not φ: that is what the backtest measured, and a
        count's Poisson part, which φ does not reach, widens too."""
        self.band_factors_ = {int(level): self.band_factor(level) * float(f) for level, f in factors.items()}
        return self

    def rate_sd(self, timestamps) -> np.ndarray:
        """Standard deviation of the expected count itself per timestamp: the uncertainty of the
        arrival rate, beyond the Poisson noise of arrivals around it that queueing models add
        themselves. For counts (Var = μ + φμ²) that is √φ·μ; for 'normal' series, spread·μ."""
        mean = self.predict(timestamps, levels=())["forecast"].to_numpy()
        spread = self.spread_at(timestamps)
        return (np.sqrt(spread) if self.distribution == "negbin" else spread) * mean * self.band_factor()

    def error_sharing(self) -> tuple[float, float]:
        """(a slot's own noise, a day's own noise): the parts of φ the holdouts found not
        shared with other slots of the day, or with other days. A week's or month's total adds
        these in quadrature and the rest of each slot's spread in full (a level that is off
        stays off for weeks; the further ahead, the larger that rest). (0, 0) when nothing was
        measured: everything shared, the widest totals."""
        return getattr(self, "error_sharing_", None) or (0.0, 0.0)

    def _known_days(self, history: pd.Series) -> pd.DatetimeIndex:
        """Special days the model learns the effect of (holidays, the planner's dates): left as
        they are when the history is mended."""
        special = getattr(self, "special_days", None)
        if not special:
            return pd.DatetimeIndex([])
        return special.between(history.index.min(), history.index.max()).index

    # --- for subclasses -------------------------------------------------------------------
    def _fit(self, history: pd.Series) -> None:
        raise NotImplementedError

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        raise NotImplementedError

    # --- calibration ----------------------------------------------------------------------
    def _point_model(self, history: pd.Series) -> Forecaster:
        """A clone fitted for point forecasts only (no nested calibration), knowing only its past."""
        model = clone(self)
        model.calendar_ = calendar_of(history, self.calendar_.interval)
        model._fit(history)
        return model

    def _holdout_errors(
        self, history: pd.Series, days: pd.DatetimeIndex, short_only: bool = False
    ) -> list[HoldoutError]:
        """The model's own out-of-sample errors when no backtest gave them: three short
        holdouts (the last weeks, day by day), one forecasting the last two weeks (leads beyond
        a short holdout's were extrapolated, and too wide: 30-minute coverage 0.86-0.90 at 8-14
        days ahead) and, once the history is long enough, long ones forecasting the last month,
        quarter, half year and year from the past before them, so long horizons get the errors
        of long horizons (not with ``short_only``). A refit per holdout."""
        holdouts = []
        for k in range(1, CALIBRATION_ORIGINS + 1):
            start = len(days) - k * CALIBRATION_DAYS
            if start < self.min_history_days:
                break
            stop = days[min(start + CALIBRATION_DAYS, len(days) - 1)] if k > 1 else None
            holdouts.append((days[start], stop))
        if len(days) >= max(self.min_history_days + MEDIUM_CALIBRATION_LEAD, 4 * MEDIUM_CALIBRATION_LEAD):
            holdouts.append((days[len(days) - MEDIUM_CALIBRATION_LEAD], None))
        if len(days) >= LONG_CALIBRATION_MIN_DAYS and not short_only:
            for lead in LONG_CALIBRATION_LEADS:
                start = len(days) - lead
                if start >= max(self.min_history_days, lead // 2, LONG_CALIBRATION_MIN_DAYS // 2):
                    holdouts.append((days[start], None))
        errors = []
        for cut, stop in holdouts:
            train = history[history.index < cut]
            test = history[(history.index >= cut) & ((history.index < stop) if stop is not None else True)]
            model = self._point_model(train)
            test_days = test.index.normalize()
            errors.append(
                HoldoutError(
                    test.to_numpy(),
                    np.clip(model._predict_mean(test.index), 0.0, None),
                    np.searchsorted(test_days.unique(), test_days) + 1,
                )
            )
        return errors


class HoldoutError(NamedTuple):
    """One holdout's (or one backtest origin's) actuals, forecasts and leads (open days ahead,
    1 first), and, once computed, each point's need per level (:func:`error_needs`)."""

    actual: np.ndarray
    forecast: np.ndarray
    lead: np.ndarray
    needs: dict[int, np.ndarray] | None = None


class LeadSpreads(NamedTuple):
    """Spreads measured on out-of-sample errors: pooled and by lead (a curve) per level, the
    number of errors they rest on, and the noise not shared between slots and days."""

    pooled: dict[int, float]
    curves: dict[int, tuple[np.ndarray, np.ndarray, float]]
    points: int
    sharing: tuple[float, float] | None


def _few_short_errors(residuals: pd.DataFrame, errors: list[HoldoutError]) -> bool:
    """Whether a backtest's origins lie more than a week apart (a year ahead: four weeks) and
    leave fewer than ``MIN_BUCKET_POINTS`` errors within a week ahead: its first week then rests
    on a few weeks of the past (generated daily series: 80 % coverage 0.69 in the first week).
    Origins a day apart cover the last days themselves; there the holdouts changed no band."""
    origins = pd.DatetimeIndex(residuals["origin"].unique()).sort_values()
    apart = len(origins) > 1 and (origins[1:] - origins[:-1]).min() > pd.Timedelta(days=SHORT_LEAD_DAYS)
    return bool(apart) and sum(int((e.lead <= SHORT_LEAD_DAYS).sum()) for e in errors) < MIN_BUCKET_POINTS


def _after_level_shift(residuals: pd.DataFrame, mended: pd.Series) -> pd.DataFrame:
    """The backtest rows of origins whose past the mending of that past had brought to the new
    level (``MIN_DAYS_AFTER_SHIFT`` days after a shift the history's mending found), or all."""
    shift = mended.attrs.get(LEVEL_SHIFT_ATTR)
    if shift is None:
        return residuals
    return residuals[residuals["origin"] >= pd.Timestamp(shift) + pd.Timedelta(days=MIN_DAYS_AFTER_SHIFT)]


def backtest_errors(residuals: pd.DataFrame, actual: pd.Series | None = None) -> list[HoldoutError]:
    """A backtest's rows of one model as one ``HoldoutError`` per origin (its horizon days are
    the leads); with ``actual`` (the mended history), the actuals as it has them, rows it
    left out (a stopped feed) dropped."""
    out = []
    for _, part in residuals.groupby("origin", sort=True):
        y = part["actual"].to_numpy(float)
        if actual is not None:
            y = actual.reindex(pd.DatetimeIndex(part["timestamp"])).to_numpy(float)
        known = np.isfinite(y)
        out.append(
            HoldoutError(
                y[known],
                np.clip(part["forecast"].to_numpy(float)[known], 0.0, None),
                part["horizon_day"].to_numpy(int)[known],
            )
        )
    return out


def lead_spreads(errors: list[HoldoutError], distribution: str, sharing: bool = True) -> LeadSpreads:
    """Pooled spread per level, and per lead bucket (pooled with neighbours until each holds
    enough errors) the spreads made into a curve by lead (``_spread_curve``); split-conformal
    per bucket, as ``estimate_spread`` matches each level's share. Each error's own need
    (:func:`error_needs`) is computed once; ``sharing``: also the noise not shared between slots
    and days (``unshared_noise``), which fitted models keep and backtest bands do not use."""
    if not errors:
        zero = {level: 0.0 for level in LEVELS}
        return LeadSpreads(zero, {level: _spread_curve([], 0.0) for level in LEVELS}, 0, None)
    lead = np.concatenate([e.lead for e in errors])
    needs = {level: np.concatenate([error_needs(e, distribution)[level] for e in errors]) for level in LEVELS}
    bucket = _pooled_buckets(np.searchsorted(LEAD_BUCKET_EDGES, lead, side="right"))

    def spreads(part: np.ndarray) -> dict[int, float]:
        return {level: spread_from_needs(needs[level][part], distribution, level) for level in LEVELS}

    pooled = spreads(np.ones(len(lead), bool))
    by_lead = [
        (float(lead[bucket == b].mean()), int((bucket == b).sum()), spreads(bucket == b))
        for b in np.unique(bucket)
    ]
    curves = {
        level: _spread_curve([(d, n, spread[level]) for d, n, spread in by_lead], pooled[level])
        for level in LEVELS
    }
    shared = None
    if sharing and distribution == "negbin":
        shared = unshared_noise(
            [e.actual for e in errors], [e.forecast for e in errors], [e.lead for e in errors]
        )
    return LeadSpreads(pooled, curves, len(lead), shared)


def error_needs(error: HoldoutError, distribution: str) -> dict[int, np.ndarray]:
    """Each point's need per level (:func:`spread_needs`); points without a usable forecast
    (not finite, or 0) are NaN: left out, as ``estimate_spread`` leaves them."""
    if error.needs is not None:
        return error.needs
    y, mu = error.actual, error.forecast
    ok = np.isfinite(y) & np.isfinite(mu) & (mu > 0)
    out = {}
    for level in LEVELS:
        need = np.full(len(y), np.nan)
        need[ok] = spread_needs(y[ok], mu[ok], distribution, level)
        out[level] = need
    return out


def spread_on_curve(
    curve: tuple[np.ndarray, np.ndarray, float], leads: np.ndarray, floor: float
) -> np.ndarray:
    """A spread curve read at ``leads``: interpolated between the buckets measured; beyond the
    longest lead measured, φ grows at most in proportion to the lead (the sd like its square
    root, as a level drifting at random would): a steep line through a few noisy buckets would
    otherwise reach any spread within a year and a half; never below ``floor``."""
    at, values, slope = curve
    inside = np.interp(leads, at, values)
    slope = min(slope, values[-1] / max(at[-1], 1.0))
    beyond = values[-1] + slope * np.maximum(leads - at[-1], 0.0)
    return np.maximum(np.where(leads > at[-1], beyond, inside), floor)


SHARED_ERROR_DAYS = 28  # errors of days this close in one holdout count as shared (a month)


def unshared_noise(
    actual: list[np.ndarray], forecast: list[np.ndarray], leads: list[np.ndarray]
) -> tuple[float, float] | None:
    """A slot's and a day's own noise in the holdouts' errors (see ``error_sharing``), by
    moments: with r = actual − forecast per slot and D its sum per day (M the day's
    forecast), φ = Σ(r² − μ)/Σμ²; two slots of one day share Σ(D² − Σr²)/Σ(M² − Σμ²); two
    days up to four weeks apart in one holdout share ΣD·D'/ΣM·M'. A slot's own noise is φ
    less the first, a day's the first less the second. None when there is too little."""
    num_day = den_day = num_across = den_across = excess = scale = 0.0
    for y, mu, lead in zip(actual, forecast, leads, strict=True):
        r = y - mu
        excess += float(np.sum(r**2 - mu))
        scale += float(np.sum(mu**2))
        n_days = int(lead.max())
        D = np.bincount(lead - 1, weights=r, minlength=n_days)
        M = np.bincount(lead - 1, weights=mu, minlength=n_days)
        num_day += float(np.sum(D**2 - np.bincount(lead - 1, weights=r**2, minlength=n_days)))
        den_day += float(np.sum(M**2 - np.bincount(lead - 1, weights=mu**2, minlength=n_days)))
        for k in range(1, min(SHARED_ERROR_DAYS, n_days - 1) + 1):
            num_across += float(D[:-k] @ D[k:])
            den_across += float(M[:-k] @ M[k:])
    if scale <= 0 or excess <= 0 or den_across <= 0:
        return None
    phi = excess / scale
    across = float(np.clip(num_across / den_across, 0.0, phi))
    within = float(np.clip(num_day / den_day, across, phi)) if den_day > 0 else phi
    return phi - within, within - across


def _pooled_buckets(bucket: np.ndarray) -> np.ndarray:
    """Lead buckets merged with their neighbours until each holds enough points for a spread
    estimate: a daily series has one point per holdout and lead day, which alone is noise."""
    labels, counts = np.unique(bucket, return_counts=True)
    merged, group, held = {}, 0, 0
    for label, count in zip(labels, counts, strict=True):
        merged[label] = group
        held += count
        if held >= MIN_BUCKET_POINTS:
            group, held = group + 1, 0
    if 0 < held < MIN_BUCKET_POINTS and group > 0:  # a short tail joins the bucket before it
        for label in labels[-len([v for v in merged.values() if v == group]) :]:
            merged[label] = group - 1
    return np.vectorize(merged.get)(bucket) if len(bucket) else bucket


def _spread_curve(by_lead: list, pooled: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Spread by lead: the per-bucket spreads made non-decreasing (isotonic, weighted by their
    points) at the buckets' mean leads, and the slope of a weighted line through them (never
    negative) to carry the growth beyond the longest lead measured."""
    if len(by_lead) < 2 or pooled <= 0:
        return np.array([1.0]), np.array([pooled]), 0.0
    from sklearn.isotonic import IsotonicRegression

    d, n, phi = (np.array(x, float) for x in zip(*by_lead, strict=True))
    d_mean = np.average(d, weights=n)
    slope = np.average((d - d_mean) * (phi - np.average(phi, weights=n)), weights=n) / np.average(
        (d - d_mean) ** 2, weights=n
    )
    monotone = IsotonicRegression(increasing=True).fit_transform(d, phi, sample_weight=n)
    return d, np.asarray(monotone, float), max(float(slope), 0.0)


def nested_bands(
    mean: np.ndarray,
    levels: tuple[int, ...],
    distribution: str,
    spread_of: Callable[[int], np.ndarray | float],
    factor_of: Callable[[int], float] = lambda level: 1.0,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(lo, hi) per level around ``mean``, each level's half-widths times its factor, never
    excluding the forecast (integer quantiles) nor a narrower level's band: how every
    forecast's and every backtest's bands are drawn."""
    out, inner_lo, inner_hi = {}, mean, mean
    for level in sorted(levels):
        lo, hi = interval_bounds(mean, level, distribution, spread_of(level))
        factor = factor_of(level)
        if factor != 1.0:
            lo, hi = np.maximum(mean - factor * (mean - lo), 0.0), mean + factor * (hi - mean)
        lo, hi = np.minimum(lo, inner_lo), np.maximum(hi, inner_hi)
        inner_lo, inner_hi = lo, hi
        out[level] = (lo, hi)
    return out


def open_weekmask(calendar: OperatingCalendar) -> list[int]:
    """1 for each weekday (Monday first) the centre opens, as numpy's business-day functions take it."""
    return [int(day in calendar.hours) for day in range(7)] if calendar.hours else [1] * 7


def open_days_ahead(
    calendar: OperatingCalendar, end: pd.Timestamp, timestamps: pd.DatetimeIndex
) -> np.ndarray:
    """Open weekdays from the day after ``end`` up to each timestamp's day (1 = the next open day)."""
    weekmask = open_weekmask(calendar)
    start = np.datetime64(pd.Timestamp(end).normalize().date() + pd.Timedelta(days=1).to_pytimedelta(), "D")
    days = timestamps.normalize().to_numpy().astype("datetime64[D]")
    ahead = np.busday_count(start, days + np.timedelta64(1, "D"), weekmask=weekmask)
    return np.maximum(ahead, 1).astype(float)


def estimate_spread(
    actual: np.ndarray, forecast: np.ndarray, distribution: str, level: int | None = None
) -> float:
    """Negative-binomial dispersion φ (Var = μ + φμ²), or the relative error spread for 'normal':
    by moments, or (``level``) the smallest spread whose ``level`` % intervals around the
    forecasts hold that share of the actuals: robust to a few wild points, and right for the
    band it is used for whatever the errors' tails."""
    ok = np.isfinite(actual) & np.isfinite(forecast) & (forecast > 0)
    y, mu = actual[ok], forecast[ok]
    if y.size == 0:
        return 0.0
    if level is not None:
        return _matched_spread(y, mu, distribution, level)
    if distribution == "negbin":
        return float(max(0.0, np.sum((y - mu) ** 2 - mu) / np.sum(mu**2)))
    return float(np.sqrt(np.mean(((y - mu) / mu) ** 2)))


def _matched_spread(y: np.ndarray, mu: np.ndarray, distribution: str, level: int) -> float:
    return spread_from_needs(spread_needs(y, mu, distribution, level), distribution, level)


MAX_PHI = 1e4  # a point no band up to this dispersion holds needs more than any estimate gives


def spread_from_needs(needs: np.ndarray, distribution: str, level: int) -> float:
    """The smallest spread whose ``level`` % bands hold that share of the points, from each
    point's own need (:func:`spread_needs`), at split conformal's finite-sample rank: an order
    statistic, so any subset of points (a lead bucket, the other origins of a backtest) gets its
    spread without new band computations."""
    needs = needs[~np.isnan(needs)]
    n = len(needs)
    if n == 0:
        return 0.0
    share = min(1.0, np.ceil((n + 1) * level / 100) / n)
    if distribution != "negbin":
        return float(np.quantile(needs, share))
    k = min(n, int(np.ceil(share * n - 1e-9)))
    return float(min(np.partition(needs, k - 1)[k - 1], MAX_PHI))


def spread_needs(y: np.ndarray, mu: np.ndarray, distribution: str, level: int) -> np.ndarray:
    """Per point, the smallest spread whose ``level`` % band around its forecast holds its
    actual: the relative error over z for 'normal'; for counts the smallest φ (0 when Poisson
    noise holds it, inf beyond ``MAX_PHI``), by a bisection on the log scale run for all points
    at once (to 1 %): a point's coverage only grows with φ."""
    if distribution != "negbin":
        z = stats.norm.ppf(0.5 + level / 200)
        return np.abs(y - mu) / mu / z
    held = _NegbinCoverage(y, mu, level)
    need = np.full(len(y), np.inf)
    everything = np.arange(len(y))
    need[held.inside(0.0, everything)] = 0.0
    rest = everything[need > 0]
    by_one = held.inside(np.full(len(rest), NEGBIN_MAX_PHI), rest)
    for points, low, high in ((rest[by_one], 1e-6, NEGBIN_MAX_PHI), (rest[~by_one], NEGBIN_MAX_PHI, MAX_PHI)):
        if high == MAX_PHI:  # beyond φ = 1 only points some band up to MAX_PHI holds (others: inf)
            points = points[held.inside(np.full(len(points), MAX_PHI), points)]
        lows, highs = np.full(len(points), low), np.full(len(points), high)
        while len(points) and np.max(highs / lows) >= 1.01:
            middle = np.sqrt(lows * highs)
            inside = held.inside(middle, points)
            highs, lows = np.where(inside, middle, highs), np.where(inside, lows, middle)
        need[points] = highs
    return need


class _NegbinCoverage:
    """Which actuals ``y`` lie inside the ``level`` % bands of :func:`interval_bounds`
    around ``mu`` for a dispersion φ, without computing the bands: y lies inside [lo, hi] when
    the CDF at ⌊y⌋ reaches the lower tail and the CDF at ⌈y⌉ − 1 stays below the upper one
    (lo and hi being the smallest counts whose CDF reaches each), and the CDF is one special
    function (the regularized incomplete beta; gamma for Poisson) where ``ppf`` searches. The
    spread search calls this a dozen times per level in every fit: with ``ppf`` it was most of
    a simple model's fit time."""

    def __init__(self, y: np.ndarray, mu: np.ndarray, level: int):
        self.y, self.mu = y, np.maximum(mu, 1e-12)
        self.level, self.tail = level, (1 - level / 100) / 2
        self.floor_y, self.below_y = np.floor(y), np.ceil(y) - 1
        self._wide: tuple[np.ndarray, np.ndarray] | None = None  # the φ = 1 bands, computed once

    def inside(self, phi: float | np.ndarray, points: np.ndarray) -> np.ndarray:
        """Whether each of ``points`` (indices) lies inside its band at dispersion ``phi`` (one
        for all, or one per point: all at most, or all beyond, φ = 1)."""
        y, mu = self.y[points], self.mu[points]
        if np.any(np.asarray(phi) > NEGBIN_MAX_PHI):  # the φ = 1 band widened on the log scale
            if self._wide is None:
                self._wide = _negbin_bounds(self.mu, self.tail, np.full(self.mu.shape, NEGBIN_MAX_PHI))
            wide = (self._wide[0][points], self._wide[1][points])
            lo, hi = interval_bounds(mu, self.level, "negbin", phi, at_max_phi=wide)
            return (y >= lo) & (y <= hi)
        low_ok = self._cdf(self.floor_y[points], mu, phi) >= self.tail
        return low_ok & (self._cdf(self.below_y[points], mu, phi) < 1 - self.tail)

    @staticmethod
    def _cdf(k: np.ndarray, mu: np.ndarray, phi: float | np.ndarray) -> np.ndarray:
        counts = np.maximum(k, 0.0)
        if np.ndim(phi) == 0 and phi <= 1e-9:
            cdf = special.pdtr(counts, mu)
        else:
            n = 1.0 / np.maximum(phi, 1e-9)
            cdf = special.betainc(n, counts + 1, n / (n + mu))
        return np.where(k < 0, 0.0, cdf)


NEGBIN_MAX_PHI = 1.0  # beyond it the band widens on the log scale (see interval_bounds)


def interval_bounds(
    mean: np.ndarray,
    level: int,
    distribution: str,
    spread: float,
    at_max_phi: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Central interval at ``level`` % around the point forecasts.

    Counts: negative-binomial quantiles (Poisson arrivals around a gamma-distributed rate, Var
    = μ + φμ²) up to φ = 1. Beyond it the gamma's shape 1/φ drops below 1: its density peaks at
    a rate of 0, and holding the mean while the variance grows pushes its central quantiles to
    0 (φ ≈ 3: the 10 % quantile of a 1,000-call day is 2 calls; φ ≈ 30: the 90 % one is below
    the mean), which a planner reads as the band [0, forecast]. A call centre's volume does not
    vanish because a model forecasts it badly, so beyond φ = 1 the φ = 1 band is widened on the
    log scale as a lognormal of relative variance φ widens (log-sd √ln(1+φ)): lo divided, hi
    multiplied by exp(z·(√ln(1+φ) − √ln 2)). The band then keeps the forecast inside and grows
    without bound with φ, which also keeps coverage rising with φ, as ``_matched_spread``'s
    search needs. ``at_max_phi``: the φ = 1 bounds of ``mean``, when the caller has them."""
    tail = (1 - level / 100) / 2
    mean = np.asarray(mean, dtype=float)
    if distribution == "negbin":
        spread = np.broadcast_to(np.asarray(spread, dtype=float), mean.shape)
        beyond = spread > NEGBIN_MAX_PHI
        if at_max_phi is not None and beyond.all():
            lo, hi = at_max_phi
        else:
            lo, hi = _negbin_bounds(mean, tail, np.minimum(spread, NEGBIN_MAX_PHI))
        if not beyond.any():
            return lo, hi
        z = stats.norm.ppf(1 - tail)
        log_sd = np.sqrt(np.log1p(np.maximum(spread, NEGBIN_MAX_PHI)))
        grow = np.exp(z * (log_sd - np.sqrt(np.log1p(NEGBIN_MAX_PHI))))
        return np.where(beyond, np.floor(lo / grow), lo), np.where(beyond, np.ceil(hi * grow), hi)
    z = stats.norm.ppf(1 - tail)
    return np.clip(mean * (1 - z * spread), 0, None), mean * (1 + z * spread)


def _negbin_bounds(mean: np.ndarray, tail: float, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Negative-binomial (Poisson where φ is 0) quantiles at ``tail`` and 1 − ``tail``."""
    mu = np.maximum(mean, 1e-12)
    counts = spread > 1e-9
    n = 1.0 / np.maximum(spread, 1e-9)
    # each distribution only where it is used: a ppf is a root search per point
    lo, hi = np.empty(mu.shape), np.empty(mu.shape)
    if counts.any():
        nbinom = stats.nbinom(n[counts], n[counts] / (n[counts] + mu[counts]))
        lo[counts], hi[counts] = nbinom.ppf(tail), nbinom.ppf(1 - tail)
    if not counts.all():
        poisson = stats.poisson(mu[~counts])
        lo[~counts], hi[~counts] = poisson.ppf(tail), poisson.ppf(1 - tail)
    return lo, hi
