"""A stored forecast against the actuals since (``forecasting.accuracy``), checked against
plain pandas computations on a generated daily report with a weekday and a yearly season."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.accuracy import Actuals, compare, read_forecast, verdict
from forecasting.catalog import make_model
from forecasting.common.errors import InputError
from forecasting.forecast_job import forecast_table
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.stress import StressCase, generate

HORIZON = 75


@pytest.fixture(scope="module")
def daily():
    """(history, future, the day forecast of a model fitted on the history)."""
    history, future = generate(StressCase("plain"), "day", 500, HORIZON, seed=11)
    model = make_model("weekday_mean").fit(history)
    return history, future, model, forecast_table(model, future.index)


def actuals_of(tmp_path, series: pd.Series, name: str = "actuals.csv") -> Actuals:
    path = tmp_path / name
    frame = pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "calls": series.to_numpy()})
    frame.to_csv(path, index=False)
    return Actuals.from_ingest(ingest(path, IngestOptions(time_col="date", value_cols=("calls",))))


def naive_scale(series: pd.Series) -> float:
    """Mean |y(t) - y(t - 7 days)| over the days that have both, computed apart."""
    week_before = series.shift(freq="7D")
    both = pd.concat([series, week_before], axis=1, keys=["now", "before"]).dropna()
    return float((both["now"] - both["before"]).abs().mean())


def test_day_measures_match_an_independent_computation(tmp_path, daily):
    history, future, _, table = daily
    result = compare(table, actuals_of(tmp_path, pd.concat([history, future])))
    day = result.level("day")
    f = table.set_index("timestamp")
    err = f["forecast"] - future
    assert day["n"] == HORIZON
    assert day["wape"] == pytest.approx(err.abs().sum() / future.sum(), rel=1e-9)
    assert day["bias"] == pytest.approx(err.sum() / future.sum(), rel=1e-9)
    assert day["mase"] == pytest.approx(err.abs().mean() / naive_scale(history), rel=1e-9)
    inside80 = ((future >= f["lo80"]) & (future <= f["hi80"])).mean()
    assert day["coverage80"] == pytest.approx(inside80)
    assert day["coverage95"] == pytest.approx(((future >= f["lo95"]) & (future <= f["hi95"])).mean())
    assert result.scale_from.startswith("history before the forecast")
    rows = result.rows[result.rows["level"] == "day"].set_index("timestamp")
    assert np.allclose(rows["actual"], future.reindex(rows.index))
    assert "WAPE" in verdict(result) and "MASE" in verdict(result)


def test_weeks_and_months_score_only_whole_periods(tmp_path, daily):
    history, future, _, table = daily
    result = compare(table, actuals_of(tmp_path, pd.concat([history, future])))
    f = table.set_index("timestamp")["forecast"]
    for level, freq in (("week", "W-SUN"), ("month", "M")):
        days = pd.Series(1, index=future.index).groupby(future.index.to_period(freq)).sum()
        length = pd.Series({p: (p.end_time.normalize() - p.start_time).days + 1 for p in days.index})
        whole = days[days == length].index
        actual = future.groupby(future.index.to_period(freq)).sum()[whole]
        forecast = f.groupby(f.index.to_period(freq)).sum()[whole]
        got = result.level(level)
        assert got["n"] == len(whole)
        assert got["partial_forecast"] == len(days) - len(whole)
        assert got["wape"] == pytest.approx((forecast - actual).abs().sum() / actual.sum(), rel=1e-9)
        assert got["bias"] == pytest.approx((forecast - actual).sum() / actual.sum(), rel=1e-9)
        assert np.isnan(got["coverage80"])  # a file's day bands do not add up to a week's
        rows = result.rows[(result.rows["level"] == level) & (result.rows["status"] == "scored")]
        assert list(rows["timestamp"]) == [p.start_time for p in whole]


def test_model_period_tables_carry_their_own_bands(tmp_path, daily):
    history, future, model, table = daily
    tables = {g: forecast_table(model, future.index, g) for g in ("week", "month")}
    result = compare(table, actuals_of(tmp_path, pd.concat([history, future])), tables=tables)
    week = tables["week"].set_index("timestamp")
    scored = result.rows[(result.rows["level"] == "week") & (result.rows["status"] == "scored")]
    actual = scored.set_index("timestamp")["actual"]
    inside = ((actual >= week.loc[actual.index, "lo80"]) & (actual <= week.loc[actual.index, "hi80"])).mean()
    assert result.level("week")["coverage80"] == pytest.approx(inside)


def test_missing_days_and_the_future_are_counted_not_scored(tmp_path, daily):
    history, future, _, table = daily
    gap = future.index[10:13]  # three days the report lost
    arrived = future.iloc[:50].drop(gap)  # and the last days have not happened yet
    result = compare(table, actuals_of(tmp_path, pd.concat([history, arrived])))
    day = result.level("day")
    assert day["n"] == 47
    assert day["gap_in_the_actuals"] == 3
    assert day["after_the_actuals"] == HORIZON - 50
    f = table.set_index("timestamp")["forecast"]
    err = f[arrived.index] - arrived
    assert day["wape"] == pytest.approx(err.abs().sum() / arrived.sum(), rel=1e-9)
    week = result.rows[result.rows["level"] == "week"].set_index("timestamp")
    gap_week = gap[0].to_period("W-SUN").start_time
    assert week.loc[gap_week, "status"] == "partial actuals"
    assert np.isnan(week.loc[gap_week, "actual"])


def test_intervals_against_daily_actuals_are_totalled_per_day(tmp_path, daily):
    """A plan's 30-minute forecast against the daily report it was made from: each whole day's
    intervals add up to the day's total; a day the forecast holds only in part is not scored."""
    history, future, _, _ = daily
    actuals = actuals_of(tmp_path, pd.concat([history, future]))
    days = future.index[:5]
    slots = pd.DatetimeIndex([d + pd.Timedelta(minutes=30 * k) for d in days for k in range(16, 40)])
    per_slot = np.repeat(future[days].to_numpy() * 1.05 / 24, 24)
    forecast = pd.DataFrame({"timestamp": slots, "forecast": per_slot}).iloc[3:]  # the first day cut
    result = compare(forecast, actuals)
    assert result.granularity == "day" and "totalled per day" in result.note
    day = result.level("day")
    assert day["n"] == 4  # the cut first day is not a day's forecast
    assert day["bias"] == pytest.approx(0.05, rel=1e-9) and day["wape"] == pytest.approx(0.05, rel=1e-9)
    rows = result.rows[result.rows["level"] == "day"].set_index("timestamp")
    assert rows.loc[days[0], "status"] == "partial forecast"


def test_finer_actuals_are_totalled_into_the_forecast_intervals(tmp_path):
    """30-minute actuals against an hourly forecast: each hour the sum of its two slots."""
    history, future = generate(StressCase("plain"), "30min", 21, 7, seed=2)
    both = pd.concat([history, future])
    path = tmp_path / "slots.csv"
    pd.DataFrame({"t": both.index.strftime("%Y-%m-%d %H:%M"), "calls": both.to_numpy()}).to_csv(
        path, index=False
    )
    actuals = Actuals.from_ingest(ingest(path, IngestOptions(time_col="t", value_cols=("calls",))))
    hours = future.groupby(future.index.floor("h")).sum()
    forecast = pd.DataFrame({"timestamp": hours.index, "forecast": hours.to_numpy() * 1.1})
    result = compare(forecast, actuals)
    own = result.level("interval")
    assert own["n"] == len(hours)
    assert own["bias"] == pytest.approx(0.1, rel=1e-9)
    assert own["wape"] == pytest.approx(0.1, rel=1e-9)
    assert result.level("day")["n"] == 7
    assert result.level("day")["bias"] == pytest.approx(0.1, rel=1e-9)


def test_a_bad_forecast_file_is_named_by_row_and_column(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("timestamp,forecast,lo80,hi80\n2024-01-01,10,8,12\n2024-01-02,ten,8,12\n")
    with pytest.raises(InputError, match=r"f.csv, row 3, column 'forecast'"):
        read_forecast(path)
    path.write_text("when,value\n2024-01-01,10\n")
    with pytest.raises(InputError, match="column 'timestamp'"):
        read_forecast(path)
    path.write_text("timestamp,queue,forecast\n2024-01-01,a,1\n2024-01-01,b,2\n")
    with pytest.raises(InputError, match="several queues"):
        read_forecast(path)
    assert read_forecast(path, "b")["forecast"].tolist() == [2.0]


def test_weekly_totals_score_a_weekly_forecast_and_refuse_a_daily_one(tmp_path, daily):
    history, future, _, table = daily
    both = pd.concat([history, future])
    weeks = both.groupby(both.index.to_period("W-SUN")).sum().iloc[1:-1]  # whole weeks only
    path = tmp_path / "weekly.csv"
    pd.DataFrame({"week": weeks.index.start_time.strftime("%Y-%m-%d"), "calls": weeks.to_numpy()}).to_csv(
        path, index=False
    )
    actuals = Actuals.from_ingest(ingest(path, IngestOptions(time_col="week", value_cols=("calls",))))
    assert actuals.granularity == "week"
    ahead = weeks[weeks.index.start_time >= future.index[0]]
    forecast = pd.DataFrame(
        {
            "timestamp": ahead.index.start_time,
            "forecast": ahead.to_numpy() * 0.9,
            "open_days": 7,
            "complete": True,
        }
    )
    result = compare(forecast, actuals)
    week = result.level("week")
    assert result.granularity == "week" and week["n"] == len(ahead)
    assert week["bias"] == pytest.approx(-0.1) and week["wape"] == pytest.approx(0.1)
    with pytest.raises(InputError, match="totals per week, coarser than the forecast's day rows"):
        compare(table, actuals)


def test_offsets_are_read_as_written_and_off_grid_rows_refused(tmp_path, daily):
    history, future, _, table = daily
    actuals = actuals_of(tmp_path, pd.concat([history, future]))
    path = tmp_path / "f.csv"
    written = table.assign(timestamp=table["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S+02:00"))
    written.to_csv(path, index=False)
    read = read_forecast(path)
    assert (read["timestamp"] == table["timestamp"]).all()
    assert compare(read, actuals).level("day")["n"] == HORIZON
    shifted = table.assign(timestamp=table["timestamp"] + pd.Timedelta(hours=6))
    with pytest.raises(InputError, match="off the actuals' grid"):
        compare(shifted, actuals)


def test_handle_times_of_a_day_weigh_both_sides_by_the_calls(tmp_path):
    """A day's AHT is the call-weighted mean of its intervals, for the actuals and the forecast's
    totals alike: a forecast 5 % over every interval is 5 % over every day."""
    history, future = generate(StressCase("plain"), "30min", 14, 7, seed=4)
    both = pd.concat([history, future])
    rng = np.random.default_rng(0)
    aht = pd.Series(rng.uniform(150, 400, len(both)), index=both.index)
    path = tmp_path / "report.csv"
    pd.DataFrame(
        {"t": both.index.strftime("%Y-%m-%d %H:%M"), "calls": both.to_numpy(), "aht": aht.round(1)}
    ).to_csv(path, index=False)
    result = ingest(path, IngestOptions(time_col="t", value_cols=("calls", "aht=aht")))
    actuals = Actuals.from_ingest(result, "aht")
    ahead = actuals.series[actuals.series.index >= future.index[0]]
    forecast = pd.DataFrame({"timestamp": ahead.index, "forecast": ahead.to_numpy() * 1.05})
    scored = compare(forecast, actuals)
    assert scored.level("interval")["bias"] == pytest.approx(0.05)
    assert scored.level("day")["bias"] == pytest.approx(0.05) and scored.level("day")["n"] == 7
    calls = future.reindex(ahead.index)
    by_day = (ahead * calls).groupby(ahead.index.normalize()).sum() / calls.groupby(
        ahead.index.normalize()
    ).sum()
    rows = scored.rows[(scored.rows["level"] == "day") & (scored.rows["status"] == "scored")].set_index(
        "timestamp"
    )
    assert rows["actual"].to_numpy() == pytest.approx(by_day.reindex(rows.index).to_numpy())
