"""The KPI report written for people: the console grid of ``capplan kpis`` and the periodic
review (``--report review.md``, the Data & KPIs page) that the source documents ask for at
least quarterly: each KPI against its target per queue, whether it is getting better or worse,
the largest misses, and the backlog with its age.

A trend is "better" or "worse" only when a robust slope (Theil-Sen, which a single odd
period cannot swing) has a 90 % interval that excludes no change; otherwise it is "flat".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import theilslopes

from forecasting.common.vocabulary import format_value, label, measure
from forecasting.history.kpis import GROUPINGS, all_label
from forecasting.history.targets import KPI_NAMES

FINER = {"quarter": "month", "month": "week", "week": "day", "day": None}
MIN_TREND_POINTS = 6  # fewer periods than this: the trend is read from the next finer ones
TREND_CONFIDENCE = 0.90
AGREEMENT_WARNING = 0.95  # the export's SLA flag agreeing less often than this is worth a look
BETTER = {  # which way is better for a KPI without a target to say so
    "service_level": "higher",
    "asa": "lower",
    "aht": "lower",
    "abandon_rate": "lower",
    "first_response_mean_s": "lower",
    "first_response_p90_s": "lower",
    "first_response_median_s": "lower",
    "first_response_in_sla": "higher",
    "resolution_mean_s": "lower",
    "resolution_p90_s": "lower",
    "resolution_median_s": "lower",
    "resolution_in_sla": "higher",
    "backlog_age_median_s": "lower",
    "backlog_age_max_s": "lower",
    "backlog_over_sla": "lower",
    "csat": "higher",
    "csat_mean": "higher",
    "nps": "higher",
    "ces": "higher",
    "fcr": "higher",
    "repeat_rate": "lower",
    "contacts_per_issue": "lower",
}


def cell(kpi: str, value, status: str = "") -> str:
    """A value as its KPI is written, with ✓ met / ✗ missed."""
    mark = {"met": " ✓", "missed": " ✗"}.get(status, "")
    return format_value(kpi, value) + mark if pd.notna(value) else ""


SIDES = {">=": "≥", "<=": "≤"}


def bounds(target: str) -> list[tuple[str, float]]:
    """A report's target text ('>= 0.8 and <= 0.95', canonical units) as (side, bound) pairs."""
    out = []
    for part in filter(None, str(target).split(" and ")):
        side, bound = part.split(" ", 1)
        out.append((side, float(bound)))
    return out


def target_text(kpi: str, target: str) -> str:
    """The target as its KPI's values are written: '<= 600' for a first response reads
    '≤ 10.0 min', '>= 0.8' for a share '≥ 80.0%' (the CSV keeps seconds and fractions)."""
    return " and ".join(f"{SIDES[side]} {format_value(kpi, bound)}" for side, bound in bounds(target))


def miss_text(kpi: str, value: float, target: str) -> str:
    """How far a value misses its target, in the KPI's own terms: a time or count by how much
    and how many times the target ('58.4 min over, 6.8× the target'), a share in percentage
    points ('12.3 pp under'); '' when it is met."""
    kind = measure(kpi).kind
    for side, bound in bounds(target):
        over = value - bound if side == "<=" else bound - value
        if not over > 0:
            continue
        word = "over" if side == "<=" else "under"
        if kind == "share":
            return f"{100 * over:.1f} pp {word}"
        text = f"{format_value(kpi, over)} {word}"
        if kind == "score" or bound <= 0:
            return text
        return (
            f"{text}, {value / bound:.1f}× the target"
            if side == "<="
            else (f"{text}, {value / bound:.0%} of the target")
        )
    return ""


def grouped(report: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The report with its group column (queue, priority, team, ...) called 'queue', and
    that column's name: one code path writes every grouping."""
    by = next((c for c in report.columns if c in GROUPINGS), "queue")
    return report.rename(columns={by: "queue"}), by


CHART_DEFAULTS = {  # what a trend chart opens with, the first choice the data has
    "tickets": (
        ("first_response_in_sla", "resolution_in_sla"),
        ("first_response_median_s",),
        ("first_response_mean_s",),
        ("arrivals",),
    ),
    "contacts": (("service_level", "abandon_rate"),),
}


def chart_defaults(kpis: list[str], tickets: bool) -> list[str]:
    """The KPIs a trend chart opens with: a ticket export's shares within SLA (else its
    first-response time, else its volume), other data's service level and abandonment; a
    ticket's first response is no call's wait, so a voice service level never leads for it."""
    for choice in CHART_DEFAULTS["tickets" if tickets else "contacts"]:
        found = [k for k in choice if k in kpis]
        if found:
            return found
    return kpis[:1]


def print_kpi_report(report: pd.DataFrame, max_periods: int = 8) -> None:
    """One block per period type: KPIs down, latest periods across, met ✓ / missed ✗."""
    report, by = grouped(report)
    queues = report["queue"].unique()
    if len(queues) == 0:
        print("No KPI can be computed from this data (it has no counts, times or survey answers).")
        return
    total = all_label(by)
    queue = total if total in queues else queues[0]
    for period, rows in report[report["queue"] == queue].groupby("period", sort=False):
        starts = sorted(rows["period_start"].unique())[-max_periods:]
        rows = rows[rows["period_start"].isin(starts)]
        cells = [cell(k, v, s) for k, v, s in zip(rows["kpi"], rows["value"], rows["status"], strict=True)]
        grid = rows.assign(cell=cells).pivot(index="kpi", columns="period_start", values="cell")
        grid = grid.reindex([k for k in KPI_NAMES if k in grid.index])
        partial = rows.drop_duplicates("period_start").set_index("period_start")["partial"]
        grid.columns = [
            f"{pd.Timestamp(c):%Y-%m-%d}" + ("*" if partial.get(c, False) else "") for c in grid.columns
        ]
        targets = rows.drop_duplicates("kpi").set_index("kpi")["target"].reindex(grid.index)
        grid.insert(
            0, "target", [target_text(k, t) if isinstance(t, str) else "" for k, t in targets.items()]
        )
        grid.index = [f"{label(k, with_side=False)} ({k})" for k in grid.index]
        shown = f"last {len(starts)} " if len(starts) == max_periods else ""
        print(
            f"\nKPIs by {period} ({shown}periods starting; {by} {queue}; ✓ met, ✗ missed, * partial period):"
        )
        print(grid.fillna("").to_string())


def flag_notes(report: pd.DataFrame) -> list[str]:
    """A sentence for each export SLA flag that disagrees with ours more than now and then:
    usually an SLA time or a column's unit that is not what the export used. Read over the
    whole data (the coarsest periods, all queues, weighted by their tickets)."""
    if report.empty:
        return []
    report, by = grouped(report)
    total = all_label(by)
    coarsest = next(p for p in ("quarter", "month", "week", "day") if p in set(report["period"]))
    rows = report[report["period"] == coarsest]
    rows = rows[rows["queue"] == (total if total in set(rows["queue"]) else rows["queue"].iloc[0])]
    weights = rows[rows["kpi"] == "arrivals"].set_index("period_start")["value"]
    notes = []
    for kpi, what in (
        ("first_response_sla_agreement", "first-response"),
        ("resolution_sla_agreement", "resolution"),
    ):
        values = rows[rows["kpi"] == kpi].set_index("period_start")["value"].dropna()
        if not len(values):
            continue
        share = float(np.average(values, weights=weights.reindex(values.index).fillna(1.0)))
        if share < AGREEMENT_WARNING:
            notes.append(
                f"the export's own {what} SLA flag agrees with ours on {share:.0%} of tickets: "
                "check the SLA times in the targets file and the unit of the mapped duration"
            )
    return notes


def direction(kpi: str, target: str) -> str | None:
    """'higher' or 'lower' is better: from the target when it has one side, else by the KPI."""
    if target.startswith(">=") and "<=" not in target:
        return "higher"
    if target.startswith("<=") and ">=" not in target:
        return "lower"
    return BETTER.get(kpi)


def trend(values: pd.Series, better: str | None) -> str:
    """better / worse / flat by the Theil-Sen slope's 90 % interval over the periods in
    order; '' with fewer than 3 periods; 'rising' / 'falling' when no side is better."""
    y = values.dropna().to_numpy(float)
    if len(y) < 3 or np.ptp(y) == 0:
        return "" if len(y) < 3 else "flat"
    _, _, low, high = theilslopes(y, np.arange(len(y)), alpha=TREND_CONFIDENCE)
    if low <= 0 <= high:
        return "flat"
    rising = low > 0
    if better is None:
        return "rising" if rising else "falling"
    return "better" if rising == (better == "higher") else "worse"


def review_markdown(report: pd.DataFrame, period: str, source: str, targets_from: str) -> str:
    """The periodic review as Markdown: ``report`` holds ``period`` (and, when it has fewer
    than MIN_TREND_POINTS whole periods, the next finer one for the trends). Its groups are
    queues, or the priorities, teams, ... ``kpi_report`` was grouped by."""
    report, by = grouped(report)
    total = all_label(by)
    rows = report[report["period"] == period]
    if rows.empty:
        return f"# KPI review by {period}\n\nNo KPI can be computed from {source}.\n"
    whole = rows[~rows["partial"]]
    latest_start = (whole if len(whole) else rows)["period_start"].max()
    latest = rows[rows["period_start"] == latest_start]
    end = latest["period_end"].iloc[0]
    partial_note = " (partial: the data end inside it)" if latest["partial"].iloc[0] else ""
    queues = [q for q in [total, *sorted(set(map(str, rows["queue"])) - {total})] if q in set(rows["queue"])]
    lines = [
        f"# KPI review: {period} of {pd.Timestamp(latest_start):%Y-%m-%d} to {pd.Timestamp(end):%Y-%m-%d}{partial_note}",
        "",
        f"Data: `{source}`, {_count(rows['period_start'].nunique(), period)} from "
        f"{pd.Timestamp(rows['period_start'].min()):%Y-%m-%d}. Targets: {targets_from}.",
        "",
    ]
    with_target = latest[latest["status"].isin(["met", "missed"])]
    if len(with_target):
        main = with_target[with_target["queue"] == queues[0]]
        met = int((main["status"] == "met").sum())
        lines += [f"**{met} of {len(main)} KPIs with a target met** ({queues[0]}).", ""]
    lines += _against_target(latest, queues)
    lines += _trends(report, period, queues)
    lines += _misses(latest, by)
    lines += _backlog(rows, queues, by)
    notes = flag_notes(rows)
    if notes:
        lines += ["## Notes", "", *[f"- {n[0].upper()}{n[1:]}." for n in notes], ""]
    return "\n".join(lines).rstrip() + "\n"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(row) + " |" for row in body] + [""]


def _kpis(rows: pd.DataFrame) -> list[str]:
    present = set(rows.loc[rows["value"].notna(), "kpi"])
    return [k for k in KPI_NAMES if k in present]


def _against_target(latest: pd.DataFrame, queues: list[str]) -> list[str]:
    body = []
    for kpi in _kpis(latest):
        mine = latest[latest["kpi"] == kpi].set_index("queue")
        target = next((t for t in mine["target"] if t), "")
        body.append(
            [label(kpi, with_side=False), target_text(kpi, target)]
            + [
                cell(kpi, mine["value"].get(q), mine["status"].get(q, "")) if q in mine.index else ""
                for q in queues
            ]
        )
    return ["## Against target", "", *_table(["KPI", "target", *queues], body)]


def _trend_rows(report: pd.DataFrame, period: str) -> tuple[pd.DataFrame, str]:
    """The whole periods a trend is read from: the review's own when there are enough, else
    the next finer ones over the last four review periods."""
    own = report[(report["period"] == period) & ~report["partial"]]
    finer = FINER.get(period)
    if own["period_start"].nunique() >= MIN_TREND_POINTS or not finer or finer not in set(report["period"]):
        starts = sorted(own["period_start"].unique())[-8:]
        return own[own["period_start"].isin(starts)], period
    fine = report[(report["period"] == finer) & ~report["partial"]]
    review_starts = sorted(own["period_start"].unique())[-4:] or sorted(fine["period_start"].unique())[:1]
    return fine[fine["period_start"] >= review_starts[0]], finer


def _trends(report: pd.DataFrame, period: str, queues: list[str]) -> list[str]:
    rows, unit = _trend_rows(report, period)
    count = rows["period_start"].nunique()
    if count < 3:
        return ["## Trend", "", f"Too few whole {unit}s to read a trend ({_count(count, unit)}).", ""]
    body = []
    for kpi in _kpis(rows):
        mine = rows[rows["kpi"] == kpi]
        target = next((t for t in mine["target"] if t), "")
        better = direction(kpi, target)
        words = []
        for q in queues:
            series = mine[mine["queue"] == q].sort_values("period_start")["value"]
            words.append(trend(series, better))
        if any(words):
            body.append([label(kpi, with_side=False), *words])
    intro = (
        f"Over the last {_count(count, 'whole ' + unit)}: better / worse when a robust (Theil-Sen) slope's "
        f"{TREND_CONFIDENCE:.0%} interval excludes no change, else flat."
    )
    return ["## Trend", "", intro, "", *_table(["KPI", *queues], body)]


def _misses(latest: pd.DataFrame, by: str = "queue", top: int = 5) -> list[str]:
    missed = latest[latest["status"] == "missed"].copy()
    if missed.empty:
        return ["## Largest misses", "", "None: every KPI with a target met it.", ""]
    missed["gap"] = [_gap(v, t) for v, t in zip(missed["value"], missed["target"], strict=True)]
    missed = missed.sort_values("gap", ascending=False).head(top)
    body = [
        [
            str(r.queue),
            label(r.kpi, with_side=False),
            format_value(r.kpi, r.value),
            target_text(r.kpi, r.target),
            miss_text(r.kpi, r.value, r.target),
        ]
        for r in missed.itertuples()
    ]
    intro = "Ordered by how far each misses relative to its target."
    return [
        "## Largest misses",
        "",
        intro,
        "",
        *_table([by, "KPI", "value", "target", "missed by"], body),
    ]


def _gap(value: float, target: str) -> float:
    """How far a value misses its target relative to the target (0.25: by a quarter of it):
    only the order of the misses, never shown (a time's 6.8× and a share's 10 pp do not
    compare as one percentage)."""
    gaps = [0.0]
    for side, bound in bounds(target):
        scale = abs(bound) or 1.0
        gaps.append((bound - value) / scale if side == ">=" else (value - bound) / scale)
    return max(gaps)


def _backlog(rows: pd.DataFrame, queues: list[str], by: str = "queue", last: int = 6) -> list[str]:
    backlog = rows[rows["kpi"].str.startswith("backlog")]
    if backlog.empty:
        return []
    body = []
    for q in queues:
        mine = backlog[backlog["queue"] == q]
        for start in sorted(mine["period_start"].unique())[-last:]:
            at = mine[mine["period_start"] == start].set_index("kpi")["value"]
            end = mine.loc[mine["period_start"] == start, "period_end"].iloc[0]
            body.append(
                [q, f"{pd.Timestamp(end):%Y-%m-%d}"]
                + [
                    format_value(k, at.get(k))
                    for k in ("backlog", "backlog_age_median_s", "backlog_age_max_s", "backlog_over_sla")
                ]
            )
    header = [by, "period end", "open tickets", "median age", "oldest", "past resolution SLA"]
    return ["## Backlog and its age", "", *_table(header, body)]
