"""A scenario's demand on the full interval grid, and the staffing of each queue against it.

``build_demand`` turns the base forecast and the scenario's changes into (queues × intervals)
arrays; ``staff_queue`` and ``plan_fte`` staff them. The runner, the target curve and the best
reachable targets all staff through here, so they agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.common.errors import InputError
from forecasting.history.intervals import day_grid
from scenarios.demand.changes import DemandGrid, apply_demand, event_lift, window_mask
from scenarios.inputs.base_forecast import BaseForecast
from scenarios.inputs.spec import Scenario, ServiceTargets
from scenarios.service.staffing_plan import StaffingOptions, staff_intervals
from scenarios.staffing.requirements import StaffingTargets


@dataclass(frozen=True)
class IntervalDemand:
    """Everything staffing needs, after the scenario's changes, on the full interval grid."""

    grid: DemandGrid
    cv: np.ndarray  # (intervals,) relative uncertainty of the arrival rate
    open_mask: np.ndarray  # (intervals,)
    shrinkage: np.ndarray  # (queues, intervals)
    coverage: np.ndarray  # (intervals,) share of the interval inside opening hours (1 but at a closing edge)
    days_per_week: int  # open days a week, for FTE
    services: dict = field(default_factory=dict)  # queue -> service model fitted on the centre's log
    starting_backlog: np.ndarray | None = None  # (queues,) deferred work waiting at the start

    @property
    def interval_hours(self) -> np.ndarray:
        """Staffed hours of one agent in each interval."""
        return self.grid.interval.total_seconds() / 3600 * self.coverage

    @property
    def open_days(self) -> int:
        return max(len(self.grid.stamps.normalize()[self.open_mask].unique()), 1)

    def fte(self, agent_hours: float, hours_per_fte: float) -> float:
        """Mean FTE over the open days: hours a day over an FTE's hours a day."""
        return agent_hours / self.open_days / (hours_per_fte / self.days_per_week)


def build_demand(scenario: Scenario, base: BaseForecast, services: dict | None = None) -> IntervalDemand:
    t = base.table
    days = pd.DatetimeIndex(t["interval_start"]).normalize().unique()
    stamps = day_grid(days, base.interval)
    where = pd.Index(stamps).get_indexer(pd.DatetimeIndex(t["interval_start"]))
    volume = np.zeros(len(stamps))
    volume[where] = t["volume"].to_numpy(float)
    cv = np.zeros(len(stamps))
    with np.errstate(invalid="ignore", divide="ignore"):
        cv[where] = np.nan_to_num(
            t["volume_sd"].to_numpy(float) / t["volume"].to_numpy(float), nan=0.0, posinf=0.0
        )
    open_mask = np.zeros(len(stamps), bool)
    open_mask[where] = True
    coverage = np.ones(len(stamps))
    coverage[where] = t["coverage"].to_numpy(float) if "coverage" in t else 1.0
    data_aht = np.full(len(stamps), np.nan)
    data_aht[where] = t["aht"].to_numpy(float)
    names = tuple(scenario.queues)
    aht = np.empty((len(names), len(stamps)))
    for i, (name, q) in enumerate(scenario.queues.items()):
        if q.aht_seconds is not None:
            aht[i] = q.aht_seconds
        elif np.isnan(data_aht[open_mask]).any():
            raise InputError(
                "the data has no handle times",
                key=f"queues.{name}.aht_seconds",
                expected="an average handle time in seconds for this queue",
            )
        else:
            aht[i] = np.nan_to_num(data_aht, nan=float(np.nanmean(data_aht)))
    shares = np.array([q.share for q in scenario.queues.values()])
    grid = DemandGrid(stamps, names, shares[:, None] * volume[None, :], aht, base.interval)
    grid = apply_demand(grid, scenario.demand)
    grid = DemandGrid(
        grid.stamps, grid.queues, np.where(open_mask[None, :], grid.volume, 0.0), grid.aht, grid.interval
    )
    shrinkage = np.full(grid.volume.shape, scenario.supply.shrinkage)
    for p in scenario.supply.shrinkage_periods:
        shrinkage = np.where(window_mask(p, grid), p.shrinkage, shrinkage)
    backlog = starting_backlog(scenario, base)
    days_per_week = max(len(base.calendar.hours), 1)
    return IntervalDemand(grid, cv, open_mask, shrinkage, coverage, days_per_week, services or {}, backlog)


def starting_backlog(scenario: Scenario, base: BaseForecast) -> np.ndarray:
    """Per queue, the deferred work waiting when the horizon starts: a number the scenario
    gives, or (``auto``) its share of the tickets waiting for a first response at the end
    of a ticket export; none for real-time queues."""
    waiting = 0 if base.waiting is None else len(base.waiting)
    out = np.zeros(len(scenario.queues))
    for i, q in enumerate(scenario.queues.values()):
        if q.channel == "email":
            out[i] = q.share * waiting if q.starting_backlog == "auto" else float(q.starting_backlog)
    return out


def unmatched_changes(scenario: Scenario, demand: IntervalDemand) -> list[str]:
    """Demand and supply changes that touch no open interval of the horizon: most likely a
    wrong date, weekday or queue, which would otherwise silently change nothing."""
    g = demand.grid
    span = f"{g.stamps[demand.open_mask].min():%Y-%m-%d} to {g.stamps[demand.open_mask].max():%Y-%m-%d}"
    found = []
    groups = (
        ("demand.multipliers", scenario.demand.multipliers),
        ("demand.shifts", scenario.demand.shifts),
        ("demand.aht_changes", scenario.demand.aht_changes),
        ("supply.shrinkage_periods", scenario.supply.shrinkage_periods),
    )
    for key, windows in groups:
        for i, w in enumerate(windows):
            if not (window_mask(w, g) & demand.open_mask[None, :]).any():
                found.append(f"{key}.{i} applies to no open interval of the horizon ({span})")
    for i, e in enumerate(scenario.demand.events):
        if not (event_lift(e, g)[:, demand.open_mask] != 0).any():
            found.append(f"demand.events.{i} ('{e.name}') touches no open interval of the horizon ({span})")
    return found


def staffing_targets(t: ServiceTargets) -> StaffingTargets:
    return StaffingTargets(
        service_level=t.service_level,
        target_seconds=t.target_seconds,
        asa_seconds=t.asa_seconds,
        abandon_rate=t.abandon_rate,
        max_occupancy=t.max_occupancy,
    )


def staffed_volume(scenario: Scenario, volume: np.ndarray, cv: np.ndarray) -> np.ndarray:
    """The volume staffing plans for: the forecast mean, or a quantile of its distribution."""
    if scenario.forecast.staff_to == "mean":
        return volume
    z = float(stats.norm.ppf(float(scenario.forecast.staff_to)))
    return np.maximum(volume * (1 + z * cv), 0.0)


def queue_volume(
    scenario: Scenario, demand: IntervalDemand, i: int, volume: np.ndarray | None = None
) -> np.ndarray:
    """Contacts as the queueing models see them: per full interval at the interval's arrival
    rate (an interval half inside opening hours has its contacts in half the time). Deferred
    work is counted as it is: it queues whatever the hours."""
    v = demand.grid.volume[i] if volume is None else volume
    if scenario.queues[demand.grid.queues[i]].channel == "email":
        return v
    return v / demand.coverage


def staff_queue(
    scenario: Scenario,
    demand: IntervalDemand,
    i: int,
    targets: ServiceTargets,
    agents=None,
    basis: str | None = None,
) -> pd.DataFrame:
    """Required (or, with ``agents``, given) agents of one queue and the service at the mean
    volume; ``basis='mean'`` staffs to the mean whatever the scenario's ``staff_to``."""
    name = demand.grid.queues[i]
    q = scenario.queues[name]
    seconds = demand.grid.interval.total_seconds()
    options = StaffingOptions(
        targets=staffing_targets(targets),
        model=q.model,
        patience=q.patience_seconds,
        shrinkage=demand.shrinkage[i],
        hours_per_fte=scenario.supply.hours_per_fte,
        concurrency=q.concurrency,
        response_hours=targets.response_hours if q.channel == "email" else None,
        response_share=targets.response_share,
        service=demand.services.get(name),
        starting_backlog=float(demand.starting_backlog[i]) if demand.starting_backlog is not None else 0.0,
    )
    mean = queue_volume(scenario, demand, i)
    aht = demand.grid.aht[i]
    if agents is None:
        planned = mean if basis == "mean" else staffed_volume(scenario, mean, demand.cv)
        agents = staff_intervals(planned, aht, seconds, options, open_mask=demand.open_mask)[
            "agents"
        ].to_numpy()
    return staff_intervals(mean, aht, seconds, options, agents=agents, open_mask=demand.open_mask)


def plan_fte(
    scenario: Scenario,
    demand: IntervalDemand,
    overrides: dict[str, dict] | None = None,
    basis: str | None = None,
) -> tuple[float, float, float]:
    """Mean daily FTE, cost and peak scheduled agents of all queues, with target overrides."""
    agents = np.zeros(len(demand.grid.stamps))
    for i, name in enumerate(demand.grid.queues):
        targets = scenario.targets.for_queue(name)
        if overrides and name in overrides:
            targets = targets.model_copy(update=overrides[name])
        agents += staff_queue(scenario, demand, i, targets, basis=basis)["scheduled_agents"].to_numpy(float)
    hours = float((agents * demand.interval_hours).sum())
    return (
        demand.fte(hours, scenario.supply.hours_per_fte),
        hours * scenario.supply.cost_per_agent_hour,
        float(agents.max()),
    )
