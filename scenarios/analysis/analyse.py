"""Analysing a computed scenario: the Monte Carlo risk of missing the target each day (for the
plan and for the supply), what each target costs, the best targets the supply reaches, and
what the center's history shows to be attainable.

It works on a :class:`~scenarios.runner.ScenarioResult` as computed (its demand and agents),
so the app's "Run and save" extends the instant what-if instead of staffing it again.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd

from forecasting.history.ingest import IngestResult
from scenarios.analysis.realistic_targets import achievable_targets, evidence_table, target_curve
from scenarios.analysis.risk import correlated_normals, daily_success
from scenarios.demand.planning import plan_fte, queue_volume, staff_queue
from scenarios.result import ScenarioResult, daily_table, summarize
from scenarios.service.choice import DEFAULT_FITTED
from scenarios.service.supply import supply_fte


def analyse(result: ScenarioResult, evidence: IngestResult | None = None) -> ScenarioResult:
    """The result with risk per day, the target curve, the achievable targets and (given the
    evidence history) the evidence table, and its summary updated."""
    if result.demand is None:
        raise ValueError("this result holds no demand to analyse (made by compute())")
    scenario, demand = result.scenario, result.demand
    g = demand.grid
    days = g.stamps.normalize().to_numpy()
    z = correlated_normals(days, scenario.risk.simulations, scenario.risk.correlation, scenario.risk.seed)
    on_duty = [
        _on_grid(result.intervals, name, "scheduled_agents", demand.open_mask) * (1 - demand.shrinkage[i])
        for i, name in enumerate(g.queues)
    ]
    risk = _daily_risk(result, z, days, on_duty)
    if result.available is not None:
        on_phone = [result.available[i] * (1 - demand.shrinkage[i]) for i in range(len(g.queues))]
        supplied = _daily_risk(result, z, days, on_phone).drop(columns=["date", "target", "queue"])
        risk = pd.concat([risk, supplied.add_prefix("supply_")], axis=1)
    daily = daily_table(result.intervals, risk)
    curve = target_curve(scenario, demand)
    achievable = achievable_targets(scenario, demand, supply_fte(scenario, result.available, demand))
    table = evidence_table(scenario, evidence) if scenario.evidence and evidence is not None else None
    floors = occupancy_floor(result)
    needed = fte_for_target_days(result, z, days, on_duty, scenario.risk.days_share, floors)
    summary = result.summary | summarize(  # keeps the service and satisfaction models' metrics
        scenario,
        result.intervals,
        daily,
        result.fte,
        achievable,
        result.available is not None,
        demand.days_per_week,
    )
    if needed is not None:
        summary["fte_for_target_days"] = needed
    summary.update(without_cap(scenario, demand, summary["fte_total"]))
    if any(f.any() for f in floors):
        summary["fte_for_cap"] = _fte_of(result, floors)
    summary.update(model_comparison(result))
    return replace(
        result,
        daily=daily,
        curve=curve,
        achievable=achievable,
        evidence=table,
        summary=summary,
        analysed=True,
    )


def _daily_risk(
    result: ScenarioResult, z: np.ndarray, days: np.ndarray, agents: list[np.ndarray]
) -> pd.DataFrame:
    """Per queue and day, the Monte Carlo chance of meeting the target with ``agents`` (per
    queue, on the phones, on the full grid) over the forecast's uncertainty."""
    scenario, demand = result.scenario, result.demand
    g = demand.grid
    weights = demand.open_mask * demand.coverage  # a day's service weighs intervals by their contacts
    parts = []
    for i, name in enumerate(g.queues):
        q = scenario.queues[name]
        rate = queue_volume(scenario, demand, i)
        daily = daily_success(
            z,
            days,
            rate,
            rate * demand.cv,
            g.aht[i],
            agents=agents[i],
            interval_seconds=g.interval.total_seconds(),
            channel=q.channel,
            targets=scenario.targets.for_queue(name),
            model=q.model,
            patience=q.patience_seconds,
            concurrency=q.concurrency,
            open_mask=weights,
            service=demand.services.get(name),
            starting_backlog=_starting(demand, i),
        )
        parts.append(daily.assign(queue=name))
    return pd.concat(parts, ignore_index=True)


def _starting(demand, i: int) -> float:
    return 0.0 if demand.starting_backlog is None else float(demand.starting_backlog[i])


def occupancy_floor(result: ScenarioResult) -> list[np.ndarray]:
    """Per queue, the agents on the phones (on the full grid, after the plan's rounding and
    shrinkage) that the occupancy cap alone asks for at the volume the plan staffs to; zeros for
    a queue without a cap or with deferred work. No staffing that answers the plan's question
    goes below it, however many days the service target is met on."""
    scenario, demand = result.scenario, result.demand
    floors = []
    for i, name in enumerate(demand.grid.queues):
        targets = scenario.targets.for_queue(name)
        if targets.max_occupancy is None or scenario.queues[name].channel == "email":
            floors.append(np.zeros(len(demand.grid.stamps)))
            continue
        cap_only = targets.model_copy(
            update={"service_level": None, "asa_seconds": None, "abandon_rate": None}
        )
        scheduled = staff_queue(scenario, demand, i, cap_only)["scheduled_agents"].to_numpy(float)
        floors.append(scheduled * (1 - demand.shrinkage[i]) * demand.open_mask)
    return floors


def fte_for_target_days(
    result: ScenarioResult,
    z: np.ndarray,
    days: np.ndarray,
    on_duty: list[np.ndarray],
    share: float,
    floors: list[np.ndarray] | None = None,
) -> float | None:
    """FTE with which the target is met on ``share`` of the days on average (the plan's
    staffing scaled up or down alike, as a headcount is spread, but never below what the
    occupancy cap asks for at the forecast: the plan's constraints hold), found by bisection on
    the scale; None without a daily target. Staffing to the forecast mean meets it on about
    half of the days: this is what a manager asking for "80 % of days" has to pay for."""
    floors = occupancy_floor(result) if floors is None else floors

    def agents(scale: float) -> list[np.ndarray]:
        return [np.maximum(a * scale, f) for a, f in zip(on_duty, floors, strict=True)]

    @cache
    def chance(scale: float) -> float:
        p = _daily_risk(result, z, days, agents(scale))["p_meet_target"]
        return float(p.mean()) if p.notna().any() else float("nan")

    lo, hi = 0.5, 2.0
    if not np.isfinite(chance(hi)):
        return None
    while chance(hi) < share and hi < 16:
        lo, hi = hi, hi * 2
    if chance(hi) < share:
        return None
    if chance(lo) >= share:
        lo = 0.0
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if chance(mid) >= share else (mid, hi)
    return _fte_of(result, agents(hi))


def _fte_of(result: ScenarioResult, on_duty: list[np.ndarray]) -> float:
    """FTE of agents on the phones per queue (full grid): scheduled over shrinkage, paid hours
    over an FTE's, as the plan's FTE is counted."""
    demand = result.demand
    hours = sum((a / (1 - demand.shrinkage[i]) * demand.interval_hours).sum() for i, a in enumerate(on_duty))
    return float(demand.fte(float(hours), result.scenario.supply.hours_per_fte))


def without_cap(scenario, demand, fte_total: float) -> dict[str, float]:
    """The plan's FTE without the occupancy cap, when a cap is set: where the cap and not the
    service target decides the plan, the answer says so."""
    capped = [n for n in demand.grid.queues if scenario.targets.for_queue(n).max_occupancy is not None]
    if not capped:
        return {}
    free = plan_fte(scenario, demand, {n: {"max_occupancy": None} for n in capped})[0]
    return {"fte_without_cap": min(free, fte_total)}


def other_model(result: ScenarioResult) -> tuple[str, str, list[str], object, object] | None:
    """The plan's second opinion: ``(used, other, queues, scenario, demand)`` with the voice
    queues on a fitted model switched to textbook Erlang A (the log's patience), or, when none
    is, the textbook ones switched to the centre's fitted model; None without a log to fit."""
    scenario, demand = result.scenario, result.demand
    queues, services = dict(scenario.queues), dict(demand.services)
    fitted = [n for n in result.services if scenario.queues[n].channel == "voice"]
    if fitted:
        for name in fitted:
            patience = result.services[name].patience_seconds
            finite = bool(np.isfinite(patience) and patience > 0)
            queues[name] = queues[name].model_copy(
                update={
                    "model": "erlang-a" if finite else "erlang-c",
                    "patience_seconds": patience if finite else None,
                }
            )
            services.pop(name, None)
        used, other, switched = "fitted", "textbook", fitted
    else:
        others = getattr(result.service_choice, "other", None) or {}
        switched = [n for n in others if n in queues]
        if not switched:
            return None
        for name in switched:
            queues[name] = queues[name].model_copy(update={"model": DEFAULT_FITTED})
            services[name] = others[name].function
        used, other = "textbook", "fitted"
    return (
        used,
        other,
        switched,
        scenario.model_copy(update={"queues": queues}),
        replace(demand, services=services),
    )


def model_comparison(result: ScenarioResult) -> dict[str, float]:
    """Textbook against fitted: the FTE each needs for the plan's targets (staffed like the
    plan), and the service level each expects of the plan's agents (arrival-weighted over the
    switched queues), as ``fte_textbook``, ``fte_fitted``, ``service_level_textbook``,
    ``service_level_fitted``."""
    found = other_model(result)
    if found is None:
        return {}
    used, other, switched, scenario, demand = found
    out = {f"fte_{used}": result.summary["fte_total"], f"fte_{other}": plan_fte(scenario, demand)[0]}
    served = {used: 0.0, other: 0.0}
    volume = 0.0
    for name in switched:
        i = demand.grid.queues.index(name)
        agents = _on_grid(result.intervals, name, "required_agents", demand.open_mask)
        plan = result.intervals.loc[result.intervals["queue"] == name]
        given = staff_queue(scenario, demand, i, scenario.targets.for_queue(name), agents=agents)
        weights = demand.grid.volume[i][demand.open_mask]
        served[used] += float((plan["service_level"].to_numpy(float) * weights).sum())
        served[other] += float((given["service_level"].to_numpy(float)[demand.open_mask] * weights).sum())
        volume += float(weights.sum())
    if volume > 0:
        out |= {f"service_level_{kind}": value / volume for kind, value in served.items()}
    return out


def _on_grid(intervals: pd.DataFrame, queue: str, column: str, open_mask: np.ndarray) -> np.ndarray:
    """A queue's column of the interval table (open intervals only) back on the full grid."""
    values = np.zeros(len(open_mask))
    values[open_mask] = intervals.loc[intervals["queue"] == queue, column].to_numpy(float)
    return values
