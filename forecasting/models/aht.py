"""Handle-time forecast as an interval-of-day profile.

AHT moves slowly and mostly with the time of day (different call mixes, tired agents late);
the mean of recent weeks per weekday and slot, blended with the slot-of-day mean and smoothed,
is robust, and its intervals are a relative spread measured out of sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.models.base import Forecaster
from forecasting.slots import slot_table


class AhtProfile(Forecaster):
    distribution = "normal"
    min_history_days = 5

    def __init__(self, weeks: int = 6, blend: float = 0.5, smoothing: int = 3, clean: bool = True):
        self.clean = clean
        self.weeks = weeks
        self.blend = blend
        self.smoothing = smoothing

    def _fit(self, history: pd.Series) -> None:
        t = slot_table(history.index, self.calendar_.interval).assign(value=history.to_numpy())
        last = t["date"].max() - pd.Timedelta(weeks=self.weeks)
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

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        t = slot_table(timestamps, self.calendar_.interval)
        out = self.profile_.reindex(pd.MultiIndex.from_frame(t[["weekday", "slot"]])).to_numpy(dtype=float)
        fill = self.by_slot_.reindex(t["slot"]).to_numpy(dtype=float)
        out = np.where(np.isnan(out), fill, out)
        return np.where(np.isnan(out), self.overall_, out)
