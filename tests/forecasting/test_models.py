"""Every forecaster honours the same contract; intervals are calibrated on known data."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecasting.catalog import AHT_MODELS, MODELS, make_model
from forecasting.models.aht import AhtProfile
from forecasting.models.base import interval_bounds
from forecasting.models.baselines import SameWeekdayMean, SeasonalNaive
from forecasting.slots import next_open_days, open_slots

FAST = [n for n in MODELS if n != "prophet_topdown"]


@pytest.fixture(scope="module")
def split(bank_history):
    cut = pd.Timestamp("2003-05-19")
    return bank_history[bank_history.index < cut], bank_history[bank_history.index >= cut]


@pytest.mark.parametrize("name", FAST + [pytest.param("prophet_topdown", marks=pytest.mark.slow)])
def test_contract(name, split, bank_result):
    train, test = split
    model = make_model(name)
    params = model.get_params()
    assert model.fit(train, bank_result.calendar) is model
    assert model.get_params() == params == clone(model).get_params()  # fit never changes parameters
    night = pd.DatetimeIndex(["2003-05-19 03:00", "2003-05-24 12:00"])  # closed: night and Saturday
    stamps = test.index.append(night)
    first = model.predict(stamps)
    assert list(first.columns) == ["forecast", "lo80", "hi80", "lo95", "hi95"]
    assert (first.loc[night].to_numpy() == 0).all()
    f = first.loc[test.index]
    assert (f["lo95"] <= f["lo80"] + 1e-9).all() and (f["lo80"] <= f["forecast"] + 1).all()
    assert (f["forecast"] <= f["hi80"] + 1).all() and (f["hi80"] <= f["hi95"] + 1e-9).all()
    pd.testing.assert_frame_equal(model.predict(stamps), first)  # predict never refits
    wape = np.abs(f["forecast"] - test).sum() / test.sum()
    assert wape < 0.2, wape


def test_seasonal_naive_repeats_last_week(split, bank_result):
    train, _ = split
    model = SeasonalNaive("week").fit(train, bank_result.calendar)
    friday = pd.date_range("2003-05-23 07:00", "2003-05-23 21:00", freq="5min")
    expected = train.loc["2003-05-16"].to_numpy()
    np.testing.assert_array_equal(model.predict(friday)["forecast"].to_numpy(), expected)


def test_same_weekday_mean_is_the_mean_of_the_last_k(split, bank_result):
    train, _ = split
    model = SameWeekdayMean(weeks=3).fit(train, bank_result.calendar)
    mondays = [d for d in ("2003-05-12", "2003-05-05", "2003-04-28")]
    expected = np.mean([train.loc[d].to_numpy() for d in mondays], axis=0)
    monday = pd.date_range("2003-05-19 07:00", "2003-05-19 21:00", freq="5min")
    np.testing.assert_allclose(model.predict(monday)["forecast"].to_numpy(), expected)


def test_weeks_auto_picks_a_listed_k(split, bank_result):
    model = SameWeekdayMean("auto").fit(split[0], bank_result.calendar)
    assert model.weeks_ in (2, 3, 4, 5, 6, 8)


def test_negative_binomial_intervals_cover_simulated_counts():
    rng = np.random.default_rng(3)
    mu = rng.uniform(20, 300, 200_000)
    phi = 0.01
    y = rng.negative_binomial(1 / phi, 1 / (1 + phi * mu))
    for level in (80, 95):
        lo, hi = interval_bounds(mu, level, "negbin", phi)
        coverage = np.mean((y >= lo) & (y <= hi))
        assert level / 100 <= coverage <= level / 100 + 0.03, (level, coverage)


def test_spreads_matched_to_each_level_hold_it_when_a_few_errors_are_wild():
    """Calibration errors with 5 % wild points (3× the forecast): the spread matched to the
    80 % level holds 80 % of a fresh draw from the same process, where a moment estimate (which
    squares the wild points) would hold far more; the 95 % band is wider and holds 95 %."""
    from forecasting.models.base import estimate_spread

    rng = np.random.default_rng(5)

    def draw(n):
        mu = rng.uniform(50, 500, n)
        y = rng.negative_binomial(1 / 0.01, 1 / (1 + 0.01 * mu)).astype(float)
        wild = rng.random(n) < 0.05
        return mu, np.where(wild, 3 * y, y)

    mu, y = draw(2_000)
    fresh_mu, fresh_y = draw(100_000)
    for level in (80, 95):
        matched = estimate_spread(y, mu, "negbin", level)
        lo, hi = interval_bounds(fresh_mu, level, "negbin", matched)
        assert abs(np.mean((fresh_y >= lo) & (fresh_y <= hi)) - level / 100) < 0.02, level
    moments = estimate_spread(y, mu, "negbin")
    lo, hi = interval_bounds(fresh_mu, 80, "negbin", moments)
    assert np.mean((fresh_y >= lo) & (fresh_y <= hi)) > 0.9
    relative = estimate_spread(y, mu, "normal", 80)
    assert abs(np.mean(np.abs(fresh_y - fresh_mu) / fresh_mu <= 1.2816 * relative) - 0.8) < 0.02


def test_forecast_follows_the_calendar(bank_result, bank_history):
    days = next_open_days(bank_result.calendar, bank_history.index.max(), 5)
    assert [d.strftime("%a") for d in days] == ["Thu", "Fri", "Mon", "Tue", "Wed"]
    stamps = open_slots(bank_result.calendar, days)
    assert len(stamps) == 5 * 169


def test_aht_profile_on_the_call_log():
    from forecasting.history.ingest import IngestOptions, ingest
    from forecasting.series import forecast_series
    from tests.conftest import BANK_LOG

    result = ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min"))
    aht = forecast_series(result, "aht")
    model = make_model("aht_profile").fit(aht[aht.index < "1999-02-11"], result.calendar)
    test = aht[aht.index >= "1999-02-11"]
    f = model.predict(test.index)
    assert 100 < f["forecast"].mean() < 300  # seconds, like the history's 169 s
    assert np.abs(f["forecast"] - test).mean() < 0.35 * test.mean()
    assert set(AHT_MODELS) == {"aht_profile"}


@pytest.mark.parametrize("name", ["harmonic", "weekday_mean", "ets_topdown"])
def test_bands_widen_with_the_lead_time_and_never_collapse(name, bank_history, bank_result):
    from forecasting.catalog import make_model
    from forecasting.forecast_job import horizon_timestamps

    model = make_model(name).fit(bank_history, bank_result.calendar)
    stamps = horizon_timestamps(model.calendar_, model.history_end_, 30)
    p = model.predict(stamps)
    width = ((p["hi80"] - p["lo80"]) / p["forecast"].clip(lower=1)).groupby(stamps.normalize()).mean()
    assert (np.diff(width.to_numpy()) >= -0.02).all()  # never narrower further ahead (up to integer rounding)
    assert width.iloc[-1] > width.iloc[0] or model.spread_curve_[1][-1] == model.spread_curve_[1][0]
    busy = p["forecast"] > 5
    assert ((p["hi80"] > p["lo80"]) | ~busy).all()
    assert ((p["lo80"] <= p["forecast"]) & (p["forecast"] <= p["hi80"])).all()
    assert ((p["lo95"] <= p["lo80"]) & (p["hi80"] <= p["hi95"])).all()  # each level its own spread, nested


def _aht_years(seed: int, amplitude: float, days: int = 3 * 365 + 100) -> tuple[pd.Series, pd.Series]:
    """Hourly AHT 08:00-16:00 with a yearly season of ``amplitude`` and 15 % noise: (observed, truth)."""
    rng = np.random.default_rng(seed)
    day = pd.date_range("2021-03-01", periods=days, freq="D")
    stamps = pd.DatetimeIndex((day.to_numpy()[:, None] + np.arange(8, 16) * np.timedelta64(1, "h")).ravel())
    truth = 300 * (1 + amplitude * np.sin(2 * np.pi * (stamps.day_of_year.to_numpy() - 30) / 365.25))
    observed = truth * np.exp(rng.normal(0, 0.15, len(stamps)))
    return pd.Series(observed, index=stamps, name="aht"), pd.Series(truth, index=stamps)


@pytest.mark.parametrize("amplitude", [0.12, 0.0])
def test_aht_a_year_ahead_follows_the_time_of_year_only_where_the_history_shows_one(amplitude):
    """Three years of AHT, forecast the next year: with a ±12 % yearly season the forecast
    follows it (error a third of the flat profile's); without one, no curve is fitted (the
    check on the last year turns the noise down) and the forecast is the flat profile."""
    from forecasting.slots import calendar_of

    observed, truth = _aht_years(1, amplitude)
    cut = observed.index[-1] - pd.Timedelta(days=365)
    history, future = observed[observed.index <= cut], truth[truth.index > cut]
    errors = {}
    for terms in (2, 0):
        model = AhtProfile(yearly_terms=terms).fit(history, calendar_of(history))
        errors[terms] = np.mean(np.abs(model.predict(future.index)["forecast"] / future - 1))
        if terms == 2:
            assert (model.season_ is not None) == (amplitude > 0)
    if amplitude:
        assert errors[2] < errors[0] / 3
    else:
        assert errors[2] == errors[0]


def test_one_thread_limits_every_loaded_pool_each_time():
    """The pools are found once and reused; each use still limits them all to one thread."""
    from threadpoolctl import threadpool_info

    from forecasting.models.base import one_thread

    for _ in range(2):
        with one_thread():
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
