"""KPI report per day / week / month / quarter, compared with targets.

Computed from the contacts when the input is a log (so percentiles and survey scores are
exact), or rolled up from the interval table when the input is an interval report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.history.ingest import IngestResult
from forecasting.history.summarize import rollup_intervals, summarize_contacts
from forecasting.history.targets import KPI_NAMES, Targets

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


def kpi_table(result: IngestResult, period: str) -> pd.DataFrame:
    """Wide table: one row per period and queue (plus 'all' when there are several queues)."""
    parts = []
    several = result.intervals["queue"].nunique() > 1
    if result.contacts is not None:
        f = result.contacts.frame
        start = period_start(f["arrival_time"], period)
        T = result.options.target_seconds
        parts.append(summarize_contacts(result.contacts, [start, f["queue"]], T))
        if several:
            parts.append(summarize_contacts(result.contacts, [start], T).assign(queue=ALL_QUEUES))
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
    first, last = result.calendar.first_day, result.calendar.last_day
    table.insert(1, "period_end", end)
    table.insert(2, "partial", (table["period_start"].dt.date < first) | (end.dt.date > last))
    return table


def kpi_report(
    result: IngestResult, targets: Targets, periods=("day", "week", "month", "quarter")
) -> pd.DataFrame:
    """Long table period × queue × KPI with the target and met / missed."""
    frames = []
    for period in periods:
        wide = kpi_table(result, period)
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


def print_kpi_report(report: pd.DataFrame, max_periods: int = 8) -> None:
    """One block per period type: KPIs down, latest periods across, met ✓ / missed ✗."""
    queues = report["queue"].unique()
    if len(queues) == 0:
        print("No KPI can be computed from this data (it has no counts, times or survey answers).")
        return
    queue = ALL_QUEUES if ALL_QUEUES in queues else queues[0]
    for period, rows in report[report["queue"] == queue].groupby("period", sort=False):
        starts = sorted(rows["period_start"].unique())[-max_periods:]
        rows = rows[rows["period_start"].isin(starts)]
        cell = rows["value"].map(_fmt) + rows["status"].map({"met": " ✓", "missed": " ✗"}).fillna("")
        grid = rows.assign(cell=cell).pivot(index="kpi", columns="period_start", values="cell")
        grid = grid.reindex([k for k in KPI_NAMES if k in grid.index])
        grid.columns = [pd.Timestamp(c).strftime("%Y-%m-%d") for c in grid.columns]
        targets = rows.drop_duplicates("kpi").set_index("kpi")["target"].reindex(grid.index)
        grid.insert(0, "target", targets)
        shown = f"last {len(starts)} " if len(starts) == max_periods else ""
        print(
            f"\nKPIs by {period} ({shown}periods starting; queue {queue}; ✓ met, ✗ missed, * partial period):"
        )
        partial = rows.drop_duplicates("period_start").set_index("period_start")["partial"]
        grid.columns = [
            c + ("*" if partial.get(pd.Timestamp(c), False) else "") if i else c
            for i, c in enumerate(grid.columns)
        ]
        print(grid.fillna("").to_string())


def _fmt(value: float) -> str:
    if pd.isna(value):
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
