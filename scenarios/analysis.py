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
from scenarios.planning import queue_volume
from scenarios.realistic_targets import achievable_targets, evidence_table, target_curve
from scenarios.result import ScenarioResult, daily_table, summarize
from scenarios.risk import correlated_normals, daily_success
from scenarios.supply import supply_fte


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
    needed = fte_for_target_days(result, z, days, on_duty, scenario.risk.days_share)
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
        daily = daily_success(z, days, rate, rate * demand.cv, g.aht[i], agents=agents[i],
                              interval_seconds=g.interval.total_seconds(), channel=q.channel,
                              targets=scenario.targets.for_queue(name), model=q.model, patience=q.patience_seconds,
                              concurrency=q.concurrency, open_mask=weights, service=demand.services.get(name),
                              starting_backlog=_starting(demand, i))  # fmt: skip
        parts.append(daily.assign(queue=name))
    return pd.concat(parts, ignore_index=True)


def _starting(demand, i: int) -> float:
    return 0.0 if demand.starting_backlog is None else float(demand.starting_backlog[i])


def fte_for_target_days(
    result: ScenarioResult, z: np.ndarray, days: np.ndarray, on_duty: list[np.ndarray], share: float
) -> float | None:
    """FTE with which the target is met on ``share`` of the days on average (the plan's
    staffing scaled up or down alike, as a headcount is spread), found by bisection on the
    scale; None without a daily target. Staffing to the forecast mean meets it on about half
    of the days: this is what a manager asking for "80 % of days" has to pay for."""

    @cache
    def chance(scale: float) -> float:
        p = _daily_risk(result, z, days, [a * scale for a in on_duty])["p_meet_target"]
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
    return float(result.summary["fte_total"] * hi)


def _on_grid(intervals: pd.DataFrame, queue: str, column: str, open_mask: np.ndarray) -> np.ndarray:
    """A queue's column of the interval table (open intervals only) back on the full grid."""
    values = np.zeros(len(open_mask))
    values[open_mask] = intervals.loc[intervals["queue"] == queue, column].to_numpy(float)
    return values
