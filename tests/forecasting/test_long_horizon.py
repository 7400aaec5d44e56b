"""Months ahead on daily series: yearly season, holidays, bands that widen, weekly and monthly
totals. Scored against the generator's own future, never against recorded numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.catalog import make_model
from forecasting.metrics import weekly_naive_scale
from forecasting.special_days import SpecialDays
from forecasting.stress import CASES, StressCase, generate

HORIZON = 364


@pytest.fixture(scope="module")
def plain_daily():
    return generate(StressCase("plain"), "day", 1100, HORIZON, seed=3)


def mase(model, history, future) -> float:
    pred = model.predict(future.index)["forecast"]
    return float(np.mean(np.abs(pred.to_numpy() - future.to_numpy())) / weekly_naive_scale(history))


def test_calendar_regression_beats_the_weekday_median_a_year_ahead(plain_daily):
    history, future = plain_daily
    ours = mase(make_model("calendar_regression").fit(history), history, future)
    median = mase(make_model("weekday_median").fit(history), history, future)
    assert ours < 0.8 * median


def test_bands_widen_week_by_week_and_cover_the_year(plain_daily):
    history, future = plain_daily
    model = make_model("calendar_regression").fit(history)
    pred = model.predict(future.index)
    spread = pd.Series(model.spread_at(future.index)).groupby(np.arange(len(pred)) // 7).mean()
    assert (np.diff(spread.to_numpy()) >= 0).all()  # the error spread never shrinks a week later
    assert spread.iloc[-1] > 1.2 * spread.iloc[0]
    width = ((pred["hi80"] - pred["lo80"]) / pred["forecast"]).groupby(np.arange(len(pred)) // 91).mean()
    assert (np.diff(width.to_numpy()) > 0).all() and width.iloc[-1] > 1.1 * width.iloc[0]
    inside = (future.to_numpy() >= pred["lo80"].to_numpy()) & (future.to_numpy() <= pred["hi80"].to_numpy())
    quarters = pd.Series(inside).groupby(np.arange(len(inside)) // 91).mean()
    assert quarters.between(0.65, 0.97).all(), quarters.tolist()


def test_holidays_are_learned_and_forecast():
    case = next(c for c in CASES if c.holidays)
    history, future = generate(case, "day", 1100, HORIZON, seed=4)
    model = make_model("calendar_regression", special_days=SpecialDays("US")).fit(history)
    pred = model.predict(future.index)["forecast"]
    july4 = pd.Timestamp(f"{future.index[0].year}-07-04")
    week_around = pred[(pred.index - july4).days.isin([-7, 7])].mean()
    assert pred[july4] < 0.4 * week_around  # the generator takes 80 % of a holiday's volume
    assert abs(pred[july4] / future[july4] - 1) < 0.35
    blind = make_model("calendar_regression").fit(history).predict(future.index)["forecast"]
    assert blind[july4] > 0.7 * week_around  # without the calendar it cannot know


@pytest.mark.parametrize("case", ["spikes", "level_shift", "stopped_feed", "gaps"])
def test_troubles_in_the_history_barely_move_the_year_ahead(case, plain_daily):
    troubled = next(c for c in CASES if c.name == case)
    history, future = generate(troubled, "day", 1100, HORIZON, seed=3)
    clean_history, _ = plain_daily
    ours = make_model("calendar_regression").fit(history).predict(future.index)["forecast"].sum()
    if case == "level_shift":  # the future is at the new level: the truth is the yardstick
        assert abs(ours / future.sum() - 1) < 0.1
    else:
        reference = (
            make_model("calendar_regression").fit(clean_history).predict(future.index)["forecast"].sum()
        )
        assert abs(ours / reference - 1) < 0.05


def test_special_days_file_and_country(tmp_path):
    path = tmp_path / "days.csv"
    path.write_text("date,name\n2024-11-29,Black Friday\n2023-11-24,Black Friday\n2024-03-01,\n")
    from forecasting.special_days import read_special_days

    days = SpecialDays("US", read_special_days(path))
    named = days.between(pd.Timestamp("2023-11-01"), pd.Timestamp("2024-12-31"))
    assert named[pd.Timestamp("2024-11-29")] == "Black Friday"
    assert named[pd.Timestamp("2024-03-01")] == "special 03-01"
    assert named[pd.Timestamp("2024-07-04")].startswith("Independence Day")


def write_daily(tmp_path, history: pd.Series):
    path = tmp_path / "daily.csv"
    pd.DataFrame({"date": history.index.strftime("%Y-%m-%d"), "calls": history.to_numpy()}).to_csv(
        path, index=False
    )
    return path


def test_cli_year_ahead_in_weeks_and_months(tmp_path, run_cli, plain_daily):
    history, future = plain_daily
    path = write_daily(tmp_path, history)
    common = [path, "--time-col", "date", "--value-col", "calls", "--model", "calendar_regression"]
    code, _, err = run_cli("forecast", *common, "--horizon-days", "365", "--out", tmp_path / "d.csv")
    assert code == 0, err
    daily = pd.read_csv(tmp_path / "d.csv", parse_dates=["timestamp"])
    assert len(daily) == 365
    width = (daily["hi80"] - daily["lo80"]) / daily["forecast"]
    by_week = width.groupby(np.arange(len(width)) // 7).mean()
    by_quarter = width.groupby(np.arange(len(width)) // 91).mean()
    assert by_week.iloc[-1] > 1.1 * by_week.iloc[0]
    # relative width also depends on the level (Poisson noise), so the season may dent it a little
    assert (by_quarter.to_numpy()[1:] >= 0.97 * by_quarter.to_numpy()[:-1]).all()
    for granularity, freq in (("week", "W-SUN"), ("month", "M")):
        out_path = tmp_path / f"{granularity}.csv"
        code, _, err = run_cli(
            "forecast", *common, "--horizon-days", "365", "--granularity", granularity, "--out", out_path
        )
        assert code == 0, err
        table = pd.read_csv(out_path, parse_dates=["timestamp"])
        sums = daily.groupby(daily["timestamp"].dt.to_period(freq))["forecast"].sum()
        assert np.allclose(table["forecast"].to_numpy(), sums.to_numpy(), rtol=1e-6)
        assert (table["lo80"] <= table["forecast"]).all() and (table["forecast"] <= table["hi80"]).all()
        assert (table["lo95"] <= table["lo80"]).all() and (table["hi80"] <= table["hi95"]).all()
        assert table["open_days"].sum() == 365
        assert table["complete"].iloc[1:-1].all()
        # the period's band is narrower, relative to its total, than a single day's
        assert ((table["hi80"] - table["lo80"]) / table["forecast"]).iloc[1] < width.iloc[10]
    months = pd.read_csv(tmp_path / "month.csv", parse_dates=["timestamp"])
    actual = future.groupby(future.index.to_period("M")).sum()
    inside = [
        lo <= actual.get(ts.to_period("M"), np.nan) <= hi
        for ts, lo, hi in zip(months["timestamp"], months["lo95"], months["hi95"], strict=True)
        if ts.to_period("M") in actual.index
    ]
    assert np.mean(inside) >= 0.7


def test_cli_bad_holiday_inputs(tmp_path, run_cli, plain_daily):
    path = write_daily(tmp_path, plain_daily[0])
    common = [path, "--time-col", "date", "--value-col", "calls", "--model", "calendar_regression"]
    code, _, err = run_cli("forecast", *common, "--holidays", "XX", "--out", tmp_path / "f.csv")
    assert code == 2 and "unknown holiday calendar" in err and "Traceback" not in err
    bad = tmp_path / "days.csv"
    bad.write_text("date,name\n2024-13-45,oops\n")
    code, _, err = run_cli("forecast", *common, "--special-days", bad, "--out", tmp_path / "f.csv")
    assert code == 2 and "days.csv" in err and "row 2" in err and "2024-13-45" in err


@pytest.mark.parametrize(
    "name", ["seasonal_naive_day", "seasonal_naive_week", "weekday_median", "calendar_regression"]
)
def test_slots_that_move_at_a_dst_change_are_forecast(name):
    """UTC timestamps of a centre keeping local hours: after the change its slots are an hour
    earlier, slots a model has never seen on that weekday (a crash once)."""
    case = StressCase("dst", dst_zone="Europe/Berlin")
    history, future = generate(case, "30min", 88, 14, seed=1)  # the change (31 March) inside
    last_day = history[history.index.normalize() == history.index.max().normalize()]
    assert history.index.min().hour == 7 and last_day.index.min().hour == 6
    pred = make_model(name).fit(history).predict(future.index)
    assert np.isfinite(pred.to_numpy()).all() and (pred["forecast"] >= 0).all()
    assert abs(pred["forecast"].sum() / future.sum() - 1) < 0.25


def test_a_special_days_file_without_a_header_loses_no_day(tmp_path):
    """Its first date was taken for the header and silently dropped."""
    from forecasting.common.errors import InputError
    from forecasting.special_days import read_special_days

    path = tmp_path / "days.csv"
    path.write_text("2003-03-10,promo\n2003-03-17,promo\n")
    with pytest.raises(InputError, match="no header line"):
        read_special_days(path)
    path.write_text("date,name\n1850-03-10,promo\n")
    with pytest.raises(InputError, match="not a date"):
        read_special_days(path)


def test_registered_model_names_are_ones_mlflow_takes():
    from forecasting.store import Store

    assert Store.model_name("data/calls.csv", "arrivals", "a/b c") == "capplan-calls-arrivals-a_b_c"
