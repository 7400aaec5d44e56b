"""One name and one way of writing for every number a scenario reports.

A scenario answers two questions that planners and managers mix up: what the **plan** needs
(agents staffed to meet the targets) and what the **supply** delivers (the headcount, budget
or schedule the centre has). Metrics of the supply start with ``supply_``; the rest are the
plan's. The CLI, the app and the MLflow run all name a metric by its key here and show it
with this label and format, so "service level" never means two things.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SUPPLY = "supply_"


@dataclass(frozen=True)
class Measure:
    label: str
    kind: str  # count, fte, money, share, seconds, hours, score


MEASURES: dict[str, Measure] = {
    "volume_total": Measure("contacts forecast", "count"),
    "aht_seconds": Measure("AHT", "seconds"),
    "fte_total": Measure("FTE needed", "fte"),
    "fte_peak_day": Measure("FTE needed on the busiest day", "fte"),
    "fte_peak_week": Measure("FTE needed in the busiest week", "fte"),
    "peak_agents": Measure("peak agents scheduled", "count"),
    "peak_required_agents": Measure("peak agents on the phones", "count"),
    "scheduled_agent_hours": Measure("agent-hours scheduled", "count"),
    "total_cost": Measure("cost", "money"),
    "share_intervals_meeting_targets": Measure("intervals meeting the targets", "share"),
    "p_meet_target_mean": Measure("days meeting the target", "share"),
    "p_meet_target_min": Measure("chance on the worst day", "share"),
    "service_level": Measure("service level", "share"),
    "asa_seconds": Measure("ASA", "seconds"),
    "occupancy": Measure("occupancy", "share"),
    "abandon_rate": Measure("abandonment", "share"),
    "overloaded_intervals": Measure("overloaded intervals", "count"),
    "answered_in_time": Measure("email answered in time", "share"),
    "backlog_max": Measure("largest email backlog", "count"),
    "starting_backlog": Measure("email waiting at the start", "count"),
    "csat": Measure("CSAT", "share"),
    "nps": Measure("NPS", "score"),
    "understaffed_intervals": Measure("intervals understaffed", "count"),
    "overstaffed_intervals": Measure("intervals overstaffed", "count"),
    "achievable_fte_available": Measure("FTE available", "fte"),
    "achievable_service_level": Measure("service level met in every interval", "share"),
    "achievable_asa_seconds": Measure("ASA met in every interval", "seconds"),
    "achievable_response_hours": Measure("shortest email response target met", "hours"),
    "fte_for_target_days": Measure("FTE to meet the target on enough days", "fte"),
    # the history's KPIs (capplan kpis, the Data & KPIs page)
    "arrivals": Measure("arrivals", "count"),
    "handled": Measure("handled", "count"),
    "abandoned": Measure("abandoned", "count"),
    "aht": Measure("AHT", "seconds"),
    "asa": Measure("ASA", "seconds"),
    "service_level_of_handled": Measure("service level of handled contacts", "share"),
    "first_response_mean_s": Measure("first response, mean", "duration"),
    "first_response_p90_s": Measure("first response, 90th percentile", "duration"),
    "resolution_mean_s": Measure("resolution, mean", "duration"),
    "resolution_p90_s": Measure("resolution, 90th percentile", "duration"),
    "first_response_median_s": Measure("first response, median (open ones counted)", "duration"),
    "first_response_in_sla": Measure("first response within SLA", "share"),
    "first_response_sla_agreement": Measure("export's response SLA flag agrees", "share"),
    "resolution_median_s": Measure("resolution, median (open ones counted)", "duration"),
    "resolution_in_sla": Measure("resolved within SLA", "share"),
    "resolution_sla_agreement": Measure("export's resolution SLA flag agrees", "share"),
    "backlog": Measure("open tickets at period end", "count"),
    "backlog_age_median_s": Measure("open tickets' median age", "duration"),
    "backlog_age_max_s": Measure("oldest open ticket", "duration"),
    "backlog_over_sla": Measure("open tickets past resolution SLA", "share"),
    "csat_mean": Measure("CSAT, mean score", "ratio"),
    "ces": Measure("CES", "share"),
    "fcr": Measure("first-contact resolution", "share"),
    "repeat_rate": Measure("repeat contacts", "share"),
    "contacts_per_issue": Measure("contacts per issue", "ratio"),
    "contacts_per_agent": Measure("contacts per agent", "ratio"),
}


def measure(key: str) -> Measure:
    """The measure of a metric key (``supply_`` ones share their plan twin's kind)."""
    if key in MEASURES:
        return MEASURES[key]
    base = key.removeprefix(SUPPLY)
    if base in MEASURES:
        return MEASURES[base]
    kind = (
        "share"
        if key.endswith(("_rate", "_share", "_level"))
        else "seconds"
        if key.endswith("_seconds")
        else ""
    )
    return Measure(key.replace("_", " "), kind)


def side(key: str) -> str:
    """``supply`` for what the centre's headcount, budget or schedule delivers, else ``plan``."""
    return "supply" if key.startswith(SUPPLY) else "plan"


def label(key: str, with_side: bool = True) -> str:
    """The metric's human name, e.g. ``service level (supply)``; the plan's needs FTE and cost
    are the plan's alone and say so only when ``with_side`` and a supply twin exists."""
    name = measure(key).label
    if not with_side:
        return name
    if key.startswith(SUPPLY):
        return f"{name} (supply)"
    if SUPPLY + key in SUPPLY_TWINS:
        return f"{name} (plan)"
    return name


SUPPLY_TWINS = {
    SUPPLY + k
    for k in (
        "service_level",
        "asa_seconds",
        "abandon_rate",
        "occupancy",
        "overloaded_intervals",
        "p_meet_target_mean",
        "p_meet_target_min",
        "csat",
        "nps",
        "answered_in_time",
    )
}


def format_value(key: str, value, delta: bool = False) -> str:
    """The number as the metric's kind is written: counts with separators, shares as %,
    seconds to one decimal, money without decimals; ``delta`` signs it (shares in points)."""
    if value is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    kind = measure(key).kind
    sign = "+" if delta else ""
    if abs(v) < 1e-9:
        v = 0.0  # no "-0.0" from a difference of equal numbers
    if kind == "share":
        return f"{100 * v:{sign},.1f} pp" if delta else f"{v:.1%}"
    if kind in ("count", "money"):
        return f"{v:{sign},.0f}"
    if kind == "fte":
        return f"{v:{sign},.1f}"
    if kind == "seconds":
        return f"{v:{sign},.1f} s"
    if kind == "hours":
        return f"{v:{sign},.1f} h"
    if kind == "duration":  # seconds up to days: in the unit a person would say
        a = abs(v)
        if a < 120:
            return f"{v:{sign},.0f} s"
        if a < 7200:
            return f"{v / 60:{sign},.1f} min"
        return f"{v / 3600:{sign},.1f} h" if a < 172_800 else f"{v / 86_400:{sign},.1f} d"
    if kind == "ratio":
        return f"{v:{sign},.2f}"
    if kind == "score":
        return f"{v:+,.0f}" if delta or v else "0"
    return f"{v:{sign},.4g}" if abs(v) < 1000 else f"{v:{sign},.0f}"


def readable_comparison(table):
    """A comparison (metric keys down, scenarios and ``A - B`` deltas across, numbers) as
    people read it: each row named by its label, the MLflow key kept as the index, every
    value written by its kind, deltas signed (shares in percentage points)."""
    import pandas as pd

    out = pd.DataFrame({"metric": [label(k) for k in table.index]}, index=table.index.rename("MLflow metric"))
    for column in table.columns:
        is_delta = " - " in str(column)
        out[column] = [format_value(k, v, delta=is_delta) for k, v in table[column].items()]
    return out
