"""Bands of week and month totals from a slot or day model: a level that is off adds up over
the period, a slot's or a day's own noise does not. Checked against independent computations
and simulated errors with a known split."""

import numpy as np
import pandas as pd

from forecasting.forecast_job import period_count_variance
from forecasting.models.base import unshared_noise


def _frame(days: int = 14, slots: int = 4, mu: float = 50.0, phi: float = 0.02) -> pd.DataFrame:
    stamps = pd.date_range("2025-03-03", periods=days, freq="D").repeat(slots)
    frame = pd.DataFrame({"period": stamps.to_period("W-SUN"), "day": stamps, "mean": mu})
    return frame.assign(sd=np.sqrt(phi) * mu)


def test_unshared_noise_adds_in_quadrature_shared_errors_add_up():
    frame = _frame()
    n = 7 * 4  # slots a week
    independent = period_count_variance(frame, slot_noise=1.0, day_noise=0.0)
    assert np.allclose(independent, n * 50 + n * 0.02 * 50**2)
    shared = period_count_variance(frame, slot_noise=0.0, day_noise=0.0)
    assert np.allclose(shared, n * 50 + (n * np.sqrt(0.02) * 50) ** 2)
    by_day = period_count_variance(frame, slot_noise=0.0, day_noise=1.0)
    assert np.allclose(by_day, n * 50 + 7 * (4 * np.sqrt(0.02) * 50) ** 2)
    split = period_count_variance(frame, slot_noise=0.005, day_noise=0.005)  # 0.01 shared
    expected = n * 50 + n * 0.005 * 50**2 + 7 * (4 * np.sqrt(0.005) * 50) ** 2 + (n * 0.1 * 50) ** 2
    assert np.allclose(split, expected)


def test_the_split_of_simulated_holdout_errors_is_recovered():
    """Holdouts whose errors are a level off by 3 % for the holdout (shared), a day effect of
    sd 5 % (shared by the day's slots) and gamma-Poisson slot noise of φ 0.01."""
    rng = np.random.default_rng(3)
    actual, forecast, leads = [], [], []
    for _ in range(300):
        days, slots = 14, 12
        mu = np.full(days * slots, 40.0)
        level = np.exp(rng.normal(0, 0.03))
        day = np.repeat(np.exp(rng.normal(0, 0.05, days)), slots)
        rate = mu * level * day * rng.gamma(1 / 0.01, 0.01, days * slots)
        actual.append(rng.poisson(rate).astype(float))
        forecast.append(mu)
        leads.append(np.repeat(np.arange(1, days + 1), slots))
    slot_noise, day_noise = unshared_noise(actual, forecast, leads)
    assert abs(slot_noise - 0.01) < 0.002
    assert abs(day_noise - 0.05**2) < 0.0008


def test_month_totals_of_a_year_ahead_are_covered_about_as_often_as_said():
    """Daily model, three years of generated history, the next year in months: the 80 % band
    holds the months' true totals about 80 % of the time (it held all of them, at the width
    of one day's band, when every error was taken as shared), and is far narrower, relative
    to its total, than a day's."""
    from forecasting.catalog import make_model
    from forecasting.forecast_job import period_forecast
    from forecasting.stress import StressCase, generate

    inside, month_width, day_width = [], [], []
    for seed in range(4):
        history, future = generate(StressCase("plain"), "day", 1100, 364, seed=seed, start="2021-06-07")
        model = make_model("calendar_regression").fit(history)
        months = period_forecast(model, future.index, "month")
        months = months[months["complete"]]
        actual = future.groupby(future.index.to_period("M")).sum()
        truth = actual.reindex(months["timestamp"].dt.to_period("M")).to_numpy()
        inside += list((months["lo80"].to_numpy() <= truth) & (truth <= months["hi80"].to_numpy()))
        month_width.append(((months["hi80"] - months["lo80"]) / months["forecast"]).mean())
        days = model.predict(future.index)
        day_width.append(((days["hi80"] - days["lo80"]) / days["forecast"]).mean())
    assert 0.6 <= np.mean(inside) <= 0.95, np.mean(inside)
    assert np.mean(month_width) < 0.7 * np.mean(day_width)
