"""A manager's answer in sentences: what the headcount gives, what the target costs, and what
the centre's history says, from an analysed scenario (the CLI's ``capplan targets`` and the
app's Targets page print the same sentences)."""

from __future__ import annotations

import numpy as np

from scenarios.result import ScenarioResult
from scenarios.vocabulary import format_value


def target_words(result: ScenarioResult) -> str | None:
    """The scenario's service target as planners write it: ``80/20``, ``ASA ≤ 30 s``, or for
    email alone ``90% answered within 4 h``."""
    t = result.scenario.targets
    queues = result.scenario.queues
    if all(q.channel == "email" for q in queues.values()):
        e = t.for_queue(next(iter(queues)))
        return f"{e.response_share:.0%} answered within {e.response_hours:g} h"
    if t.service_level is not None:
        return f"{100 * t.service_level:g}/{t.target_seconds:g}"
    if t.asa_seconds is not None:
        return f"ASA ≤ {t.asa_seconds:g} s"
    return None


def manager_answer(result: ScenarioResult) -> list[str]:
    """Up to three sentences: the supply's expected service and how often it meets the target;
    the FTE that meets the target on the scenario's share of days and the difference in FTE
    and cost per week; how often the history met the target."""
    s, scenario = result.summary, result.scenario
    t = scenario.targets
    target = target_words(result)
    share = scenario.risk.days_share
    sentences = []
    supply_fte = s.get("achievable_fte_available")
    if supply_fte is not None:
        expect = _expected(s, t.target_seconds, "supply_")
        met = s.get("supply_p_meet_target_mean")
        days = "" if met is None or not np.isfinite(met) else f" (target met on {met:.0%} of days)"
        sentences.append(f"With {supply_fte:,.1f} FTE: expect {expect}{days}.")
    else:
        met = s.get("p_meet_target_mean")
        days = "" if met is None or not np.isfinite(met) else f", meeting the target on {met:.0%} of days"
        sentences.append(
            f"The plan ({s['fte_total']:,.1f} FTE, staffed to the forecast) gives {_expected(s, t.target_seconds, '')}"
            f"{days}."
        )
    needed = s.get("fte_for_target_days")
    if target is not None and needed is not None:
        text = f"To meet {target} on {share:.0%} of days: {needed:,.1f} FTE"
        if supply_fte is not None:
            extra = needed - supply_fte
            per_week = abs(extra) * scenario.supply.hours_per_fte * scenario.supply.cost_per_agent_hour
            if extra >= 0:
                text += f" ({format_value('fte_total', extra, delta=True)} FTE, +{format_value('total_cost', per_week)} per week)"
            else:
                text += f" ({format_value('fte_total', -extra)} FTE fewer, {format_value('total_cost', per_week)} less per week)"
        sentences.append(text + ".")
    history = _history(result, target)
    if history:
        sentences.append(history)
    return sentences


def _expected(s: dict, target_seconds: float, prefix: str) -> str:
    level = s.get(f"{prefix}service_level")
    if level is not None and np.isfinite(level):
        return f"{level:.0%} answered in {target_seconds:g} s"
    asa = s.get(f"{prefix}asa_seconds")
    if asa is not None and np.isfinite(asa):
        return f"ASA {asa:,.1f} s"
    answered = s.get(f"{prefix}answered_in_time")
    return "n/a" if answered is None else f"{answered:.0%} of email answered in time"


def _history(result: ScenarioResult, target: str | None) -> str | None:
    e = result.evidence
    if e is None or target is None or e.empty:
        return None
    kpi = "service_level" if result.scenario.targets.service_level is not None else "asa"
    rows = e[e["kpi"] == kpi]
    if rows.empty or not np.isfinite(rows["share_of_periods_meeting_target"].iloc[0]):
        return None
    r = rows.iloc[0]
    met = round(r["share_of_periods_meeting_target"] * r["periods"])
    median = f"{r['median']:.0%}" if kpi == "service_level" else f"ASA {r['median']:,.1f} s"
    return f"History: {target} was met in {met} of {r['periods']} {r['period']}s (median {median})."


def with_headcount(scenario, headcount: float | None):
    """The scenario with ``headcount`` FTE as its whole supply (no budget or schedule); as it
    is without one."""
    if not headcount:
        return scenario
    supply = {"headcount": float(headcount), "budget": None, "available_agents": None}
    return scenario.model_copy(update={"supply": scenario.supply.model_copy(update=supply)})
