"""Scenario plots: agents by interval (required, scheduled, available) and service by day."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from forecasting.history.intervals import interval_minutes

AGENT_COLUMNS = ("required_agents", "scheduled_agents", "available_agents")


def _positions(stamps: pd.Series) -> tuple[np.ndarray, list[int], list[str]]:
    """Open intervals side by side (no night gaps), with a tick at each day's first interval."""
    unique = np.sort(stamps.unique())
    pos = np.searchsorted(unique, stamps.to_numpy())
    days = pd.DatetimeIndex(unique).normalize()
    first = np.r_[0, np.flatnonzero(days[1:] != days[:-1]) + 1]
    return pos, first.tolist(), [d.strftime("%a %d %b") for d in days[first]]


def agents_by_interval(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per interval, all queues together: agents required on the phones, scheduled (after
    shrinkage) and, with a supply, available. What every agents-by-interval chart shows."""
    present = [c for c in AGENT_COLUMNS if c in intervals]
    return intervals.groupby("interval_start", as_index=False)[present].sum()


def service_by_day(daily: pd.DataFrame) -> pd.DataFrame:
    """Per day: the expected service level of calls and chats (queues weighted by their
    volume), from the run's daily table. What every service-by-day chart shows."""
    d = daily[daily["channel"] != "email"] if "channel" in daily else daily
    d = d.assign(served=d["service"] * d["volume"])
    day = d.groupby("date", as_index=False)[["volume", "served"]].sum()
    day["service"] = day["served"] / day["volume"].where(day["volume"] > 0)
    return day.drop(columns="served")


def agents_plot(result):
    """Agents by interval (see :func:`agents_by_interval`), as a figure for the run's artifacts."""
    f = result.intervals
    g = agents_by_interval(f)
    x, ticks, labels = _positions(g["interval_start"])
    fig, ax = plt.subplots(figsize=(12, 4))
    ax.step(x, g["required_agents"], where="post", color="tab:orange", lw=1, label="required (on the phones)")
    ax.step(
        x, g["scheduled_agents"], where="post", color="tab:blue", lw=1.2, label="scheduled (after shrinkage)"
    )
    if "available_agents" in g:
        ax.step(
            x, g["available_agents"], where="post", color="black", lw=1, ls="--", label="available (supply)"
        )
    ax.set_xticks(ticks, labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("agents")
    ax.set_title(
        f"{result.scenario.name}: agents by {interval_minutes(result.demand.grid.interval)}-minute interval"
        if result.demand is not None
        else f"{result.scenario.name}: agents by interval"
    )
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def daily_service_plot(result):
    """Per day and queue: expected service and the probability of meeting the target."""
    d = result.daily
    fig, ax = plt.subplots(figsize=(12, 3.5))
    days = sorted(d["date"].unique())
    x = np.arange(len(days))
    queues = list(dict.fromkeys(d["queue"]))
    width = 0.8 / max(len(queues), 1)
    for i, q in enumerate(queues):
        part = d[d["queue"] == q].set_index("date").reindex(days)
        which, label = (
            ("supply_p_meet_target", "with the supply")
            if "supply_p_meet_target" in part
            else ("p_meet_target", "with the plan")
        )
        ax.bar(
            x + i * width - 0.4 + width / 2,
            part[which],
            width,
            alpha=0.6,
            label=f"{q}: P(meet target) {label}",
        )
        ax.plot(x, part["service"], marker="o", lw=1, label=f"{q}: expected service")
    target = d["target"].dropna()
    if len(target):
        ax.axhline(float(target.iloc[0]), color="red", lw=0.8, ls=":", label="target")
    ax.set_xticks(
        x, [pd.Timestamp(t).strftime("%a %d %b") for t in days], rotation=45, ha="right", fontsize=7
    )
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{result.scenario.name}: service by day")
    ax.legend(loc="lower left", fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def validation_plot(report: pd.DataFrame, chosen: str):
    """validate-staffing's picture: abandonment per test interval, observed against the chosen
    model, the calibrated one and plain Erlang A; below, abandonment and service level by hour
    of day (arrival-weighted), where a model's bias by time of day shows."""
    from scenarios.service.validation import (
        MIN_HOUR_ARRIVALS,
        by_hour_of_day,
        observed_and_predicted,
        pictured_models,
    )

    models = pictured_models(chosen)
    styles = {"observed": {"color": "black", "lw": 1.6}} | {
        m: {"lw": 1, "ls": ls} for m, ls in zip(models, ("-", "--", ":"), strict=False)
    }
    fig = plt.figure(figsize=(12, 7))
    top = fig.add_subplot(2, 1, 1)
    table = observed_and_predicted(report, models, "abandon_rate")
    x, ticks, labels = _positions(table["interval_start"])
    for col in ("observed", *models):
        if col in table:
            label = col if col == "observed" else f"{col}{' (chosen)' if col == chosen else ''}"
            top.plot(x, table[col], label=label, **styles[col])
    top.set_xticks(ticks, labels, rotation=45, ha="right", fontsize=7)
    top.set_ylabel("abandonment")
    top.set_title("Abandonment per test interval: observed and predicted")
    top.legend(loc="upper left", fontsize=8)
    for i, (metric, name) in enumerate((("abandon_rate", "abandonment"), ("sl", "service level"))):
        ax = fig.add_subplot(2, 2, 3 + i)
        hourly = by_hour_of_day(observed_and_predicted(report, models, metric))
        for col in ("observed", *models):
            if col in hourly:
                ax.plot(hourly["hour"], hourly[col], marker="o", ms=3, label=col, **styles[col])
        ax.set_xlabel(f"hour of day (hours with {MIN_HOUR_ARRIVALS}+ test arrivals)")
        ax.set_ylabel(name)
        ax.set_title(f"{name.capitalize()} by hour of day (arrival-weighted)")
        if metric == "sl":
            ax.set_ylim(0, 1.02)
    fig.tight_layout()
    return fig
