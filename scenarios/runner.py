"""Run a scenario in three stages: load (:mod:`scenarios.inputs.load`: the only I/O), compute
(staffing and service, here) and analyse (:mod:`scenarios.analysis.analyse`: risk and targets).

The result holds planner-ready tables (per interval and queue, per day, FTE by day and week,
the target-versus-FTE curve) and a flat summary of metrics that MLflow records and
``capplan scenario compare`` lines up side by side.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.store import Store
from scenarios.analysis.analyse import analyse
from scenarios.analysis.realistic_targets import CURVE_COLUMNS
from scenarios.demand.planning import (
    build_demand,
    staff_queue,
    staffed_volume,
    staffing_targets,
    unmatched_changes,
)
from scenarios.inputs.base_forecast import BaseForecast
from scenarios.inputs.load import ScenarioInputs, load_evidence, load_inputs
from scenarios.inputs.spec import EACH_QUEUE, Scenario, ServiceTargets
from scenarios.result import ScenarioResult, daily_table, no_risk, summarize
from scenarios.service.choice import choose_service_models
from scenarios.service.staffing_plan import fte_by_period
from scenarios.service.supply import agents_fte, supply_agents, with_supply_fte

log = logging.getLogger(__name__)


def compute(inputs: ScenarioInputs) -> ScenarioResult:
    """Staffing and service of every queue and interval, the supply against it, daily and FTE
    tables and the summary: pure, from loaded inputs. Risk, the target curve, the best
    reachable targets and the evidence are left to :func:`scenarios.analysis.analyse.analyse`."""
    scenario, base = inputs.scenario, inputs.base
    demand = build_demand(scenario, base, {name: fit.function for name, fit in inputs.services.items()})
    g = demand.grid
    tables = [staff_queue(scenario, demand, i, scenario.targets.for_queue(q)) for i, q in enumerate(g.queues)]
    scheduled = np.stack([t["scheduled_agents"].to_numpy(float) for t in tables])
    available, supply_warnings = supply_agents(scenario, demand, scheduled, inputs.schedule)
    frames = []
    for i, name in enumerate(g.queues):
        q, targets, table = scenario.queues[name], scenario.targets.for_queue(name), tables[i]
        frame = pd.DataFrame(
            {
                "interval_start": g.stamps,
                "queue": name,
                "channel": q.channel,
                "model": q.model,
                "volume": g.volume[i],
                "volume_sd": g.volume[i] * demand.cv,
                "aht": g.aht[i],
                "shrinkage": demand.shrinkage[i],
                "coverage": demand.coverage,
            }
        )
        frame["volume_staffed"] = staffed_volume(scenario, g.volume[i], demand.cv)
        frame = pd.concat([frame, table.rename(columns={"agents": "required_agents"})], axis=1)
        frame["scheduled_agent_hours"] = frame["scheduled_agents"] * demand.interval_hours
        frame["cost"] = frame["scheduled_agent_hours"] * scenario.supply.cost_per_agent_hour
        frame["meets_targets"] = _meets(frame, q.channel, targets)
        if available is not None:
            on_phone = available[i] * (1 - demand.shrinkage[i])
            given = staff_queue(scenario, demand, i, targets, agents=on_phone)
            frame["available_agents"] = available[i]
            for col in (
                "service_level",
                "asa_seconds",
                "abandon_rate",
                "occupancy",
                "overloaded",
                "backlog",
                "answered_in_time",
                "p_wait",
            ):
                if col in given:
                    frame[f"supply_{col}"] = given[col].to_numpy()
            frame["staffing_gap"] = on_phone - table["agents"].to_numpy(float)
            frame["staffing"], frame["staffing_note"] = staffing_label(frame, q.channel, targets)
        frames.append(predicted_satisfaction(frame[demand.open_mask], inputs.satisfaction))
    intervals = pd.concat(frames, ignore_index=True)
    daily = daily_table(intervals, no_risk(intervals))
    seconds = g.interval.total_seconds()
    totals = intervals.groupby("interval_start", as_index=False)[["scheduled_agents", "coverage"]].agg(
        {"scheduled_agents": "sum", "coverage": "first"}
    )
    fte = fte_by_period(
        totals["interval_start"],
        totals,
        seconds * totals["coverage"].to_numpy(),
        scenario.supply.hours_per_fte,
        demand.days_per_week,
    )
    summary = summarize(scenario, intervals, daily, fte, {}, available is not None, demand.days_per_week)
    summary.update(service_metrics(inputs.services))
    summary.update(satisfaction_summary(intervals, inputs.satisfaction))
    service_warnings = [
        inputs.services[q].load_warning(q, t["load"].to_numpy(float))
        for q, t in zip(g.queues, tables, strict=True)
        if q in inputs.services
    ]
    if demand.starting_backlog is not None and demand.starting_backlog.any():
        summary["starting_backlog"] = float(demand.starting_backlog.sum())
    warnings = (
        [w for w in (base.warning,) if w]
        + backlog_notes(scenario, demand, base)
        + unmatched_changes(scenario, demand)
        + supply_warnings
        + [w for w in service_warnings if w]
    )
    empty_curve = pd.DataFrame(columns=CURVE_COLUMNS)
    return ScenarioResult(
        scenario,
        inputs.path,
        intervals,
        daily,
        fte,
        empty_curve,
        {},
        None,
        summary,
        base.model,
        warnings,
        demand=demand,
        available=available,
        services=inputs.services,
        satisfaction=inputs.satisfaction,
    )


def backlog_notes(scenario: Scenario, demand, base: BaseForecast) -> list[str]:
    """What the plan starts from, said: the tickets waiting at the export, and how stale that
    is when the horizon starts well after it."""
    if demand.starting_backlog is None or not demand.starting_backlog.any():
        return []
    notes = []
    start = demand.grid.stamps[demand.open_mask].min()
    for i, name in enumerate(demand.grid.queues):
        count = demand.starting_backlog[i]
        if count <= 0:
            continue
        hours = scenario.targets.for_queue(name).response_hours
        auto = scenario.queues[name].starting_backlog == "auto"
        source = (
            f"ticket{'s' if round(count) != 1 else ''} waiting for a first response at the end of the data"
        )
        if auto and base.waiting is not None and len(base.waiting):
            source += (
                f" ({base.exported_at:%Y-%m-%d %H:%M}, median age {base.waiting.median() / 3600:,.1f} h)"
            )
        notes.append(
            f"{name}: starts from {count:,.0f} {source if auto else 'items waiting (starting_backlog)'}; "
            f"staffed to answer them within {hours:g} h of {start:%Y-%m-%d %H:%M}"
        )
    if base.exported_at is not None and start - base.exported_at > pd.Timedelta(days=1):
        notes.append(
            f"the horizon starts {(start - base.exported_at).days} days after the export ({base.exported_at:%Y-%m-%d}): "
            "the backlog then is not known; set starting_backlog for the email queues if it differs"
        )
    return notes


def service_metrics(services: dict) -> dict[str, float]:
    """The fitted service models' calibration and held-out errors, as MLflow metrics."""
    return {key: value for name, fit in services.items() for key, value in fit.metrics(name).items()}


def predicted_satisfaction(frame: pd.DataFrame, models: dict) -> pd.DataFrame:
    """The queue's expected CSAT / NPS per interval from the service it gets under the plan
    (and under the supply, when one is given), for live channels with waits."""
    if not models or "p_wait" not in frame or frame["channel"].iloc[0] not in ("voice", "chat"):
        return frame
    frame = frame.copy()
    for survey, fit in models.items():
        for prefix in ("", "supply_"):
            if f"{prefix}p_wait" in frame:
                frame[f"{prefix}{survey}"] = fit.model.predict_service(
                    frame[f"{prefix}p_wait"],
                    frame[f"{prefix}asa_seconds"],
                    frame.get(f"{prefix}abandon_rate", pd.Series(0.0, index=frame.index)),
                )
    return frame


def satisfaction_summary(intervals: pd.DataFrame, models: dict) -> dict[str, float]:
    """The scenario's expected CSAT / NPS (weighted by volume) and the models' checks."""
    out = {}
    for survey, fit in models.items():
        out.update(fit.metrics())
        for prefix in ("", "supply_"):
            column = f"{prefix}{survey}"
            if column in intervals:
                ok = intervals[column].notna() & (intervals["volume"] > 0)
                if ok.any():
                    out[column] = float(
                        np.average(intervals.loc[ok, column], weights=intervals.loc[ok, "volume"])
                    )
    return out


def run_scenario(
    scenario: Scenario,
    path: Path | None = None,
    base: BaseForecast | None = None,
    analysis: bool = True,
    store: Store | None = None,
    agents_on_phones: float | None = None,
) -> ScenarioResult:
    """Evaluate one scenario end to end (deterministic: same file, same numbers): choose its
    voice queues' service models (the centre's fitted one unless the scenario names one), load
    its inputs, compute the staffing and, unless ``analysis=False`` (the app's instant
    what-if), analyse it (risk, target curve, best targets, evidence, the other service
    model's answer). ``agents_on_phones`` replaces the supply by that many agents on the phones
    in each open interval, as the FTE they take (:func:`scenarios.service.supply.agents_fte`).
    A scenario over every queue of its data is :func:`scenarios.each_queue.run_each_queue`'s."""
    if scenario.data.queue == EACH_QUEUE:
        raise InputError(
            "a scenario over every queue of its data is run queue by queue",
            path=path,
            key="data.queue",
            expected="one queue of the data here (`capplan scenario run` and capplan.run_scenario plan "
            "every queue with data.queue: each)",
            found=EACH_QUEUE,
        )
    scenario, choice = choose_service_models(scenario, path.parent if path else None)
    inputs = load_inputs(scenario, path, store, base)
    if agents_on_phones is not None:
        fte = agents_fte(inputs.scenario, build_demand(inputs.scenario, inputs.base), agents_on_phones)
        inputs = replace(inputs, scenario=with_supply_fte(inputs.scenario, fte))
    log.info("%s: staffing %d queue(s)", scenario.name, len(scenario.queues))
    result = replace(compute(inputs), service_choice=choice)
    if agents_on_phones is not None:
        result.summary["supply_agents_on_phones"] = float(agents_on_phones)
    if scenario.schedule is not None:
        result = with_schedule(result)
    if scenario.capacity is not None and analysis:
        result = with_capacity(result, store)
    if not analysis:
        return result
    log.info(
        "%s: risk over the forecast's uncertainty (Monte Carlo), target curve, best targets", scenario.name
    )
    return analyse(result, load_evidence(scenario, path))


def with_capacity(result: ScenarioResult, store: Store | None = None) -> ScenarioResult:
    """The scenario's long-term plan (its ``capacity:`` section) beside its staffing: the plan's
    numbers join the summary (tracked and compared like the others), its notes the warnings."""
    from scenarios.capacity.plan import run_capacity

    log.info("%s: long-term capacity plan (%d weeks)", result.scenario.name, result.scenario.capacity.weeks)
    capacity = run_capacity(result.scenario, result.path, store)
    summary = {**result.summary, **capacity.summary}
    warnings = [*result.warnings, *(f"capacity: {note}" for note in capacity.notes)]
    return replace(result, capacity=capacity, summary=summary, warnings=warnings)


def with_schedule(result: ScenarioResult) -> ScenarioResult:
    """The scenario's week of shifts (its ``schedule:`` section) and the service it delivers:
    its numbers join the summary, its notes the warnings."""
    from scenarios.scheduling.plan import run_schedule

    log.info("%s: scheduling the week's shifts", result.scenario.name)
    schedule = run_schedule(result)
    summary = {**result.summary, **schedule.summary}
    warnings = [*result.warnings, *(f"schedule: {note}" for note in schedule.notes)]
    return replace(result, schedule=schedule, summary=summary, warnings=warnings)


def staffing_label(
    frame: pd.DataFrame, channel: str, targets: ServiceTargets
) -> tuple[np.ndarray, np.ndarray]:
    """Per interval, the supply against the targets: ``under`` when the agents the supply puts
    on the phones miss a target (which ones in the note), ``over`` when they meet every target
    with a whole agent or more to spare beyond the plan's, else ``ok``: the label follows the
    targets, not a margin in agents (0.69 against a 0.8 target is under, whatever the count)."""
    supplied = frame[[c for c in frame if c.startswith("supply_")]].rename(
        columns=lambda c: c[len("supply_") :]
    )
    supplied = supplied.assign(volume=frame["volume"])
    if "overloaded" not in supplied:
        supplied["overloaded"] = False
    missed = _missed(supplied, channel, targets)
    names = np.array(list(missed), dtype=object)
    flags = np.column_stack(list(missed.values())) if missed else np.zeros((len(frame), 0), bool)
    note = np.array([", ".join(names[row]) for row in flags], dtype=object)
    spare = frame["staffing_gap"].to_numpy(float) >= 1.0 - 1e-9
    return np.select([flags.any(axis=1), spare], ["under", "over"], "ok"), note


def _missed(frame: pd.DataFrame, channel: str, t: ServiceTargets) -> dict[str, np.ndarray]:
    """Per target, the intervals (with contacts) whose service misses it."""
    idle = frame["volume"].to_numpy() <= 0
    if channel == "email":
        late = (frame["answered_in_time"].fillna(1.0) < t.response_share - 1e-9).to_numpy()
        return {"response time": late & ~idle}
    metrics = {
        col: frame[col].fillna(fill).to_numpy()
        for col, fill in (
            ("service_level", 1.0),
            ("asa_seconds", 0.0),
            ("abandon_rate", 0.0),
            ("occupancy", 0.0),
        )
        if col in frame
    }
    missed = staffing_targets(t).missed(metrics)
    missed["overload"] = frame["overloaded"].to_numpy(bool)
    return {name: flags & ~idle for name, flags in missed.items()}


def _meets(frame: pd.DataFrame, channel: str, t: ServiceTargets) -> np.ndarray:
    missed = _missed(frame, channel, t)
    return ~np.logical_or.reduce(list(missed.values())) if missed else np.ones(len(frame), bool)
