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
    "achievable_service_level": Measure("service level met in each interval", "share"),
    "achievable_asa_seconds": Measure("ASA met in each interval", "seconds"),
    "achievable_response_hours": Measure("shortest email response target met", "hours"),
    "fte_for_target_days": Measure("FTE to meet the target on the share of days asked", "fte"),
    "supply_agents_on_phones": Measure("agents on the phones", "fte"),
    "fte_for_cap": Measure("FTE the occupancy cap alone needs", "fte"),
    "fte_without_cap": Measure("FTE needed without the occupancy cap", "fte"),
    "fte_textbook": Measure("FTE needed with textbook Erlang", "fte"),
    "fte_fitted": Measure("FTE needed with the centre's fitted service model", "fte"),
    "service_level_textbook": Measure("service level of the plan with textbook Erlang", "share"),
    "service_level_fitted": Measure("service level of the plan with the centre's fitted model", "share"),
    # the long-term capacity plan (a scenario's capacity: section)
    "capacity_weeks": Measure("weeks planned", "count"),
    "capacity_hires": Measure("hires in the plan", "count"),
    "capacity_classes": Measure("hiring classes", "count"),
    "capacity_first_class_week": Measure("first class starts in week", "count"),
    "capacity_cost_total": Measure("cost of the team over the plan", "money"),
    "capacity_cost_hiring": Measure("cost of the hires (recruiting and pay)", "money"),
    "capacity_cost_overtime": Measure("cost of overtime", "money"),
    "capacity_cost_outsourcing": Measure("cost of outsourcing", "money"),
    "capacity_weeks_short": Measure("weeks the plan cannot cover", "count"),
    "capacity_peak_required_fte": Measure("FTE required in the busiest week (planned percentile)", "fte"),
    "capacity_mean_required_fte": Measure("FTE required on average (planned percentile)", "fte"),
    "capacity_mean_chance_covered": Measure("chance a week is covered, on average", "share"),
    "capacity_min_chance_covered": Measure("chance the worst week is covered", "share"),
    # the week's shift schedule (a scenario's schedule: section)
    "schedule_agents": Measure("agents on the schedule", "count"),
    "schedule_paid_hours": Measure("paid hours a week (schedule)", "count"),
    "schedule_cost": Measure("cost of the schedule a week", "money"),
    "schedule_over_agent_hours": Measure("agent-hours beyond the requirement (schedule)", "count"),
    "schedule_short_agent_hours": Measure("agent-hours short of the requirement (schedule)", "count"),
    "schedule_efficiency": Measure("schedule's hours that meet a need", "share"),
    "schedule_understaffed_intervals": Measure("intervals missing a target (schedule)", "count"),
    "schedule_service_level": Measure("service level (schedule)", "share"),
    "schedule_asa_seconds": Measure("ASA (schedule)", "seconds"),
    "schedule_abandon_rate": Measure("abandonment (schedule)", "share"),
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
    "resolved_tickets_per_agent": Measure("resolved tickets per agent", "ratio"),
}


# The two questions an FTE figure answers, in the words every front end uses for them: the plan
# (every interval staffed to the forecast to meet the targets) and the risk (the target met on a
# share of days over the forecast's uncertainty). The CLI, the Targets page and the answers say
# which with these phrases, so the same figure is never named two ways.
EACH_INTERVAL = "staffed to the forecast in each interval"

SERVICE_MODELS = {  # a queue's service model as an answer names it
    "erlang-c": "textbook Erlang C",
    "erlang-a": "textbook Erlang A",
    "calibrated": "the centre's fitted service model (calibrated Erlang A)",
    "learned": "the centre's fitted service model (a learned correction of calibrated Erlang A)",
}
FITTED_SHORT = "the centre's fitted model"  # in a sentence that has named it in full


def _ordinal(n: float) -> str:
    text = f"{n:g}"
    if not float(n).is_integer():
        return f"{text}th"
    last_two = int(n) % 100
    suffix = "th" if 10 <= last_two <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(int(n) % 10, "th")
    return f"{text}{suffix}"


def each_interval(staff_to: str | float = "mean") -> str:
    """How the plan staffs: ``staffed to the forecast in each interval`` (its mean), or to a
    percentile of it (``staff_to: 0.8``)."""
    if staff_to == "mean":
        return EACH_INTERVAL
    return (
        f"staffed to the forecast's {_ordinal(round(100 * float(staff_to), 1))} percentile in each interval"
    )


def percent(share: float) -> str:
    """A share as planners write a target: ``80%``, ``85.5%``."""
    return f"{100 * share:.3g}%"


def on_days(share: float) -> str:
    """The risk's question: the target met ``on 80% of days``."""
    return f"on {percent(share)} of days"


def fte_question(key: str, staff_to: str | float = "mean", days_share: float = 0.8) -> str:
    """The FTE figure's name with the question it answers: the plan's (``fte_total``) or the
    risk's (``fte_for_target_days``)."""
    if key == "fte_total":
        return f"FTE {each_interval(staff_to)}"
    if key == "fte_for_target_days":
        return f"FTE to meet the target {on_days(days_share)}"
    return label(key)


def service_model_name(model: str, short: bool = False) -> str:
    """How an answer names a service model: ``textbook Erlang A``, ``the centre's fitted
    service model (calibrated Erlang A)`` (``short``: ``the centre's fitted model``)."""
    if short and model in ("calibrated", "learned"):
        return FITTED_SHORT
    return SERVICE_MODELS.get(model, model)


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
