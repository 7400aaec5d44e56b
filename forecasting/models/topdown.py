"""Top-down forecasts: a model of daily totals times an intraday profile.

Daily totals carry the level, trend and weekday pattern with little noise; the profile (share
of the day's volume per slot) is stable and is estimated from many days, smoothed across
neighbouring slots. Both are easier to forecast apart than 169 noisy slots at once.
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.models.base import Forecaster
from forecasting.models.calendar_regression import DailyCalendarRegression
from forecasting.slots import daily_totals, slot_table
from forecasting.special_days import SpecialDays

log = logging.getLogger(__name__)


class IntradayProfile:
    """Share of the day's volume per (weekday, slot): a weekday-specific profile over the last
    ``weeks`` weeks, blended with the all-weekday profile and smoothed over ``smoothing`` slots."""

    def __init__(self, weeks: int = 8, blend: float = 0.5, smoothing: int = 3):
        self.weeks, self.blend, self.smoothing = weeks, blend, smoothing

    def fit(self, history: pd.Series, interval: pd.Timedelta) -> IntradayProfile:
        t = slot_table(history.index, interval).assign(value=history.to_numpy())
        totals = t.groupby("date")["value"].transform("sum")
        t["share"] = np.where(totals > 0, t["value"] / totals.replace(0, np.nan), np.nan)
        recent_days = t["date"].drop_duplicates().sort_values().iloc[-self.weeks * 7 :]
        t = t[t["date"].isin(recent_days)]
        overall = t.groupby("slot")["share"].mean()
        by_day = t.groupby(["weekday", "slot"])["share"].mean()
        # blend with the overall shape only where both exist; the blend keeps each weekday's hours
        blended = (
            self.blend * by_day
            + (1 - self.blend) * overall.reindex(by_day.index.get_level_values("slot")).to_numpy()
        )
        blended = blended.groupby(level="weekday", group_keys=False).apply(self._smooth)
        self.shares_ = blended / blended.groupby(level="weekday").transform("sum")
        return self

    def _smooth(self, shares: pd.Series) -> pd.Series:
        if self.smoothing <= 1:
            return shares
        return shares.rolling(self.smoothing, center=True, min_periods=1).mean()

    def share(self, timestamps: pd.DatetimeIndex, interval: pd.Timedelta) -> np.ndarray:
        t = slot_table(timestamps, interval)
        return self.shares_.reindex(pd.MultiIndex.from_frame(t[["weekday", "slot"]])).fillna(0.0).to_numpy()


class TopDown(Forecaster):
    """Daily totals from ``daily`` ('ets', 'prophet', 'calendar' or 'weekday_mean') × intraday profile."""

    min_history_days = 10

    def __init__(
        self,
        daily: str = "ets",
        profile_weeks: int = 8,
        profile_blend: float = 0.5,
        profile_smoothing: int = 3,
        country_holidays: str | None = None,
        regressors: pd.DataFrame | None = None,
        clean: bool = True,
        special_days: SpecialDays | None = None,
    ):
        self.clean = clean
        self.special_days = special_days  # holidays and the planner's dates: learned, not mended
        self.daily = daily
        self.profile_weeks = profile_weeks
        self.profile_blend = profile_blend
        self.profile_smoothing = profile_smoothing
        self.country_holidays = country_holidays  # Prophet only, e.g. "US"
        self.regressors = regressors  # Prophet only: daily values indexed by date, past and future

    def _known_days(self, history: pd.Series) -> pd.DatetimeIndex:
        if self.daily not in ("calendar", "prophet"):  # the others cannot learn a holiday's effect
            return pd.DatetimeIndex([])
        return super()._known_days(history)

    def _fit(self, history: pd.Series) -> None:
        interval = self.calendar_.interval
        self.profile_ = IntradayProfile(self.profile_weeks, self.profile_blend, self.profile_smoothing).fit(
            history, interval
        )
        totals = daily_totals(history)
        if self.daily == "prophet":
            model = DailyProphet(self.country_holidays, self.regressors, self.special_days)
        elif self.daily == "calendar":
            model = DailyCalendarRegression(self.special_days)
        else:
            model = {"ets": DailyETS, "weekday_mean": DailyWeekdayMean}[self.daily]()
        self.daily_model_ = model.fit(totals, sorted(self.calendar_.hours), self.calendar_.missing_days)

    def _predict_mean(self, timestamps: pd.DatetimeIndex) -> np.ndarray:
        days = timestamps.normalize()
        unique_days = days.unique()
        totals = pd.Series(self.daily_model_.predict(unique_days), index=unique_days)
        return totals.reindex(days).to_numpy() * self.profile_.share(timestamps, self.calendar_.interval)


def _open_day_sequence(totals: pd.Series, open_weekdays: list[int]) -> pd.Series:
    """Totals on every open weekday from first to last, with missing days filled from the same
    weekday's recent mean (so seasonal models keep their weekday phase across holidays)."""
    days = pd.date_range(totals.index.min(), totals.index.max(), freq="D")
    days = days[np.isin(days.day_of_week, open_weekdays)]
    seq = totals.reindex(days)
    if seq.isna().any():
        fill = seq.groupby(seq.index.day_of_week).transform(
            lambda v: v.ffill().rolling(4, min_periods=1).mean().bfill()
        )
        seq = seq.fillna(fill)
    return seq


class DailyWeekdayMean:
    """Daily total = mean of the last 4 same weekdays (the baseline's daily view)."""

    def fit(self, totals: pd.Series, open_weekdays: list[int], missing_days=()) -> DailyWeekdayMean:
        self.means_ = totals.groupby(totals.index.day_of_week).apply(lambda v: v.tail(4).mean())
        self.overall_ = float(totals.tail(20).mean())
        return self

    def predict(self, days: pd.DatetimeIndex) -> np.ndarray:
        return self.means_.reindex(days.day_of_week).fillna(self.overall_).to_numpy()


class DailyETS:
    """Additive ETS with a weekly season over open days (statsmodels), damped-free level model.

    Season length is the number of open weekdays (5 for a Monday–Friday center), so the
    sequence is open days only; future days are counted in open days too.
    """

    def fit(self, totals: pd.Series, open_weekdays: list[int], missing_days=()) -> DailyETS:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        self.open_weekdays_ = list(open_weekdays)
        seq = _open_day_sequence(totals, self.open_weekdays_)
        self.last_day_ = seq.index.max()
        period = len(self.open_weekdays_)
        self.fallback_ = None
        if period > 1 and len(seq) < 2 * period + 2:
            # too short to estimate a weekly season: a level-only model would give every weekday
            # the same total, so use the recent same-weekday means instead
            self.fallback_ = DailyWeekdayMean().fit(totals, open_weekdays)
            return self
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seasonal = {"seasonal": "add", "seasonal_periods": period} if period > 1 else {}
            self.model_ = ETSModel(seq.to_numpy(float), error="add", trend=None, **seasonal).fit(disp=False)
        return self

    def predict(self, days: pd.DatetimeIndex) -> np.ndarray:
        if self.fallback_ is not None:
            return self.fallback_.predict(days)
        steps = _open_days_ahead(self.last_day_, days, self.open_weekdays_)
        horizon = int(max(steps.max(), 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = np.asarray(self.model_.forecast(horizon))
        return np.clip(path[np.clip(steps, 1, None) - 1], 0, None)


def _open_days_ahead(last_day: pd.Timestamp, days: pd.DatetimeIndex, open_weekdays: list[int]) -> np.ndarray:
    """How many open days after ``last_day`` each day is (1 = the next open day)."""
    span = pd.date_range(
        last_day + pd.Timedelta(days=1), max(days.max(), last_day + pd.Timedelta(days=1)), freq="D"
    )
    count = np.cumsum(np.isin(span.day_of_week, open_weekdays))
    return pd.Series(count, index=span).reindex(days).fillna(1).astype(int).to_numpy()


def prophet_class() -> type:
    """Prophet, imported without its plotting. Prophet's import loads matplotlib's pyplot for
    plots we never draw (0.3 s of a daily forecast's 5) and unregisters pandas' date converters
    from it as it goes. On the main thread, before anything loaded matplotlib, the import is
    shown no matplotlib (Prophet then only logs that plotting will not work, a logger kept
    quiet here), and matplotlib is importable again afterwards. Elsewhere (the app's threads,
    where another thread may be importing matplotlib at that moment) it is imported as is."""
    for name in ("cmdstanpy", "prophet.plot"):  # Stan's chatter and the optional-plotting notices
        logging.getLogger(name).disabled = True
    first = "prophet" not in sys.modules and "matplotlib" not in sys.modules
    if first and threading.current_thread() is threading.main_thread():
        sys.modules["matplotlib"] = None  # an import of it raises ImportError
        try:
            from prophet import Prophet
        finally:
            if sys.modules.get("matplotlib", 0) is None:
                del sys.modules["matplotlib"]
        return Prophet
    from prophet import Prophet

    return Prophet


class DailyProphet:
    """Prophet on daily totals with weekly seasonality; missing open days are holidays, plus
    optional country holidays and daily regressors (known in advance, e.g. campaigns)."""

    def __init__(
        self,
        country_holidays: str | None = None,
        regressors: pd.DataFrame | None = None,
        special_days: SpecialDays | None = None,
    ):
        self.country_holidays = country_holidays
        self.regressors = regressors
        self.special_days = special_days

    def fit(self, totals: pd.Series, open_weekdays: list[int], missing_days=()) -> DailyProphet:
        logging.getLogger("prophet").setLevel(logging.WARNING)  # "n_changepoints greater than …" notes
        Prophet = prophet_class()

        frames = []
        if missing_days:
            frames.append(pd.DataFrame({"holiday": "closed", "ds": pd.to_datetime(list(missing_days))}))
        if self.special_days:  # known ahead: past and the next two years
            named = self.special_days.between(totals.index.min(), totals.index.max() + pd.Timedelta(days=731))
            frames.append(pd.DataFrame({"holiday": named.to_numpy(), "ds": named.index}))
        holidays = pd.concat(frames, ignore_index=True) if frames else None
        span = (totals.index.max() - totals.index.min()).days
        self.model_ = Prophet(
            weekly_seasonality=True,
            daily_seasonality=False,
            yearly_seasonality=span >= 730,  # Prophet asks two years to tell a yearly season from trend
            holidays=holidays,
            interval_width=0.8,
            uncertainty_samples=0,
        )
        if self.country_holidays:
            self.model_.add_country_holidays(country_name=self.country_holidays)
        frame = pd.DataFrame({"ds": totals.index, "y": totals.to_numpy(float)})
        if self.regressors is not None:
            for column in self.regressors.columns:
                self.model_.add_regressor(str(column))
            frame = frame.join(self._regressor_values(totals.index).reset_index(drop=True))
        self.model_.fit(frame)
        return self

    def _regressor_values(self, days: pd.DatetimeIndex) -> pd.DataFrame:
        values = self.regressors.copy()
        values.index = pd.DatetimeIndex(values.index).normalize()
        values = values.reindex(days)
        if values.isna().any().any():
            missing = values.index[values.isna().any(axis=1)][0]
            raise InputError(
                "regressor value missing",
                column=str(values.columns[values.isna().any()][0]),
                expected=f"a value for every day to fit and forecast, including {missing:%Y-%m-%d}",
            )
        return values

    def predict(self, days: pd.DatetimeIndex) -> np.ndarray:
        frame = pd.DataFrame({"ds": days})
        if self.regressors is not None:
            frame = frame.join(self._regressor_values(days).reset_index(drop=True))
        out = self.model_.predict(frame)
        return np.clip(out["yhat"].to_numpy(), 0, None)
