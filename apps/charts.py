"""The app's charts of scenarios: agents by interval and service by day, for one scenario or
several side by side. The data come from ``scenarios.plots`` (which also draws the figures
logged with each run), so every page shows the same quantities."""

from __future__ import annotations

import altair as alt
import pandas as pd

from scenarios.plots import agents_by_interval, service_by_day

AGENT_LABELS = {
    "required_agents": "required (on the phones)",
    "scheduled_agents": "scheduled (after shrinkage)",
    "available_agents": "available (supply)",
}


def agents_chart(intervals_by: dict[str, pd.DataFrame], title: str, columns=None) -> alt.Chart:
    """Step lines per interval, one colour per (scenario, kind of agents); one line per day, so
    closed nights are not drawn across."""
    frames = []
    for name, intervals in intervals_by.items():
        wide = agents_by_interval(intervals)
        kinds = [c for c in (columns or AGENT_LABELS) if c in wide]
        long = wide.melt("interval_start", kinds, var_name="kind", value_name="agents")
        long["kind"] = long["kind"].map(AGENT_LABELS)
        frames.append(long.assign(scenario=name))
    data = pd.concat(frames, ignore_index=True)
    data["day"] = data["interval_start"].dt.strftime("%Y-%m-%d")
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
            detail="day:N",
            tooltip=["scenario:N", "interval_start:T", "kind:N", alt.Tooltip("agents:Q", format=",.1f")],
        )
        .properties(title=title)
    )


def service_chart(daily_by: dict[str, pd.DataFrame], title: str) -> alt.Chart:
    """Expected service level of calls and chats per day, one line per scenario."""
    data = pd.concat(
        [service_by_day(d).assign(scenario=name) for name, d in daily_by.items()], ignore_index=True
    )
    return (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(filled=False, size=60))
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y(
                "service:Q",
                title="expected service level (calls and chats)",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("scenario:N", title=None),
            strokeDash=alt.StrokeDash("scenario:N", title=None),
            shape=alt.Shape("scenario:N", title=None),
            tooltip=[
                "scenario:N",
                "date:T",
                alt.Tooltip("service:Q", format=".1%"),
                alt.Tooltip("volume:Q", format=",.0f"),
            ],
        )
        .properties(title=title)
    )
