"""Scenario builder: start from a scenario file, change the drivers, see the staffing at once,
then run it in full (risk, targets) and save it to MLflow."""

import json
import time

import altair as alt
import pandas as pd
import streamlit as st
import yaml

from app_support import (
    app_store,
    champion_hint,
    config_upload_limit,
    history_as_interval_file,
    history_file,
    pick_scenario,
    scenario_runs,
    show_error,
    show_table,
    store_caption,
    upload_bytes,
    upload_history_path,
    uploaded_scenario,
)
from capplan.errors import InputError
from capplan.files import validate_mapping, write_csv
from capplan.forecasts import MODELS
from capplan.scenarios import (
    SERVICE_MODELS,
    Scenario,
    analyse,
    base_forecast,
    champion_version,
    load_evidence,
    manager_answer,
    merge,
    model_asked,
    raw_scenario,
    run_scenario,
)
from capplan.store import Store
from capplan.words import format_value, label
from charts import agents_chart, service_chart

st.title("Scenario builder")
store_caption()
path = pick_scenario("Start from")
scenario_upload = st.file_uploader(
    f"... or upload a scenario file (YAML, up to {config_upload_limit()})",
    type=["yaml", "yml"],
    help="checked like `capplan scenario run FILE`; `extends` names a scenario of the folder above; "
    "the file is read, never saved into the scenarios folder",
)
try:
    if scenario_upload is not None:
        raw, path = uploaded_scenario(scenario_upload.name, upload_bytes(scenario_upload, "config"))
        start, shown_name = path.stem, scenario_upload.name
    else:
        raw, start, shown_name = raw_scenario(path), path.stem, path.name
    base_spec = validate_mapping(raw, Scenario, shown_name)
except InputError as exc:
    show_error(exc)
    st.stop()
if scenario_upload is not None:
    st.caption(f"Starting from the uploaded file {shown_name} (scenario '{base_spec.name}').")
st.caption(base_spec.description)
uploaded = st.session_state.get("uploaded")  # the history uploaded on Data & KPIs, if any
history = None
if uploaded is not None:
    own = f"the scenario's own ({base_spec.data.input})"
    mine = f"uploaded on Data & KPIs ({uploaded.source.name})"
    if st.radio("History to plan from", [own, mine], horizontal=True, key="plan_history") == mine:
        history = uploaded
        model = st.selectbox(
            "Forecast model for the uploaded history",
            ["auto", *MODELS],
            help="no model is registered for an upload: auto backtests the candidates on it and forecasts with "
            "the best (as `capplan forecast --model auto`)",
        )
        st.caption(
            "The upload's arrivals, all queues together, are forecast and staffed with the scenario's settings; "
            "handle times come from the scenario's queues (aht_seconds)."
        )


@st.cache_resource(
    show_spinner="Forecasting (once per model and horizon)…", max_entries=8, ttl=3600, hash_funcs={Store: str}
)
def cached_base(
    data_json: str,
    forecast_json: str,
    correlation: float,
    folder: str,
    store: Store,
    champion_run: str | None,
):
    """The base forecast, once per data, forecast settings, store and champion version."""
    from capplan.scenarios import DataSpec, ForecastSpec

    data, forecast = DataSpec.model_validate_json(data_json), ForecastSpec.model_validate_json(forecast_json)
    return base_forecast(data, forecast, correlation, path.parent, store)


HELP = {
    "service_level": "what the plan gives: agents staffed to meet the targets at the forecast mean",
    "supply_service_level": "what the headcount gives, spread over the intervals like the plan",
}
INTERVAL_COLUMNS = [  # what a planner reads per interval (queue: with several); the download has every column
    "interval_start",
    "queue",
    "volume",
    "required_agents",
    "scheduled_agents",
    "service_level",
    "asa_seconds",
    "occupancy",
    "available_agents",
    "supply_service_level",
    "staffing",
]
INTERVAL_FORMATS = {
    "volume": "%.1f",
    "required_agents": "%.1f",
    "scheduled_agents": "%d",
    "service_level": "percent",
    "asa_seconds": "%.1f",
    "occupancy": "percent",
    "available_agents": "%.1f",
    "supply_service_level": "percent",
}
DEFAULT_MODEL = "default"  # the queue names no model: scenarios.service.choice decides, as in the CLI
SERVICE_MODEL_LABELS = {
    DEFAULT_MODEL: "the default: the centre's own model when its call log allows, else Erlang C",
    "erlang-c": "Erlang C (no abandonment)",
    "erlang-a": "Erlang A (callers hang up)",
    "calibrated": "calibrated on the centre's log",
    "learned": "calibrated + learned correction",
}

left, right = st.columns(2)
with left:
    st.markdown("**Demand**")
    default_name = base_spec.name if scenario_upload is not None else f"{start}_what_if"
    name = st.text_input("Scenario name", default_name)
    growth = st.number_input("Overall growth (%)", -90.0, 500.0, float(base_spec.demand.growth_pct), 1.0)
    multipliers = st.data_editor(
        pd.DataFrame(
            [
                {
                    "start": pd.Timestamp(m.start).date() if m.start else None,
                    "end": pd.Timestamp(m.end).date() if m.end else None,
                    "factor": m.factor,
                }
                for m in base_spec.demand.multipliers
            ],
            columns=["start", "end", "factor"],
        ),
        num_rows="dynamic",
        key=f"multipliers_{start}",
        width="stretch",
        column_config={
            "start": st.column_config.DateColumn("from"),
            "end": st.column_config.DateColumn("to (inclusive)"),
            "factor": st.column_config.NumberColumn("volume ×", min_value=0.0, step=0.05),
        },
    )
    aht_change = st.number_input("AHT change (seconds, all days)", -300.0, 600.0, 0.0, 5.0)
    horizon = st.slider("Horizon (open days)", 1, 120, base_spec.forecast.horizon_days)
    interval = (
        st.segmented_control(
            "Planning interval", ["15min", "30min", "60min"], default=base_spec.forecast.interval
        )
        or "30min"
    )
    quantiles = list(dict.fromkeys(["mean", 0.6, 0.7, 0.8, 0.9, 0.95, base_spec.forecast.staff_to]))
    staff_to = st.selectbox(
        "Staff to",
        quantiles,
        index=quantiles.index(base_spec.forecast.staff_to),
        format_func=lambda v: "the forecast mean" if v == "mean" else f"the forecast's {v:.0%} quantile",
    )
with right:
    st.markdown("**Targets and supply**")
    t = base_spec.targets
    if t.service_level is not None:
        sl = st.slider("Service level target", 0.0, 1.0, float(t.service_level), 0.01)
    else:
        sl = None
        st.caption(
            "This scenario has no service-level target (it uses "
            + ", ".join(
                k for k in ("asa_seconds", "abandon_rate", "max_occupancy") if getattr(t, k) is not None
            )
            + ")."
        )
    seconds = st.number_input("... answered within (seconds)", 1.0, 3600.0, float(t.target_seconds), 5.0)
    occupancy = st.slider("Occupancy cap (1: none)", 0.3, 1.0, float(t.max_occupancy or 1.0), 0.01)
    s = base_spec.supply
    shrinkage = st.slider("Shrinkage", 0.0, 0.95, float(s.shrinkage), 0.01)
    headcount = st.number_input("Headcount (FTE; 0: none)", 0.0, 100000.0, float(s.headcount or 0.0), 5.0)
    cost = st.number_input("Cost per agent-hour", 0.0, 1000.0, float(s.cost_per_agent_hour), 1.0)
    queue_edits = {}
    for qname, q in base_spec.queues.items():
        if q.channel != "voice":
            continue
        options = [DEFAULT_MODEL, *SERVICE_MODELS]
        chosen = st.selectbox(
            f"Service model ({qname})",
            options,
            index=options.index(q.model if model_asked(q) else DEFAULT_MODEL),
            format_func=SERVICE_MODEL_LABELS.get,
            help="calibrated and learned are fitted on the centre's own call log (the scenario's data or "
            "evidence) and checked on its last week",
        )
        queue_edits[qname] = {} if chosen == DEFAULT_MODEL else {"service_model": chosen}
        if chosen == "erlang-a":
            queue_edits[qname]["patience_seconds"] = st.number_input(
                f"Mean patience ({qname}, seconds)", 1.0, 7200.0, float(q.patience_seconds or 300.0), 10.0
            )

rows = multipliers.dropna(subset=["factor"])
edits = {
    "name": name,
    "baseline": base_spec.baseline if scenario_upload is not None else start,
    "extends": None,
    "forecast": {"horizon_days": int(horizon), "interval": interval, "staff_to": staff_to},
    "demand": {
        "growth_pct": growth,
        "multipliers": [
            {k: (str(v) if k != "factor" else float(v)) for k, v in r.items() if pd.notna(v)}
            for r in rows.to_dict("records")
        ],
        "aht_changes": ([{"seconds": aht_change}] if aht_change else [])
        + [a.model_dump(exclude_none=True) for a in base_spec.demand.aht_changes],
    },
    "targets": {
        **({"service_level": sl} if sl is not None else {}),
        "target_seconds": seconds,
        "max_occupancy": occupancy if occupancy < 1 else None,
    },
    "supply": {"shrinkage": shrinkage, "headcount": headcount or None, "cost_per_agent_hour": cost},
    "queues": queue_edits,
}
if history is not None:  # the scenario's data replaced by the upload, read back as the CLI reads a file
    edits["data"] = {
        "input": str(upload_history_path(history)),
        **history_as_interval_file(history)[1],
        "mapping": None,
        "queue": None,
        "timezone": None,
    }
    edits["forecast"] |= {"model": model, "registered_model": None}
merged = merge(raw, edits)
merged.pop("extends", None)
with history_file(history):  # an upload, on disk only while the run reads it
    try:
        scenario = validate_mapping(merged, Scenario, shown_name)
        started = time.perf_counter()
        store = app_store()
        version = (
            champion_version(store, scenario.data, scenario.forecast, path.parent)
            if scenario.forecast.model == "champion"
            else None
        )
        base = cached_base(
            scenario.data.model_dump_json(),
            scenario.forecast.model_copy(update={"staff_to": "mean"}).model_dump_json(),
            scenario.risk.correlation,
            str(path.parent),
            store,
            version and version.run_id,
        )
        quick = run_scenario(scenario, path, base=base, analysis=False)
        elapsed = time.perf_counter() - started
    except InputError as exc:
        show_error(exc)
        champion_hint(exc)
        st.stop()


def show(result, name: str) -> None:
    m = result.summary
    keys = ["fte_total", "peak_agents", "total_cost", "service_level", "asa_seconds"]
    if "supply_service_level" in m:
        keys.append("supply_service_level")
    for column, key in zip(st.columns(len(keys)), keys, strict=True):
        column.metric(label(key), format_value(key, m.get(key)), help=HELP.get(key))
    st.altair_chart(agents_chart({name: result.intervals}, f"{name}: agents by interval"), width="stretch")
    st.altair_chart(
        service_chart(
            {name: result.daily}, f"{name}: expected service level by day", {name: result.intervals}
        ),
        width="stretch",
    )
    d = result.daily
    risk = [c for c in ("p_meet_target", "supply_p_meet_target") if c in d and d[c].notna().any()]
    if risk:
        bars = d.melt(["date", "queue"], risk, var_name="with", value_name="probability")
        bars["with"] = bars["with"].map(
            {"p_meet_target": "plan", "supply_p_meet_target": "supply (headcount)"}
        )
        st.altair_chart(
            alt.Chart(bars)
            .mark_bar()
            .encode(
                x=alt.X("yearmonthdate(date):O", title=None),
                xOffset="with:N",
                y=alt.Y("probability:Q", title=None, scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("with:N", title="with"),
                tooltip=["date:T", "queue:N", "with:N", alt.Tooltip("probability:Q", format=".0%")],
            )
            .properties(title=f"{name}: probability of meeting the target each day"),
            width="stretch",
        )


st.subheader("What-if (instant)")
st.caption(
    f"Staffing of {len(quick.intervals):,} intervals computed in {elapsed:.2f} s from the cached forecast ({quick.forecast_model})."
)
for warning in quick.warnings:
    st.warning(warning)
show(quick, scenario.name)
with st.expander("Per-interval table"):
    several = quick.intervals["queue"].nunique() > 1
    shown = [c for c in INTERVAL_COLUMNS if c in quick.intervals and (c != "queue" or several)]
    show_table(
        quick.intervals[shown],
        {c: st.column_config.NumberColumn(format=f) for c, f in INTERVAL_FORMATS.items() if c in shown}
        | {"interval_start": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    st.caption(
        f"{len(shown)} of the table's {quick.intervals.shape[1]} columns; the download has all of them."
    )
    st.download_button(
        "Download (CSV)",
        write_csv(quick.intervals, index=False),
        f"{scenario.name}_intervals.csv",
        "text/csv",
    )
st.download_button(
    "Download this scenario as YAML",
    yaml.safe_dump(json.loads(scenario.model_dump_json(by_alias=True)), sort_keys=False),
    f"{scenario.name}.yaml",
    "text/yaml",
)

st.subheader("Run in full and save to MLflow")
st.write(
    "Adds the Monte Carlo risk of missing the target each day, the target-versus-FTE curve and what the headcount can reach."
)
if st.button("Run and save", type="primary"):
    from capplan.scenarios import log_scenario

    with st.spinner("Running the scenario…"), history_file(history):
        try:
            full = analyse(
                quick, load_evidence(scenario, path)
            )  # the what-if above, analysed: not staffed again
            run_id = log_scenario(
                store,
                full,
                yaml.safe_dump(json.loads(scenario.model_dump_json(by_alias=True)), sort_keys=False),
            )
        except InputError as exc:
            show_error(exc)
            st.stop()
    scenario_runs.clear()
    st.session_state["saved_run"] = (scenario.name, run_id)
    st.success(
        f"Saved '{scenario.name}' as MLflow run {run_id} (experiment 'scenarios'): compare it on the **Compare** page."
    )
    show(full, scenario.name)
    for sentence in manager_answer(full):
        st.write(sentence)
    keys = [
        k
        for k in ("p_meet_target_mean", "supply_p_meet_target_mean", "fte_for_target_days")
        if k in full.summary
    ]
    for column, key in zip(st.columns(max(len(keys), 1)), keys, strict=False):
        column.metric(
            label(key),
            format_value(key, full.summary[key]),
            help="Monte Carlo over the forecast's uncertainty",
        )
