"""A scenario's week of shifts (its ``schedule:`` section): the requirement its staffing gives,
scheduled into shifts by :mod:`scenarios.scheduling`, and the service the schedule really
delivers, interval by interval, through the queues' own service models.

The schedule is a week that repeats: each weekday and interval is scheduled for the most agents
that weekday and interval needs anywhere in the horizon (a busier Monday sets every Monday).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scenarios.demand.planning import staff_queue, staffing_targets
from scenarios.inputs.spec import Scenario, ScheduleSpec
from scenarios.scheduling.scheduler import Schedule, ScheduleRules, schedule_week
from scenarios.scheduling.shifts import MINUTES_PER_DAY, Break, ShiftTemplate

SERVICE_COLUMNS = ("service_level", "asa_seconds", "abandon_rate", "occupancy", "answered_in_time")


@dataclass(frozen=True)
class ScheduleResult:
    schedule: Schedule
    service: (
        pd.DataFrame
    )  # per interval of the horizon and queue: the plan's agents, the schedule's, the service
    daily: pd.DataFrame  # per day: delivered service and intervals missing the targets
    summary: dict[str, float]
    notes: list[str] = field(default_factory=list)


def _hours(text: str) -> tuple[float, float]:
    start, end = (pd.Timedelta(f"{part.strip()}:00") / pd.Timedelta(hours=1) for part in text.split("-"))
    return start, end


def rules_of(spec: ScheduleSpec, interval_minutes: int, cost_per_hour: float = 0.0) -> ScheduleRules:
    """The scheduler's rules from the scenario's section (a template's cost defaults to the
    supply's cost per agent hour, else 1: the schedule then counts paid hours)."""
    templates = []
    for t in spec.templates:
        first, last = _hours(t.start_window)
        templates.append(
            ShiftTemplate(
                t.name,
                t.hours,
                first,
                last,
                t.start_step_minutes,
                tuple(Break(b.minutes, b.after_hours[0], b.after_hours[1], b.paid) for b in t.breaks),
                t.days_per_week,
                t.consecutive_days_off,
                t.part_time,
                t.cost_per_hour if t.cost_per_hour is not None else (cost_per_hour or 1.0),
                t.max_agents,
            )
        )
    return ScheduleRules(
        tuple(templates),
        interval_minutes,
        spec.max_part_time_share,
        spec.max_agents,
        max_on_duty=None
        if spec.max_on_duty is None
        else np.full(7 * MINUTES_PER_DAY // interval_minutes, spec.max_on_duty),
    )


def week_slot(stamps: pd.DatetimeIndex, interval: pd.Timedelta) -> np.ndarray:
    """The interval of a Monday-first week each timestamp falls in."""
    stamps = pd.DatetimeIndex(stamps)
    per_day = int(pd.Timedelta(days=1) / interval)
    return stamps.day_of_week.to_numpy() * per_day + ((stamps - stamps.normalize()) // interval).to_numpy()


def week_requirement(
    stamps, agents, interval: pd.Timedelta, open_mask=None, min_on_duty: int = 0
) -> np.ndarray:
    """Agents to schedule per interval of the week: the most any same weekday and interval of
    the horizon needs, and at least ``min_on_duty`` wherever the centre is open."""
    slots = week_slot(stamps, interval)
    agents = np.asarray(agents, float)
    out = np.zeros(7 * int(pd.Timedelta(days=1) / interval))
    np.maximum.at(out, slots, agents)
    if min_on_duty:
        opened = np.zeros(len(out), bool)
        opened[slots[np.ones(len(slots), bool) if open_mask is None else np.asarray(open_mask, bool)]] = True
        out[opened] = np.maximum(out[opened], min_on_duty)
    return np.ceil(out - 1e-9)


def run_schedule(result) -> ScheduleResult:
    """Schedule a computed scenario (``scenarios.runner.compute``'s result) and measure the
    service its schedule delivers."""
    scenario: Scenario = result.scenario
    spec = scenario.schedule
    demand = result.demand
    g = demand.grid
    interval = g.interval
    minutes = int(interval / pd.Timedelta(minutes=1))
    plan = np.zeros(len(g.stamps))
    for name in g.queues:
        rows = result.intervals[result.intervals["queue"] == name]
        plan[np.searchsorted(g.stamps, rows["interval_start"].to_numpy())] += rows[
            "scheduled_agents"
        ].to_numpy(float)
    required = week_requirement(g.stamps, plan, interval, demand.open_mask, spec.min_on_duty)
    rules = rules_of(spec, minutes, scenario.supply.cost_per_agent_hour)
    schedule = solve(required, rules, spec)
    on_duty = schedule.coverage["on_duty"].to_numpy(float)[week_slot(g.stamps, interval)]
    service = delivered_service(result, on_duty)
    daily = _daily(service)
    summary = _summary(schedule, service)
    return ScheduleResult(schedule, service, daily, summary, list(schedule.notes))


def solve(required, rules: ScheduleRules, spec: ScheduleSpec) -> Schedule:
    """The schedule, with the scheduler's refusals said as the scenario's keys."""
    from forecasting.common.errors import InputError

    try:
        return schedule_week(required, rules, time_limit=spec.time_limit_seconds)
    except ValueError as exc:
        what, expected = (*exc.args, "templates the scheduler can use")[:2]
        raise InputError(str(what), key="schedule.templates", expected=str(expected)) from None
    except RuntimeError:
        raise InputError(
            "no schedule found in the time allowed",
            key="schedule.time_limit_seconds",
            expected=f"more than {spec.time_limit_seconds:g} s, or fewer start and break placements",
        ) from None


def delivered_service(result, on_duty: np.ndarray) -> pd.DataFrame:
    """Per interval of the horizon and queue: the schedule's agents on duty, those on the
    phones after shrinkage (shared among the queues as their plan needs them), and the service
    that gives under each queue's own service model."""
    scenario, demand = result.scenario, result.demand
    g = demand.grid
    need = np.zeros((len(g.queues), len(g.stamps)))
    frames = {}
    for i, name in enumerate(g.queues):
        rows = result.intervals[result.intervals["queue"] == name]
        need[i, np.searchsorted(g.stamps, rows["interval_start"].to_numpy())] = rows[
            "required_agents"
        ].to_numpy(float)
        frames[name] = rows
    total = need.sum(axis=0)
    share = np.where(total > 0, need / np.where(total > 0, total, 1), 1 / len(g.queues))
    out = []
    for i, name in enumerate(g.queues):
        on_phone = on_duty * (1 - demand.shrinkage[i]) * share[i]
        targets = scenario.targets.for_queue(name)
        given = staff_queue(scenario, demand, i, targets, agents=on_phone)
        frame = pd.DataFrame(
            {
                "interval_start": g.stamps,
                "queue": name,
                "channel": scenario.queues[name].channel,
                "volume": g.volume[i],
                "required_agents": need[i],
                "on_duty": on_duty,
                "on_phones": on_phone,
            }
        )
        metrics = {c: given[c].to_numpy() for c in (*SERVICE_COLUMNS, "overloaded") if c in given}
        for c, values in metrics.items():
            frame[c] = values
        missed = (
            staffing_targets(targets).missed(
                {c: np.nan_to_num(v, nan=0.0 if c != "service_level" else 1.0) for c, v in metrics.items()}
            )
            if scenario.queues[name].channel != "email"
            else {}
        )
        flags = np.logical_or.reduce(list(missed.values())) if missed else np.zeros(len(frame), bool)
        frame["meets_targets"] = ~(flags & (g.volume[i] > 0))
        out.append(frame[demand.open_mask])
    return pd.concat(out, ignore_index=True)


def _daily(service: pd.DataFrame) -> pd.DataFrame:
    live = service[service["channel"] != "email"]
    day = live.assign(
        date=live["interval_start"].dt.normalize(), served=live["service_level"] * live["volume"]
    )
    g = day.groupby("date")
    return pd.DataFrame(
        {
            "volume": g["volume"].sum(),
            "service_level": g["served"].sum() / g["volume"].sum().where(g["volume"].sum() > 0),
            "intervals_missing_targets": g["meets_targets"].apply(lambda m: int((~m).sum())),
        }
    ).reset_index()


def _summary(schedule: Schedule, service: pd.DataFrame) -> dict[str, float]:
    s = schedule.summary
    live = service[(service["channel"] != "email") & (service["volume"] > 0)]
    out = {
        "schedule_agents": s["agents"],
        "schedule_paid_hours": s["paid_hours"],
        "schedule_cost": s["cost"],
        "schedule_over_agent_hours": s["over_agent_hours"],
        "schedule_short_agent_hours": s["short_agent_hours"],
        "schedule_efficiency": s["efficiency"],
        "schedule_understaffed_intervals": float((~service["meets_targets"]).sum()),
    }
    if len(live):
        w = live["volume"].to_numpy()
        for c in ("service_level", "asa_seconds", "abandon_rate"):
            if c in live and live[c].notna().any():
                ok = live[c].notna().to_numpy()
                out[f"schedule_{c}"] = float(np.average(live[c].to_numpy()[ok], weights=w[ok]))
    return out
