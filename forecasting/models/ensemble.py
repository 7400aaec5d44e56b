"""Equal-weight combination of forecasters; its intervals average the members' bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecasting.models.base import LEVELS, Forecaster, mended_once
from forecasting.slots import as_history, calendar_of

COMBINE_SEP = "+"  # a combination's name: its members' joined by this


class Combination(Forecaster):
    """Mean of the members' forecasts. Bounds are averaged quantiles (Vincentization), which
    is also how backtests score a combination, so the chosen model behaves as it was scored."""

    def __init__(self, members: tuple[tuple[str, Forecaster], ...] = ()):
        self.members = members

    @property
    def min_history_days(self) -> int:  # type: ignore[override]
        return max((m.min_history_days for _, m in self.members), default=1)

    def fit(self, history: pd.Series, calendar=None, residuals: pd.DataFrame | None = None) -> Combination:
        """Each member fitted, with its own rows of ``residuals`` (a backtest's, with a model
        column) when given."""
        mended = _mended(self.members, history, calendar)
        self.fitted_ = [
            (name, clone(model).fit(history, calendar, _own(residuals, name), mended[name]))
            for name, model in self.members
        ]
        self.calendar_ = self.fitted_[0][1].calendar_
        self.history_end_ = self.fitted_[0][1].history_end_
        return self

    def mending_key(self, history: pd.Series) -> None:
        """Members mend the history each as it needs."""
        return None

    def fit_point(self, history: pd.Series, calendar=None, mended: pd.Series | None = None) -> Combination:
        mended = _mended(self.members, history, calendar)
        self.fitted_ = [
            (name, clone(model).fit_point(history, calendar, mended[name])) for name, model in self.members
        ]
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


def _own(residuals: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    return None if residuals is None else residuals[residuals["model"] == name]


def _mended(members, history: pd.Series, calendar) -> dict[str, pd.Series | None]:
    history = as_history(history)
    return mended_once(
        members, history, calendar.interval if calendar is not None else calendar_of(history).interval
    )
