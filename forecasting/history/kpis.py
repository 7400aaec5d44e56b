"""KPI report per day / week / month / quarter, compared with targets.

Computed from the contacts when the input is a log (so percentiles and survey scores are
exact), or rolled up from the interval table when the input is an interval report.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.history.ingest import IngestResult
from forecasting.history.summarize import rollup_intervals, summarize_contacts
from forecasting.history.targets import KPI_NAMES, Targets
from forecasting.history.tickets import backlog_at, ticket_kpis, ticket_slas

PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}  # weeks run Monday to Sunday
ALL_QUEUES = "all queues"  # the total row; a space keeps it apart from real queue names
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


def period_start(times: pd.Series, period: str) -> pd.Series:
    return times.dt.to_period(PERIODS[period]).dt.start_time.rename("period_start")


def kpi_table(result: IngestResult, period: str, targets: Targets | None = None) -> pd.DataFrame:
    """Wide table: one row per period and queue (plus 'all' when there are several queues).

    With ``targets``, a log's tickets are also measured against their response and
    resolution SLAs (``forecasting.history.tickets``); a ticket export adds the backlog
    at each period's end.
    """
    parts = []
    several = result.intervals["queue"].nunique() > 1
    if result.contacts is not None:
        contacts = result.contacts
        f = contacts.frame
        start = period_start(f["arrival_time"], period)
        T = result.options.target_seconds
        slas = ticket_slas(contacts, targets) if targets is not None else {}
        groupings = [([start, f["queue"]], None)] + ([([start], ALL_QUEUES)] if several else [])
        for keys, total in groupings:
            part = summarize_contacts(contacts, keys, T)
            extra = ticket_kpis(contacts, keys, slas)
            part = (
                part.merge(extra, on=[k.name for k in keys], how="left")
                if len(extra.columns) > len(keys)
                else part
            )
            parts.append(part if total is None else part.assign(queue=total))
        table = pd.concat(parts, ignore_index=True)
        if contacts.tickets:
            table = _with_backlog(table, contacts, period, slas.get("resolution"))
    else:
        t = result.intervals
        start = period_start(t["interval_start"], period)
        parts.append(rollup_intervals(t, [start, t["queue"]]))
        if several:
            parts.append(rollup_intervals(t, [start]).assign(queue=ALL_QUEUES))
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
    """First and last day the data covers: a period ending after the last is partial. The last
    is the later of the last day with data and the day the data's time span reaches (an export
    taken on 1 July at 00:00 covers 30 June whole, a ticket created on it or not)."""
    first, last = result.calendar.first_day, result.calendar.last_day
    end = coverage_end(result)
    if end is not None and pd.notna(end):
        last = max(last, (pd.Timestamp(end) - pd.Timedelta(1, "ns")).date())
    return first, last


def _with_backlog(table: pd.DataFrame, contacts, period: str, resolution_sla) -> pd.DataFrame:
    """The open tickets at the end of each period (the next period's start, or the export)."""
    starts = pd.Series(table["period_start"].unique())
    ends = (starts.dt.to_period(PERIODS[period]) + 1).dt.start_time
    backlog = backlog_at(contacts, ends, resolution_sla)
    backlog["period_start"] = backlog["end"].map(dict(zip(ends, starts, strict=True)))
    backlog["queue"] = backlog["queue"].fillna(ALL_QUEUES)
    if table["queue"].nunique() == 1:
        backlog = backlog[backlog["queue"] == ALL_QUEUES].assign(queue=table["queue"].iloc[0])
    else:
        backlog = backlog[backlog["queue"].isin(set(table["queue"]))]
    merged = table.merge(backlog.drop(columns="end"), on=["period_start", "queue"], how="left")
    merged["backlog"] = merged["backlog"].fillna(0).astype(int)
    return merged


def kpi_report(
    result: IngestResult, targets: Targets, periods=("day", "week", "month", "quarter")
) -> pd.DataFrame:
    """Long table period × queue × KPI with the target and met / missed."""
    frames = []
    for period in periods:
        wide = kpi_table(result, period, targets)
        kpis = [k for k in KPI_NAMES if k in wide and wide[k].notna().any()]
        long = wide.melt(
            id_vars=["period_start", "period_end", "partial", "queue"], value_vars=kpis, var_name="kpi"
        )
        long.insert(0, "period", period)
        frames.append(long)
    report = pd.concat(frames, ignore_index=True)
    target_text = np.full(len(report), "", dtype=object)
    status = np.full(len(report), "", dtype=object)
    unknown = sorted(set(targets.queues) - set(map(str, report["queue"].unique())))
    if unknown:
        raise InputError(
            "the targets file names a queue that is not in the data",
            key=f"queues.{unknown[0]}",
            expected="one of " + ", ".join(sorted(map(str, report["queue"].unique()))),
        )
    for queue in report["queue"].unique():
        for kpi, target in targets.for_queue(str(queue)).items():
            rows = (report["queue"] == queue).to_numpy() & (report["kpi"] == kpi).to_numpy()
            values = report.loc[rows, "value"].to_numpy(dtype=float)
            target_text[rows] = target.text()
            status[rows] = np.where(
                np.isnan(values), "no data", np.where(target.met(values), "met", "missed")
            )
    report["target"] = target_text
    report["status"] = status
    return report[REPORT_COLUMNS]
