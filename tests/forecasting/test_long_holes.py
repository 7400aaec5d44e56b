"""A history with a long hole (weeks with no data at all) keeps its opening hours: the hole is
missing open days and gaps, never "closed", and forecasts are made from the data after it.

The stress cases are generated here: weekday 30-minute, hourly and daily reports of a centre
open 08:00-18:00 with holes of 2 to 20 weeks (starting mid-week), a centre open every day, a
centre closed on Wednesdays, a contact log, and a hole across a daylight-saving change.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.catalog import MODELS, make_model
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.series import forecast_series
from forecasting.slots import as_history

START = pd.Timestamp("2024-01-01")  # a Monday
BEFORE_DAYS = 24  # data from Monday of week 1 to the Wednesday of week 4, then the hole
LEVEL = 20.0  # calls per 30 minutes before the hole
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def hole_days(hole_weeks: int) -> pd.DatetimeIndex:
    """Every calendar day of the hole: it starts on a Thursday and ends on a Wednesday."""
    return pd.date_range(START + pd.Timedelta(days=BEFORE_DAYS), periods=7 * hole_weeks, freq="D")


def report(
    hole_weeks: int,
    freq: str = "30min",
    open_days: tuple[int, ...] = (0, 1, 2, 3, 4),
    after_weeks: int = 4,
    after_level: float = 1.0,
    zone: str | None = None,
    start: pd.Timestamp = START,
    seed: int = 0,
) -> pd.DataFrame:
    """An interval report (DateTime, Calls) open 08:00-18:00 on ``open_days``, with a hole of
    ``hole_weeks`` weeks and ``after_weeks`` weeks of data after it at ``after_level`` × the
    level before; times as local ISO with the offset of ``zone`` when given; ``freq='D'``
    gives daily totals."""
    rng = np.random.default_rng(seed)
    gap = hole_days(hole_weeks) - START + start
    days = pd.date_range(start, gap[-1] + pd.Timedelta(weeks=after_weeks), freq="D")
    days = days[np.isin(days.day_of_week, open_days) & ~days.isin(gap)]
    step = "30min" if freq == "D" else freq
    per_slot = pd.Timedelta(step) / pd.Timedelta("30min")
    slots = pd.DatetimeIndex(
        np.concatenate(
            [pd.date_range(d + pd.Timedelta(hours=8), periods=int(20 / per_slot), freq=step) for d in days]
        )
    )
    level = LEVEL * per_slot * np.where(slots > gap[-1], after_level, 1.0)
    calls = pd.Series(rng.poisson(level), index=slots)
    if freq == "D":
        calls = calls.groupby(calls.index.normalize()).sum()
    stamps = calls.index
    if zone:
        text = [t.isoformat() for t in stamps.tz_localize(zone)]
    else:
        text = stamps.strftime("%Y-%m-%d" if freq == "D" else "%Y-%m-%d %H:%M:%S")
    return pd.DataFrame({"DateTime": text, "Calls": calls.to_numpy()})


def contact_log(hole_weeks: int, seed: int = 1) -> pd.DataFrame:
    """A per-contact log (canonical columns) of the same centre, 400 contacts a weekday."""
    rng = np.random.default_rng(seed)
    gap = hole_days(hole_weeks)
    days = pd.date_range(START, gap[-1] + pd.Timedelta(weeks=4), freq="D")
    days = days[(days.day_of_week < 5) & ~days.isin(gap)]
    offsets = [np.sort(rng.uniform(8 * 3600, 18 * 3600, rng.poisson(400))) for _ in days]
    arrival = pd.DatetimeIndex(
        np.concatenate([d + pd.to_timedelta(o, unit="s") for d, o in zip(days, offsets, strict=True)])
    ).round("s")
    answer = arrival + pd.to_timedelta(rng.exponential(20, len(arrival)).round(), unit="s")
    end = answer + pd.to_timedelta(rng.exponential(200, len(arrival)).round() + 1, unit="s")
    return pd.DataFrame(
        {
            "contact_id": np.arange(len(arrival)),
            "arrival_time": arrival,
            "answer_time": answer,
            "end_time": end,
        }
    )


def ingest_report(tmp_path, frame: pd.DataFrame, **options):
    path = tmp_path / "report.csv"
    frame.to_csv(path, index=False)
    return ingest(path, IngestOptions(time_col="DateTime", value_cols=("Calls",), **options))


def open_missing(hole_weeks: int, open_days=(0, 1, 2, 3, 4), start: pd.Timestamp = START) -> list:
    days = hole_days(hole_weeks) - START + start
    return [d.date() for d in days if d.day_of_week in open_days]


@pytest.mark.parametrize("freq", ["30min", "60min", "D"])
@pytest.mark.parametrize("hole_weeks", [2, 5, 7, 9, 20])
def test_a_hole_of_any_length_is_missing_open_days_not_a_closure(tmp_path, hole_weeks, freq):
    result = ingest_report(tmp_path, report(hole_weeks, freq))
    hours = result.calendar.describe_hours()
    expected = "00:00–24:00" if freq == "D" else "08:00–18:00"
    assert [hours[d] for d in WEEKDAYS] == [expected] * 5 + ["closed"] * 2
    assert list(result.calendar.missing_days) == open_missing(hole_weeks)
    days = open_missing(hole_weeks)
    assert result.calendar.missing_stretches() == [(days[0], days[-1], len(days))]  # one hole
    assert result.calendar.describe_missing() == f"{len(days)} ({days[0]} to {days[-1]}: {len(days)} days)"
    gaps = result.anomalies[result.anomalies["kind"] == "gap"]
    assert [t.date() for t in gaps["start"]] == open_missing(hole_weeks)
    # nothing else is unusual: the hole is not read as quiet days, spikes or a stopped feed
    assert set(result.anomalies["kind"]) == {"gap"}
    assert result.summary()["calendar"]["missing_days"] == [d.isoformat() for d in open_missing(hole_weeks)]


@pytest.mark.parametrize(
    "open_days", [(0, 1, 2, 3, 4, 5, 6), (0, 1, 3, 4, 5)], ids=["every day", "closed Wednesday and Sunday"]
)
def test_a_weekday_closed_around_the_hole_stays_closed(tmp_path, open_days):
    result = ingest_report(tmp_path, report(9, open_days=open_days))
    hours = result.calendar.describe_hours()
    assert [i for i, d in enumerate(WEEKDAYS) if hours[d] != "closed"] == list(open_days)
    assert list(result.calendar.missing_days) == open_missing(9, open_days)
    assert len(result.calendar.missing_stretches()) == 1  # closed days do not split the hole


def test_a_contact_log_with_a_long_hole(tmp_path):
    path = tmp_path / "log.csv"
    contact_log(7).to_csv(path, index=False)
    result = ingest(path, IngestOptions(interval="30min"))
    hours = result.calendar.describe_hours()
    assert [hours[d] for d in WEEKDAYS] == ["08:00–18:00"] * 5 + ["closed"] * 2
    assert list(result.calendar.missing_days) == open_missing(7)
    # the log's grid holds zeros in the hole: they are no one's usual value (no spikes after it)
    arrivals = result.anomalies[result.anomalies["field"] == "arrivals"]
    assert arrivals["kind"].value_counts().to_dict() == {"gap": len(open_missing(7))}


def test_a_hole_across_a_daylight_saving_change(tmp_path):
    start = pd.Timestamp("2024-02-05")  # the hole runs 2024-02-29 to 2024-05-01, across 2024-03-31
    frame = report(9, zone="Europe/Berlin", start=start)
    for timezone in (None, "Europe/Berlin"):
        result = ingest_report(tmp_path, frame, timezone=timezone)
        hours = result.calendar.describe_hours()
        assert [hours[d] for d in WEEKDAYS] == ["08:00–18:00"] * 5 + ["closed"] * 2
        assert list(result.calendar.missing_days) == open_missing(9, start=start)
        assert len(result.gaps) == 0


def test_ingest_says_the_hole_and_forecast_learns_the_level_after_it(run_cli, tmp_path):
    path = tmp_path / "report.csv"
    report(7, after_weeks=3, after_level=1.5).to_csv(path, index=False)  # the 13 weeks
    series = ["--time-col", "DateTime", "--value-col", "Calls"]
    code, out, err = run_cli("ingest", path, *series, "--out", tmp_path / "in")
    assert code == 0, err
    assert f"missing open days: {len(open_missing(7))} (" in out
    summary = json.loads((tmp_path / "in" / "summary.json").read_text())
    assert len(summary["calendar"]["missing_days"]) == len(open_missing(7))
    assert summary["anomalies"]["gap"] == len(open_missing(7))
    anomalies = pd.read_csv(tmp_path / "in" / "anomalies.csv")
    assert (anomalies["kind"] == "gap").sum() == len(open_missing(7))

    for model in ("seasonal_naive_week", "weekday_median", "ets_topdown"):
        code, _, err = run_cli(
            "forecast",
            "--input",
            path,
            *series,
            "--model",
            model,
            "--horizon-days",
            "5",
            "--out",
            tmp_path / "f.csv",
        )
        assert code == 0, err
        table = pd.read_csv(tmp_path / "f.csv", parse_dates=["timestamp"])
        days = table.groupby(table["timestamp"].dt.normalize())["forecast"].sum()
        assert sorted(days.index.day_of_week) == [0, 1, 2, 3, 4], model  # weekdays only
        # 20 slots a day at 1.5 × 20 calls: the level after the hole, not a blend with before
        np.testing.assert_allclose(days.to_numpy(), 20 * 1.5 * LEVEL, rtol=0.15, err_msg=model)


def test_a_level_shift_with_few_days_after_the_hole_says_why_it_is_not_learned_alone(tmp_path):
    result = ingest_report(tmp_path, report(7, after_weeks=1, after_level=1.5))
    shift = result.anomalies[result.anomalies["kind"] == "level_shift"]
    assert len(shift) == 1
    assert "only 5 open days follow" in shift["detail"].iloc[0]


@pytest.mark.parametrize("name", [n for n in MODELS if n != "prophet_topdown"])
def test_every_model_fits_across_a_long_hole(tmp_path, name):
    result = ingest_report(tmp_path, report(20, "60min", after_weeks=3))
    history = as_history(forecast_series(result))
    model = make_model(name).fit(history, calendar=result.calendar)
    days = pd.date_range("2024-07-08", periods=5, freq="D")  # Monday to Friday after the data
    stamps = pd.DatetimeIndex([d + pd.Timedelta(hours=h) for d in days for h in range(8, 18)])
    mean = model.predict(stamps)["forecast"].to_numpy()
    assert np.isfinite(mean).all() and (mean > 0).all(), name
    np.testing.assert_allclose(mean.sum(), 50 * 2 * LEVEL, rtol=0.2, err_msg=name)
