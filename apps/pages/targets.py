"""Targets: what a service level or ASA costs in FTE, what a headcount can reach, the risk of
missing the target, and what the center's history shows to be attainable."""

import altair as alt
import streamlit as st

from app_support import app_store, champion_hint, pick_scenario, readable, show_error, show_table
from capplan.errors import InputError
from capplan.scenarios import (
    champion_version,
    curve_words,
    load_scenario,
    manager_answer,
    run_scenario,
    with_headcount,
)
from capplan.store import Store
from capplan.words import format_value, fte_question, label
from charts import segments

HELP = {
    "supply_service_level": "arrival-weighted over the horizon, the headcount spread over the intervals like the plan",
    "achievable_service_level": "the highest target every interval meets when the headcount is spread to it: "
    "a stricter measure than the average",
    "fte_total": "the plan: every interval staffed to meet the targets under the scenario's occupancy cap, "
    "shrinkage and service model (the curve's row at the scenario's target)",
    "fte_for_target_days": "Monte Carlo over the forecast's uncertainty; the plan's staffing scaled up or down, "
    "never below what the occupancy cap asks for",
}
SUPPLY_KINDS = ("Headcount (FTE)", "Agents on the phones")

st.title("Realistic targets")
try:
    scenario, path = load_scenario(pick_scenario("Scenario"))
except InputError as exc:
    show_error(exc)
    st.stop()


@st.cache_data(
    show_spinner="Costing targets (a few seconds, once per scenario and headcount)…",
    max_entries=16,
    ttl=3600,
    hash_funcs={Store: str},
)
def analysis(
    scenario_json: str, headcount: float | None, agents: float | None, store: Store, champion: int | None
):
    """One full scenario run with the headcount (or agents on the phones) as its supply: curve,
    best targets, risk, evidence, and the scenario as run (its service models chosen)."""
    from capplan.scenarios import Scenario

    result = run_scenario(
        with_headcount(Scenario.model_validate_json(scenario_json), headcount),
        path,
        store=store,
        agents_on_phones=agents,
    )
    return (
        result.curve,
        result.achievable,
        result.daily,
        result.summary,
        result.evidence,
        manager_answer(result),
        result.scenario,
    )


kind = st.radio("Supply given as", SUPPLY_KINDS, horizontal=True, key="supply_kind")
if kind == SUPPLY_KINDS[0]:
    default = float(scenario.supply.headcount or 0)
    headcount = st.number_input(
        SUPPLY_KINDS[0], 0.0, 100000.0, default, 5.0, help="0: no headcount, only the cost of each target"
    )
    agents = None
else:
    agents = st.number_input(
        SUPPLY_KINDS[1],
        0.0,
        100000.0,
        0.0,
        1.0,
        help="productive agents in each open interval (after shrinkage); taken as the FTE that keep them there. "
        "0: no supply, only the cost of each target",
    )
    headcount = None
try:
    store = app_store()
    version = (
        champion_version(store, scenario.data, scenario.forecast, path.parent)
        if scenario.forecast.model == "champion"
        else None
    )
    curve, best, daily, summary, evidence, answer, ran = analysis(
        # only the keys the file sets: a queue naming no service model gets the centre's own
        scenario.model_dump_json(exclude_unset=True),
        headcount or None,
        agents or None,
        store,
        version and version.version,
    )
except InputError as exc:
    show_error(exc)
    champion_hint(exc)
    st.stop()


for sentence in answer:
    st.markdown(f"**{sentence}**" if sentence.startswith("With") else sentence)
shown = [
    k
    for k in (
        "supply_service_level",
        "supply_p_meet_target_mean",
        "fte_total",
        "fte_for_target_days",
        "achievable_service_level",
    )
    if k in summary
]
if "supply_service_level" not in summary:
    shown = [
        k for k in ("fte_total", "service_level", "p_meet_target_mean", "fte_for_target_days") if k in summary
    ]
names = {
    key: fte_question(key, scenario.forecast.staff_to, scenario.risk.days_share)
    for key in ("fte_total", "fte_for_target_days")
}
if (
    "achievable_fte_available" in summary
    and "achievable_service_level" not in summary
    and "fte_for_cap" in summary
):
    shown.append("achievable_service_level")  # none reachable: the cap alone needs more FTE (the answer says)
for column, key in zip(st.columns(len(shown)), shown, strict=True):
    value = format_value(key, summary[key]) if key in summary else "not reachable"
    column.metric(names.get(key, label(key)), value, help=HELP.get(key))
st.caption(f"FTE each target costs ({curve_words(ran)}); the scenario's own target is the plan.")
sl_curve = curve[curve["target"] == "service_level"]
asa_curve = curve[curve["target"] == "asa_seconds"]
left, right = st.columns(2)
if len(sl_curve):
    chart = (
        alt.Chart(sl_curve)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "value:Q",
                title=f"service level target (within {scenario.targets.target_seconds:g} s)",
                scale=alt.Scale(zero=False),
            ),
            y=alt.Y("fte:Q", title="FTE", scale=alt.Scale(zero=False)),
            tooltip=["value", "fte", "cost", "peak_agents"],
        )
    )
    if headcount:
        chart = chart + alt.Chart({"values": [{"h": headcount}]}).mark_rule(color="red").encode(y="h:Q")
    left.altair_chart(chart.properties(title="FTE against the service-level target"), width="stretch")
if len(asa_curve):
    right.altair_chart(
        alt.Chart(asa_curve)
        .mark_line(point=True)
        .encode(
            x=alt.X("value:Q", title="ASA target (s)", scale=alt.Scale(type="log")),
            y=alt.Y("fte:Q", title="FTE", scale=alt.Scale(zero=False)),
            tooltip=["value", "fte", "cost"],
        )
        .properties(title="FTE against the ASA target"),
        width="stretch",
    )
curve_view = curve.assign(
    target=[label(k, with_side=False) for k in curve["target"]],
    value=[format_value(k, v) for k, v in zip(curve["target"], curve["value"], strict=True)],
    plan=["← the plan" if plan else "" for plan in curve["plan"]],
)
show_table(
    readable(
        curve_view,
        {"fte": "fte_total", "cost": "total_cost", "peak_agents": "peak_agents"},
        {"fte": "FTE", "peak_agents": "peak agents scheduled"},
    ),
)
if "p_meet_target" in daily:
    st.subheader("Probability of meeting the target, by day")
    cols = [
        c
        for c in (
            "date",
            "queue",
            "volume",
            "service",
            "p_meet_target",
            "supply_p_meet_target",
            "service_p5",
            "service_p95",
        )
        if c in daily
    ]
    show_table(
        readable(
            daily[cols],
            {
                "volume": "volume_total",
                "service": "service_level",
                "p_meet_target": "p_meet_target_mean",
                "supply_p_meet_target": "p_meet_target_mean",
                "service_p5": "service_level",
                "service_p95": "service_level",
            },
            {
                "service": "expected service (plan)",
                "p_meet_target": "chance of meeting the target (plan)",
                "supply_p_meet_target": "chance of meeting the target (supply)",
                "service_p5": "service, 5th percentile",
                "service_p95": "service, 95th percentile",
            },
        ),
    )
if evidence is not None:
    st.subheader("What history shows to be attainable")
    unit = {
        "asa": "asa_seconds",
        "first_response_mean_s": "asa_seconds",
        "resolution_mean_s": "asa_seconds",
        "fcr": "service_level",
    }
    shown = evidence.copy()
    for column in ("median", "best_quarter", "best_tenth", "scenario_target"):
        shown[column] = [
            format_value(unit.get(k, k), v) for k, v in zip(evidence["kpi"], evidence[column], strict=True)
        ]
    shown["share_of_periods_meeting_target"] = [
        format_value("service_level", v) for v in evidence["share_of_periods_meeting_target"]
    ]
    show_table(shown.rename(columns=lambda c: c.replace("_", " ")))
    st.caption(
        f"KPIs per {scenario.evidence.period} of {scenario.evidence.input}: median, best quarter and best tenth of periods, "
        "and how often the scenario's target would have been met."
    )

st.subheader("Does the staffing model reproduce this centre?")


@st.cache_data(show_spinner="Checking the service models on the centre's last week…", max_entries=8, ttl=3600)
def service_check(scenario_json: str):
    from capplan.scenarios import Scenario, load_service_check

    check = load_service_check(Scenario.model_validate_json(scenario_json), path.parent)
    return None if check is None else (check.report, check.summary, check.chosen)


try:
    checked = service_check(scenario.model_dump_json())
except InputError as exc:
    show_error(exc)
    checked = None
if checked is None:
    st.caption(
        "Needs the centre's own call log with agents (the scenario's data or evidence, e.g. format "
        "anonymous-bank) spanning at least ten days: its last week is predicted from the days before."
    )
else:
    from capplan.staffing import (
        MIN_HOUR_ARRIVALS,
        PICTURED,
        by_hour_of_day,
        observed_and_predicted,
        pictured_models,
    )

    report, check_summary, chosen = checked
    models = pictured_models(chosen)
    s = check_summary.set_index("model")
    because = str(s["chosen_because"].get(chosen, "")) if "chosen_because" in s else ""
    how = (
        f"The training days cannot choose a model ({because.removeprefix('cannot choose: ')}): **{chosen}**"
        if because.startswith("cannot choose")
        else f"Chosen by out-of-time error: **{chosen}**"
    )
    st.write(
        f"Each service model, fitted on the days before the log's last week, predicts that week's "
        f"intervals from their arrivals, handle times and agents. {how}, "
        f"abandonment off by {s.loc[chosen, 'abandon_rate_mae']:.1%} per interval on average "
        f"(calibrated Erlang A {s.loc['calibrated', 'abandon_rate_mae']:.1%}, textbook Erlang A "
        f"{s.loc['erlang-a', 'abandon_rate_mae']:.1%}). A queue that names no `service_model` is staffed with "
        "the centre's fitted model (calibrated Erlang A); `service_model: erlang-a` asks for the textbook one."
    )
    metric = (
        st.segmented_control(
            "Metric", list(PICTURED), default="abandon_rate", format_func=PICTURED.get, key="check_metric"
        )
        or "abandon_rate"
    )
    table = observed_and_predicted(report, models, metric)
    series = ["observed", *[m for m in models if m in table]]
    style = alt.Color("series:N", title=None, sort=series)
    dash = alt.StrokeDash("series:N", title=None, sort=series)
    long = table.melt(["interval_start", "arrivals"], series, var_name="series", value_name="value")
    long["segment"] = segments(long["interval_start"])  # one line per open stretch: none across nights
    left, right = st.columns([3, 2])
    left.altair_chart(
        alt.Chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X("interval_start:T", title=None),
            y=alt.Y("value:Q", title=PICTURED[metric]),
            color=style,
            strokeDash=dash,
            detail="segment:N",
            tooltip=["interval_start:T", "series:N", alt.Tooltip("value:Q", format=".3f"), "arrivals:Q"],
        )
        .properties(title=f"{PICTURED[metric].capitalize()} per interval, last week: observed and predicted"),
        width="stretch",
    )
    hourly = by_hour_of_day(table)
    right.altair_chart(
        alt.Chart(hourly.melt(["hour", "arrivals"], series, var_name="series", value_name="value"))
        .mark_line(point=True)
        .encode(
            x=alt.X("hour:O", title="hour of day"),
            y=alt.Y("value:Q", title=PICTURED[metric]),
            color=style,
            strokeDash=dash,
            tooltip=["hour:O", "series:N", alt.Tooltip("value:Q", format=".3f"), "arrivals:Q"],
        )
        .properties(title=f"By hour of day (arrival-weighted, hours with {MIN_HOUR_ARRIVALS}+ calls)"),
        width="stretch",
    )
    errors = [c for c in check_summary if c.endswith(("_mae", "_bias"))]
    show_table(
        check_summary.assign(
            **{c: [f"{v:.3f}" if v == v else "" for v in check_summary[c]] for c in errors},
            **(
                {"chosen": check_summary["chosen"].map({True: "✓", False: ""})}
                if "chosen" in check_summary
                else {}
            ),
        ).rename(columns=lambda c: c.replace("_", " "))
    )  # whole, headers and reasons wrapped
