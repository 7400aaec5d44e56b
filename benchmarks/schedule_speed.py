"""Shift scheduling speed and quality: a week of shifts from interval requirements by
``scenarios.scheduling.schedule_week`` (set covering, HiGHS), timed and measured against the
proven optimum, beside pyworkforce's ``MinRequiredResources`` and ``MinAbsDifference``
(OR-Tools CP-SAT, one day at a time, no days-off patterns) on the same requirement and the same
daily shifts.

Two weeks: the bank's (the bundled ``baseline`` scenario, 5 open weekdays forecast by
``seasonal_naive_week``, scheduled agents per 30-minute slot) and a generated week of
15-minute intervals (open 07:00-22:00 every day, two weekday peaks, a lighter weekend, 20-150
agents on duty): the issue's acceptance case, within 1 % of optimal in under 30 s on 2 cores.
Shifts: 8.5 h with a 30-minute unpaid lunch 3-5 h after the start (8 paid hours), starts every
30 minutes, 5 days a week with 2 consecutive days off.

pyworkforce is installed for the benchmarks only (without it, ours alone is measured):

    .venv/bin/pip install pyworkforce && .venv/bin/python benchmarks/schedule_speed.py
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from scenarios.scheduling.scheduler import ScheduleRules, schedule_week
from scenarios.scheduling.shifts import Break, ShiftTemplate, variants
from scenarios.staffing.requirements import StaffingTargets, required_agents, service_metrics

LUNCH = (Break(30, 3, 5),)
TARGET_SECONDS = 20
ACCEPT_SECONDS, ACCEPT_GAP = 30.0, 0.01


@dataclass(frozen=True)
class Week:
    """A requirement to schedule and what it serves: agents on duty needed per interval of the
    week (Monday 00:00 first), the contacts and AHT behind it, and the share of scheduled
    agents who take calls (1 − shrinkage) when the requirement is in scheduled agents."""

    name: str
    required: np.ndarray
    volume: np.ndarray
    aht: np.ndarray
    interval_minutes: int
    template: ShiftTemplate
    on_phones: float  # of agents on duty
    how: str


def bank_week() -> Week:
    """The demo's week: the baseline scenario's scheduled agents (after 30 % shrinkage), summed
    over queues, per 30-minute slot of a Monday-first week; the bank is closed at weekends."""
    from scenarios.inputs.spec import load_scenario
    from scenarios.runner import run_scenario

    spec, path = load_scenario("baseline")
    forecast = spec.forecast.model_copy(update={"model": "seasonal_naive_week", "horizon_days": 5})
    iv = run_scenario(spec.model_copy(update={"forecast": forecast}), path, analysis=False).intervals
    start = pd.to_datetime(iv["interval_start"])
    slot = (start.dt.day_of_week * 48 + start.dt.hour * 2 + start.dt.minute // 30).to_numpy()
    iv = iv.assign(slot=slot, work=iv["volume"] * iv["aht"])
    per_slot = iv.groupby("slot")[["scheduled_agents", "volume", "work"]].sum()
    if start.dt.date.nunique() != start.dt.day_of_week.nunique():
        raise ValueError("a weekday twice: the forecast is longer than a week")
    required, volume, work = (np.zeros(7 * 48) for _ in range(3))
    required[per_slot.index] = per_slot["scheduled_agents"]
    volume[per_slot.index] = per_slot["volume"]
    work[per_slot.index] = per_slot["work"]
    aht = np.divide(work, volume, out=np.full(7 * 48, 180.0), where=volume > 0)
    shrinkage = float(iv["shrinkage"].mean())
    days = [d.strftime("%a %d %b") for d in sorted(start.dt.date.unique())]
    open_hours = (
        f"{start.dt.strftime('%H:%M').min()}-{(start.max() + pd.Timedelta(minutes=30)).strftime('%H:%M')}"
    )
    template = ShiftTemplate("8h", 8.5, 7, 13, 30, LUNCH)  # the last start ends at 21:30, the close
    how = f"baseline, {len(days)} days ({', '.join(days)} {start.dt.year.iloc[0]}), open {open_hours}"
    return Week("bank, 30-min", required, volume, aht, 30, template, 1 - shrinkage, how)


def generated_week(seed: int = 28) -> Week:
    """The acceptance case: 15-minute intervals open 07:00-22:00, a morning and an afternoon
    peak on weekdays, 60 % and 45 % of that at the weekend, staffed for 80/20 by Erlang C
    (AHT 300 s), 20-150 agents on duty."""
    rng = np.random.default_rng(seed)
    slots = 96
    hour = np.arange(slots) / 4
    open_ = (hour >= 7) & (hour < 22)
    shape = 0.12 + np.exp(-(((hour - 10.5) / 1.6) ** 2)) + 0.8 * np.exp(-(((hour - 15) / 2.0) ** 2))
    day_scale = np.array([1.0, 0.96, 0.93, 0.95, 0.9, 0.6, 0.45])
    noise = rng.normal(1, 0.04, (7, slots))
    volume = np.where(open_, shape * 370, 0) * day_scale[:, None] * noise
    volume = volume.round().ravel()
    aht = np.full(volume.shape, 300.0)
    agents = required_agents(
        volume, aht, 900, StaffingTargets(service_level=0.8, target_seconds=TARGET_SECONDS)
    )
    agents = np.where(volume > 0, np.maximum(agents, 20), 0).astype(float)  # a floor of 20 while open
    template = ShiftTemplate("8h", 8.5, 7, 13.5, 30, LUNCH)  # the last start ends at 22:00, the close
    how = f"generated (seed {seed}), 07:00-22:00 every day, {agents[agents > 0].min():.0f}-{agents.max():.0f} agents"
    return Week("generated, 15-min", agents, volume, aht, 15, template, 1.0, how)


def run_ours(week: Week, gap: float, time_limit: float):
    """``schedule_week`` timed from the requirement to the finished schedule."""
    started = time.perf_counter()
    schedule = schedule_week(
        week.required, ScheduleRules((week.template,), week.interval_minutes), time_limit, gap
    )
    return schedule, time.perf_counter() - started


def daily_shifts(week: Week) -> dict[str, list[int]]:
    """The template's shifts of one day for pyworkforce: every start and lunch placement, the
    lunch as a gap in the shift's coverage (the same variants our program chooses from)."""
    slots = 24 * 60 // week.interval_minutes
    shifts = variants(week.template, 0, week.interval_minutes)
    if any(v.cover[slots:].any() for v in shifts):
        raise ValueError("pyworkforce's shifts end by midnight")
    names = [
        "-".join(f"{m // 60:02d}{m % 60:02d}" for m in (v.start, *v.break_starts)) for v in shifts
    ]  # start and lunch: "0700-1030"
    return {n: v.cover[:slots].astype(int).tolist() for n, v in zip(names, shifts, strict=True)}


def run_pyworkforce(week: Week, kind: str, time_limit: float):
    """pyworkforce's daily shifts (CP-SAT, 2 workers): ``MinRequiredResources`` (fewest shifts
    covering each interval) or ``MinAbsDifference`` (least |on duty − required|, short allowed),
    as agents on duty per interval of the week and shifts per day; None when not installed."""
    try:
        from pyworkforce import scheduling
    except ImportError:
        print("pyworkforce is not installed: pip install pyworkforce to compare")
        return None
    coverage = daily_shifts(week)
    slots = 24 * 60 // week.interval_minutes
    need = np.ceil(week.required - 1e-9).astype(int).reshape(7, slots)
    most = int(need.max())
    started = time.perf_counter()
    solver = getattr(scheduling, kind)(
        num_days=7,
        periods=slots,
        shifts_coverage=coverage,
        required_resources=need.tolist(),
        max_period_concurrency=2 * most,
        max_shift_concurrency=most,
        max_search_time=float(time_limit),
        num_search_workers=2,
    )
    solution = solver.solve()
    seconds = time.perf_counter() - started
    if solution["status"] not in ("OPTIMAL", "FEASIBLE"):
        print(f"pyworkforce {kind}: {solution['status']} after {seconds:.1f} s, no schedule")
        return None
    counts = pd.DataFrame(solution["resources_shifts"]).pivot(
        index="day", columns="shift", values="resources"
    )
    counts = counts[list(coverage)].to_numpy(float)  # days × shifts
    duty = (counts @ np.array(list(coverage.values()), float)).ravel()
    return {"kind": kind, "counts": counts, "duty": duty, "seconds": seconds, "status": solution["status"]}


def roster_agents(per_day: np.ndarray, template: ShiftTemplate) -> int:
    """Fewest agents whose days-off patterns (5 days, 2 together) give each day at least
    ``per_day`` shifts: what pyworkforce's daily answer needs on top to become a headcount."""
    patterns = template.off_patterns()  # patterns × days
    result = milp(
        np.ones(len(patterns)),
        constraints=LinearConstraint(patterns.T.astype(float), per_day, np.inf),
        integrality=np.ones(len(patterns)),
        bounds=Bounds(0, np.inf),
    )
    return round(result.fun)


def served(week: Week, duty: np.ndarray) -> dict[str, float]:
    """What a week on duty delivers against the requirement: short and surplus intervals and
    agent-hours, and the volume-weighted Erlang C service level of the agents on the phones."""
    hours = week.interval_minutes / 60
    short = np.maximum(week.required - duty, 0)
    over = np.maximum(duty - week.required, 0)
    metrics = service_metrics(
        week.volume, week.aht, week.interval_minutes * 60, duty * week.on_phones, TARGET_SECONDS, "erlang-c"
    )
    has = week.volume > 0
    sl = float((metrics["service_level"][has] * week.volume[has]).sum() / week.volume[has].sum())
    return {
        "short intervals": int((short > 1e-6).sum()),
        "short agent-h": short.sum() * hours,
        "most short": short.max(),
        "over agent-h": over.sum() * hours,
        "SL 20 s (Erlang C)": sl,
        "intervals under 80/20": int((metrics["service_level"][has] < 0.8 - 1e-9).sum()),
    }


def ours_row(label: str, week: Week, schedule, seconds: float) -> dict:
    s = schedule.summary
    return {
        "method": label,
        "seconds": seconds,
        "agents": s["agents"],
        "shifts": int(schedule.shifts["agents"].sum()),
        "paid hours": s["paid_hours"],
        "solver gap": s["solver_gap"],
        **served(week, schedule.coverage["on_duty"].to_numpy()),
    }


def pyworkforce_row(week: Week, theirs: dict) -> dict:
    per_day = theirs["counts"].sum(axis=1)
    return {
        "method": f"pyworkforce {theirs['kind']} ({theirs['status']})",
        "seconds": theirs["seconds"],
        "agents": np.nan,  # daily shifts, no roster: see 'agents to roster'
        "shifts": int(per_day.sum()),
        "paid hours": per_day.sum() * week.template.paid_hours,
        "solver gap": np.nan,
        **served(week, theirs["duty"]),
        "agents to roster": roster_agents(per_day, week.template),
    }


def bench(week: Week, optimal: bool, pyworkforce_limit: float, repeat: int) -> tuple[pd.DataFrame, dict]:
    """Ours at a 1 % gap (best of ``repeat`` runs), the proven optimum when asked, and
    pyworkforce's two daily models; one row each."""
    required_h = week.required.sum() * week.interval_minutes / 60
    print(f"{week.name}: {week.how}; {required_h:,.0f} agent-hours required, peak {week.required.max():.0f}")
    runs = [run_ours(week, gap=0.01, time_limit=60) for _ in range(repeat)]
    schedule, seconds = min(runs, key=lambda r: r[1])
    rows = [ours_row(f"capplan schedule_week, gap 1 % (best of {repeat})", week, schedule, seconds)]
    facts = {
        "seconds": [r[1] for r in runs],
        "gap": schedule.summary["solver_gap"],
        "agents": schedule.summary["agents"],
    }
    if optimal:
        best, best_seconds = run_ours(week, gap=0.0, time_limit=120)
        rows.append(ours_row("capplan schedule_week, gap 0 (limit 120 s)", week, best, best_seconds))
        facts["optimal agents"] = best.summary["agents"]
        facts["optimal paid hours"] = best.summary["paid_hours"]
        facts["optimal gap"] = best.summary["solver_gap"]
    for kind in ("MinRequiredResources", "MinAbsDifference"):
        theirs = run_pyworkforce(week, kind, pyworkforce_limit)
        if theirs is not None:
            rows.append(pyworkforce_row(week, theirs))
    return pd.DataFrame(rows).assign(week=week.name), facts


FORMATS = {
    "seconds": "{:.2f}",
    "agents": "{:,.0f}",
    "shifts": "{:,.0f}",
    "paid hours": "{:,.0f}",
    "solver gap": "{:.2%}",
    "short intervals": "{:.0f}",
    "short agent-h": "{:,.1f}",
    "most short": "{:.0f}",
    "over agent-h": "{:,.0f}",
    "SL 20 s (Erlang C)": "{:.1%}",
    "intervals under 80/20": "{:.0f}",
    "agents to roster": "{:,.0f}",
}


def markdown(table: pd.DataFrame) -> str:
    """The table with each column in its own format, blanks where a method has no such figure."""
    shown = table.copy()
    for column, fmt in FORMATS.items():
        if column not in shown:
            continue
        shown[column] = [fmt.format(v) if pd.notna(v) else "" for v in table[column]]
    return shown.to_markdown(
        index=False, disable_numparse=True, colalign=["left", "left"] + ["right"] * (shown.shape[1] - 2)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-optimal", action="store_true", help="no gap-0 runs (up to 120 s each)")
    parser.add_argument("--pyworkforce-seconds", type=float, default=30.0, help="CP-SAT's time limit a week")
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours at a 1 %% gap, the best kept")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}")
    tables, facts = [], {}
    for week in (bank_week(), generated_week()):
        table, facts[week.name] = bench(week, not args.skip_optimal, args.pyworkforce_seconds, args.repeat)
        tables.append(table)
    table = pd.concat(tables)
    table = table[["week", "method", *table.columns.drop(["week", "method"])]]
    print()
    print(markdown(table))
    accept = facts["generated, 15-min"]
    fastest, slowest = min(accept["seconds"]), max(accept["seconds"])
    proven = accept.get("optimal agents")
    holds = accept["gap"] <= ACCEPT_GAP and slowest < ACCEPT_SECONDS
    if proven is not None:
        holds &= accept["agents"] <= proven * (1 + ACCEPT_GAP)
    print(
        f"\nacceptance (15-minute week within {ACCEPT_GAP:.0%} of optimal in under {ACCEPT_SECONDS:.0f} s): "
        f"{'HOLDS' if holds else 'FAILS'}: {fastest:.1f}-{slowest:.1f} s in {len(accept['seconds'])} runs, "
        f"reported gap {accept['gap']:.2%}, {accept['agents']:.0f} agents"
        + (
            f" (the proven optimum: {proven:.0f} agents, {accept['optimal paid hours']:,.0f} paid hours)"
            if proven is not None
            else ""
        )
    )
    print(f"load average {os.getloadavg()[0]:.2f}; the whole script {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
