"""Compare: scenarios' latest runs side by side, read from MLflow, with deltas and overlaid charts."""

import altair as alt
import pandas as pd
import streamlit as st

from app_support import app_store, excel_bytes, run_artifact_table, scenario_runs, show_error, store_caption
from forecasting.errors import InputError
from scenarios.tracking import compare_runs

st.title("Compare scenarios")
store_caption()
runs = scenario_runs()
if runs.empty:
    st.info(
        "No scenario runs in this store yet: run `capplan demo`, `capplan scenario run NAME`, or save one from the **Scenario builder**."
    )
    st.stop()
names = list(dict.fromkeys(runs["scenario"].dropna()))
default = [
    n for n in ("baseline", "campaign_week", "product_launch", "holiday_shrinkage") if n in names
] or names[:3]
chosen = st.multiselect("Scenarios", names, default=default)
if not chosen:
    st.info("Pick at least one scenario.")
    st.stop()
baseline = st.selectbox("Deltas against", chosen, index=0)
try:
    table = compare_runs(app_store(), chosen, baseline)
except InputError as exc:
    show_error(exc)
    st.stop()


def readable(v: float) -> str:
    """Whole numbers for counts and money, four significant digits for rates and seconds."""
    if pd.isna(v):
        return ""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


st.dataframe(table.map(readable), width="stretch")
st.caption("Latest run of each scenario: " + ", ".join(f"{n} `{r}`" for n, r in table.attrs["runs"].items()))
c1, c2 = st.columns(2)
c1.download_button("Download (CSV)", table.to_csv(), "comparison.csv", "text/csv")
c2.download_button(
    "Download (Excel)",
    excel_bytes({"comparison": table}),
    "comparison.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

frames, daily, missing = [], [], []
for name, run_id in table.attrs["runs"].items():
    if name not in chosen:
        continue
    intervals = run_artifact_table(app_store(), run_id, "intervals.parquet")
    if intervals is None or not {
        "interval_start",
        "scheduled_agents",
        "volume",
        "service_level",
        "channel",
    } <= set(intervals):
        missing.append(name)
        continue
    frames.append(
        intervals.groupby("interval_start", as_index=False)["scheduled_agents"]
        .sum()
        .assign(scenario=name, day=lambda t: t["interval_start"].dt.strftime("%Y-%m-%d"))
    )
    queued = intervals[intervals["channel"] != "email"].assign(
        date=lambda t: t["interval_start"].dt.normalize(), served=lambda t: t["volume"] * t["service_level"]
    )
    day = queued.groupby("date", as_index=False)[["volume", "served"]].sum()
    daily.append(day.assign(service=day["served"] / day["volume"].where(day["volume"] > 0), scenario=name))
if missing:
    st.caption(
        "No interval table recorded with the run of: " + ", ".join(missing) + " (left out of the charts)."
    )
if frames:
    agents = pd.concat(frames)
    st.altair_chart(
        alt.Chart(agents)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("interval_start:T", title=None),
            y=alt.Y("scheduled_agents:Q", title="scheduled agents"),
            color="scenario:N",
            detail="day:N",
            tooltip=["scenario", "interval_start:T", "scheduled_agents"],
        )
        .properties(title="Scheduled agents by interval"),
        width="stretch",
    )
if daily:
    service = pd.concat(daily)
    st.altair_chart(
        alt.Chart(service)
        .mark_line(point=True)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y(
                "service:Q", title="expected service level (calls and chats)", scale=alt.Scale(zero=False)
            ),
            color="scenario:N",
            tooltip=["scenario", "date:T", "service", "volume"],
        )
        .properties(title="Service level by day"),
        width="stretch",
    )
