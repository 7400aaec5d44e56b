"""Equal-weight combination of forecasters; its intervals average the members' bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.models.base import LEVELS, Forecaster


class Combination(Forecaster):
    """Mean of the members' forecasts. Bounds are averaged quantiles (Vincentization), which
    is also how backtests score a combination, so the chosen model behaves as it was scored."""

    def __init__(self, members: tuple[tuple[str, Forecaster], ...] = ()):
        self.members = members

    @property
    def min_history_days(self) -> int:  # type: ignore[override]
        return max((m.min_history_days for _, m in self.members), default=1)

    def fit(self, history: pd.Series, calendar=None) -> Combination:
        self.fitted_ = [(name, clone(model).fit(history, calendar)) for name, model in self.members]
        self.calendar_ = self.fitted_[0][1].calendar_
        self.history_end_ = self.fitted_[0][1].history_end_
        return self

    def predict(self, timestamps, levels: tuple[int, ...] = LEVELS) -> pd.DataFrame:
        preds = [m.predict(timestamps, levels) for _, m in self.fitted_]
        return sum(preds[1:], preds[0]) / len(preds)

    def rate_sd(self, timestamps) -> np.ndarray:
        """The members' rate uncertainties averaged, as their quantiles are."""
        return np.mean([m.rate_sd(timestamps) for _, m in self.fitted_], axis=0)

    def recalibrate(self, factors: dict[int, float]) -> Combination:
        """Every member's spreads corrected alike: the combination's bands are theirs averaged."""
        for _, model in self.fitted_:
            model.recalibrate(factors)
        return self

    def error_sharing(self) -> tuple[float, float]:
        """The members' unshared noise averaged, as their spreads are."""
        shares = np.array([m.error_sharing() for _, m in self.fitted_])
        return float(shares[:, 0].mean()), float(shares[:, 1].mean())

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        return self.predict(timestamps)["forecast"].to_numpy()
