"""The app's chart data: lines break where the centre is closed; the service chart carries the
supply's service beside the plan's, each under its one name; tables fit a 1280 px window."""

import sys

import numpy as np
import pandas as pd
import pytest

from tests.apps.conftest import APP

sys.path.insert(0, str(APP.parent))  # the app's modules, as the pages import them
from app_support import MIN_COLUMN_PX, TABLE_WIDTH_PX, _text_px, fit_widths, plain_text
from charts import PLAN, SUPPLY, agents_chart, forecast_chart, segments, service_data


def open_slots(
    days: list[str], start: str = "08:00", end: str = "18:00", step: str = "30min"
) -> pd.DatetimeIndex:
    """Every slot of the given days between start and end: nights (and unlisted days) closed."""
    return pd.DatetimeIndex(
        np.concatenate(
            [pd.date_range(f"{d} {start}", f"{d} {end}", freq=step, inclusive="left") for d in days]
        )
    )


def assert_no_line_over_a_gap(data: pd.DataFrame, time: str, by: list[str], step: pd.Timedelta) -> None:
    """Within each drawn line (its grouping columns and segment), points are one step apart."""
    for _, line in data.groupby([*by, "segment"]):
        spacing = pd.to_datetime(line[time]).sort_values().diff().dropna()
        assert (spacing == step).all(), spacing[spacing != step]


def test_segments_change_at_closed_nights_weekends_and_holes():
    stamps = open_slots(["2024-01-05", "2024-01-08"])  # a Friday, then Monday
    stamps = stamps.delete(len(stamps) - 5)  # a missing interval on Monday afternoon
    shuffled = pd.Series(stamps).sample(frac=1, random_state=0)
    seg = pd.Series(segments(shuffled), index=shuffled.to_numpy()).sort_index()
    assert seg.nunique() == 3  # Friday; Monday up to the hole; after it
    assert seg.loc["2024-01-05"].nunique() == 1 and seg.loc["2024-01-08"].nunique() == 2
    assert segments(pd.Series(open_slots(["2024-01-05"]))).max() == 0  # one open stretch: one line


def intervals_for(days: list[str], supply: bool = True) -> pd.DataFrame:
    """A run's interval table: voice and email per slot, agents and service (plan and supply)."""
    rng = np.random.default_rng(1)
    stamps = open_slots(days)
    frames = []
    for channel in ("voice", "email"):
        n = len(stamps)
        frame = pd.DataFrame(
            {
                "interval_start": stamps,
                "queue": channel,
                "channel": channel,
                "volume": rng.uniform(0, 80, n),
                "required_agents": rng.integers(5, 20, n).astype(float),
                "scheduled_agents": rng.integers(8, 30, n),
                "service_level": rng.uniform(0.8, 1.0, n),
            }
        )
        if supply:
            frame["available_agents"] = 20.0
            frame["supply_service_level"] = rng.uniform(0.5, 1.0, n)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.loc[3, "volume"] = 0.0  # a slot with no calls weighs nothing
    return out


def test_the_agents_chart_draws_no_line_across_a_closed_night():
    intervals = intervals_for(["2024-01-04", "2024-01-05", "2024-01-08"])
    chart = agents_chart({"a": intervals, "b": intervals}, "agents")
    data = chart.data
    assert chart.encoding.detail.shorthand == "segment:N"
    assert data.groupby(["scenario", "kind"])["segment"].nunique().eq(3).all()  # one line per open day
    assert_no_line_over_a_gap(data, "interval_start", ["scenario", "kind"], pd.Timedelta("30min"))


def test_the_forecast_chart_draws_no_line_or_band_across_a_closed_night():
    stamps = open_slots(["2024-01-08", "2024-01-09"], step="15min")
    table = pd.DataFrame(
        {"timestamp": stamps, "forecast": 10.0, "lo80": 8.0, "hi80": 12.0, "lo95": 6.0, "hi95": 14.0}
    )
    recent = pd.DataFrame(
        {"timestamp": open_slots(["2024-01-04", "2024-01-05"], step="15min"), "actual": 9.0}
    )
    chart = forecast_chart(table, recent)
    for layer in chart.layer:  # bands, forecast and actuals: each one shape per open stretch
        assert layer.encoding.detail.to_dict() == {"field": "segment", "type": "nominal"}
    bands, actuals = chart.layer[0].data, chart.layer[-1].data
    assert bands["segment"].nunique() == 2 and actuals["segment"].nunique() == 2
    assert_no_line_over_a_gap(bands, "timestamp", [], pd.Timedelta("15min"))
    assert_no_line_over_a_gap(actuals, "timestamp", [], pd.Timedelta("15min"))


def weighted_by_day(intervals: pd.DataFrame, column: str) -> pd.Series:
    """Volume-weighted mean of ``column`` per day over calls and chats, computed directly."""
    out = {}
    for day, part in intervals[intervals["channel"] != "email"].groupby(
        intervals["interval_start"].dt.normalize()
    ):
        ok = part["volume"] > 0
        out[day] = np.average(part.loc[ok, column], weights=part.loc[ok, "volume"])
    return pd.Series(out)


def test_the_service_chart_shows_the_supply_beside_the_plan():
    from scenarios.result import daily_table, no_risk

    intervals = intervals_for(["2024-01-04", "2024-01-05"])
    daily = daily_table(intervals.assign(scheduled_agent_hours=1.0, cost=1.0), no_risk(intervals))
    data = service_data({"plan A": daily}, {"plan A": intervals})
    assert set(data["series"]) == {PLAN, SUPPLY} == {"service level (plan)", "service level (supply)"}
    supply = data[data["series"] == SUPPLY].set_index("date")["service"]
    plan = data[data["series"] == PLAN].set_index("date")["service"]
    assert supply.to_numpy() == pytest.approx(weighted_by_day(intervals, "supply_service_level").to_numpy())
    assert plan.to_numpy() == pytest.approx(weighted_by_day(intervals, "service_level").to_numpy())
    without = service_data({"plan B": daily}, {"plan B": intervals_for(["2024-01-04"], supply=False)})
    assert set(without["series"]) == {PLAN}  # no supply, no second line


def test_the_compare_chart_s_supply_service_is_the_logged_one(store):
    """Over the days, the chart's supply points weigh up to the run's logged supply_service_level."""
    from scenarios.tracking.runs import latest_run

    run = latest_run(store, "baseline")
    intervals = store.artifact_table(run.run_id, "intervals.parquet")
    daily = store.artifact_table(run.run_id, "daily.csv").assign(date=lambda d: pd.to_datetime(d["date"]))
    data = service_data({"baseline": daily}, {"baseline": intervals})
    supply = data[data["series"] == SUPPLY]
    assert len(supply) == daily["date"].nunique()
    overall = np.average(supply["service"], weights=supply["volume"])
    assert overall == pytest.approx(run.metrics["supply_service_level"], rel=1e-9)
    plan = data[data["series"] == PLAN]
    assert plan["service"].min() > supply["service"].min() or run.metrics["supply_service_level"] >= 0.99


def test_fit_widths_fit_a_wide_table_without_cutting_values():
    frame = pd.DataFrame(
        {
            f"a rather long column header number {i}": [f"{v:,.1f}" for v in range(1000, 1020)]
            for i in range(7)
        }
        | {"interval_start": pd.date_range("2024-01-08 08:00", periods=20, freq="30min")}
    )
    widths = fit_widths(frame)
    assert set(widths) == set(frame.columns) and sum(widths.values()) <= TABLE_WIDTH_PX
    for column, width in widths.items():  # every value shown whole
        assert width >= max(_text_px(frame[column].astype(str)), MIN_COLUMN_PX)
    assert fit_widths(frame.iloc[:, :3].rename(columns=lambda c: c[-8:])) == {}  # fits: left to the grid


def test_fit_widths_give_short_headers_what_they_need_first():
    frame = pd.DataFrame({"id": ["1"], "short": ["x"], "a very long header indeed " * 8: ["y"]})
    widths = fit_widths(frame, budget=400)
    assert widths["short"] == _text_px(["short"]) or widths["short"] == MIN_COLUMN_PX
    assert sum(widths.values()) <= 400


def test_a_static_table_shows_markdown_characters_as_text():
    from tests.apps.test_streamlit_app import unescaped

    frame = pd.DataFrame(
        {"scenario": ["campaign_week", "_vip_", "*x* [a](b) $5 <i>"], "2024-01-08 *": [1.5, 2.0, 3.0]}
    )
    shown = plain_text(frame)
    assert shown["scenario"].tolist() == ["campaign_week", r"\_vip\_", r"\*x\* \[a\](b) \$5 \<i\>"]
    assert list(shown.columns) == ["scenario", r"2024-01-08 \*"] and shown.iloc[:, 1].tolist() == [
        1.5,
        2.0,
        3.0,
    ]
    pd.testing.assert_frame_equal(unescaped(shown), frame)  # the planner reads the original text
