"""The forecaster contract and the prediction intervals every model shares.

Intervals come from the model's own out-of-sample errors: ``fit`` first refits the model on
the history without its last days, forecasts those days, and finds for each level the spread
(negative-binomial dispersion for counts, relative spread for handle times) whose interval
holds that share of the held-out actuals: conformal-style, so a few wild days in a holdout
widen the 95 % band, not the 80 % one, as squared errors would. A model that forecasts badly
gets wide intervals, as it should.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats
from sklearn.base import BaseEstimator, clone

from forecasting.calendar import OperatingCalendar
from forecasting.errors import InputError
from forecasting.history.anomalies import clean_series
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


class Forecaster(BaseEstimator):
    """Base class: subclasses implement ``_fit`` and ``_predict_mean`` on open slots only."""

    min_history_days: int = 7  # open days of history the model needs
    distribution: str = "negbin"  # "negbin" for counts, "normal" for handle times
    clean: bool = (
        True  # learn from the history with its anomalies mended (see fit); a parameter of every model
    )

    # --- public contract ------------------------------------------------------------------
    def fit(self, history: pd.Series, calendar: OperatingCalendar | None = None) -> Forecaster:
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
        end = history.index.max()
        if getattr(self, "clean", True):  # spikes, special days, a stopped feed, an old level: not the future
            history = clean_series(
                history,
                self.calendar_.interval,
                self.distribution == "negbin",
                keep=self._known_days(history),
            )
            days = history.index.normalize().unique()
        pooled, self.calibration_points_, by_lead, self.error_sharing_ = self._calibrate(history, days)
        self._fit(history)
        if self.calibration_points_ == 0:
            # Too short to hold days out: in-sample errors, widened because they flatter the model.
            fitted = np.clip(self._predict_mean(history.index), 0.0, None)
            y = history.to_numpy()
            pooled = {level: IN_SAMPLE_WIDENING * estimate_spread(y, fitted, self.distribution, level)
                      for level in LEVELS}  # fmt: skip
        self.pooled_spreads_ = pooled
        self.spread_curves_ = {
            level: _spread_curve([(d, n, spread[level]) for d, n, spread in by_lead], pooled[level])
            for level in LEVELS
        }
        self.spread_ = pooled[LEVELS[0]]  # the narrower level's: the 'typical' spread (rate_sd)
        self.spread_curve_ = self.spread_curves_[LEVELS[0]]
        self.history_end_ = end  # forecasts start after the data as given, cleaned or not
        return self

    def predict(self, timestamps, levels: tuple[int, ...] = LEVELS) -> pd.DataFrame:
        """Forecast and interval bounds per timestamp; closed slots are 0."""
        ts = pd.DatetimeIndex(timestamps)
        is_open = self.calendar_.is_open(ts)
        mean = np.zeros(len(ts))
        if is_open.any():
            mean[is_open] = np.clip(np.asarray(self._predict_mean(ts[is_open]), dtype=float), 0.0, None)
        out = pd.DataFrame({"forecast": mean}, index=ts)
        out.index.name = "timestamp"
        inner_lo, inner_hi = mean, mean
        for level in sorted(levels):
            lo, hi = interval_bounds(mean, level, self.distribution, self.spread_at(ts, level))
            factor = self.band_factor(level)
            if factor != 1.0:
                lo, hi = np.maximum(mean - factor * (mean - lo), 0.0), mean + factor * (hi - mean)
            # never excluding the forecast (integer quantiles) nor a narrower level's band
            lo, hi = np.minimum(lo, inner_lo), np.maximum(hi, inner_hi)
            inner_lo, inner_hi = lo, hi
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
        at, values, slope = curve
        inside = np.interp(leads, at, values)
        # beyond the longest lead measured, φ grows at most in proportion to the lead (the sd
        # like its square root, as a level drifting at random would): a steep line through a
        # few noisy buckets would otherwise reach any spread within a year and a half
        slope = min(slope, values[-1] / max(at[-1], 1.0))
        beyond = values[-1] + slope * np.maximum(leads - at[-1], 0.0)
        return np.maximum(np.where(leads > at[-1], beyond, inside), floor)

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

    def _calibrate(
        self, history: pd.Series, days: pd.DatetimeIndex
    ) -> tuple[dict, int, list, tuple[float, float] | None]:
        """Pooled spread per level, the number of points it rests on, and (mean lead, points,
        spread per level) per lead bucket of the holdouts: three short ones (the last weeks,
        day by day), one forecasting the last two weeks (leads beyond a short holdout's were
        extrapolated, and too wide: 30-minute coverage 0.86-0.90 at 8-14 days ahead) and, once
        the history is long enough, long ones forecasting the last month,
        quarter, half year and year from the past before them, so long horizons get the errors
        of long horizons."""
        holdouts = []
        for k in range(1, CALIBRATION_ORIGINS + 1):
            start = len(days) - k * CALIBRATION_DAYS
            if start < self.min_history_days:
                break
            stop = days[min(start + CALIBRATION_DAYS, len(days) - 1)] if k > 1 else None
            holdouts.append((days[start], stop))
        if len(days) >= max(self.min_history_days + MEDIUM_CALIBRATION_LEAD, 4 * MEDIUM_CALIBRATION_LEAD):
            holdouts.append((days[len(days) - MEDIUM_CALIBRATION_LEAD], None))
        if len(days) >= LONG_CALIBRATION_MIN_DAYS:
            for lead in LONG_CALIBRATION_LEADS:
                start = len(days) - lead
                if start >= max(self.min_history_days, lead // 2, LONG_CALIBRATION_MIN_DAYS // 2):
                    holdouts.append((days[start], None))
        actual, forecast, leads = [], [], []  # per holdout
        for cut, stop in holdouts:
            train = history[history.index < cut]
            test = history[(history.index >= cut) & ((history.index < stop) if stop is not None else True)]
            model = self._point_model(train)
            actual.append(test.to_numpy())
            forecast.append(np.clip(model._predict_mean(test.index), 0.0, None))
            test_days = test.index.normalize()
            leads.append(np.searchsorted(test_days.unique(), test_days) + 1)
        if not actual:
            return {level: 0.0 for level in LEVELS}, 0, [], None
        y, mu, lead = np.concatenate(actual), np.concatenate(forecast), np.concatenate(leads)
        bucket = _pooled_buckets(np.searchsorted(LEAD_BUCKET_EDGES, lead, side="right"))

        def spreads(part: np.ndarray) -> dict[int, float]:
            return {level: estimate_spread(y[part], mu[part], self.distribution, level) for level in LEVELS}

        by_lead = [(float(lead[bucket == b].mean()), int((bucket == b).sum()), spreads(bucket == b))
                   for b in np.unique(bucket)]  # fmt: skip
        sharing = unshared_noise(actual, forecast, leads) if self.distribution == "negbin" else None
        return spreads(np.ones(len(y), bool)), len(y), by_lead, sharing


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
    share = min(1.0, np.ceil((len(y) + 1) * level / 100) / len(y))  # split conformal's finite-sample rank
    if distribution != "negbin":
        z = stats.norm.ppf(0.5 + level / 200)
        return float(np.quantile(np.abs(y - mu) / mu, share) / z)
    held = _NegbinCoverage(y, mu, level)
    if held(0.0) >= share:  # Poisson noise alone explains the errors
        return 0.0
    low, high = 1e-6, max(4 * estimate_spread(y, mu, "negbin"), 1e-3)
    while held(high) < share and high < 1e4:
        low, high = high, high * 4
    for _ in range(30):  # bisection on a log scale: coverage only grows with φ
        middle = np.sqrt(low * high)
        low, high = (middle, high) if held(middle) < share else (low, middle)
        if high / low < 1.01:
            break
    return float(high)


class _NegbinCoverage:
    """The share of actuals ``y`` inside the ``level`` % bands of :func:`interval_bounds`
    around ``mu`` for a dispersion φ, without computing the bands: y lies inside [lo, hi] when
    the CDF at ⌊y⌋ reaches the lower tail and the CDF at ⌈y⌉ − 1 stays below the upper one
    (lo and hi being the smallest counts whose CDF reaches each), and the CDF is one special
    function (the regularized incomplete beta; gamma for Poisson) where ``ppf`` searches. The
    spread search calls this a dozen times per bucket and level, in every fit: it was most of
    a simple model's fit time."""

    def __init__(self, y: np.ndarray, mu: np.ndarray, level: int):
        self.y, self.mu = y, np.maximum(mu, 1e-12)
        self.level, self.tail = level, (1 - level / 100) / 2
        self.floor_y, self.below_y = np.floor(y), np.ceil(y) - 1
        self._wide: tuple[np.ndarray, np.ndarray] | None = None  # the φ = 1 bands, computed once

    def __call__(self, phi: float) -> float:
        if phi > NEGBIN_MAX_PHI:  # the φ = 1 band widened on the log scale (interval_bounds)
            if self._wide is None:
                self._wide = _negbin_bounds(self.mu, self.tail, np.full(self.mu.shape, NEGBIN_MAX_PHI))
            lo, hi = interval_bounds(self.mu, self.level, "negbin", phi, at_max_phi=self._wide)
            return float(np.mean((self.y >= lo) & (self.y <= hi)))
        low_ok = self._cdf(self.floor_y, phi) >= self.tail
        high_ok = self._cdf(self.below_y, phi) < 1 - self.tail
        return float(np.mean(low_ok & high_ok))

    def _cdf(self, k: np.ndarray, phi: float) -> np.ndarray:
        counts = np.maximum(k, 0.0)
        if phi <= 1e-9:
            cdf = special.pdtr(counts, self.mu)
        else:
            n = 1.0 / phi
            cdf = special.betainc(n, counts + 1, n / (n + self.mu))
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
    poisson = stats.poisson(mu)
    n = 1.0 / np.maximum(spread, 1e-9)
    nbinom = stats.nbinom(n, n / (n + mu))
    counts = spread > 1e-9
    return (
        np.where(counts, nbinom.ppf(tail), poisson.ppf(tail)),
        np.where(counts, nbinom.ppf(1 - tail), poisson.ppf(1 - tail)),
    )
