"""The app's charts: agents by interval, service by day and forecasts, for one scenario or
several side by side. The scenario data come from ``scenarios.tracking.plots`` (which also draws the
figures logged with each run), so every page shows the same quantities. Lines are drawn per
open stretch (``segments``): never across a closed night, weekend or hole in the data."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from capplan.history import open_stretches as segments
from capplan.scenarios import agents_by_interval, service_by_day
from capplan.words import label

AGENT_LABELS = {
    "required_agents": "required (on the phones)",
    "scheduled_agents": "scheduled (after shrinkage)",
    "available_agents": "available (supply)",
}
PLAN, SUPPLY = label("service_level"), label("supply_service_level")  # the numbers' one name


def agents_chart(intervals_by: dict[str, pd.DataFrame], title: str, columns=None) -> alt.Chart:
    """Step lines per interval, one colour per (scenario, kind of agents); one line per open
    stretch, so closed nights are not drawn across."""
    frames = []
    for name, intervals in intervals_by.items():
        wide = agents_by_interval(intervals)
        kinds = [c for c in (columns or AGENT_LABELS) if c in wide]
        long = wide.melt("interval_start", kinds, var_name="kind", value_name="agents")
        long["kind"] = long["kind"].map(AGENT_LABELS)
        long["segment"] = np.tile(segments(wide["interval_start"]), len(kinds))
        frames.append(long.assign(scenario=name))
    data = pd.concat(frames, ignore_index=True)
    several = len(intervals_by) > 1
    colour = alt.Color("scenario:N", title=None) if several else alt.Color("kind:N", title=None)
    # several scenarios: each its own dash too, so identical plans show as one dashed over another
    dash = alt.StrokeDash("scenario:N" if data["kind"].nunique() == 1 else "kind:N", title=None)
    return (
        alt.Chart(data)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("interval_start:T", title=None),
            y=alt.Y("agents:Q", title="agents"),
            color=colour,
            strokeDash=dash if several else alt.value([1, 0]),
            detail="segment:N",
            tooltip=["scenario:N", "interval_start:T", "kind:N", alt.Tooltip("agents:Q", format=",.1f")],
        )
        .properties(title=title)
    )


def supply_service_by_day(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per day: the service the supply (headcount, budget or schedule) gives calls and chats,
    weighted by volume like the run's ``supply_service_level``; empty without a supply."""
    if "supply_service_level" not in intervals:
        return pd.DataFrame(columns=["date", "volume", "service"])
    f = (
        intervals[(intervals["channel"] != "email") & (intervals["volume"] > 0)]
        if "channel" in intervals
        else intervals
    )
    f = f[f["supply_service_level"].notna()]
    f = f.assign(date=f["interval_start"].dt.normalize(), served=f["supply_service_level"] * f["volume"])
    day = f.groupby("date", as_index=False)[["volume", "served"]].sum()
    day["service"] = day["served"] / day["volume"].where(day["volume"] > 0)
    return day.drop(columns="served")


def service_data(
    daily_by: dict[str, pd.DataFrame], intervals_by: dict[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """The service chart's points: per scenario and day, the plan's service (``service_level``,
    from the run's daily table) and, for a scenario with a supply, the supply's
    (``supply_service_level``, from its intervals), each under its one name."""
    frames = [service_by_day(d).assign(scenario=name, series=PLAN) for name, d in daily_by.items()]
    for name, intervals in (intervals_by or {}).items():
        supply = supply_service_by_day(intervals)
        if len(supply):
            frames.append(supply.assign(scenario=name, series=SUPPLY))
    return pd.concat(frames, ignore_index=True)


def service_chart(
    daily_by: dict[str, pd.DataFrame], title: str, intervals_by: dict[str, pd.DataFrame] | None = None
) -> alt.Chart:
    """Expected service level of calls and chats per day, one colour per scenario: a solid line
    with the plan's staff and, where the scenario has a supply, a dashed one with the supply
    (what today's headcount gives). The axis starts near the lowest value so that 86 % and
    99.5 % look different."""
    data = service_data(daily_by, intervals_by)
    low = data["service"].min()
    bottom = max(0.0, np.floor((low - 0.05) * 10) / 10) if np.isfinite(low) else 0.0
    several = data["scenario"].nunique() > 1
    return (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(filled=False, size=60))
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y(
                "service:Q",
                title="expected service level (calls and chats)",
                scale=alt.Scale(domain=[bottom, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("scenario:N" if several else "series:N", title=None),
            strokeDash=alt.StrokeDash("series:N", title=None, sort=[PLAN, SUPPLY]),
            shape=alt.Shape("series:N", title=None, sort=[PLAN, SUPPLY]),
            detail="scenario:N",
            tooltip=[
                "scenario:N",
                alt.Tooltip("series:N", title="service"),
                "date:T",
                alt.Tooltip("service:Q", format=".1%"),
                alt.Tooltip("volume:Q", format=",.0f"),
            ],
        )
        .properties(title=title)
    )


def forecast_chart(
    table: pd.DataFrame, recent: pd.DataFrame, y_title: str = "contacts per interval"
) -> alt.Chart:
    """A forecast (``timestamp``, ``forecast``, ``lo80``/``hi80``, ``lo95``/``hi95``) with its
    bands over the last actuals (``timestamp``, ``actual``), each drawn per open stretch: no
    line or band across closed nights."""
    table = table.assign(timestamp=pd.to_datetime(table["timestamp"]), segment=segments(table["timestamp"]))
    recent = recent.assign(
        timestamp=pd.to_datetime(recent["timestamp"]), segment=segments(recent["timestamp"])
    )
    base = alt.Chart(table).encode(x=alt.X("timestamp:T", title=None), detail="segment:N")
    layers = []
    if {"lo95", "hi95"} <= set(table):
        layers.append(base.mark_area(opacity=0.2).encode(y=alt.Y("lo95:Q", title=y_title), y2="hi95:Q"))
    if {"lo80", "hi80"} <= set(table):
        layers.append(base.mark_area(opacity=0.35).encode(y=alt.Y("lo80:Q", title=y_title), y2="hi80:Q"))
    layers.append(
        base.mark_line().encode(
            y=alt.Y("forecast:Q", title=y_title),
            tooltip=[
                "timestamp:T",
                alt.Tooltip("forecast:Q", format=",.1f"),
                alt.Tooltip("lo80:Q", format=",.1f"),
                alt.Tooltip("hi80:Q", format=",.1f"),
            ]
            if "lo80" in table
            else ["timestamp:T", "forecast:Q"],
        )
    )
    layers.append(
        alt.Chart(recent)
        .mark_line(color="black", strokeWidth=0.8)
        .encode(x="timestamp:T", y="actual:Q", detail="segment:N")
    )
    return alt.layer(*layers)
