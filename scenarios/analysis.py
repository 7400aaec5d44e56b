"""Analysing a computed scenario: the Monte Carlo risk of missing the target each day (for the
plan and for the supply), what each target costs, the best targets the supply reaches, and
what the center's history shows to be attainable.

It works on a :class:`~scenarios.runner.ScenarioResult` as computed (its demand and agents),
so the app's "Run and save" extends the instant what-if instead of staffing it again.
"""

from __future__ import annotations

from dataclasses import replace

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
    weights = demand.open_mask * demand.coverage  # a day's service weighs intervals by their contacts
    parts = []
    for i, name in enumerate(g.queues):
        q, targets = scenario.queues[name], scenario.targets.for_queue(name)
        rate = queue_volume(scenario, demand, i)
        args = (z, days, rate, rate * demand.cv, g.aht[i])
        options = dict(
            interval_seconds=g.interval.total_seconds(),
            channel=q.channel,
            targets=targets,
            model=q.model,
            patience=q.patience_seconds,
            concurrency=q.concurrency,
            open_mask=weights,
            service=demand.services.get(name),
        )
        on_duty = _on_grid(result.intervals, name, "scheduled_agents", demand.open_mask) * (
            1 - demand.shrinkage[i]
        )
        daily = daily_success(*args, agents=on_duty, **options)
        if result.available is not None:
            on_phone = result.available[i] * (1 - demand.shrinkage[i])
            supplied = daily_success(*args, agents=on_phone, **options).drop(columns=["date", "target"])
            daily = pd.concat([daily, supplied.add_prefix("supply_")], axis=1)
        parts.append(daily.assign(queue=name))
    daily = daily_table(result.intervals, pd.concat(parts, ignore_index=True))
    curve = target_curve(scenario, demand)
    achievable = achievable_targets(scenario, demand, supply_fte(scenario, result.available, demand))
    table = evidence_table(scenario, evidence) if scenario.evidence and evidence is not None else None
    summary = result.summary | summarize(  # keeps the service and satisfaction models' metrics
        scenario,
        result.intervals,
        daily,
        result.fte,
        achievable,
        result.available is not None,
        demand.days_per_week,
    )
    return replace(
        result,
        daily=daily,
        curve=curve,
        achievable=achievable,
        evidence=table,
        summary=summary,
        analysed=True,
    )


def _on_grid(intervals: pd.DataFrame, queue: str, column: str, open_mask: np.ndarray) -> np.ndarray:
    """A queue's column of the interval table (open intervals only) back on the full grid."""
    values = np.zeros(len(open_mask))
    values[open_mask] = intervals.loc[intervals["queue"] == queue, column].to_numpy(float)
    return values
