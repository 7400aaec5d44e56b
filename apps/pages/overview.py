"""Overview: the scenarios in the store and what each costs and delivers."""

import altair as alt
import streamlit as st

from app_support import scenario_runs, store_caption

st.title("Capacity planning")
st.write(
    "How many agents to staff, and which service targets are realistic: from the center's own history, "
    "a forecast chosen by backtests, and what-if scenarios evaluated with Erlang A/C, chat and email models."
)
store_caption()
runs = scenario_runs()
if runs.empty:
    st.info(
        "No scenario runs in this store yet. Run `make run` (or `capplan demo`) to train a forecast and run the demo "
        "scenarios, or build one on the **Scenario builder** page."
    )
    st.stop()
latest = runs.drop_duplicates("scenario")
st.subheader(f"Scenarios ({len(latest)})")
shown = latest[
    [
        c
        for c in (
            "scenario",
            "baseline",
            "fte_total",
            "peak_agents",
            "total_cost",
            "service_level",
            "asa_seconds",
            "start_time",
        )
        if c in latest
    ]
]
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_config={
        "fte_total": st.column_config.NumberColumn("FTE", format="%.1f"),
        "peak_agents": st.column_config.NumberColumn("peak agents", format="%d"),
        "total_cost": st.column_config.NumberColumn("cost", format="%.0f"),
        "service_level": st.column_config.NumberColumn("service level", format="%.3f"),
        "asa_seconds": st.column_config.NumberColumn("ASA (s)", format="%.1f"),
    },
)
if "fte_total" in latest:
    chart = (
        alt.Chart(latest)
        .mark_bar()
        .encode(
            x=alt.X("fte_total:Q", title="FTE needed"),
            y=alt.Y("scenario:N", sort="-x", title=None),
            tooltip=["scenario", "fte_total", "total_cost"],
        )
    )
    st.altair_chart(chart, width="stretch")
st.caption(
    "Compare scenarios side by side on the **Compare** page; see what a headcount can reach on **Targets**."
)
