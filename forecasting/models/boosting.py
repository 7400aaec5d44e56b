"""Gradient boosting (scikit-learn HistGradientBoostingRegressor, Poisson loss) on calendar and
lag features.

Lags are whole weeks of the same slot, at least ``min_lag_weeks`` back so a forecast up to that
many weeks ahead never looks at data it would not have; for targets further out, a lag that
falls after the history's end is replaced by the latest same-weekday value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from forecasting.models.base import Forecaster
from forecasting.slots import slot_table

_WEEK = pd.Timedelta(weeks=1)


class GradientBoosting(Forecaster):
    min_history_days = 20

    def __init__(
        self,
        lags: int = 4,
        min_lag_weeks: int = 1,
        max_iter: int = 150,
        learning_rate: float = 0.1,
        random_state: int = 0,
        clean: bool = True,
    ):
        self.clean = clean
        self.lags = lags
        self.min_lag_weeks = min_lag_weeks
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _features(self, timestamps: pd.DatetimeIndex, history: pd.Series, end: pd.Timestamp) -> pd.DataFrame:
        t = slot_table(timestamps, self.calendar_.interval)
        feats = {"slot": t["slot"].to_numpy(), "weekday": t["weekday"].to_numpy()}
        lag_values = []
        for k in range(self.min_lag_weeks, self.min_lag_weeks + self.lags):
            source = timestamps - k * _WEEK
            late = source > end
            if late.any():  # step back whole weeks to the latest observed same slot
                weeks_back = np.ceil((source[late] - end) / _WEEK).astype(int)
                source = source.to_numpy().copy()
                source[late] = (pd.DatetimeIndex(source[late]) - weeks_back * _WEEK).to_numpy()
                source = pd.DatetimeIndex(source)
            values = history.reindex(source).to_numpy()
            feats[f"lag_{k}w"] = values
            lag_values.append(values)
        stacked = np.column_stack(lag_values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all lags missing: NaN, which the trees handle
            feats["lag_mean"] = np.nanmean(stacked, axis=1)
        return pd.DataFrame(feats)

    def _fit(self, history: pd.Series) -> None:
        self.history_ = history
        X = self._features(history.index, history, history.index.max())
        usable = X["lag_mean"].notna().to_numpy()
        # lags longer than the history are all NaN: leave them out rather than feed empty columns
        self.columns_ = [c for c in X.columns if X.loc[usable, c].notna().any()]
        X = X[self.columns_]
        self.model_ = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            categorical_features=["weekday"],
            random_state=self.random_state,
        ).fit(X[usable], history.to_numpy()[usable])

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        X = self._features(timestamps, self.history_, self.history_.index.max())
        return self.model_.predict(X[self.columns_])
