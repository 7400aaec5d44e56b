"""Backtest bands come from the other origins' errors (split conformal by lead), computed
from each point's own need: checked against direct computations of the bands."""

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.calibration import conformal_bands
from forecasting.models.base import estimate_spread, interval_bounds, spread_from_needs, spread_needs


def _frame(rng, origins=4, rows=12, relative_noise=0.2):
    parts = []
    for k in range(origins):
        origin = pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * k)
        mu = rng.uniform(50, 150, rows)
        parts.append(
            pd.DataFrame(
                {
                    "model": "m",
                    "origin": origin,
                    "timestamp": origin + pd.to_timedelta(np.arange(rows), "h"),
                    "forecast": mu,
                    "actual": mu * (1 + relative_noise * rng.standard_normal(rows)),
                    "horizon_day": 1,
                    "scale": 1.0,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_cross_bands_of_an_origin_are_the_other_origins_quantiles():
    f = _frame(np.random.default_rng(3))
    banded = conformal_bands(f, {"m": "normal"})
    z = stats.norm.ppf(0.9)
    for origin, rows in banded.groupby("origin"):
        others = f[f["origin"] != origin]
        ratio = np.abs(others["actual"] - others["forecast"]) / others["forecast"]
        n = len(ratio)
        spread = np.quantile(ratio, min(1.0, np.ceil((n + 1) * 0.8) / n)) / z
        expected_lo = np.clip(rows["forecast"] * (1 - z * spread), 0, None)
        np.testing.assert_allclose(rows["lo80"], expected_lo)
        np.testing.assert_allclose(rows["hi80"], rows["forecast"] * (1 + z * spread))
        assert (rows["lo95"] <= rows["lo80"]).all() and (rows["hi95"] >= rows["hi80"]).all()


def test_sequential_bands_use_only_origins_already_over():
    f = _frame(np.random.default_rng(4))
    banded = conformal_bands(f, {"m": "normal"}, sequential=True)
    first = banded["origin"] == banded["origin"].min()
    assert banded.loc[first, "lo80"].isna().all()  # nothing was over before the first origin
    # the second origin's band rests on the first origin's errors alone
    second_origin = sorted(f["origin"].unique())[1]
    changed = f.copy()
    later = changed["origin"] > second_origin
    changed.loc[later, "actual"] *= 3  # wild errors after it change nothing for it
    again = conformal_bands(changed, {"m": "normal"}, sequential=True)
    rows = banded["origin"] == second_origin
    np.testing.assert_allclose(again.loc[rows, "hi80"], banded.loc[rows, "hi80"])


def test_a_points_need_is_the_smallest_dispersion_whose_band_holds_it():
    rng = np.random.default_rng(5)
    mu = rng.uniform(1, 300, 400)
    y = rng.negative_binomial(1 / 0.3, 1 / (1 + 0.3 * mu)).astype(float)
    needs = spread_needs(y, mu, "negbin", 80)
    for i in np.flatnonzero(np.isfinite(needs) & (needs > 1e-5))[:60]:
        lo, hi = interval_bounds(mu[i : i + 1], 80, "negbin", needs[i])
        assert lo[0] <= y[i] <= hi[0]
        lo, hi = interval_bounds(mu[i : i + 1], 80, "negbin", needs[i] / 1.03)
        assert not (lo[0] <= y[i] <= hi[0])
    # the matched spread holds the conformal share of the points, and a 3 % narrower one does not
    phi = spread_from_needs(needs, "negbin", 80)
    assert phi == estimate_spread(y, mu, "negbin", 80)
    lo, hi = interval_bounds(mu, 80, "negbin", phi)
    share = np.ceil(401 * 0.8) / 400
    assert np.mean((y >= lo) & (y <= hi)) >= share
    lo, hi = interval_bounds(mu, 80, "negbin", phi / 1.03)
    assert np.mean((y >= lo) & (y <= hi)) < share


def test_a_model_fitted_on_a_backtests_errors_is_fitted_once_and_only_adds_short_holdouts_when_few(
    bank_history,
):
    """After a backtest with origins a day apart, the final fit is one fit whose bands are the
    backtest's; with origins weeks apart (few errors within a week ahead) the model's own short
    holdouts are added (four refits), as they are without a backtest (more)."""
    from typing import ClassVar

    from forecasting.backtest import run_backtest
    from forecasting.models.baselines import SeasonalNaive

    class Counted(SeasonalNaive):
        fits: ClassVar[list] = []

        def _fit(self, history):
            super()._fit(history)
            Counted.fits.append(history.index.max())

    daily = run_backtest({"m": Counted()}, bank_history, 5, 5, progress=False)
    Counted.fits = []
    fitted = Counted().fit(bank_history, residuals=daily.residuals("m"))
    assert len(Counted.fits) == 1 and fitted.calibration_points_ == len(daily.forecasts)
    weekly = run_backtest({"m": Counted()}, bank_history, 5, 2, step_days=10, progress=False)
    Counted.fits = []
    Counted().fit(bank_history, residuals=weekly.residuals("m"))
    assert len(Counted.fits) == 1  # 2 origins × 5 days × 169 slots: hundreds of errors within a week
    few = weekly.residuals("m").groupby(["origin", "horizon_day"]).head(5)  # 50 errors within a week
    Counted.fits = []
    Counted().fit(bank_history, residuals=few)
    assert len(Counted.fits) == 1 + 4  # the three 5-day holdouts and the two-week one
    Counted.fits = []
    Counted().fit(bank_history)
    assert len(Counted.fits) >= 5


def test_errors_of_origins_before_a_mended_level_shift_are_left_out():
    from forecasting.models.base import LEVEL_SHIFT_ATTR, _after_level_shift

    origins = pd.date_range("2024-01-01", periods=6, freq="14D")
    rows = pd.DataFrame({"origin": np.repeat(origins, 3), "actual": 1.0, "forecast": 1.0, "horizon_day": 1})
    mended = pd.Series([1.0])
    assert len(_after_level_shift(rows, mended)) == len(rows)
    mended.attrs[LEVEL_SHIFT_ATTR] = pd.Timestamp("2024-01-20")  # 28 days later: 2024-02-17
    kept = _after_level_shift(rows, mended)
    assert set(kept["origin"]) == {o for o in origins if o >= pd.Timestamp("2024-02-17")}


def test_mending_names_the_level_shift_it_brought_the_older_days_across():
    from forecasting.history.anomalies import LEVEL_SHIFT_ATTR, clean_series
    from forecasting.stress import StressCase, generate

    history, _ = generate(StressCase("level_shift", level_shift=1.6), "day", 400, 1, seed=3)
    mended = clean_series(history, pd.Timedelta(days=1), True)
    shift = mended.attrs.get(LEVEL_SHIFT_ATTR)
    assert shift is not None
    # the generator shifts the level two thirds through the history
    days = history.index.normalize().unique()
    assert abs((pd.Timestamp(shift) - days[len(days) * 2 // 3]).days) <= 14
    plain, _ = generate(StressCase("plain"), "day", 400, 1, seed=3)
    assert LEVEL_SHIFT_ATTR not in clean_series(plain, pd.Timedelta(days=1), True).attrs
