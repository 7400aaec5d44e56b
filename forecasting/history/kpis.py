"""KPI report per day / week / month / quarter, compared with targets.

Computed from the contacts when the input is a log (so percentiles and survey scores are
exact), or rolled up from the interval table when the input is an interval report.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestResult
from forecasting.history.summarize import rollup_intervals, summarize_contacts
from forecasting.history.targets import KPI_NAMES, KpiTargets
from forecasting.history.tickets import backlog_at, ticket_kpis, ticket_slas

PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}  # weeks run Monday to Sunday
ALL_QUEUES = "all queues"  # the total row; a space keeps it apart from real queue names
# what a KPI table can be grouped by: a contact log's columns (an interval report: queue only)
GROUPINGS = {
    "queue": "queues",
    "channel": "channels",
    "priority": "priorities",
    "team": "teams",
    "category": "categories",
}
BLANK_GROUP = "(blank)"  # contacts with no value in the grouping column: a group, never dropped
REPORT_COLUMNS = [
    "period",
    "period_start",
    "period_end",
    "partial",
    "queue",
    "kpi",
    "value",
    "target",
    "status",
]


def all_label(by: str) -> str:
    """The total row's name: 'all queues', 'all priorities', ..."""
    return f"all {GROUPINGS.get(by, by)}"


def groupings(result: IngestResult) -> list[str]:
    """What this data's KPIs can be grouped by: queue, and a contact log's mapped channel,
    priority, team and category."""
    c = result.contacts
    return ["queue"] + ([g for g in GROUPINGS if g != "queue" and c.has(g)] if c is not None else [])


def check_grouping(result: IngestResult, by: str) -> None:
    """``by`` must be a grouping the data has (an interval report has queues only)."""
    mapped = groupings(result)
    if by not in mapped:
        where = (
            "a contact log's column named in its mapping"
            if result.contacts is not None
            else ("an interval report has queues only")
        )
        raise InputError(
            f"no {by} column in the data to group the KPIs by",
            option="by",
            expected=", ".join(mapped) + f" ({where})",
            found=by,
        )


def group_values(contacts, by: str) -> pd.Series:
    """Each contact's group of ``by`` as text, blank cells as BLANK_GROUP."""
    values = contacts.frame[by]
    text = values.astype(str).str.strip()
    return text.where(values.notna() & (text != ""), BLANK_GROUP).rename(by)


def period_start(times: pd.Series, period: str) -> pd.Series:
    return times.dt.to_period(PERIODS[period]).dt.start_time.rename("period_start")


def kpi_table(
    result: IngestResult, period: str, targets: KpiTargets | None = None, by: str = "queue"
) -> pd.DataFrame:
    """Wide table: one row per period and group of ``by`` (a queue, or a contact log's
    channel, priority, team or category), plus the total when there are several groups.

    With ``targets``, a log's tickets are also measured against their response and
    resolution SLAs (``forecasting.history.tickets``); a ticket export adds the backlog
    at each period's end.
    """
    check_grouping(result, by)
    parts = []
    total = all_label(by)
    if result.contacts is not None:
        contacts = result.contacts
        f = contacts.frame
        start = period_start(f["arrival_time"], period)
        group = group_values(contacts, by)
        T = result.options.target_seconds
        slas = ticket_slas(contacts, targets) if targets is not None else {}
        several = group.nunique() > 1
        groupings = [([start, group], None)] + ([([start], total)] if several else [])
        for keys, name in groupings:
            part = summarize_contacts(contacts, keys, T)
            extra = ticket_kpis(contacts, keys, slas)
            part = (
                part.merge(extra, on=[k.name for k in keys], how="left")
                if len(extra.columns) > len(keys)
                else part
            )
            parts.append(part if name is None else part.assign(**{by: name}))
        table = pd.concat(parts, ignore_index=True)
        if contacts.tickets:
            table = _with_backlog(table, contacts, period, slas.get("resolution"), group)
    else:
        t = result.intervals
        start = period_start(t["interval_start"], period)
        parts.append(rollup_intervals(t, [start, t["queue"]]))
        if t["queue"].nunique() > 1:
            parts.append(rollup_intervals(t, [start]).assign(queue=total))
        table = pd.concat(parts, ignore_index=True)
    if result.options.sl_denominator == "handled" and {"answered_in_target", "handled"} <= set(table):
        table["service_level_of_handled"] = table["answered_in_target"] / table["handled"].astype(
            float
        ).replace(0, np.nan)
    end = (table["period_start"].dt.to_period(PERIODS[period]).dt.end_time).dt.normalize()
    first, last = covered_days(result)
    table.insert(1, "period_end", end)
    table.insert(2, "partial", (table["period_start"].dt.date < first) | (end.dt.date > last))
    return table


def coverage_end(result: IngestResult) -> pd.Timestamp | None:
    """The latest instant the data speaks for: a ticket export's time (``exported_at``, else
    its latest created, responded or resolved time), a log's latest arrival, answer or end."""
    c = result.contacts
    if c is None:
        return None
    f = c.frame
    latest = [f[name].max() for name in ("arrival_time", "answer_time", "end_time") if f[name].notna().any()]
    for name in ("wait_seconds", "resolution_seconds"):
        if c.has(name) and f[name].notna().any():
            latest.append((f["arrival_time"] + pd.to_timedelta(f[name], unit="s")).max())
    if c.as_of is not None:
        latest.append(c.as_of)
    return max(latest) if latest else None


def covered_days(result: IngestResult) -> tuple[dt.date, dt.date]:
    """First and last day the data covers: a period ending after the last is partial. A day
    with data counts (a centre closed at night has its whole day); so does every day the
    data's time span runs past, contacts on it or not: an export taken on 1 July at 00:00
    covers 30 June, one taken at noon on 30 June only the 29th."""
    first, last = result.calendar.first_day, result.calendar.last_day
    end = coverage_end(result)
    if end is not None and pd.notna(end):
        last = max(last, (pd.Timestamp(end).normalize() - pd.Timedelta(days=1)).date())
    return first, last


def _with_backlog(
    table: pd.DataFrame, contacts, period: str, resolution_sla, group: pd.Series
) -> pd.DataFrame:
    """The open tickets at the end of each period (the next period's start, or the export)."""
    by = group.name
    starts = pd.Series(table["period_start"].unique())
    ends = (starts.dt.to_period(PERIODS[period]) + 1).dt.start_time
    backlog = backlog_at(contacts, ends, resolution_sla, group)
    backlog["period_start"] = backlog["end"].map(dict(zip(ends, starts, strict=True)))
    backlog = backlog.rename(columns={"queue": by})
    backlog[by] = backlog[by].fillna(all_label(by))
    if table[by].nunique() == 1:
        backlog = backlog[backlog[by] == all_label(by)].assign(**{by: table[by].iloc[0]})
    else:
        backlog = backlog[backlog[by].isin(set(table[by]))]
    merged = table.merge(backlog.drop(columns="end"), on=["period_start", by], how="left")
    merged["backlog"] = merged["backlog"].fillna(0).astype(int)
    return merged


def kpi_report(
    result: IngestResult,
    targets: KpiTargets,
    periods=("day", "week", "month", "quarter"),
    by: str = "queue",
) -> pd.DataFrame:
    """Long table period × group × KPI with the target and met / missed; the group column is
    named by ``by`` (queue, or a contact log's channel, priority, team or category). A
    targets file's per-queue bounds apply when grouped by queue; other groups take its
    general ones (each ticket's SLA still follows its channel and priority)."""
    frames = []
    for period in periods:
        wide = kpi_table(result, period, targets, by)
        kpis = [k for k in KPI_NAMES if k in wide and wide[k].notna().any()]
        long = wide.melt(
            id_vars=["period_start", "period_end", "partial", by], value_vars=kpis, var_name="kpi"
        )
        long.insert(0, "period", period)
        frames.append(long)
    report = pd.concat(frames, ignore_index=True)
    target_text = np.full(len(report), "", dtype=object)
    status = np.full(len(report), "", dtype=object)
    unknown = sorted(set(targets.queues) - set(map(str, report[by].unique()))) if by == "queue" else []
    if unknown:
        raise InputError(
            "the targets file names a queue that is not in the data",
            key=f"queues.{unknown[0]}",
            expected="one of " + ", ".join(sorted(map(str, report["queue"].unique()))),
        )
    for group in report[by].unique():
        bounds = targets.for_queue(str(group)) if by == "queue" else targets.targets
        for kpi, target in bounds.items():
            rows = (report[by] == group).to_numpy() & (report["kpi"] == kpi).to_numpy()
            values = report.loc[rows, "value"].to_numpy(dtype=float)
            target_text[rows] = target.text()
            status[rows] = np.where(
                np.isnan(values), "no data", np.where(target.met(values), "met", "missed")
            )
    report["target"] = target_text
    report["status"] = status
    return report[[by if c == "queue" else c for c in REPORT_COLUMNS]]
