"""Run a scenario: forecast → demand changes → staffing → service, cost, risk and targets.

The result holds planner-ready tables (per interval and queue, per day, FTE by day and week,
the target-versus-FTE curve) and a flat summary of metrics that MLflow records and
``capplan scenario compare`` lines up side by side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.store import Store
from scenarios.base_forecast import BaseForecast, base_forecast, resolve_path
from scenarios.planning import (
    Demand,
    build_demand,
    queue_volume,
    staff_queue,
    staffed_volume,
    staffing_targets,
    unmatched_changes,
)
from scenarios.realistic_targets import achievable_targets, evidence_table, target_curve
from scenarios.risk import correlated_normals, daily_success
from scenarios.spec import Scenario, ServiceTargets
from scenarios.staffing_plan import fte_by_period

log = logging.getLogger(__name__)


@dataclass
class ScenarioResult:
    scenario: Scenario
    path: Path | None
    intervals: pd.DataFrame  # one row per open interval and queue
    daily: pd.DataFrame  # per day and queue: volume, service, probability of meeting the target
    fte: pd.DataFrame  # scheduled agent-hours and FTE per day and week, all queues
    curve: pd.DataFrame  # required FTE and cost against the service target
    achievable: dict[str, float]  # best targets the scenario's headcount or budget reaches
    evidence: pd.DataFrame | None  # what history shows to be attainable
    summary: dict[str, float]
    forecast_model: str
    warnings: list[str] = field(default_factory=list)


def supply_agents(
    scenario: Scenario, demand: Demand, scheduled: np.ndarray, source: Path | None
) -> tuple[np.ndarray | None, list[str]]:
    """Agents on the schedule per queue and interval that the scenario's supply provides (a
    headcount or budget is spread like the requirement), and warnings about the supply."""
    s = scenario.supply
    if s.available_agents is not None:
        if isinstance(s.available_agents, str):
            return _agents_from_file(resolve_path(s.available_agents, source), demand, scheduled)
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


def _agents_from_file(path: Path, demand: Demand, scheduled: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A schedule file: interval_start[, queue], agents. Every row must name an interval of the
    horizon (and a known queue), once; open intervals it leaves out have no agents (a warning)."""
    from forecasting.tables import read_table

    key = "supply.available_agents"
    if not path.is_file():
        raise InputError(
            "schedule file not found",
            path=path,
            key=key,
            expected="a CSV with columns interval_start[, queue], agents",
        )
    raw = read_table(path)
    f = raw.frame
    for col in ("interval_start", "agents"):
        if col not in f:
            raise InputError(
                "missing column",
                path=path,
                column=col,
                expected="columns interval_start, agents (and optionally queue)",
            )
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
            f"interval starts every {int(g.interval.total_seconds() // 60)} minutes from {span}",
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


def run_scenario(
    scenario: Scenario,
    path: Path | None = None,
    base: BaseForecast | None = None,
    analysis: bool = True,
    store: Store | None = None,
) -> ScenarioResult:
    """Evaluate one scenario end to end (deterministic: same file, same numbers).

    ``analysis=False`` stops after staffing and service (no Monte Carlo risk, target curve,
    achievable targets or evidence): the instant what-if of the app.
    """
    source = path.parent if path else None
    base = base or base_forecast(scenario.data, scenario.forecast, scenario.risk.correlation, source, store)
    demand = build_demand(scenario, base)
    g = demand.grid
    seconds = g.interval.total_seconds()
    tables = [staff_queue(scenario, demand, i, scenario.targets.for_queue(q)) for i, q in enumerate(g.queues)]
    scheduled = np.stack([t["scheduled_agents"].to_numpy(float) for t in tables])
    available, supply_warnings = supply_agents(scenario, demand, scheduled, source)
    frames, daily_parts = [], []
    days = g.stamps.normalize().to_numpy()
    z = (
        correlated_normals(days, scenario.risk.simulations, scenario.risk.correlation, scenario.risk.seed)
        if analysis
        else None
    )
    weights = demand.open_mask * demand.coverage  # a day's service weighs intervals by their contacts
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
        rate = queue_volume(scenario, demand, i)
        risk_args = (z, days, rate, rate * demand.cv, g.aht[i])
        risk_opts = dict(
            interval_seconds=seconds,
            channel=q.channel,
            targets=targets,
            model=q.model,
            patience=q.patience_seconds,
            concurrency=q.concurrency,
            open_mask=weights,
        )
        on_duty = table["scheduled_agents"].to_numpy(float) * (
            1 - demand.shrinkage[i]
        )  # the plan's agents after shrinkage
        daily = daily_success(*risk_args, agents=on_duty, **risk_opts) if analysis else _no_risk(g.stamps)
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
            ):
                if col in given:
                    frame[f"supply_{col}"] = given[col].to_numpy()
            frame["staffing_gap"] = on_phone - table["agents"].to_numpy(float)
            frame["staffing"] = np.select(
                [frame["staffing_gap"] < -0.5, frame["staffing_gap"] > 1.0], ["under", "over"], "ok"
            )
            if analysis:
                supplied = daily_success(*risk_args, agents=on_phone, **risk_opts).drop(
                    columns=["date", "target"]
                )
                daily = pd.concat([daily, supplied.add_prefix("supply_")], axis=1)
        daily_parts.append(daily.assign(queue=name))
        frames.append(frame[demand.open_mask])
    intervals = pd.concat(frames, ignore_index=True)
    daily = _daily(intervals, pd.concat(daily_parts, ignore_index=True))
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
    curve = (
        target_curve(scenario, demand)
        if analysis
        else pd.DataFrame(columns=["target", "value", "fte", "cost", "peak_agents"])
    )
    achievable = (
        achievable_targets(scenario, demand, supply_fte(scenario, available, demand)) if analysis else {}
    )
    evidence = evidence_table(scenario, source) if scenario.evidence and analysis else None
    summary = summarize(
        scenario, intervals, daily, fte, achievable, available is not None, demand.days_per_week
    )
    warnings = [w for w in (base.warning,) if w] + unmatched_changes(scenario, demand) + supply_warnings
    return ScenarioResult(
        scenario, path, intervals, daily, fte, curve, achievable, evidence, summary, base.model, warnings
    )


def _no_risk(stamps: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"date": stamps.normalize().unique(), "target": np.nan, "p_meet_target": np.nan})


def supply_fte(scenario: Scenario, available: np.ndarray | None, demand: Demand) -> float | None:
    if available is None:
        return None
    return float(
        demand.fte(float((available * demand.interval_hours[None, :]).sum()), scenario.supply.hours_per_fte)
    )


def _meets(frame: pd.DataFrame, channel: str, t: ServiceTargets) -> np.ndarray:
    if channel == "email":
        return (frame["answered_in_time"].fillna(1.0) >= t.response_share - 1e-9).to_numpy()
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
    metrics["overloaded"] = frame["overloaded"].to_numpy(bool)
    return staffing_targets(t).met(metrics) | (frame["volume"].to_numpy() <= 0)


def _daily(intervals: pd.DataFrame, risk: pd.DataFrame) -> pd.DataFrame:
    f = intervals.assign(date=intervals["interval_start"].dt.normalize())
    nan = pd.Series(np.nan, index=f.index)
    f["served_in_target"] = f["volume"] * f.get("service_level", nan).fillna(f.get("answered_in_time", nan))
    g = f.groupby(["date", "queue"], as_index=False).agg(
        volume=("volume", "sum"),
        served=("served_in_target", "sum"),
        scheduled_agent_hours=("scheduled_agent_hours", "sum"),
        cost=("cost", "sum"),
    )
    g["service"] = g["served"] / g["volume"].where(g["volume"] > 0)
    g = g.drop(columns="served")
    return g.merge(risk, on=["date", "queue"], how="left")


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    ok = values.notna() & np.isfinite(values) & (weights > 0)
    return float(np.average(values[ok], weights=weights[ok])) if ok.any() else float("nan")


def summarize(
    scenario: Scenario,
    intervals: pd.DataFrame,
    daily: pd.DataFrame,
    fte: pd.DataFrame,
    achievable: dict,
    has_supply: bool,
    days_per_week: int = 5,
) -> dict[str, float]:
    """The scenario's headline numbers: FTE, peak agents, cost, service and risk. Waiting-time
    averages leave out overloaded intervals (no steady state); their count is reported."""
    f = intervals
    queued = f[(f["channel"] != "email") & (f["volume"] > 0)]
    days = fte[fte["period"] == "day"]
    weeks = fte[fte["period"] == "week"]
    week_fte = np.where(
        weeks["partial"], weeks["fte"] * days_per_week / weeks["days"], weeks["fte"]
    )  # partial weeks at their daily rate
    out = {
        "volume_total": float(f["volume"].sum()),
        "aht_seconds": _weighted(f["aht"], f["volume"]),
        "fte_total": float(days["fte"].mean()),
        "fte_peak_day": float(days["fte"].max()),
        "fte_peak_week": float(week_fte.max()),
        "peak_agents": float(f.groupby("interval_start")["scheduled_agents"].sum().max()),
        "peak_required_agents": float(f.groupby("interval_start")["required_agents"].sum().max()),
        "scheduled_agent_hours": float(f["scheduled_agent_hours"].sum()),
        "total_cost": float(f["cost"].sum()),
        "share_intervals_meeting_targets": float(f["meets_targets"].mean()),
    }
    if daily["p_meet_target"].notna().any():
        out["p_meet_target_mean"] = float(daily["p_meet_target"].mean())
        out["p_meet_target_min"] = float(daily["p_meet_target"].min())
    if "supply_p_meet_target" in daily:
        out["supply_p_meet_target_mean"] = float(daily["supply_p_meet_target"].mean())
        out["supply_p_meet_target_min"] = float(daily["supply_p_meet_target"].min())
    if len(queued):
        out["service_level"] = _weighted(queued["service_level"], queued["volume"])
        out["asa_seconds"] = _weighted(queued["asa_seconds"], queued["volume"])
        out["occupancy"] = _weighted(queued["occupancy"], queued["volume"])
        out["overloaded_intervals"] = float(queued["overloaded"].astype(bool).sum())
        abandoning = queued[queued["model"] == "erlang-a"]  # Erlang C has no abandonment to report
        if len(abandoning):
            out["abandon_rate"] = _weighted(abandoning["abandon_rate"], abandoning["volume"])
    email = f[f["channel"] == "email"]
    if len(email):
        out["answered_in_time"] = _weighted(email["answered_in_time"], email["volume"])
        out["backlog_max"] = float(email["backlog"].max())
    if has_supply:
        out["understaffed_intervals"] = float((f["staffing"] == "under").sum())
        out["overstaffed_intervals"] = float((f["staffing"] == "over").sum())
        if len(queued) and "supply_service_level" in queued:
            out["supply_service_level"] = _weighted(queued["supply_service_level"], queued["volume"])
            out["supply_asa_seconds"] = _weighted(queued["supply_asa_seconds"], queued["volume"])
            out["supply_overloaded_intervals"] = float(queued["supply_overloaded"].astype(bool).sum())
            abandoning = queued[queued["model"] == "erlang-a"]
            if len(abandoning):
                out["supply_abandon_rate"] = _weighted(
                    abandoning["supply_abandon_rate"], abandoning["volume"]
                )
    out.update({f"achievable_{k}": v for k, v in achievable.items() if v is not None and np.isfinite(v)})
    return out
