"""A scenario's result: its planner-ready tables and the summary of headline numbers, with
the definitions both the computation and the analysis use (daily service, the summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scenarios.demand.planning import IntervalDemand
from scenarios.inputs.spec import Scenario

# the summary's headline metrics, in the order comparisons and listings show them
HEADLINE = (
    "fte_total",
    "peak_agents",
    "total_cost",
    "service_level",
    "asa_seconds",
    "abandon_rate",
    "csat",
    "nps",
    "occupancy",
    "p_meet_target_mean",
    "p_meet_target_min",
    "supply_service_level",
    "supply_csat",
    "supply_p_meet_target_mean",
    "understaffed_intervals",
    "volume_total",
    "aht_seconds",
)


@dataclass
class ScenarioResult:
    scenario: Scenario
    path: Path | None
    intervals: pd.DataFrame  # one row per open interval and queue
    daily: pd.DataFrame  # per day and queue: volume, service, probability of meeting the target
    fte: pd.DataFrame  # scheduled agent-hours and FTE per day and week, all queues
    curve: pd.DataFrame  # required FTE and cost against the service target (after the analysis)
    achievable: dict[str, float]  # best targets the scenario's headcount or budget reaches
    evidence: pd.DataFrame | None  # what history shows to be attainable
    summary: dict[str, float]
    forecast_model: str
    warnings: list[str] = field(default_factory=list)
    demand: IntervalDemand | None = None  # what was staffed: the analysis works on it without recomputing
    available: np.ndarray | None = None  # (queues, intervals) agents the supply provides
    analysed: bool = False
    services: dict = field(default_factory=dict)  # queue -> FittedService (models fitted on the log)
    satisfaction: dict = field(default_factory=dict)  # survey -> FittedSatisfaction (fitted on the log)
    service_choice: object | None = None  # scenarios.service.choice.ServiceChoice: which model, and why
    capacity: object | None = None  # scenarios.capacity.plan.CapacityResult, with a capacity: section
    schedule: object | None = None  # scenarios.scheduling.plan.ScheduleResult, with a schedule: section
    per_queue: pd.DataFrame | None = None  # a scenario over every queue of its data: one row a queue


def no_risk(intervals: pd.DataFrame) -> pd.DataFrame:
    """The daily risk columns before the analysis: unknown."""
    days = intervals[["interval_start", "queue"]].assign(date=intervals["interval_start"].dt.normalize())
    return days[["date", "queue"]].drop_duplicates().assign(target=np.nan, p_meet_target=np.nan)


def daily_table(intervals: pd.DataFrame, risk: pd.DataFrame) -> pd.DataFrame:
    """Per day and queue: volume, agent-hours, cost and the day's service (contacts served in
    target over contacts; for deferred work, answered in time), with the risk columns."""
    f = intervals.assign(date=intervals["interval_start"].dt.normalize())
    nan = pd.Series(np.nan, index=f.index)
    f["served_in_target"] = f["volume"] * f.get("service_level", nan).fillna(f.get("answered_in_time", nan))
    g = f.groupby(["date", "queue", "channel"], as_index=False).agg(
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
        abandoning = queued[queued["model"] != "erlang-c"]  # Erlang C has no abandonment to report
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
            abandoning = queued[queued["model"] != "erlang-c"]
            if len(abandoning):
                out["supply_abandon_rate"] = _weighted(
                    abandoning["supply_abandon_rate"], abandoning["volume"]
                )
    out.update({f"achievable_{k}": v for k, v in achievable.items() if v is not None and np.isfinite(v)})
    return out
