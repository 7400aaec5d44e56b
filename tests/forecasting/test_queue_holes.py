"""All queues summed, when one queue's report has weeks with no data at all (issue 24): those
days are holes in the report, not quiet days, and are left out of the total with a warning; a
queue that starts midway (new) is no hole.

Generated here: a long report (timestamp, queue, calls) of weekdays 08:00-18:00, hourly, 13
weeks; queue A at ~1,000 a day, queue B at ~1,600 a day with holes of several lengths; a wide
report (a column per queue) with empty cells; a queue C that starts in week 7.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from forecasting.series import forecast_series

START = pd.Timestamp("2024-01-01")  # a Monday
WEEKS = 13
PER_HOUR = {"A": 100, "B": 160, "C": 50}  # 10 open hours a day


def weekdays(first_week: int = 0, last_week: int = WEEKS) -> pd.DatetimeIndex:
    days = pd.date_range(
        START + pd.Timedelta(weeks=first_week), START + pd.Timedelta(weeks=last_week), freq="D"
    )
    return days[(days.day_of_week < 5) & (days < START + pd.Timedelta(weeks=last_week))]


def long_report(days_of: dict[str, pd.DatetimeIndex], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for q, days in days_of.items():
        slots = pd.DatetimeIndex([d + pd.Timedelta(hours=h) for d in days for h in range(8, 18)])
        parts.append(
            pd.DataFrame({"timestamp": slots, "queue": q, "calls": rng.poisson(PER_HOUR[q], len(slots))})
        )
    frame = pd.concat(parts).sort_values(["timestamp", "queue"])
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


def without(days: pd.DatetimeIndex, *stretches: tuple[int, int]) -> pd.DatetimeIndex:
    """``days`` less the weeks [first, last) of each stretch."""
    drop = np.zeros(len(days), bool)
    for first, last in stretches:
        drop |= (days >= START + pd.Timedelta(weeks=first)) & (days < START + pd.Timedelta(weeks=last))
    return days[~drop]


def long_ingest(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "report.csv"
    frame.to_csv(path, index=False)
    options = IngestOptions(time_col="timestamp", value_cols=("calls",), queue_col="queue")
    return path, ingest(path, options)


LONG_ARGS = ("--time-col", "timestamp", "--value-col", "calls", "--queue-col", "queue")


def daily_forecast(run_cli, tmp_path, path, *args: str) -> pd.DataFrame:
    out = tmp_path / "forecast.csv"
    code, _out, err = run_cli(
        "forecast",
        "--input",
        path,
        *args,
        "--model",
        "weekday_mean",
        "--granularity",
        "day",
        "--horizon-days",
        "14",
        "--out",
        out,
    )
    assert code == 0, err
    return pd.read_csv(out)


def test_a_queue_missing_for_weeks_is_left_out_of_the_total_not_summed_as_low_demand(
    run_cli, tmp_path, caplog
):
    # B is missing weeks 3 to 10 (8 weeks) and back for the last 2 (plus weeks 11-12 mid-way)
    frame = long_report({"A": weekdays(), "B": without(weekdays(), (3, 11))})
    path, result = long_ingest(tmp_path, frame)
    with caplog.at_level(logging.WARNING, logger="forecasting.series"):
        total = forecast_series(result, "arrivals", None)
    warned = [r.getMessage() for r in caplog.records if "queue 'B'" in r.getMessage()]
    assert len(warned) == 1, caplog.text
    assert "40 open days" in warned[0] and "2024-01-22 to 2024-03-15" in warned[0]
    assert "queue 'A'" not in caplog.text
    daily = total.groupby(total.index.normalize()).sum()
    assert daily.min() > 2_300  # no day with A alone is in the total

    true_level = 10 * (PER_HOUR["A"] + PER_HOUR["B"])
    table = daily_forecast(run_cli, tmp_path, path, *LONG_ARGS)
    level = table.loc[pd.to_datetime(table.iloc[:, 0]).dt.day_of_week < 5, "forecast"].mean()
    assert abs(level / true_level - 1) < 0.10, (level, true_level)
    # each queue and B alone still forecast from their own data
    each = daily_forecast(run_cli, tmp_path, path, *LONG_ARGS, "--queue", "each")
    assert sorted(each["queue"].unique()) == ["A", "B"]
    b = daily_forecast(run_cli, tmp_path, path, *LONG_ARGS, "--queue", "B")
    b_level = b.loc[pd.to_datetime(b.iloc[:, 0]).dt.day_of_week < 5, "forecast"].mean()
    assert abs(b_level / (10 * PER_HOUR["B"]) - 1) < 0.10


def test_holes_of_several_lengths_in_several_queues_are_all_named(tmp_path, caplog):
    frame = long_report(
        {
            "A": without(weekdays(), (5, 6)),  # one week
            "B": without(weekdays(), (2, 4), (7, 10)),  # two stretches
        }
    )
    _path, result = long_ingest(tmp_path, frame)
    with caplog.at_level(logging.WARNING, logger="forecasting.series"):
        total = forecast_series(result)
        forecast_series(result)  # told once
    a = [r.getMessage() for r in caplog.records if "queue 'A'" in r.getMessage()]
    b = [r.getMessage() for r in caplog.records if "queue 'B'" in r.getMessage()]
    assert len(a) == 1 and "5 open days (2024-02-05 to 2024-02-09)" in a[0]
    assert len(b) == 1 and "25 open days" in b[0]
    assert "2024-01-15 to 2024-01-26" in b[0] and "2024-02-19 to 2024-03-08" in b[0]
    daily = total.groupby(total.index.normalize()).sum()
    assert len(daily) == len(weekdays()) - 5 - 25
    assert daily.min() > 2_300


def test_a_new_queue_starting_midway_is_no_hole(tmp_path, caplog):
    frame = long_report({"A": weekdays(), "B": weekdays(), "C": weekdays(6)})
    _path, result = long_ingest(tmp_path, frame)
    with caplog.at_level(logging.WARNING, logger="forecasting.series"):
        total = forecast_series(result)
    assert "has no data on" not in caplog.text
    daily = total.groupby(total.index.normalize()).sum()
    assert len(daily) == len(weekdays())  # the weeks before C are kept, at A + B
    assert daily[daily.index < START + pd.Timedelta(weeks=6)].mean() == pytest.approx(2_600, rel=0.05)
    assert daily[daily.index >= START + pd.Timedelta(weeks=6)].mean() == pytest.approx(3_100, rel=0.05)


def test_a_queue_that_works_fewer_weekdays_is_no_hole_on_the_others(tmp_path, caplog):
    days = weekdays()
    frame = long_report({"A": days, "B": days[days.day_of_week < 4]})  # B closed on Fridays
    _path, result = long_ingest(tmp_path, frame)
    with caplog.at_level(logging.WARNING, logger="forecasting.series"):
        total = forecast_series(result)
    assert "has no data on" not in caplog.text
    assert len(total.index.normalize().unique()) == len(days)


def test_a_wide_report_with_empty_cells_for_weeks(run_cli, tmp_path, caplog):
    long = long_report({"A": weekdays(), "B": without(weekdays(), (3, 11))})
    wide = long.pivot(index="timestamp", columns="queue", values="calls").reset_index()
    assert wide["B"].isna().any()
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    result = ingest(path, IngestOptions(time_col="timestamp", value_cols=("A", "B")))
    with caplog.at_level(logging.WARNING, logger="forecasting.series"):
        total = forecast_series(result)
    assert "queue 'B' has no data on 40 open days" in caplog.text
    daily = total.groupby(total.index.normalize()).sum()
    assert daily.min() > 2_300
    table = daily_forecast(
        run_cli, tmp_path, path, "--time-col", "timestamp", "--value-col", "A", "--value-col", "B"
    )
    level = table.loc[pd.to_datetime(table.iloc[:, 0]).dt.day_of_week < 5, "forecast"].mean()
    assert abs(level / 2_600 - 1) < 0.10, level


def test_a_tiny_queue_without_rows_on_quiet_days_is_no_hole(tmp_path, caplog):
    days = weekdays()
    frame = long_report({"A": days, "B": days})
    rng = np.random.default_rng(3)
    tiny = days[rng.random(len(days)) < 0.5]  # a report leaves out the slots with no calls
    slots = (tiny + pd.Timedelta(hours=9)).append(tiny + pd.Timedelta(hours=10))
    rows = pd.DataFrame({"timestamp": slots.strftime("%Y-%m-%d %H:%M:%S"), "queue": "T", "calls": 1})
    frame = pd.concat([frame, rows])
    _path, result = long_ingest(tmp_path, frame)
    with caplog.at_level(logging.WARNING, logger="forecasting.series"):
        total = forecast_series(result)
    assert "has no data on" not in caplog.text
    assert len(total.index.normalize().unique()) == len(days)
