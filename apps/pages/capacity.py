"""Capacity plan: the FTE a scenario's forecast needs week by week over months, against what
today's team gives as it shrinks, and the hiring classes that close the gap at least cost.

The weekly forecast is loaded once per scenario file and the weekly requirement once per
percentile and growth; an edit of the team's inputs (attrition, hiring, training, overtime)
only reruns the hiring plan and its Monte Carlo, well under a second."""

import dataclasses
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app_support import (
    CACHE_SECONDS,
    app_store,
    pick_scenario_with,
    readable,
    show_error,
    show_table,
    store_caption,
)
from capplan.errors import InputError
from capplan.files import validate_mapping, write_csv
from capplan.planning import (
    CapacityInputs,
    Requirements,
    capacity_requirements,
    compute_capacity,
    load_capacity_inputs,
)
from capplan.scenarios import CapacitySpec, Scenario, load_scenario
from capplan.store import Store
from capplan.words import format_value, label

METRICS = {  # short names that fit a column at 1280 px; the vocabulary's full name is in the help
    "capacity_hires": "hires",
    "capacity_classes": "classes",
    "capacity_cost_total": "cost over the plan",
    "capacity_weeks_short": "weeks short",
    "capacity_mean_chance_covered": "chance a week is covered",
}
METRIC_WIDTHS = (1, 1, 1.9, 1, 1.5)  # the cost's eight digits need the room
HELP = {
    "capacity_hires": "the least-cost plan (integer program): hires in all classes over the plan",
    "capacity_cost_total": "pay of the team and the hires, recruiting, overtime and outsourcing over the plan",
    "capacity_weeks_short": "the requirement stays above the team even with overtime and outsourcing "
    "(the warnings say why)",
    "capacity_mean_chance_covered": "Monte Carlo over who leaves: the share of draws in which the team, with "
    "the plan's overtime and outsourcing, covers the week's requirement; on average over the weeks",
}
WEEK_COLUMNS = [  # what a planner reads per week, fitting a laptop (surplus: the chart); the download has every column
    "week",
    "week_start",
    "volume",
    "required_fte_p50",
    "required_fte_p{p}",
    "current_team_fte",
    "productive_fte",
    "overtime_fte",
    "outsourcing_fte",
    "gap",
    "class_starts",
    "chance_covered",
]
SHORT_COLOUR = "#ff7f0e"


@st.cache_resource(
    show_spinner="Forecasting the weekly volume (a few seconds, once per scenario file)…",
    max_entries=8,
    ttl=CACHE_SECONDS,
    hash_funcs={Store: str},
)
def cached_inputs(path: str, mtime: float, scenario_json: str, store: Store) -> CapacityInputs:
    """The weekly forecast, week shape and handle times: the slow part, once per file, its
    mtime and what it extends (the scenario as loaded)."""
    return load_capacity_inputs(Scenario.model_validate_json(scenario_json), Path(path), store)


@st.cache_resource(show_spinner="Staffing each week…", max_entries=32, ttl=CACHE_SECONDS)
def cached_requirements(
    path: str, mtime: float, scenario_json: str, percentile: float, growth: float, _inputs: CapacityInputs
) -> Requirements:
    """The FTE each week needs: once per percentile and growth (the supply's inputs do not
    change it). ``_inputs`` carry the edited scenario; the other arguments are the key."""
    return capacity_requirements(_inputs)


def percent(value: float) -> float:
    return round(100 * value, 2)


def edited_spec(spec: CapacitySpec, name: str) -> CapacitySpec:
    """The capacity section as the sidebar's inputs change it, checked like the file is."""
    side = st.sidebar
    side.header("Plan inputs")
    side.caption("Edits redraw the plan at once; the file is not changed.")
    key = f"@{name}"  # each scenario keeps its own edits
    side.markdown("**Demand**")
    percentile = side.slider(
        "Cover the requirement's percentile",
        0.5,
        0.99,
        float(spec.percentile),
        0.01,
        key=f"percentile{key}",
        help="each week's FTE requirement at this quantile of the forecast volume (0.5: the median)",
    )
    growth = side.number_input(
        "Growth (% a year, on top of the forecast)",
        -99.0,
        1000.0,
        float(spec.growth_pct_per_year),
        1.0,
        key=f"growth{key}",
    )
    side.markdown("**Attrition (monthly)**")
    attrition = []
    for i, band in enumerate(spec.attrition):
        after = (
            f"after {band.after_weeks} weeks of tenure"
            if band.after_weeks
            else "from the first week of tenure"
        )
        if i + 1 < len(spec.attrition):
            after = f"tenure weeks {band.after_weeks}-{spec.attrition[i + 1].after_weeks - 1}"
        monthly = side.number_input(
            f"Attrition, {after} (% a month)", 0.0, 99.0, percent(band.monthly), 0.5, key=f"attrition{i}{key}"
        )
        attrition.append({"after_weeks": band.after_weeks, "monthly": monthly / 100})
    side.markdown("**Hiring**")
    h = spec.hiring
    lead = side.number_input("Recruiting lead time (weeks)", 0, 78, h.lead_weeks, key=f"lead{key}")
    every = side.number_input(
        "A class may start every (weeks)",
        1,
        78,
        h.every_weeks,
        key=f"every{key}",
        help="ignored when the file lists the start weeks (hiring.start_weeks)" if h.start_weeks else None,
    )
    max_class = side.number_input("Largest class (hires)", 1, 10_000, h.max_class, key=f"max_class{key}")
    seats = side.number_input(
        "Training capacity (trainees at once; 0: no limit)",
        0,
        100_000,
        h.training_capacity or 0,
        key=f"seats{key}",
    )
    side.markdown("**Training and ramp-up**")
    training = side.number_input("Training (weeks)", 0, 52, spec.training_weeks, key=f"training{key}")
    ramp_text = side.text_input(
        "Ramp-up: productivity in each week after training (%)",
        ", ".join(f"{percent(r):g}" for r in spec.ramp),
        key=f"ramp{key}",
        help="e.g. 50, 50, 75, 75: four weeks of nesting, then fully productive; empty: productive at once",
    )
    side.markdown("**Overtime and outsourcing**")
    overtime = side.number_input(
        "Overtime, at most (% of the productive FTE)",
        0.0,
        50.0,
        percent(spec.overtime_max_share),
        1.0,
        key=f"overtime{key}",
    )
    outsourcing = side.number_input(
        "Outsourcing, at most (FTE)", 0.0, 1e6, float(spec.outsourcing_max_fte), 1.0, key=f"outsourcing{key}"
    )
    try:
        ramp = [float(v) / 100 for v in ramp_text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"'{ramp_text}' is not a list of numbers",
            key="capacity.ramp",
            expected="percentages separated by commas, e.g. 50, 50, 75, 75",
        ) from None
    changes = {
        "percentile": percentile,
        "growth_pct_per_year": growth,
        "attrition": attrition,
        "training_weeks": int(training),
        "ramp": ramp,
        "overtime_max_share": overtime / 100,
        "outsourcing_max_fte": outsourcing,
        "hiring": h.model_dump(exclude_unset=True)
        | {
            "lead_weeks": int(lead),
            "every_weeks": int(every),
            "max_class": int(max_class),
            "training_capacity": int(seats) or None,
        },
    }
    try:  # the sidebar's values, named by their keys in the scenario file
        return validate_mapping(spec.model_dump(exclude_unset=True) | changes, CapacitySpec, None)
    except InputError as exc:
        raise exc.as_keys("capacity") from None


def planned_column(weeks: pd.DataFrame) -> str:
    return next(
        c for c in weeks if c.startswith("required_fte_p") and c != "required_fte_p50" and c.count("_") == 2
    )


def plan_chart(weeks: pd.DataFrame, training_weeks: int) -> alt.Chart:
    """Required FTE (a band from P50 to the planned percentile) against the productive FTE with
    and without the hires, class starts as triangles along the bottom (their size written
    above), the weeks the plan leaves short shaded: the plan's figure logged with each run."""
    planned = planned_column(weeks)
    p = planned.rsplit("_", 1)[1].upper()
    band, need = f"required, P50 to {p}", f"required ({p})"
    team, hired, covered = (
        "today's team, no hiring",
        "productive FTE with the hires",
        "and with overtime and outsourcing",
    )
    starts_name, short_name = "hiring class starts", "weeks short"
    domain = [band, need, team, hired, covered, starts_name, short_name]
    colours = ["#d62728", "#d62728", "grey", "#1f77b4", "#1f77b4", "#2ca02c", SHORT_COLOUR]
    legend = alt.Legend(orient="bottom", columns=4, labelLimit=260)  # below: the weeks get the width
    colour = alt.Color("series:N", title=None, scale=alt.Scale(domain=domain, range=colours), legend=legend)
    w = weeks.assign(week_end=weeks["week_start"] + pd.Timedelta(days=7))
    x = alt.X("week_start:T", title=None)
    y_title = "FTE"
    floor = float(w[["required_fte_p50", "current_team_fte", "productive_fte"]].min().min()) * 0.97
    lines = w.melt(
        ["week", "week_start"],
        [planned, "current_team_fte", "productive_fte", "covered_fte"],
        var_name="series",
        value_name="fte",
    )
    lines["series"] = lines["series"].map(
        {planned: need, "current_team_fte": team, "productive_fte": hired, "covered_fte": covered}
    )
    dashes = [[1, 0], [1, 0], [5, 4], [1, 0], [2, 2], [1, 0], [1, 0]]  # one legend: colour and dash
    dash = alt.StrokeDash("series:N", title=None, scale=alt.Scale(domain=domain, range=dashes), legend=legend)
    layers = [
        alt.Chart(w.assign(series=band))
        .mark_area(opacity=0.15)
        .encode(
            x=x,
            y=alt.Y("required_fte_p50:Q", title=y_title, scale=alt.Scale(zero=False)),
            y2=f"{planned}:Q",
            color=colour,
            tooltip=[
                "week:Q",
                "week_start:T",
                alt.Tooltip("required_fte_p50:Q", format=",.1f"),
                alt.Tooltip(f"{planned}:Q", format=",.1f"),
            ],
        ),
        alt.Chart(lines)
        .mark_line(strokeWidth=1.8)
        .encode(
            x=x,
            y=alt.Y("fte:Q", title=y_title),
            color=colour,
            strokeDash=dash,
            tooltip=["week:Q", "week_start:T", "series:N", alt.Tooltip("fte:Q", format=",.1f")],
        ),
    ]
    short = w[w["gap"] > 0]
    if len(short):
        layers.insert(
            0,
            alt.Chart(short.assign(series=short_name))
            .mark_rect(opacity=0.15)
            .encode(
                x=x,
                x2="week_end:T",
                color=colour,
                tooltip=[
                    "week:Q",
                    "week_start:T",
                    alt.Tooltip("gap:Q", title="short by (FTE)", format=",.1f"),
                ],
            ),
        )
    starts = w[w["class_starts"] > 0].assign(
        series=starts_name, y=floor, productive=lambda f: f["week"] + training_weeks
    )
    if len(starts):
        tips = [
            "week:Q",
            "week_start:T",
            alt.Tooltip("class_starts:Q", title="hires"),
            alt.Tooltip("productive:Q", title="out of training in week"),
        ]
        layers.append(
            alt.Chart(starts)
            .mark_point(shape="triangle-up", filled=True, size=70)
            .encode(x=x, y="y:Q", color=colour, tooltip=tips)
        )
        layers.append(
            alt.Chart(starts)
            .mark_text(dy=-10, fontSize=10, color="#2ca02c")
            .encode(x=x, y="y:Q", text="class_starts:Q", tooltip=tips)
        )
    return alt.layer(*layers).properties(title=f"FTE required against the team's, week by week ({p} planned)")


def cover_chart(weeks: pd.DataFrame) -> alt.Chart:
    """Each week's productive FTE against the planned requirement: the surplus above zero;
    below it what overtime, outsourcing and nothing (the gap) make up."""
    kinds = {
        "surplus_fte": "surplus",
        "overtime_fte": "overtime",
        "outsourcing_fte": "outsourcing",
        "gap": "short (not covered)",
    }
    signs = {"surplus_fte": 1, "overtime_fte": -1, "outsourcing_fte": -1, "gap": -1}
    bars = weeks.melt(["week", "week_start"], list(kinds), var_name="kind", value_name="fte")
    bars["fte"] = bars["fte"] * bars["kind"].map(signs)
    bars["kind"] = bars["kind"].map(kinds)
    bars = bars[bars["fte"].abs() > 1e-6]
    return (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("week_start:T", title=None),
            y=alt.Y("fte:Q", title="FTE"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(
                    domain=list(kinds.values()), range=["#2ca02c", "#9467bd", "#8c564b", SHORT_COLOUR]
                ),
            ),
            tooltip=["week:Q", "week_start:T", "kind:N", alt.Tooltip("fte:Q", format=",.1f")],
        )
        .properties(
            title="FTE above (+) or below (−) the requirement: surplus, and what covers a shortfall",
            height=240,
        )
    )


def show_metrics(summary: dict[str, float]) -> None:
    for column, (key, name) in zip(st.columns(METRIC_WIDTHS), METRICS.items(), strict=True):
        why = HELP.get(key)
        column.metric(
            name, format_value(key, summary.get(key)), help=label(key) + (f": {why}" if why else "")
        )


def classes_table(result) -> pd.DataFrame:
    classes = result.plan.classes
    spec = result.inputs.scenario.capacity
    starts = result.inputs.week_starts[classes["start_week"].to_numpy() - 1]
    return pd.DataFrame(
        {
            "class starts in week": classes["start_week"].astype(str),
            "on": [f"{d:%Y-%m-%d}" for d in starts],
            "hires": [format_value("capacity_hires", h) for h in classes["hires"]],
            "fully productive from week": (
                classes["start_week"] + spec.training_weeks + len(spec.ramp)
            ).astype(str),
        }
    )


def sensitivity_table(table: pd.DataFrame) -> pd.DataFrame:
    kinds = {
        "hires": "capacity_hires",
        "classes": "capacity_classes",
        "first_class_week": "capacity_first_class_week",
        "peak_required_fte": "capacity_peak_required_fte",
        "cost": "capacity_cost_total",
        "weeks_short": "capacity_weeks_short",
    }
    out = table.assign(
        hires_vs_base=[format_value("capacity_hires", v, delta=True) for v in table["hires_vs_base"]],
        cost_vs_base=[format_value("capacity_cost_total", v, delta=True) for v in table["cost_vs_base"]],
    )
    names = {
        "first_class_week": "first class in week",
        "peak_required_fte": "FTE required at the peak",
        "weeks_short": "weeks short",
        "hires_vs_base": "hires vs plan",
        "cost_vs_base": "cost vs plan",
    }
    return readable(out, kinds, names)


@st.cache_data(
    show_spinner="Sensitivity: the plan again with each assumption moved…", max_entries=16, ttl=CACHE_SECONDS
)
def cached_sensitivity(path: str, mtime: float, scenario_json: str, _inputs, _requirements) -> pd.DataFrame:
    """The sensitivity table for one set of edits (the key: the edited scenario)."""
    return compute_capacity(_inputs, _requirements, with_sensitivity=True).sensitivity


st.title("Capacity plan")
store_caption()
path = pick_scenario_with(
    "capacity",
    "capacity_growth",
    "today's team by tenure (`team:`), attrition, training, hiring rules and costs",
)
try:
    scenario, path = load_scenario(path)
    st.caption(scenario.description)
    mtime = path.stat().st_mtime
    base_json = scenario.model_dump_json()
    inputs = cached_inputs(str(path), mtime, base_json, app_store())
    spec = edited_spec(scenario.capacity, scenario.name)
    edited = scenario.model_copy(update={"capacity": spec})
    inputs = dataclasses.replace(inputs, scenario=edited)
    requirements = cached_requirements(
        str(path), mtime, base_json, spec.percentile, spec.growth_pct_per_year, inputs
    )
    started = time.perf_counter()
    result = compute_capacity(inputs, requirements, with_sensitivity=False)
    elapsed = time.perf_counter() - started
except InputError as exc:
    show_error(exc)
    st.stop()

show_metrics(result.summary)
weeks = result.weeks
planned = planned_column(weeks)
st.caption(
    f"{spec.weeks} weeks from {weeks['week_start'].iloc[0]:%Y-%m-%d}, weekly volume forecast by {inputs.model}; "
    f"FTE required ({planned.rsplit('_', 1)[1].upper()}) {weeks[planned].iloc[0]:,.1f} in week 1, "
    f"{result.summary['capacity_peak_required_fte']:,.1f} at the peak; today's team gives "
    f"{weeks['current_team_fte'].iloc[0]:,.1f} falling to {weeks['current_team_fte'].iloc[-1]:,.1f} without hiring. "
    f"Plan and Monte Carlo computed in {elapsed:.2f} s."
)
st.altair_chart(plan_chart(weeks, spec.training_weeks), width="stretch")
for note in result.notes:
    st.warning(note)
st.altair_chart(cover_chart(weeks), width="stretch")

left, right = st.columns([2, 3])
with left:
    st.subheader("Hiring classes")
    if len(result.plan.classes):
        show_table(classes_table(result))
    else:
        st.write("No hiring needed: today's team covers every week.")
with right:
    st.subheader("Cost over the plan")
    cost_keys = (
        "capacity_cost_total",
        "capacity_cost_hiring",
        "capacity_cost_overtime",
        "capacity_cost_outsourcing",
        "capacity_min_chance_covered",
        "capacity_first_class_week",
    )
    show_table(
        pd.DataFrame(
            {
                "": [label(k) for k in cost_keys],
                "value": [format_value(k, result.summary[k]) for k in cost_keys],
            }
        )
    )

st.subheader("Week by week")
p = planned.rsplit("_", 1)[1].removeprefix("p")
shown = [c.format(p=p) for c in WEEK_COLUMNS if c.format(p=p) in weeks]
show_table(
    weeks[shown],
    {
        c: st.column_config.NumberColumn(format="%.1f")
        for c in shown
        if c.endswith(("fte", f"fte_p{p}", "gap", "trainees"))
    }
    | {
        "volume": st.column_config.NumberColumn(format="%d"),
        "chance_covered": st.column_config.NumberColumn(format="percent"),
        "week_start": st.column_config.DateColumn(format="YYYY-MM-DD"),
    },
)
st.download_button(
    "Download the weekly plan (CSV)",
    write_csv(weeks, index=False, name=f"{scenario.name}_capacity_weeks.csv"),
    f"{scenario.name}_capacity_weeks.csv",
    "text/csv",
    help=f"all {weeks.shape[1]} columns, with these inputs",
)

st.subheader("Sensitivity")
st.caption("The plan again with one assumption moved at a time: attrition ±2 points, volume ±10 %, AHT ±5 %.")
edited_json = edited.model_dump_json()
asked = st.session_state.setdefault("capacity_sensitivity", set())
if edited_json in asked or st.button(
    "Compute the sensitivity (a few seconds)", key="capacity_sensitivity_button"
):
    asked.add(edited_json)
    show_table(sensitivity_table(cached_sensitivity(str(path), mtime, edited_json, inputs, requirements)))
