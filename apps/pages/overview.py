"""Overview: the scenarios in the store and what each costs and delivers."""

import altair as alt
import streamlit as st

from app_support import readable, scenario_runs, show_table, store_caption
from capplan.words import label

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
keys = ["fte_total", "peak_agents", "total_cost", "service_level", "asa_seconds", "p_meet_target_mean"]
if "supply_service_level" in latest and latest["supply_service_level"].notna().any():
    keys += ["achievable_fte_available", "supply_service_level", "supply_p_meet_target_mean"]
columns = ["scenario", "baseline", *[k for k in keys if k in latest], "start_time"]
shown = latest[columns].assign(
    baseline=latest["baseline"].fillna(""), start_time=latest["start_time"].dt.strftime("%Y-%m-%d %H:%M")
)
show_table(readable(shown, {k: k for k in keys}, {k: label(k) for k in keys} | {"start_time": "run at"}))
if len(keys) > 6:
    st.caption(
        "**plan**: staffed to meet the targets at the forecast; **supply**: what the scenario's headcount, budget or "
        "schedule gives (blank for scenarios without one)."
    )
if "fte_total" in latest:
    chart = (
        alt.Chart(latest)
        .mark_bar()
        .encode(
            x=alt.X("fte_total:Q", title="FTE needed (plan)"),
            y=alt.Y("scenario:N", sort="-x", title=None),
            tooltip=[
                "scenario",
                alt.Tooltip("fte_total:Q", title="FTE needed", format=",.1f"),
                alt.Tooltip("total_cost:Q", title="cost", format=",.0f"),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
st.caption(
    "Compare scenarios side by side on the **Compare** page; see what a headcount can reach on **Targets**."
)
