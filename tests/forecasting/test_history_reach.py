"""Every model's forecast reaches no further ahead than its history reaches back (issue 24):
``auto`` refused long horizons through its backtest, an explicit model forecast 1,100 days
from 10 days of history with a band as narrow as day 1's."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tests.conftest import BANK_CALLS

SERIES = ["--time-col", "DateTime", "--value-col", "Calls"]


def scenario_on(folder, name: str, data, horizon_days: int):
    """The quick scenario of the scenario tests (tests/scenarios/conftest.py) on ``data``."""
    from tests.conftest import FAST

    spec = {
        **FAST,
        "name": name,
        "data": {**FAST["data"], "input": str(data)},
        "forecast": {**FAST["forecast"], "horizon_days": horizon_days},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module")
def short_history(tmp_path_factory):
    """The first 17 calendar days of the bank's 5-minute calls (15 with data)."""
    frame = pd.read_csv(BANK_CALLS, parse_dates=["DateTime"])
    path = tmp_path_factory.mktemp("short") / "short.csv"
    frame[frame["DateTime"] < frame["DateTime"].min() + pd.Timedelta(days=17)].to_csv(path, index=False)
    return path


@pytest.mark.parametrize("model", ["weekday_mean", "seasonal_naive_week", "harmonic"])
def test_an_explicit_model_is_held_to_the_history_it_has(run_cli, tmp_path, short_history, model):
    out = tmp_path / "f.csv"
    code, _, err = run_cli(
        "forecast", "--input", short_history, *SERIES, "--model", model, "--horizon-days", "60", "--out", out
    )
    assert code == 2 and "--horizon-days" in err and "further ahead than the history" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    code, _, err = run_cli(
        "forecast", "--input", short_history, *SERIES, "--model", model, "--horizon-days", "5", "--out", out
    )
    assert code == 0, err
    table = pd.read_csv(out, parse_dates=["timestamp"])
    end = pd.read_csv(short_history, parse_dates=["DateTime"])["DateTime"].max().tz_localize(None)
    assert (table["timestamp"].max().normalize() - end.normalize()).days <= 17


def test_requested_times_are_held_likewise(run_cli, tmp_path, short_history):
    far = tmp_path / "at.csv"
    far.write_text("timestamp\n2003-03-24T09:00:00Z\n2003-05-20T09:00:00Z\n")
    code, _, err = run_cli(
        "forecast",
        "--input",
        short_history,
        *SERIES,
        "--model",
        "weekday_mean",
        "--at",
        far,
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 2 and "--at" in err and "2003-05-20" in err


def test_a_champion_is_held_to_its_training_history(run_cli, tmp_path, short_history, tracking_store):
    code, _, err = run_cli(
        "train",
        "--input",
        short_history,
        *SERIES,
        "--models",
        "weekday_mean",
        "--horizon-days",
        "1",
        "--origins",
        "2",
        "--jobs",
        "1",
        "--registered-model",
        "short",
    )
    assert code == 0, err
    code, _, err = run_cli(
        "forecast",
        "--input",
        short_history,
        *SERIES,
        "--model",
        "champion",
        "--registered-model",
        "short",
        "--horizon-days",
        "60",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 2 and "further ahead than the history" in err


def test_a_scenario_names_its_key(run_cli, tmp_path, short_history):
    path = scenario_on(tmp_path, "short", short_history, horizon_days=60)
    code, _, err = run_cli("scenario", "run", path, "--out", tmp_path / "out", "--no-track")
    assert code == 2 and "short.yaml" in err and "key 'forecast.horizon_days'" in err


def test_forecasts_start_after_a_stopped_feed_not_inside_the_file(run_cli, tmp_path, caplog):
    """A report whose last three weeks are zeros (a stopped feed): those days are left out of
    what models learn, but the forecast still starts after the file's end, for a forecast and
    for a scenario's plan (which says why it has no recent data)."""
    import numpy as np

    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", periods=11 * 7, freq="D")
    days = days[days.day_of_week < 5]
    offsets = pd.to_timedelta(np.arange(8 * 60, 18 * 60, 30), unit="min")
    stamps = pd.DatetimeIndex([d + o for d in days for o in offsets])
    calls = rng.poisson(50, len(stamps))
    calls[stamps >= pd.Timestamp("2024-02-26")] = 0
    path = tmp_path / "stopped.csv"
    pd.DataFrame({"DateTime": stamps, "Calls": calls}).to_csv(path, index=False)
    out = tmp_path / "f.csv"
    code, _, err = run_cli(
        "forecast", "--input", path, *SERIES, "--model", "weekday_mean", "--horizon-days", "3", "--out", out
    )
    assert code == 0, err
    table = pd.read_csv(out, parse_dates=["timestamp"])
    assert table["timestamp"].min() > stamps.max()
    assert table["forecast"].sum() == pytest.approx(
        3 * 20 * 50, rel=0.15
    )  # the level before the feed stopped
    scenario = scenario_on(tmp_path, "stopped", path, horizon_days=3)
    code, _, err = run_cli("scenario", "run", scenario, "--out", tmp_path / "out", "--no-track")
    assert code == 0, err
    plan = pd.read_csv(tmp_path / "out" / "stopped" / "intervals.csv", parse_dates=["interval_start"])
    assert plan["interval_start"].min() > stamps.max()
    assert "no usable open days after 2024-02-23" in caplog.text
