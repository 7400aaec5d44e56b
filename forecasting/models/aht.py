"""Handle-time forecast as an interval-of-day profile, with the time of year where it shows.

AHT moves slowly and mostly with the time of day (different call mixes, tired agents late);
the mean of recent weeks per weekday and slot, blended with the slot-of-day mean and smoothed,
is robust, and its intervals are a relative spread measured out of sample. Months ahead the
time of year matters too (new customers in January, a product season): with two years of
history a yearly curve of the daily AHT moves the recent profile up and down, but only when
that curve, learnt without the last year, would have forecast the last year better than the
recent level alone: AHT seasons are often too weak to be worth their noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models.base import Forecaster
from forecasting.slots import slot_table

YEAR_DAYS = 365.25
SEASON_MIN_DAYS = 730  # two years: one to learn the curve from, the last to check it on
SEASON_MIN_GAIN = 0.10  # the curve is used when it cuts the last year's error by a tenth or more


class AhtProfile(Forecaster):
    distribution = "normal"
    min_history_days = 5

    def __init__(
        self,
        weeks: int = 6,
        blend: float = 0.5,
        smoothing: int = 3,
        clean: bool = True,
        yearly_terms: int = 2,
    ):
        self.clean = clean
        self.weeks = weeks
        self.blend = blend
        self.smoothing = smoothing
        self.yearly_terms = yearly_terms  # 0: no time of year, whatever the history

    def _fit(self, history: pd.Series) -> None:
        t = slot_table(history.index, self.calendar_.interval).assign(value=history.to_numpy())
        daily = t.groupby("date")["value"].mean()
        last = t["date"].max() - pd.Timedelta(weeks=self.weeks)
        self.recent_days_ = daily.index[daily.index > last]
        t = t[t["date"] > last]
        by_slot = t.groupby("slot")["value"].mean()
        by_day = t.groupby(["weekday", "slot"])["value"].mean()
        blended = (
            self.blend * by_day
            + (1 - self.blend) * by_slot.reindex(by_day.index.get_level_values("slot")).to_numpy()
        )
        if self.smoothing > 1:
            blended = blended.groupby(level="weekday", group_keys=False).apply(
                lambda s: s.rolling(self.smoothing, center=True, min_periods=1).mean()
            )
        self.profile_, self.by_slot_, self.overall_ = blended, by_slot, float(t["value"].mean())
        self.season_ = yearly_season(daily, self.yearly_terms, self.weeks)

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        t = slot_table(timestamps, self.calendar_.interval)
        out = self.profile_.reindex(pd.MultiIndex.from_frame(t[["weekday", "slot"]])).to_numpy(dtype=float)
        fill = self.by_slot_.reindex(t["slot"]).to_numpy(dtype=float)
        out = np.where(np.isnan(out), fill, out)
        out = np.where(np.isnan(out), self.overall_, out)
        season = getattr(self, "season_", None)
        if season is None:
            return out
        return out * season.factor(pd.DatetimeIndex(t["date"]), self.recent_days_)


class YearlyCurve:
    """log(daily AHT) = weekday + Fourier terms of the day of year (+ a level per year, so a
    lasting change of level is not taken for a season); the factor of a day is its curve over
    the curve's mean on the days the recent profile was measured on."""

    def __init__(self, terms: int):
        self.terms = terms

    def fit(self, daily: pd.Series) -> YearlyCurve:
        days = pd.DatetimeIndex(daily.index)
        y = np.log(daily.to_numpy(float))
        years = np.floor((days - days.min()).days.to_numpy() / YEAR_DAYS).astype(int)
        levels = np.column_stack([(years == k).astype(float) for k in np.unique(years)])
        weekdays = np.column_stack([(days.day_of_week == d).astype(float) for d in range(1, 7)])
        X = np.column_stack([levels, weekdays, self._harmonics(days)])
        coef = np.linalg.lstsq(X, y, rcond=None)[0]
        self.coef_ = coef[-2 * self.terms :]
        return self

    def _harmonics(self, days: pd.DatetimeIndex) -> np.ndarray:
        angle = 2 * np.pi * days.day_of_year.to_numpy(float) / YEAR_DAYS
        return np.column_stack([f(k * angle) for k in range(1, self.terms + 1) for f in (np.sin, np.cos)])

    def curve(self, days: pd.DatetimeIndex) -> np.ndarray:
        return self._harmonics(pd.DatetimeIndex(days)) @ self.coef_

    def factor(self, days: pd.DatetimeIndex, recent: pd.DatetimeIndex) -> np.ndarray:
        return np.exp(self.curve(days) - self.curve(recent).mean())


def yearly_season(daily: pd.Series, terms: int, weeks: int) -> YearlyCurve | None:
    """The yearly curve of the daily AHT, or None when the history is under two years or the
    curve learnt before the last year would not have forecast that year better than the
    level of the weeks before it."""
    daily = daily[np.isfinite(daily) & (daily > 0)]
    if terms <= 0 or len(daily) < 2 or (daily.index[-1] - daily.index[0]).days < SEASON_MIN_DAYS:
        return None
    cut = daily.index[-1] - pd.Timedelta(days=365)
    before, last_year = daily[daily.index <= cut], daily[daily.index > cut]
    recent = before.index[before.index > cut - pd.Timedelta(weeks=weeks)]
    level = before.loc[recent].mean()
    flat_error = np.mean(np.abs(np.log(last_year / level)))
    curve = YearlyCurve(terms).fit(before)
    seasonal = level * curve.factor(last_year.index, recent)
    if np.mean(np.abs(np.log(last_year / seasonal))) > (1 - SEASON_MIN_GAIN) * flat_error:
        return None
    return YearlyCurve(terms).fit(daily)
