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


def by_scenario_queue(daily: pd.DataFrame) -> pd.DataFrame:
    """A scenario over every queue of its data: its days per scenario queue, the data's queues
    together (service weighted by volume, the chances of meeting the target averaged)."""
    if "data_queue" not in daily:
        return daily
    d = daily.assign(served=daily["service"] * daily["volume"])
    chances = [c for c in ("p_meet_target", "supply_p_meet_target", "target") if c in d]
    g = d.groupby(["date", "queue", "channel"], as_index=False).agg(
        volume=("volume", "sum"), served=("served", "sum"), **{c: (c, "mean") for c in chances}
    )
    g["service"] = g["served"] / g["volume"].where(g["volume"] > 0)
    return g.drop(columns="served")


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
    d = by_scenario_queue(result.daily)
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


def capacity_plot(result):
    """The long-term plan: FTE required (P50 and the planned percentile) against the FTE the
    team gives, with the plan's overtime and outsourcing on top, class starts marked below and
    the weeks left short shaded."""
    w = result.weeks
    planned = next(
        c for c in w if c.startswith("required_fte_p") and c != "required_fte_p50" and c.count("_") == 2
    )
    fig, ax = plt.subplots(figsize=(11, 4.5))
    x = w["week_start"]
    ax.fill_between(
        x,
        w["required_fte_p50"],
        w[planned],
        color="tab:red",
        alpha=0.12,
        label=f"required, P50 to {planned.rsplit('_', 1)[1].upper()}",
    )
    ax.plot(x, w[planned], color="tab:red", lw=1.6, label=f"required ({planned.rsplit('_', 1)[1].upper()})")
    ax.plot(x, w["current_team_fte"], color="grey", lw=1, ls="--", label="today's team, no hiring")
    ax.plot(x, w["productive_fte"], color="tab:blue", lw=1.8, label="productive FTE with the hires")
    ax.plot(x, w["covered_fte"], color="tab:blue", lw=1, ls=":", label="with overtime and outsourcing")
    short = w["gap"] > 0
    if short.any():
        ax.fill_between(
            x,
            0,
            1,
            where=short,
            transform=ax.get_xaxis_transform(),
            color="tab:orange",
            alpha=0.15,
            label="weeks short",
        )
    starts = w[w["class_starts"] > 0]
    if len(starts):
        low = ax.get_ylim()[0]
        ax.scatter(
            starts["week_start"],
            np.full(len(starts), low),
            marker="^",
            color="tab:green",
            zorder=3,
            label="hiring class starts",
        )
        for _, row in starts.iterrows():
            ax.annotate(
                str(int(row["class_starts"])),
                (row["week_start"], low),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
                color="tab:green",
            )
    ax.set_ylabel("FTE")
    ax.set_title(
        f"Capacity plan: {int(result.summary['capacity_hires'])} hires in "
        f"{int(result.summary['capacity_classes'])} classes"
    )
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return fig


def schedule_plot(result):
    """The week's schedule: agents on duty against the requirement per interval (open intervals
    side by side), shortfall marked, and the shifts starting per day and time."""
    cov = result.schedule.coverage
    open_rows = cov[(cov["required"] > 0) | (cov["on_duty"] > 0)].reset_index(drop=True)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), gridspec_kw={"height_ratios": [3, 2]})
    x = np.arange(len(open_rows))
    top.step(
        x, open_rows["required"], where="post", color="tab:red", lw=1.4, label="required (scheduled agents)"
    )
    top.step(x, open_rows["on_duty"], where="post", color="tab:blue", lw=1.6, label="on duty (the schedule)")
    short = open_rows["short"] > 0
    if short.any():
        top.fill_between(
            x,
            0,
            1,
            where=short,
            transform=top.get_xaxis_transform(),
            step="post",
            color="tab:orange",
            alpha=0.25,
            label="short",
        )
    firsts = open_rows.index[open_rows["day"] != open_rows["day"].shift()].tolist()
    top.set_xticks(firsts, [open_rows.loc[i, "day"][:3] for i in firsts])
    top.set_ylabel("agents")
    s = result.summary
    top.set_title(
        f"Schedule: {int(s['schedule_agents'])} agents, {s['schedule_paid_hours']:,.0f} paid hours a week"
    )
    top.legend(loc="upper right", fontsize=8)
    top.grid(alpha=0.3)
    shifts = result.schedule.shifts
    if len(shifts):
        by = shifts.groupby(["template", "start"])["agents"].sum().unstack(0).fillna(0)
        by.plot.bar(ax=bottom, stacked=True, width=0.8)
        bottom.set_xlabel("shift start")
        bottom.set_ylabel("shifts a week")
        bottom.legend(fontsize=8)
    fig.tight_layout()
    return fig
