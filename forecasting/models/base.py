"""The forecaster contract and the prediction intervals every model shares.

Intervals come from the model's own out-of-sample errors: ``fit`` first refits the model on
the history without its last days, forecasts those days, and estimates how far actuals
scatter around its forecasts (negative-binomial dispersion for counts, relative spread for
handle times). A model that forecasts badly therefore gets wide intervals, as it should.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
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
            history = clean_series(history, self.calendar_.interval, self.distribution == "negbin")
            days = history.index.normalize().unique()
        self.spread_, self.calibration_points_, by_lead = self._calibrate(history, days)
        self.spread_level_, self.spread_slope_ = _spread_line(by_lead, self.spread_)
        self._fit(history)
        if self.calibration_points_ == 0:
            # Too short to hold days out: in-sample errors, widened because they flatter the model.
            fitted = np.clip(self._predict_mean(history.index), 0.0, None)
            self.spread_ = IN_SAMPLE_WIDENING * estimate_spread(history.to_numpy(), fitted, self.distribution)
            self.spread_level_, self.spread_slope_ = self.spread_, 0.0
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
        spread = self.spread_at(ts)
        for level in levels:
            lo, hi = interval_bounds(mean, level, self.distribution, spread)
            lo, hi = (
                np.minimum(lo, mean),
                np.maximum(hi, mean),
            )  # integer quantiles never exclude the forecast
            out[f"lo{level}"], out[f"hi{level}"] = np.where(is_open, lo, 0.0), np.where(is_open, hi, 0.0)
        return out

    def interval_bounds(self, mean: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
        return interval_bounds(mean, level, self.distribution, self.spread_)

    def spread_at(self, timestamps) -> np.ndarray | float:
        """The spread (φ, or the relative error) at each timestamp's lead time: errors grow the
        further ahead a day is, as the model's own holdouts measured (linear in open days ahead,
        never below half the pooled spread, never shrinking with the lead)."""
        slope = getattr(self, "spread_slope_", None)
        if slope is None:  # a model fitted before spreads depended on the lead
            return self.spread_
        leads = open_days_ahead(self.calendar_, self.history_end_, pd.DatetimeIndex(timestamps))
        return np.maximum(self.spread_level_ + slope * leads, SPREAD_FLOOR * self.spread_)

    def rate_sd(self, timestamps) -> np.ndarray:
        """Standard deviation of the expected count itself per timestamp: the uncertainty of the
        arrival rate, beyond the Poisson noise of arrivals around it that queueing models add
        themselves. For counts (Var = μ + φμ²) that is √φ·μ; for 'normal' series, spread·μ."""
        mean = self.predict(timestamps, levels=())["forecast"].to_numpy()
        spread = self.spread_at(timestamps)
        return (np.sqrt(spread) if self.distribution == "negbin" else spread) * mean

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

    def _calibrate(self, history: pd.Series, days: pd.DatetimeIndex) -> tuple[float, int, list]:
        """Pooled spread, the number of points it rests on, and (lead day, points, spread) per
        lead day of the holdouts."""
        actual, forecast, leads = [], [], []
        for k in range(1, CALIBRATION_ORIGINS + 1):
            start = len(days) - k * CALIBRATION_DAYS
            if start < self.min_history_days:
                break
            cut, stop = days[start], days[min(start + CALIBRATION_DAYS, len(days) - 1)]
            train = history[history.index < cut]
            test = history[(history.index >= cut) & ((history.index < stop) if k > 1 else True)]
            model = self._point_model(train)
            actual.append(test.to_numpy())
            forecast.append(np.clip(model._predict_mean(test.index), 0.0, None))
            test_days = test.index.normalize()
            leads.append(np.searchsorted(test_days.unique(), test_days) + 1)
        if not actual:
            return 0.0, 0, []
        y, mu, lead = np.concatenate(actual), np.concatenate(forecast), np.concatenate(leads)
        by_lead = [(d, int((lead == d).sum()), estimate_spread(y[lead == d], mu[lead == d], self.distribution))
                   for d in np.unique(lead)]  # fmt: skip
        return estimate_spread(y, mu, self.distribution), len(y), by_lead


def _spread_line(by_lead: list, pooled: float) -> tuple[float, float]:
    """Spread as a line in the lead day: the slope fitted to the per-lead spreads (weighted by
    their points, never negative), the level such that the holdouts' leads keep the pooled
    spread on average."""
    if len(by_lead) < 2 or pooled <= 0:
        return pooled, 0.0
    d, n, phi = (np.array(x, float) for x in zip(*by_lead, strict=True))
    d_mean = np.average(d, weights=n)
    slope = np.average((d - d_mean) * (phi - np.average(phi, weights=n)), weights=n) / np.average(
        (d - d_mean) ** 2, weights=n
    )
    slope = max(float(slope), 0.0)
    return pooled - slope * d_mean, slope


def open_days_ahead(
    calendar: OperatingCalendar, end: pd.Timestamp, timestamps: pd.DatetimeIndex
) -> np.ndarray:
    """Open weekdays from the day after ``end`` up to each timestamp's day (1 = the next open day)."""
    weekmask = [int(day in calendar.hours) for day in range(7)] if calendar.hours else [1] * 7
    start = np.datetime64(pd.Timestamp(end).normalize().date() + pd.Timedelta(days=1).to_pytimedelta(), "D")
    days = timestamps.normalize().to_numpy().astype("datetime64[D]")
    ahead = np.busday_count(start, days + np.timedelta64(1, "D"), weekmask=weekmask)
    return np.maximum(ahead, 1).astype(float)


def estimate_spread(actual: np.ndarray, forecast: np.ndarray, distribution: str) -> float:
    """Negative-binomial dispersion φ (Var = μ + φμ²), or the relative error spread for 'normal'."""
    ok = np.isfinite(actual) & np.isfinite(forecast) & (forecast > 0)
    y, mu = actual[ok], forecast[ok]
    if y.size == 0:
        return 0.0
    if distribution == "negbin":
        return float(max(0.0, np.sum((y - mu) ** 2 - mu) / np.sum(mu**2)))
    return float(np.sqrt(np.mean(((y - mu) / mu) ** 2)))


def interval_bounds(
    mean: np.ndarray, level: int, distribution: str, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central interval at ``level`` % around the point forecasts."""
    tail = (1 - level / 100) / 2
    mean = np.asarray(mean, dtype=float)
    if distribution == "negbin":
        spread = np.broadcast_to(np.asarray(spread, dtype=float), mean.shape)
        mu = np.maximum(mean, 1e-12)
        poisson = stats.poisson(mu)
        n = 1.0 / np.maximum(spread, 1e-9)
        nbinom = stats.nbinom(n, n / (n + mu))
        counts = spread > 1e-9
        return (
            np.where(counts, nbinom.ppf(tail), poisson.ppf(tail)),
            np.where(counts, nbinom.ppf(1 - tail), poisson.ppf(1 - tail)),
        )
    z = stats.norm.ppf(1 - tail)
    return np.clip(mean * (1 - z * spread), 0, None), mean * (1 + z * spread)
