"""A daily (or weekly) report reaches staffing: a scenario on it forecasts by day and spreads each
day to the planning interval with an intraday profile (a file, an intraday history of the queue,
or the bundled typical day with a warning), and ``staff --input`` never staffs a day as one
interval. Checked against independent computations: totals, the profile's shape, Erlang C."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from forecasting.common.errors import InputError
from forecasting.forecast_job import make_forecast
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.intraday_profile import TYPICAL_WARNING
from forecasting.stress import StressCase, generate
from scenarios.inputs.base_forecast import base_forecast
from scenarios.inputs.spec import Scenario
from scenarios.runner import run_scenario
from scenarios.tracking.runs import latest_run

HORIZON = 7


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A daily report (trend, weekday and yearly season), an intraday report of the same queue,
    a weekly report and a profile file peaking at 15:00."""
    folder = tmp_path_factory.mktemp("daily")
    daily, _ = generate(StressCase("plain"), "day", 420, 10, seed=5)
    daily.rename("calls").rename_axis("date").reset_index().to_csv(folder / "daily.csv", index=False)
    intraday, _ = generate(StressCase("plain"), "30min", 63, 7, seed=6)
    intraday.rename("calls").rename_axis("interval_start").reset_index().to_csv(
        folder / "intraday.csv", index=False
    )
    weekly = daily.groupby(daily.index.to_period("W-SUN")).sum()
    weekly.index = weekly.index.start_time
    weekly.rename("calls").rename_axis("week").reset_index().to_csv(folder / "weekly.csv", index=False)
    rows = [
        (day, f"{hour:02d}:00", 4.0 if hour == 15 else 1.0)
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        for hour in range(7, 19)
    ]
    pd.DataFrame(rows, columns=["weekday", "time", "share"]).to_csv(folder / "profile.csv", index=False)
    return folder


def daily_scenario(files, interval: str = "30min", **data) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "daily",
            "data": {"input": str(files / "daily.csv"), "time_col": "date", "value_col": "calls", **data},
            "forecast": {"model": "weekday_mean", "horizon_days": HORIZON, "interval": interval},
            "queues": {"voice": {"aht_seconds": 240}},
            "targets": {"service_level": 0.8, "target_seconds": 20},
            "risk": {"simulations": 20},
        }
    )


def daily_forecast(files) -> pd.Series:
    """The day totals a model makes on the daily report itself, independently of the scenario."""
    result = ingest(
        files / "daily.csv", IngestOptions(format="intervals", time_col="date", value_cols=("calls",))
    )
    table, _, _ = make_forecast(result, "arrivals", None, "weekday_mean", HORIZON, progress=False)
    return table.set_index(pd.to_datetime(table["timestamp"]))["forecast"]


def erlang_c_agents(calls: float, aht: float, seconds: float, sl: float, target: float) -> int:
    """The fewest agents meeting the service level, from the textbook formula term by term."""
    a = calls * aht / seconds
    n = max(math.floor(a) + 1, 1)
    while True:
        terms = sum(a**k / math.factorial(k) for k in range(n))
        top = a**n / math.factorial(n) * n / (n - a)
        p_wait = top / (terms + top)
        if 1 - p_wait * math.exp(-(n - a) * target / aht) >= sl:
            return n
        n += 1


def test_without_a_profile_the_typical_day_spreads_each_forecast_day_and_says_so(files):
    result = run_scenario(daily_scenario(files), analysis=False)
    assert any(TYPICAL_WARNING in w for w in result.warnings)
    t = result.intervals
    per_day = t.groupby(pd.DatetimeIndex(t["interval_start"]).normalize())
    assert (per_day.size() >= 12).all()  # intervals, not one row a day (Sunday 10:00-16:00)
    expected = daily_forecast(files)
    assert np.allclose(per_day["volume"].sum().reindex(expected.index).to_numpy(), expected.to_numpy())
    clock = pd.DatetimeIndex(t["interval_start"])
    weekday = clock.day_of_week < 5
    assert (clock[weekday].hour >= 8).all() and (clock[weekday].hour < 20).all()
    assert result.summary["fte_total"] > 0 and (t["fte"] >= 0).all()


def test_a_profile_file_shapes_the_day_and_each_interval_is_staffed_by_erlang_c(files):
    s = daily_scenario(files, "60min", intraday_profile=str(files / "profile.csv"))
    result = run_scenario(s, analysis=False)
    assert not any(TYPICAL_WARNING in w for w in result.warnings)
    t = result.intervals.assign(day=lambda f: pd.DatetimeIndex(f["interval_start"]).normalize())
    peak = t.loc[t.groupby("day")["volume"].idxmax(), "interval_start"]
    assert (pd.DatetimeIndex(peak).hour == 15).all()
    day = t[t["day"] == t["day"].iloc[0]]
    assert np.allclose(
        day["volume"] / day["volume"].sum(), np.where(day["interval_start"].dt.hour == 15, 4, 1) / 15
    )
    row = t.loc[t["volume"].idxmax()]
    assert row["required_agents"] == erlang_c_agents(row["volume_staffed"], 240, 3600, 0.8, 20)


def test_an_intraday_history_of_the_queue_gives_the_shape(files):
    s = daily_scenario(
        files,
        intraday_history={
            "input": str(files / "intraday.csv"),
            "time_col": "interval_start",
            "value_col": "calls",
        },
    )
    t = run_scenario(s, analysis=False).intervals
    history = pd.read_csv(files / "intraday.csv", parse_dates=["interval_start"]).set_index("interval_start")[
        "calls"
    ]
    last = history[history.index.normalize() > history.index.normalize().max() - pd.Timedelta(days=56)]
    shares = last / last.groupby(last.index.normalize()).transform("sum")
    expected = shares.groupby([shares.index.day_of_week, shares.index.strftime("%H:%M")]).apply(
        lambda v: stats.trim_mean(v.to_numpy(), 0.2)
    )
    expected = expected / expected.groupby(level=0).transform("sum")
    stamps = pd.DatetimeIndex(t["interval_start"])
    got = t["volume"] / t.groupby(stamps.normalize())["volume"].transform("sum")
    want = expected.reindex(list(zip(stamps.day_of_week, stamps.strftime("%H:%M"), strict=True))).to_numpy()
    assert np.allclose(got.to_numpy(), want)


def test_weekly_totals_are_spread_by_the_weekday_mix_and_the_day_shape(files):
    s = Scenario.model_validate(
        {
            **daily_scenario(files).model_dump(by_alias=True),
            "name": "weekly",
            "data": {"input": str(files / "weekly.csv"), "time_col": "week", "value_col": "calls"},
            "forecast": {"horizon_days": 7, "interval": "30min"},
        }
    )
    base = base_forecast(s.data, s.forecast, s.risk.correlation)
    t = base.table
    days = pd.DatetimeIndex(t["interval_start"]).normalize()
    assert days.nunique() == 7 and days.min().day_of_week == 0  # one whole week, Monday first
    assert "period models" not in (base.warning or "") and TYPICAL_WARNING in base.warning
    assert "per week" in base.model


def test_interval_day_says_how_daily_data_is_planned(files):
    with pytest.raises(Exception, match="intraday_profile") as caught:
        daily_scenario(files, "day")
    assert "15min, 30min or 60min" in str(caught.value)


def test_an_hourly_profile_cannot_make_half_hours(files):
    s = daily_scenario(files, "30min", intraday_profile=str(files / "profile.csv"))
    with pytest.raises(InputError, match=r"forecast.interval.*60-minute slots"):
        base_forecast(s.data, s.forecast, s.risk.correlation)


def test_profile_and_history_together_are_refused(files):
    with pytest.raises(Exception, match="intraday_profile or intraday_history"):
        daily_scenario(
            files,
            intraday_profile="p.csv",
            intraday_history={"input": "x.csv", "time_col": "a", "value_col": "b"},
        )


def test_the_cli_run_records_the_warning_with_the_run(files, run_cli, tracking_store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "daily.yaml"
    path.write_text(yaml.safe_dump(daily_scenario(files).model_dump(mode="json", by_alias=True)))
    code, _, err = run_cli("scenario", "run", path)
    assert code == 0, err
    folder = tmp_path / "out" / "scenarios" / "daily"
    intervals = pd.read_csv(folder / "intervals.csv")
    assert len(intervals) > HORIZON * 20 and "fte" in intervals
    assert json.loads((folder / "summary.json").read_text())["fte_total"] > 0
    run = latest_run(tracking_store, "daily")
    assert "typical contact-centre week (generic" in run.tags["forecast_model"]
    assert (
        "a generic shape, not this centre's" in run.tags["warnings"]
    )  # the warning itself, kept with the run


def test_staff_spreads_a_daily_forecast_and_says_so(files, run_cli, tmp_path):
    forecast = daily_forecast(files)
    table = forecast.rename("forecast").rename_axis("timestamp").reset_index()
    table.to_csv(tmp_path / "f.csv", index=False)
    code, out, err = run_cli(
        "staff",
        "--input",
        tmp_path / "f.csv",
        "--aht",
        "240",
        "--service-level",
        "0.8",
        "--out",
        tmp_path / "s.csv",
    )
    assert code == 0, err
    assert f"{HORIZON} days spread to 30min intervals" in out and "typical" in out
    assert "generic, not this centre's" in out and "--profile FILE" in out
    s = pd.read_csv(tmp_path / "s.csv", parse_dates=["timestamp"])
    per_day = s.groupby(s["timestamp"].dt.normalize())["calls"].sum()
    assert np.allclose(per_day.to_numpy(), forecast.to_numpy(), rtol=1e-5)
    row = s.loc[s["calls"].idxmax()]
    assert row["agents"] == erlang_c_agents(row["calls"], 240, 1800, 0.8, 20)

    code, out, err = run_cli(
        "staff",
        "--input",
        tmp_path / "f.csv",
        "--aht",
        "240",
        "--service-level",
        "0.8",
        "--profile",
        files / "profile.csv",
        "--out",
        tmp_path / "p.csv",
    )
    assert code == 0, err
    assert "60min intervals by profile file profile.csv" in out and "generic" not in out
    p = pd.read_csv(tmp_path / "p.csv", parse_dates=["timestamp"])
    assert (
        p.loc[p.groupby(p["timestamp"].dt.normalize())["calls"].idxmax(), "timestamp"].dt.hour == 15
    ).all()

    code, out, err = run_cli(
        "staff",
        "--input",
        tmp_path / "f.csv",
        "--aht",
        "240",
        "--service-level",
        "0.8",
        "--profile",
        files / "intraday.csv",
        "--out",
        tmp_path / "h.csv",
    )
    assert code == 0, err
    assert "by the intraday report intraday.csv" in out


def test_staff_spreads_weekly_rows_and_refuses_monthly(files, run_cli, tmp_path):
    weekly = pd.DataFrame(
        {"timestamp": ["2025-03-03", "2025-03-10"], "calls": [7000, 7700], "aht": [200, 210]}
    )
    weekly.to_csv(tmp_path / "w.csv", index=False)
    code, out, err = run_cli(
        "staff", "--input", tmp_path / "w.csv", "--service-level", "0.8", "--out", tmp_path / "o.csv"
    )
    assert code == 0, err
    o = pd.read_csv(tmp_path / "o.csv", parse_dates=["timestamp"])
    week = (o["timestamp"] - pd.Timestamp("2025-03-03")).dt.days // 7
    assert np.allclose(o.groupby(week)["calls"].sum().to_numpy(), [7000, 7700], rtol=1e-5)
    assert (o.groupby(week)["aht"].agg(["min", "max"]).to_numpy() == [[200, 200], [210, 210]]).all()
    assert "2 weeks spread" in out
    forecast = pd.DataFrame(  # `capplan forecast --granularity week`: its partial weeks are refused
        {
            "timestamp": ["2025-03-03 00:00:00", "2025-03-10 00:00:00"],
            "forecast": [900, 7000],
            "open_days": [1, 7],
            "complete": [False, True],
        }
    )
    forecast.to_csv(tmp_path / "fw.csv", index=False)
    code, out, err = run_cli(
        "staff", "--input", tmp_path / "fw.csv", "--aht", "200", "--service-level", "0.8"
    )
    assert code == 2 and "row 2, column 'complete': a partial week" in err
    forecast.iloc[1:].to_csv(tmp_path / "fw.csv", index=False)  # one whole week, at midnight: a week
    code, out, err = run_cli(
        "staff", "--input", tmp_path / "fw.csv", "--aht", "200", "--service-level", "0.8"
    )
    assert code == 0 and "1 week spread" in out
    staffed = pd.read_csv(tmp_path / "fw_staffing.csv")
    assert staffed["calls"].sum() == pytest.approx(7000, rel=1e-5)
    monthly = pd.DataFrame({"timestamp": ["2025-01-01", "2025-02-01", "2025-03-01"], "calls": [1, 2, 3]})
    monthly.to_csv(tmp_path / "m.csv", index=False)
    code, out, err = run_cli("staff", "--input", tmp_path / "m.csv", "--aht", "200", "--service-level", "0.8")
    assert code == 2 and "cannot be spread to intervals" in err and err.count("\n") == 1
