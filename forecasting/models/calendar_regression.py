"""Daily totals months ahead: trend × weekday × time of year × special days, in one regression.

Weekly models forget what a year teaches: the summer dip, the December peak, Easter and
public holidays. For horizons of months that is most of the signal. This model fits the log
of the expected daily total as a sum of a piecewise-linear trend (a knot a year: any freer, it would bend with the season), a
weekday effect, yearly Fourier terms (once the history spans more than a year) and one effect
per named special day, by a Poisson regression that down-weights days far off the fit (Huber
weights), so one wild day does not bend the curve. Ahead of the data the trend keeps its last
slope, damped, because a straight line drawn a year ahead is the classic way to be very wrong.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecasting.special_days import SpecialDays

YEAR_DAYS = 365.25
HUBER_C = 2.0  # Pearson residuals beyond this many standard deviations are down-weighted
ROBUST_PASSES = 2


class DailyCalendarRegression:
    """Poisson regression of daily totals on trend, weekday, yearly season and special days."""

    def __init__(
        self,
        special_days: SpecialDays | None = None,
        yearly_terms: int = 4,
        knot_days: int = 365,
        damping: float = 0.995,
    ):
        self.special_days = special_days
        self.yearly_terms = yearly_terms
        self.knot_days = knot_days
        self.damping = damping  # per day: the trend's slope fades to nothing over about a year

    def fit(self, totals: pd.Series, open_weekdays: list[int], missing_days=()) -> DailyCalendarRegression:
        totals = totals[np.isin(totals.index.day_of_week, open_weekdays)].astype(float)
        days = pd.DatetimeIndex(totals.index)
        self.start_, self.end_ = days.min(), days.max()
        span = (self.end_ - self.start_).days
        self.weekdays_ = sorted(set(open_weekdays) & set(days.day_of_week))
        self.terms_ = self.yearly_terms if span >= YEAR_DAYS + 90 else 0  # a season needs > 1 year
        t_end = self._years(pd.DatetimeIndex([self.end_]))[0]
        step = self.knot_days / YEAR_DAYS
        self.knots_ = (
            np.arange(step, t_end - step + 1e-9, step) if span > 2 * self.knot_days else np.array([])
        )
        seen = self._special(self.start_, self.end_)
        closed = set(pd.to_datetime(list(missing_days)))
        in_data = seen[seen.index.isin(days)]
        self.names_ = sorted(set(in_data))
        # a name whose every past date was a missing day: the centre closes then
        shut = seen[seen.index.isin(list(closed))]
        self.closed_names_ = sorted(set(shut) - set(self.names_))
        X = self._design(days)
        y = totals.to_numpy()
        self.coef_ = _robust_poisson(X, y)
        effects = self.coef_[-len(self.names_) :] if self.names_ else np.array([])
        self.unseen_effect_ = float(np.median(effects)) if len(effects) else 0.0
        # the growth of the last year (or of the whole history if shorter): the last quarter's
        # own slope is mostly noise and season
        t_back = max(t_end - 1.0, 0.0)
        self.slope_end_ = (
            float((self._trend(np.array([t_end])) - self._trend(np.array([t_back])))[0] / (t_end - t_back))
            if t_end - t_back > 0.25
            else 0.0
        )
        self.trend_end_ = float(self._trend(np.array([t_end]))[0])
        return self

    def predict(self, days: pd.DatetimeIndex) -> np.ndarray:
        days = pd.DatetimeIndex(days).normalize()
        X = self._design(days, with_trend=False)
        t = self._years(days)
        ahead = np.maximum((days - self.end_).days.to_numpy(float), 0.0)
        phi = self.damping
        damped_days = phi * (1 - phi**ahead) / (1 - phi) if phi < 1 else ahead
        trend = np.where(
            ahead > 0, self.trend_end_ + self.slope_end_ * damped_days / YEAR_DAYS, self._trend(t)
        )
        n_trend = 1 + len(self.knots_)
        log_mu = X @ self.coef_[n_trend:] + trend
        special = self._special(days.min(), days.max())
        on_day = special.reindex(days)
        unseen = on_day.notna().to_numpy() & ~on_day.isin(self.names_).to_numpy()
        log_mu = log_mu + np.where(unseen, self.unseen_effect_, 0.0)
        mu = np.exp(np.clip(log_mu, -50, 50))
        return np.where(on_day.isin(self.closed_names_).to_numpy(), 0.0, mu)

    # --- the design ----------------------------------------------------------------------
    def _years(self, days: pd.DatetimeIndex) -> np.ndarray:
        return (days - self.start_).days.to_numpy(float) / YEAR_DAYS

    def _special(self, first, last) -> pd.Series:
        if not self.special_days:
            return pd.Series(dtype=object, index=pd.DatetimeIndex([]))
        return self.special_days.between(first, last)

    def _design(self, days: pd.DatetimeIndex, with_trend: bool = True) -> np.ndarray:
        """Columns: [trend: t, hinges] + intercept + weekdays (but the first) + yearly sin/cos
        + one indicator per special-day name seen in the history."""
        t = self._years(days)
        cols = []
        if with_trend:
            cols += [t, *(np.maximum(t - k, 0.0) for k in self.knots_)]
        cols.append(np.ones(len(days)))
        weekday = days.day_of_week.to_numpy()
        cols += [(weekday == d).astype(float) for d in self.weekdays_[1:]]
        angle = 2 * np.pi * days.day_of_year.to_numpy(float) / YEAR_DAYS
        for k in range(1, self.terms_ + 1):
            cols += [np.sin(k * angle), np.cos(k * angle)]
        if self.names_:
            special = self._special(days.min(), days.max()).reindex(days)
            cols += [(special == name).to_numpy(float) for name in self.names_]
        return np.column_stack(cols)

    def _trend(self, t: np.ndarray) -> np.ndarray:
        coef = self.coef_
        out = coef[0] * t
        for j, k in enumerate(self.knots_):
            out = out + coef[1 + j] * np.maximum(t - k, 0.0)
        return out


def _robust_poisson(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Poisson GLM coefficients (log link), refitted with Huber weights on Pearson residuals
    scaled by the overdispersion, so outlying days weigh less."""
    # the GLM's own modules, not statsmodels.api (which imports every model statsmodels has)
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    weights = np.ones(len(y))
    coef = None
    for _ in range(ROBUST_PASSES + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = GLM(y, X, family=Poisson(), freq_weights=weights)
            result = model.fit(start_params=coef, maxiter=100)
        coef = np.nan_to_num(result.params, nan=0.0)
        mu = np.exp(np.clip(X @ coef, -50, 50))
        pearson = (y - mu) / np.sqrt(np.maximum(mu, 1e-9))
        scale = 1.4826 * np.median(np.abs(pearson - np.median(pearson))) or 1.0
        r = np.abs(pearson) / scale
        weights = np.where(r <= HUBER_C, 1.0, HUBER_C / np.maximum(r, 1e-12))
    return coef
