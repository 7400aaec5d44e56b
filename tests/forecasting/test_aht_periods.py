"""A day's or week's AHT is its handle time over its calls, not the mean of its slots' AHTs
(issue 24): mornings of many short calls and afternoons of few long ones read 400 s a day where
the centre handled 169 s a call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def busy_mornings(path) -> float:
    """Six weeks of weekday half-hours: 100 calls of 100 s before noon, 10 of 600 s after;
    returns the true AHT of a day (its work over its calls)."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", periods=42, freq="D")
    days = days[days.day_of_week < 5]
    offsets = pd.to_timedelta(np.arange(8 * 60, 18 * 60, 30), unit="min")
    stamps = pd.DatetimeIndex([d + o for d in days for o in offsets])
    morning = (stamps - stamps.normalize()) < pd.Timedelta(hours=12)
    calls = np.where(morning, 100, 10)
    aht = np.where(morning, 100.0, 600.0) * rng.normal(1, 0.02, len(stamps))
    pd.DataFrame({"DateTime": stamps, "Calls": calls, "AHT": aht.round(1)}).to_csv(path, index=False)
    return float((calls * aht).sum() / calls.sum())


@pytest.mark.parametrize("granularity", ["day", "week"])
def test_period_aht_is_weighted_by_calls(run_cli, tmp_path, granularity):
    truth = busy_mornings(tmp_path / "aht.csv")
    out = tmp_path / "f.csv"
    code, _, err = run_cli(
        "forecast",
        "--input",
        tmp_path / "aht.csv",
        "--time-col",
        "DateTime",
        "--value-col",
        "Calls",
        "--value-col",
        "AHT=aht",
        "--field",
        "aht",
        "--model",
        "aht_profile",
        "--granularity",
        granularity,
        "--horizon-days",
        "5",
        "--out",
        out,
    )
    assert code == 0, err
    table = pd.read_csv(out)
    assert table["forecast"].to_numpy() == pytest.approx(truth, rel=0.1)
    assert (table["lo95"] <= truth * 1.1).all() and (table["hi95"] >= truth * 0.9).all()


def test_a_finer_aht_champion_is_not_averaged_into_days(run_cli, tmp_path, tracking_store):
    """A daily export cannot say which of the model's slots its calls fell in: refused."""
    busy_mornings(tmp_path / "aht.csv")
    frame = pd.read_csv(tmp_path / "aht.csv", parse_dates=["DateTime"])
    frame["work"] = frame["Calls"] * frame["AHT"]
    daily = frame.groupby(frame["DateTime"].dt.normalize()).agg(Calls=("Calls", "sum"), work=("work", "sum"))
    daily = daily.assign(AHT=(daily["work"] / daily["Calls"]).round(1)).drop(columns="work").reset_index()
    daily.to_csv(tmp_path / "daily.csv", index=False)
    read = ["--time-col", "DateTime", "--value-col", "Calls", "--value-col", "AHT=aht", "--field", "aht"]
    code, _, err = run_cli(
        "train",
        "--input",
        tmp_path / "aht.csv",
        *read,
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        "aht",
    )
    assert code == 0, err
    code, _, err = run_cli(
        "forecast",
        "--input",
        tmp_path / "daily.csv",
        *read,
        "--model",
        "champion",
        "--registered-model",
        "aht",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 2 and "handle times of longer intervals" in err and len(err.strip().splitlines()) == 1
