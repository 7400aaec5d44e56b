"""Schedule: a scenario's week of shifts (its ``schedule:`` section): agents on duty against the
requirement interval by interval, the shifts by start time, the days-off patterns and the
service the schedule delivers.

The scenario is computed once per file (and what it extends) and champion; an edit of the shift
templates in the sidebar only reschedules the week and measures its service (well under a
second), so a planner can try a longer lunch or fewer part-timers and see the cost at once."""

import dataclasses
import datetime as dt
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app_support import (
    CACHE_SECONDS,
    app_store,
    champion_hint,
    pick_scenario_with,
    readable,
    show_error,
    show_table,
    store_caption,
)
from capplan.errors import InputError
from capplan.files import read_yaml_mapping, validate_mapping, write_csv
from capplan.planning import DAYS, ScheduleResult, run_schedule
from capplan.scenarios import (
    Scenario,
    ScheduleSpec,
    champion_version,
    find_scenario_file,
    load_scenario,
    run_scenario,
)
from capplan.store import Store
from capplan.words import format_value, label

METRICS = {  # short names that fit a column at 1280 px; the vocabulary's full name is in the help
    "schedule_agents": "agents",
    "schedule_paid_hours": "paid hours a week",
    "schedule_cost": "cost a week",
    "schedule_service_level": "service level delivered",
    "schedule_understaffed_intervals": "intervals missing a target",
}
METRIC_WIDTHS = (0.8, 1.1, 1.1, 1.4, 1.7)  # the last label is long
HELP = {
    "schedule_agents": "the least-cost schedule (integer program): agents over all templates and days-off patterns",
    "schedule_cost": "paid hours times each template's cost per hour (the supply's cost per agent hour "
    "when the template names none)",
    "schedule_service_level": "arrival-weighted over the horizon: the schedule's agents on duty, after "
    "shrinkage, through each queue's own service model",
    "schedule_understaffed_intervals": "intervals of the horizon (and queues) where the schedule's agents miss "
    "a target the scenario sets",
}
SHORT_COLOUR, DUTY_COLOUR, NEED_COLOUR = "#d62728", "#1f77b4", "#333333"
DAY_ZERO = pd.Timestamp("2001-01-01")  # any date: times of day are drawn on it (and the next)


def file_stamps(path: Path) -> tuple[tuple[str, float], ...]:
    """The scenario file and those it extends, with their modification times: the cache's key,
    so an edit of the baseline recomputes a scenario that extends it."""
    out, seen = [], set()
    while path is not None and path not in seen:
        seen.add(path)
        out.append((str(path), path.stat().st_mtime))
        parent = read_yaml_mapping(path, "scenario file").get("extends")
        path = find_scenario_file(path.parent, parent) if parent else None
    return tuple(out)


@st.cache_resource(
    show_spinner="Forecasting and staffing the scenario (a few seconds, once per scenario file)…",
    max_entries=8,
    ttl=CACHE_SECONDS,
    hash_funcs={Store: str},
)
def cached_result(path: str, stamps: tuple, scenario_json: str, store: Store, champion: int | None):
    """The scenario computed without its analysis (forecast, staffing, service models chosen):
    the slow part, once per file, what it extends, its content and the champion's version."""
    return run_scenario(Scenario.model_validate_json(scenario_json), Path(path), store=store, analysis=False)


def clock(minutes: float) -> dt.time:
    minutes = int(min(max(minutes, 0), 24 * 60 - 1))
    return dt.time(minutes // 60, minutes % 60)


def window_minutes(text: str) -> tuple[int, int]:
    first, last = (int(pd.Timedelta(f"{p.strip()}:00") / pd.Timedelta(minutes=1)) for p in text.split("-"))
    return first, last


def lunch_index(template) -> int | None:
    """The template's lunch: its longest unpaid break (else its longest break), if it has any."""
    if not template.breaks:
        return None
    return max(
        range(len(template.breaks)), key=lambda i: (not template.breaks[i].paid, template.breaks[i].minutes)
    )


def edited_template(t, step: int, default_cost: float, key: str) -> dict:
    """One template's sidebar inputs, as the mapping its file would hold."""
    side = st.sidebar
    with side.expander(f"Template **{t.name}**" + (" (part-time)" if t.part_time else ""), expanded=False):
        hours = st.number_input(
            "Hours, start to end (breaks included)", 0.5, 16.0, float(t.hours), 0.25, key=f"hours{key}"
        )
        first, last = window_minutes(t.start_window)
        top = clock(24 * 60 - step)
        window = st.slider(
            "May start between",
            dt.time(0, 0),
            top,
            (min(clock(first), top), min(clock(last), top)),
            dt.timedelta(minutes=step),
            format="HH:mm",
            key=f"window{key}",
        )
        start_step = st.number_input(
            "A start every (minutes)", 5, 720, int(t.start_step_minutes), step, key=f"step{key}"
        )
        breaks = [b.model_dump() for b in t.breaks]
        at = lunch_index(t)
        lunch = t.breaks[at] if at is not None else None
        minutes = st.number_input(
            "Lunch (minutes; 0: none)",
            0,
            240,
            lunch.minutes if lunch else 0,
            5,
            key=f"lunch{key}",
            help="unpaid unless the file says paid: true"
            + (f"; the template's other {len(breaks) - 1} break(s) are kept" if len(breaks) > 1 else ""),
        )
        after = st.slider(
            "Lunch starts, hours after the shift starts",
            0.0,
            16.0,
            tuple(float(h) for h in lunch.after_hours)
            if lunch
            else (min(3.0, hours / 2), min(5.0, hours - 1)),
            0.25,
            key=f"lunch_window{key}",
            disabled=minutes == 0,
        )
        if minutes and lunch is not None:
            breaks[at] |= {"minutes": int(minutes), "after_hours": list(after)}
        elif minutes:
            breaks.append({"minutes": int(minutes), "after_hours": list(after)})
        elif lunch is not None:
            del breaks[at]
        days = st.number_input("Days a week", 1, 7, int(t.days_per_week), key=f"days{key}")
        together = st.checkbox("Days off together", t.consecutive_days_off, key=f"together{key}")
        cost = st.number_input(
            "Cost per paid hour",
            0.0,
            1e6,
            float(t.cost_per_hour if t.cost_per_hour is not None else default_cost),
            1.0,
            key=f"cost{key}",
        )
    changes = {
        "hours": hours,
        "start_window": f"{window[0]:%H:%M}-{window[1]:%H:%M}",
        "start_step_minutes": int(start_step),
        "breaks": breaks,
        "days_per_week": int(days),
        "consecutive_days_off": together,
    }
    if t.cost_per_hour is not None or cost != default_cost:
        changes["cost_per_hour"] = cost
    return t.model_dump(exclude_unset=True) | changes


def edited_spec(spec: ScheduleSpec, scenario: Scenario, step: int) -> ScheduleSpec:
    """The schedule section as the sidebar's inputs change it, checked like the file is."""
    side = st.sidebar
    side.header("Shift templates")
    side.caption("Edits reschedule the week at once; the file is not changed.")
    key = f"@{scenario.name}"  # each scenario keeps its own edits
    default_cost = scenario.supply.cost_per_agent_hour or 1.0
    templates = [edited_template(t, step, default_cost, f"{i}{key}") for i, t in enumerate(spec.templates)]
    side.markdown("**Limits**")
    share = side.number_input(
        "Part-time agents, at most (% of agents)",
        0.0,
        100.0,
        100 * spec.max_part_time_share if spec.max_part_time_share is not None else 100.0,
        5.0,
        key=f"part_time{key}",
        help="100: no limit",
    )
    least = side.number_input(
        "Agents on duty whenever open, at least", 0, 100_000, int(spec.min_on_duty), key=f"min_on_duty{key}"
    )
    changes = {
        "templates": templates,
        "max_part_time_share": None if share >= 100 else share / 100,
        "min_on_duty": int(least),
    }
    try:  # the sidebar's values, named by their keys in the scenario file
        return validate_mapping(spec.model_dump(exclude_unset=True) | changes, ScheduleSpec, None)
    except InputError as exc:
        exc.key = f"schedule.{exc.key}" if exc.key else "schedule"
        raise


def show_metrics(summary: dict[str, float]) -> None:
    for column, (key, name) in zip(st.columns(METRIC_WIDTHS), METRICS.items(), strict=True):
        why = HELP.get(key)
        column.metric(
            name, format_value(key, summary.get(key)), help=label(key) + (f": {why}" if why else "")
        )


def week_rows(coverage: pd.DataFrame, step: int) -> pd.DataFrame:
    """The week's intervals where the centre needs or has agents (each open day from its first to
    its last such interval), at their time of day for a chart per day."""
    cov = coverage.assign(
        minute=pd.to_timedelta(coverage["time"] + ":00"),
        busy=(coverage["required"] > 0) | (coverage["on_duty"] > 0),
    )
    kept = []
    for day in DAYS:
        rows = cov[cov["day"] == day]
        if rows["busy"].any():
            first, last = rows.index[rows["busy"]][[0, -1]]
            kept.append(rows.loc[first:last])
    if not kept:
        return cov.iloc[:0].assign(
            at=pd.Series(dtype="datetime64[ns]"), until=pd.Series(dtype="datetime64[ns]")
        )
    out = pd.concat(kept)
    return out.assign(
        at=DAY_ZERO + out["minute"], until=DAY_ZERO + out["minute"] + pd.Timedelta(minutes=step)
    )


def coverage_chart(coverage: pd.DataFrame, step: int) -> alt.Chart:
    """Per open day: the agents on duty (blue steps) against the requirement (black line), the
    intervals left short shaded red between the two."""
    rows = week_rows(coverage, step)
    days = [d for d in DAYS if d in set(rows["day"])]
    x = alt.X("at:T", title=None, axis=alt.Axis(format="%H:%M", labelAngle=-90, tickCount=6))
    tips = ["day:N", "time:N", "required:Q", "on_duty:Q", "short:Q", "over:Q"]
    duty = (
        alt.Chart()
        .mark_area(interpolate="step-after", opacity=0.35, color=DUTY_COLOUR, line={"color": DUTY_COLOUR})
        .encode(x=x, y=alt.Y("on_duty:Q", title="agents"), tooltip=tips)
    )
    need = (
        alt.Chart()
        .mark_line(interpolate="step-after", color=NEED_COLOUR, strokeWidth=1.4)
        .encode(x=x, y="required:Q", tooltip=tips)
    )
    short = (
        alt.Chart()
        .transform_filter("datum.short > 1e-6")
        .mark_rect(color=SHORT_COLOUR, opacity=0.75)
        .encode(x=x, x2="until:T", y="on_duty:Q", y2="required:Q", tooltip=tips)
    )
    width = max(90, 700 // max(len(days), 1) - 12)
    return (
        alt.layer(duty, need, short, data=rows)
        .properties(width=width, height=220)
        .facet(column=alt.Column("day:N", sort=days, title=None, header=alt.Header(labelFontWeight="bold")))
        .properties(
            title="Agents on duty (blue) against the requirement (black), by interval; short intervals red"
        )
    )


def shift_bars(shifts: pd.DataFrame, day: str, spec: ScheduleSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The day's shifts as bars (one per template and start, agents summed over break placements)
    and their breaks (one per placement), times on ``DAY_ZERO`` (a shift past midnight ends the
    next day)."""
    rows = shifts[shifts["day"] == day]
    hours = {t.name: t.hours for t in spec.templates}
    minutes = {t.name: [b.minutes for b in t.breaks] for t in spec.templates}
    bars = rows.groupby(["template", "start"], as_index=False, sort=True)["agents"].sum()
    begin = DAY_ZERO + pd.to_timedelta(bars["start"] + ":00")
    bars = bars.assign(
        at=begin,
        until=begin + pd.to_timedelta(bars["template"].map(hours), unit="h"),
        shift=bars["template"] + " " + bars["start"],
    )
    breaks = []
    for r in rows.itertuples():
        start = DAY_ZERO + pd.Timedelta(f"{r.start}:00")
        for at, length in zip([b for b in r.breaks.split(", ") if b], minutes[r.template], strict=False):
            when = DAY_ZERO + pd.Timedelta(f"{at}:00")
            when += pd.Timedelta(days=1) if when < start else pd.Timedelta(0)
            breaks.append(
                {
                    "shift": f"{r.template} {r.start}",
                    "at": when,
                    "until": when + pd.Timedelta(minutes=length),
                    "break": at,
                    "agents": r.agents,
                }
            )
    return bars, pd.DataFrame(breaks, columns=["shift", "at", "until", "break", "agents"])


def shifts_chart(shifts: pd.DataFrame, day: str, spec: ScheduleSpec) -> alt.Chart:
    """The day's shifts by start time: a bar from start to end per template and start, its agents
    written at its end, the breaks as grey blocks inside it (darker where more agents take them)."""
    bars, breaks = shift_bars(shifts, day, spec)
    order = bars["shift"].tolist()
    y = alt.Y("shift:N", sort=order, title=None)
    x = alt.X("at:T", title=None, axis=alt.Axis(format="%H:%M"))
    colour = alt.Color("template:N", title="template", legend=alt.Legend(orient="top"))
    tips = ["template:N", "start:N", alt.Tooltip("until:T", title="end", format="%H:%M"), "agents:Q"]
    layers = [
        alt.Chart(bars).mark_bar(opacity=0.8).encode(x=x, x2="until:T", y=y, color=colour, tooltip=tips),
        alt.Chart(bars)
        .mark_text(align="left", dx=4, fontSize=11)
        .encode(x="until:T", y=y, text="agents:Q", tooltip=tips),
    ]
    if len(breaks):
        layers.append(
            alt.Chart(breaks)
            .mark_bar(color="white", height=8)
            .encode(
                x=x,
                x2="until:T",
                y=y,
                opacity=alt.Opacity("agents:Q", legend=None, scale=alt.Scale(range=[0.35, 0.95])),
                tooltip=["shift:N", "break:N", alt.Tooltip("agents:Q", title="agents taking it then")],
            )
        )
    return alt.layer(*layers).properties(
        title=f"{day}: shifts by start time (agents at the end of each bar; breaks in white)",
        height={"step": 22},
    )


def daily_table(result: ScheduleResult) -> pd.DataFrame:
    d = result.daily
    out = pd.DataFrame(
        {
            "day": d["date"].dt.strftime("%a %Y-%m-%d"),
            "volume": d["volume"],
            "service level": d["service_level"],
            "intervals missing a target": d["intervals_missing_targets"],
        }
    )
    return readable(
        out,
        {
            "volume": "schedule_paid_hours",  # a count
            "service level": "schedule_service_level",
            "intervals missing a target": "schedule_understaffed_intervals",
        },
    )


def patterns_table(result: ScheduleResult) -> pd.DataFrame:
    p = result.schedule.patterns
    return readable(
        p.rename(columns={"days_worked": "days worked", "days_off": "days off"}),
        {"agents": "schedule_agents"},
    )


def shifts_download(result: ScheduleResult) -> pd.DataFrame:
    return result.schedule.shifts


st.title("Schedule")
store_caption()
path = pick_scenario_with(
    "schedule",
    "shift_schedule",
    "shift templates (`templates:` with hours, `start_window`, breaks, days a week, cost per hour) and limits (`max_part_time_share`, `min_on_duty`)",
)
try:
    scenario, path = load_scenario(path)
    st.caption(scenario.description)
    store = app_store()
    version = (
        champion_version(store, scenario.data, scenario.forecast, path.parent)
        if scenario.forecast.model == "champion"
        else None
    )
    computed = cached_result(
        # only the keys the file sets: a queue naming no service model gets the centre's own
        str(path),
        file_stamps(path),
        scenario.model_dump_json(exclude_unset=True),
        store,
        version and version.version,
    )
    step = int(computed.demand.grid.interval / pd.Timedelta(minutes=1))
    spec = edited_spec(scenario.schedule, scenario, step)
    edited = computed.scenario.model_copy(update={"schedule": spec})  # as run: its service models chosen
    started = time.perf_counter()
    result = run_schedule(dataclasses.replace(computed, scenario=edited))
    elapsed = time.perf_counter() - started
except InputError as exc:
    show_error(exc)
    champion_hint(exc)
    st.stop()

show_metrics(result.summary)
s = result.schedule.summary
st.caption(
    f"A week that repeats over the horizon's {len(result.daily)} open days, {step}-minute intervals: "
    f"{format_value('schedule_paid_hours', s['on_duty_agent_hours'])} agent-hours on duty for "
    f"{format_value('schedule_paid_hours', s['required_agent_hours'])} required "
    f"({format_value('schedule_efficiency', s['efficiency'])} of them meet a need); "
    f"{format_value('schedule_short_agent_hours', s['short_agent_hours'])} agent-hours short. "
    f"Scheduled and its service measured in {elapsed:.2f} s."
)
for note in result.notes:
    st.warning(note)
st.altair_chart(coverage_chart(result.schedule.coverage, step))

st.subheader("Shifts")
worked = [d for d in DAYS if d in set(result.schedule.shifts["day"])]
if worked:
    day = st.radio("Day", worked, horizontal=True, key="schedule_day")
    st.altair_chart(shifts_chart(result.schedule.shifts, day, spec), width="stretch")
else:
    st.write("No shifts: nothing needs agents.")

left, right = st.columns(2)
with left:
    st.subheader("Days-off patterns")
    show_table(patterns_table(result))
with right:
    st.subheader("Delivered service by day")
    show_table(daily_table(result))

shifts = shifts_download(result)
st.download_button(
    "Download the shifts (CSV)",
    write_csv(shifts, index=False, name=f"{scenario.name}_shifts.csv"),
    f"{scenario.name}_shifts.csv",
    "text/csv",
    help="template, day, start, end, break starts, agents, paid hours and cost, with these inputs",
)
st.download_button(
    "Download the coverage by interval (CSV)",
    write_csv(result.schedule.coverage, index=False, name=f"{scenario.name}_coverage.csv"),
    f"{scenario.name}_coverage.csv",
    "text/csv",
    help="per interval of the week: agents required, on duty, short and over",
)
