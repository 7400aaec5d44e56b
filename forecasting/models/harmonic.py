"""Dynamic harmonic regression for intraday data: Fourier terms for the daily and weekly cycles.

Both cycles are written in calendar time (periods 24 h and 168 h), so any opening hours work;
weekly terms whose frequency is a multiple of 7 would repeat the daily ones and are left out.
A Poisson GLM fits the recent weeks; a local level (the ratio of actual to fitted volume over
the last days) keeps the forecast on the current level, which is the "dynamic" part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import PoissonRegressor

from forecasting.models.base import Forecaster


def fourier_features(
    timestamps: pd.DatetimeIndex, interval: pd.Timedelta, daily_terms: int, weekly_terms: int
) -> np.ndarray:
    """sin/cos pairs of the time of day and time of week at each interval's midpoint."""
    mid = timestamps + interval / 2
    hours_of_week = (mid.day_of_week * 24 + mid.hour + mid.minute / 60 + mid.second / 3600).to_numpy(float)
    cols = []
    for k in range(1, daily_terms + 1):
        angle = 2 * np.pi * k * hours_of_week / 24
        cols += [np.sin(angle), np.cos(angle)]
    for k in range(1, weekly_terms + 1):
        if k % 7 == 0:  # same frequency as a daily term
            continue
        angle = 2 * np.pi * k * hours_of_week / 168
        cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols)


class HarmonicRegression(Forecaster):
    min_history_days = 10

    def __init__(
        self,
        daily_terms: int = 10,
        weekly_terms: int = 12,
        window_weeks: int = 8,
        level_days: int = 5,
        alpha: float = 1e-4,
        clean: bool = True,
    ):
        self.clean = clean
        self.daily_terms = daily_terms
        self.weekly_terms = weekly_terms
        self.window_weeks = window_weeks
        self.level_days = level_days
        self.alpha = alpha

    def _features(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        return fourier_features(timestamps, self.calendar_.interval, self.daily_terms, self.weekly_terms)

    def _fit(self, history: pd.Series) -> None:
        recent = history[history.index >= history.index.max() - pd.Timedelta(weeks=self.window_weeks)]
        X = self._features(recent.index)
        self.scale_ = max(float(recent.mean()), 1e-9)
        self.glm_ = PoissonRegressor(alpha=self.alpha, max_iter=1000).fit(X, recent.to_numpy() / self.scale_)
        fitted = self.glm_.predict(X) * self.scale_
        days = recent.index.normalize()
        last = days.unique()[-self.level_days :]
        in_last = np.isin(days, last)
        self.level_ = float(recent.to_numpy()[in_last].sum() / max(fitted[in_last].sum(), 1e-9))

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        return self.glm_.predict(self._features(timestamps)) * self.scale_ * self.level_
