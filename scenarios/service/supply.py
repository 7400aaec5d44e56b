"""What the scenario's supply provides: agents per queue and interval from a headcount, a
budget, a fixed number or a schedule file, and warnings where the supply does not fit the plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.intervals import interval_minutes
from forecasting.history.tables import RawTable, read_table
from scenarios.demand.planning import IntervalDemand
from scenarios.inputs.spec import Scenario


def supply_agents(
    scenario: Scenario, demand: IntervalDemand, scheduled: np.ndarray, schedule: RawTable | None = None
) -> tuple[np.ndarray | None, list[str]]:
    """Agents on the schedule per queue and interval that the scenario's supply provides (a
    headcount or budget is spread like the requirement, a schedule file taken as it is), and
    warnings about the supply."""
    s = scenario.supply
    if s.available_agents is not None:
        if isinstance(s.available_agents, str):
            if schedule is None:
                raise ValueError(
                    "the scenario's schedule file was not loaded (scenarios.inputs.load.load_inputs reads it)"
                )
            return _agents_from_schedule(schedule, demand, scheduled)
        return _split(
            np.full(scheduled.shape[1], float(s.available_agents)), scheduled
        ) * demand.open_mask, []
    if s.headcount is None and s.budget is None:
        return None, []
    hours = np.inf
    if s.headcount is not None:
        hours = s.headcount * s.hours_per_fte / demand.days_per_week * demand.open_days
    if s.budget is not None:
        hours = min(hours, s.budget / s.cost_per_agent_hour)
    need = float((scheduled * demand.interval_hours[None, :]).sum())
    return (scheduled * (hours / need) if need > 0 else np.zeros_like(scheduled, dtype=float)), []


def _split(total: np.ndarray, scheduled: np.ndarray) -> np.ndarray:
    """A center-wide number of agents shared among queues in proportion to their needs."""
    need = scheduled.sum(axis=0)
    share = np.where(need > 0, scheduled / np.where(need > 0, need, 1), 1.0 / scheduled.shape[0])
    return share * total[None, :]


def read_schedule(path: Path) -> RawTable:
    """A schedule file (interval_start[, queue], agents) read and checked for its columns; its
    rows are checked against the horizon when the scenario is staffed."""
    if not path.is_file():
        raise InputError(
            "schedule file not found",
            path=path,
            key="supply.available_agents",
            expected="a CSV with columns interval_start[, queue], agents",
        )
    raw = read_table(path)
    for col in ("interval_start", "agents"):
        if col not in raw.frame:
            raise InputError(
                "missing column",
                path=path,
                column=col,
                expected="columns interval_start, agents (and optionally queue)",
            )
    return raw


def _agents_from_schedule(
    raw: RawTable, demand: IntervalDemand, scheduled: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Every row must name an interval of the horizon (and a known queue), once; open
    intervals it leaves out have no agents (a warning)."""
    f, path = raw.frame, raw.path
    stamps = pd.to_datetime(f["interval_start"], errors="coerce", format="mixed")
    agents = pd.to_numeric(f["agents"], errors="coerce")

    def fail(mask: np.ndarray, column: str, message: str, expected: str):
        i = int(np.flatnonzero(mask)[0])
        raise InputError(
            message,
            path=path,
            row=raw.row_number(i),
            column=column,
            expected=expected,
            found=f[column].iloc[i],
        )

    if stamps.isna().any():
        fail(
            stamps.isna().to_numpy(),
            "interval_start",
            "unparsable time",
            "a date and time such as 2003-06-02 09:00",
        )
    if (agents.isna() | (agents < 0)).any():
        fail((agents.isna() | (agents < 0)).to_numpy(), "agents", "bad number of agents", "a number >= 0")
    g = demand.grid
    where = pd.Index(g.stamps).get_indexer(stamps)
    span = f"{g.stamps[demand.open_mask].min():%Y-%m-%d %H:%M} to {g.stamps[demand.open_mask].max():%Y-%m-%d %H:%M}"
    if (where < 0).any():
        fail(
            where < 0,
            "interval_start",
            "not an interval of the horizon",
            f"interval starts every {interval_minutes(g.interval)} minutes from {span}",
        )
    rows = pd.Index(g.queues).get_indexer(f["queue"].astype(str)) if "queue" in f else np.zeros(len(f), int)
    if (rows < 0).any():
        fail(rows < 0, "queue", "unknown queue", "one of " + ", ".join(g.queues))
    duplicated = pd.Series(list(zip(rows, where, strict=False))).duplicated().to_numpy()
    if duplicated.any():
        fail(duplicated, "interval_start", "interval given twice", "each interval (and queue) once")
    given = np.zeros(scheduled.shape) if "queue" in f else np.zeros(scheduled.shape[1])
    if "queue" in f:
        given[rows, where] = agents.to_numpy(float)
        covered = np.zeros(scheduled.shape, bool)
        covered[rows, where] = True
        missing = int((~covered[:, demand.open_mask]).sum())
    else:
        given[where] = agents.to_numpy(float)
        covered = np.zeros(scheduled.shape[1], bool)
        covered[where] = True
        missing = int((~covered[demand.open_mask]).sum())
        given = _split(given, scheduled)
    warnings = [f"{path.name}: {missing} open intervals have no row and get no agents"] if missing else []
    closed = (~demand.open_mask[where]) & (agents.to_numpy(float) > 0)
    if closed.any():
        warnings.append(
            f"{path.name}: {int(closed.sum())} rows give agents in closed intervals; they are not counted"
        )
    return given * demand.open_mask[None, :], warnings


def supply_fte(scenario: Scenario, available: np.ndarray | None, demand: IntervalDemand) -> float | None:
    if available is None:
        return None
    return float(
        demand.fte(float((available * demand.interval_hours[None, :]).sum()), scenario.supply.hours_per_fte)
    )


def agents_fte(scenario: Scenario, demand: IntervalDemand, agents: float) -> float:
    """FTE that keep ``agents`` on the phones in every open interval: scheduled agents are those
    on the phones over (1 − shrinkage), their hours summed over the horizon and divided by an
    FTE's hours, as a day of the plan is (:meth:`IntervalDemand.fte`). Queues with shrinkage of their
    own weigh by their share of the interval's workload."""
    work = demand.grid.volume * demand.grid.aht
    total = work.sum(axis=0)
    share = np.where(total > 0, work / np.where(total > 0, total, 1.0), 1.0 / work.shape[0])
    scheduled_per_agent = (share / (1 - demand.shrinkage)).sum(axis=0)
    hours = float(agents) * float((scheduled_per_agent * demand.interval_hours * demand.open_mask).sum())
    return demand.fte(hours, scenario.supply.hours_per_fte)


def with_supply_fte(scenario: Scenario, fte: float | None) -> Scenario:
    """The scenario with ``fte`` FTE as its whole supply (no budget or schedule); as it is
    without one."""
    if not fte:
        return scenario
    supply = {"headcount": float(fte), "budget": None, "available_agents": None}
    return scenario.model_copy(update={"supply": scenario.supply.model_copy(update=supply)})
