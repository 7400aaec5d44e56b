"""Compare: scenarios' latest runs side by side, read from MLflow, with deltas and overlaid charts."""

import pandas as pd
import streamlit as st

from app_support import (
    app_store,
    excel_bytes,
    run_artifact_table,
    scenario_runs,
    show_error,
    show_table,
    store_caption,
)
from capplan.errors import InputError
from capplan.files import write_csv
from capplan.scenarios import compare_runs
from capplan.words import readable_comparison
from charts import PLAN, SUPPLY, agents_chart, service_chart

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


def _reference(chosen: list[str], runs) -> str:
    """What the deltas are taken against: ``baseline`` when chosen, else the scenario the others
    extend, else the first chosen."""
    if "baseline" in chosen:
        return "baseline"
    parents = runs.drop_duplicates("scenario").set_index("scenario")["baseline"]
    extended = [parents.get(n) for n in chosen if parents.get(n) in chosen]
    return extended[0] if extended else chosen[0]


if not chosen:
    st.info("Pick at least one scenario.")
    st.stop()
baseline = st.selectbox("Deltas against", chosen, index=chosen.index(_reference(chosen, runs)))
try:
    table = compare_runs(app_store(), chosen, baseline)
except InputError as exc:
    show_error(exc)
    st.stop()


view = readable_comparison(table).reset_index()
view = view[["metric", *table.columns, "MLflow metric"]]
show_table(view, static=True)  # every scenario and delta in view, long names wrapped
st.caption(
    "**plan**: staffed to meet the targets at the forecast; **supply**: what a scenario's headcount, budget or schedule "
    f"gives. Deltas against **{baseline}**; shares differ in percentage points (pp)."
)
for survey, meaning in (
    ("csat", "share of satisfied survey answers (4-5 of 5)"),
    ("nps", "net promoter score"),
):
    if survey in table.index:
        check = (
            table.loc[[f"satisfaction.{survey}.validation_mae", f"satisfaction.{survey}.constant_mae"]].iloc[
                :, 0
            ]
            if (f"satisfaction.{survey}.validation_mae" in table.index)
            else None
        )
        st.caption(
            f"**{survey}**: expected {meaning} given the waits each scenario's service gives, learnt from the "
            "centre's own log (waiting longer never pleases more)"
            + (
                f"; on the log's last week its error per interval was {check.iloc[0]:.3g} against "
                f"{check.iloc[1]:.3g} for the history's average."
                if check is not None
                else "."
            )
        )
st.caption("Latest run of each scenario: " + ", ".join(f"{n} `{r}`" for n, r in table.attrs["runs"].items()))
c1, c2 = st.columns(2)
c1.download_button("Download (CSV)", write_csv(table, name="comparison.csv"), "comparison.csv", "text/csv")
c2.download_button(
    "Download (Excel)",
    excel_bytes({"comparison": table}),
    "comparison.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

intervals, daily, missing = {}, {}, []
for name, run_id in table.attrs["runs"].items():
    if name not in chosen:
        continue
    frame = run_artifact_table(app_store(), run_id, "intervals.parquet")
    day = run_artifact_table(app_store(), run_id, "daily.csv")  # the run's own daily service, as logged
    if frame is None or day is None or not {"interval_start", "scheduled_agents"} <= set(frame):
        missing.append(name)
        continue
    if "channel" not in day and {"queue", "channel"} <= set(frame):  # a run from before daily tables had it
        day = day.merge(frame[["queue", "channel"]].drop_duplicates(), on="queue", how="left")
    intervals[name] = frame
    daily[name] = day.assign(date=pd.to_datetime(day["date"]))
if missing:
    st.caption(
        "No interval or daily table recorded with the run of: "
        + ", ".join(missing)
        + " (left out of the charts)."
    )
if intervals:
    st.altair_chart(
        agents_chart(intervals, "Scheduled agents by interval", columns=["scheduled_agents"]), width="stretch"
    )
    st.altair_chart(service_chart(daily, "Service level by day", intervals), width="stretch")
    st.caption(
        f"Solid: **{PLAN}**, with the plan's staff; dashed: **{SUPPLY}**, with the scenario's headcount, "
        "budget or schedule (scenarios without one have no dashed line)."
    )
