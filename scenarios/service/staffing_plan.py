"""Staffing a table of intervals: voice (Erlang C/A), chat (concurrency) or deferred work
(backlog with a response-time target), then shrinkage, FTE and, optionally, a simulation check.

The one function the CLI, the scenario runner and the app call, so they all staff the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.staffing.backlog import backlog_required_agents, backlog_simulation
from scenarios.staffing.chat import DEFAULT_EFFICIENCY, chat_required_agents, chat_service
from scenarios.staffing.requirements import (
    ServiceFunction,
    StaffingTargets,
    fte,
    required_agents,
    scheduled_agents,
    service_metrics,
)

METRICS = ("service_level", "asa_seconds", "p_wait", "occupancy", "abandon_rate")
WORKDAYS_PER_WEEK = 5


DEFAULT_HOURS_PER_FTE = 37.5  # paid hours a week of one FTE, wherever none is given


@dataclass(frozen=True)
class StaffingOptions:
    targets: StaffingTargets
    model: str = "erlang-c"
    patience: float | np.ndarray | None = None
    shrinkage: float | np.ndarray = 0.0
    hours_per_fte: float = DEFAULT_HOURS_PER_FTE  # per week
    concurrency: int | None = None  # chat: contacts an agent handles at once
    efficiency: tuple[float, ...] = DEFAULT_EFFICIENCY
    response_hours: float | None = None  # deferred work (email): answer within this many hours
    response_share: float = 1.0  # ... for this share of the work
    starting_backlog: float = 0.0  # deferred work waiting at the start (open tickets at the data's end)
    service: ServiceFunction | None = None  # a service model fitted on the centre's log, in Erlang's place


def staff_intervals(
    volume, aht, interval_seconds: float, options: StaffingOptions, agents=None, open_mask=None
) -> pd.DataFrame:
    """Per interval: required (or given) agents, scheduled agents, FTE and the service delivered."""
    volume = np.asarray(volume, float)
    aht = np.broadcast_to(np.asarray(aht, float), volume.shape)
    t = options.targets
    if options.response_hours is not None:
        return _deferred(volume, aht, interval_seconds, options, agents, open_mask)
    if options.concurrency:
        need = (
            chat_required_agents(
                volume,
                aht,
                interval_seconds,
                t,
                options.concurrency,
                options.efficiency,
                options.model,
                options.patience,
            )
            if agents is None
            else agents
        )
        m = chat_service(
            volume,
            aht,
            interval_seconds,
            need,
            t.target_seconds,
            options.concurrency,
            options.efficiency,
            options.model,
            options.patience,
        )
    else:
        need = (
            required_agents(
                volume, aht, interval_seconds, t, options.model, options.patience, options.service
            )
            if agents is None
            else agents
        )
        m = service_metrics(
            volume,
            aht,
            interval_seconds,
            need,
            t.target_seconds,
            options.model,
            options.patience,
            service=options.service,
        )
    need = np.broadcast_to(np.asarray(need, float), volume.shape)
    table = _with_schedule(need, interval_seconds, options)
    for key in ("load", *METRICS, "overloaded") + (("blocking",) if "blocking" in m else ()):
        table[key] = np.broadcast_to(m[key], volume.shape)
    return table


def _with_schedule(need: np.ndarray, interval_seconds: float, options: StaffingOptions) -> pd.DataFrame:
    scheduled = scheduled_agents(np.ceil(need - 1e-9), options.shrinkage)
    return pd.DataFrame(
        {
            "agents": need,
            "scheduled_agents": scheduled,
            "fte": fte(scheduled, interval_seconds, options.hours_per_fte),
        }
    )


def _deferred(volume, aht, interval_seconds, options: StaffingOptions, agents, open_mask) -> pd.DataFrame:
    target = options.response_hours * 3600
    open_mask = np.ones(volume.shape, bool) if open_mask is None else np.asarray(open_mask, bool)
    need = (
        backlog_required_agents(
            volume, aht, open_mask, interval_seconds, target, options.response_share, options.starting_backlog
        )
        if agents is None
        else np.asarray(agents, float)
    )
    sim = backlog_simulation(volume, aht, need, interval_seconds, target, options.starting_backlog)
    table = _with_schedule(np.asarray(need, float), interval_seconds, options)
    capacity = np.asarray(need, float) * interval_seconds
    with np.errstate(invalid="ignore", divide="ignore"):
        table["occupancy"] = np.where(capacity > 0, np.minimum(sim["handled"] * aht / capacity, 1.0), np.nan)
    table["handled"] = sim["handled"]
    table["backlog"] = sim["backlog"]
    table["oldest_age_hours"] = sim["oldest_age_seconds"] / 3600
    table["answered_in_time"] = sim["answered_in_time"]
    return table


def fte_by_period(
    interval_start: pd.Series,
    table: pd.DataFrame,
    interval_seconds,
    hours_per_fte: float,
    days_per_week: int = WORKDAYS_PER_WEEK,
) -> pd.DataFrame:
    """Scheduled agent-hours and FTE per day (an FTE-day is the weekly hours over the open days
    per week) and per week (agent-hours over the weekly hours). ``interval_seconds`` may vary by
    interval (one that opening hours fill only partly); weeks with fewer days than
    ``days_per_week`` are marked ``partial``."""
    hours = table["scheduled_agents"].to_numpy(float) * np.asarray(interval_seconds, float) / 3600
    stamps = pd.to_datetime(pd.Series(interval_start).reset_index(drop=True))
    frames = []
    for period, key, per_fte in (
        ("day", stamps.dt.normalize(), hours_per_fte / days_per_week),
        ("week", stamps.dt.to_period("W-SUN").dt.start_time, hours_per_fte),
    ):
        agg = pd.Series(hours).groupby(key.to_numpy()).sum()
        days = stamps.dt.normalize().groupby(key.to_numpy()).nunique().reindex(agg.index).to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "period": period,
                    "period_start": agg.index,
                    "agent_hours": agg.to_numpy(),
                    "fte": agg.to_numpy() / per_fte,
                    "days": days,
                    "partial": (days < days_per_week) if period == "week" else False,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def simulated_service(
    volume,
    aht,
    interval_seconds: float,
    agents,
    options: StaffingOptions,
    handle_cv: float = 1.0,
    replications: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """Discrete-event check of a staffing plan: means and 95 % CI half-widths per interval."""
    # here, not at the top: the simulation brings scipy.stats, which `capplan staff` without
    # --simulate and the app's first page need not load
    from scenarios.staffing.simulation import Distribution, simulate

    mean_aht = float(np.nanmean(np.where(np.asarray(volume) > 0, aht, np.nan)))
    handle = (
        Distribution("lognormal", mean_aht, handle_cv)
        if handle_cv != 1.0
        else Distribution("exponential", mean_aht)
    )
    patience = (
        None if options.patience is None else Distribution("exponential", float(np.mean(options.patience)))
    )
    r = simulate(
        volume, agents, interval_seconds, handle, patience, options.targets.target_seconds, replications, seed
    )
    out = {}
    for key in ("service_level", "asa_seconds", "abandon_rate", "occupancy"):
        out[f"sim_{key}"] = r.mean[key]
        out[f"sim_{key}_ci95"] = r.half_width[key]
    return pd.DataFrame(out)
