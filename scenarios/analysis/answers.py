"""A manager's answer in sentences: what the headcount gives, what the target costs, and what
the centre's history says, from an analysed scenario (the CLI's ``capplan targets`` and the
app's Targets page print the same sentences)."""

from __future__ import annotations

import numpy as np

from forecasting.common.vocabulary import each_interval, format_value, on_days, service_model_name
from scenarios.result import ScenarioResult
from scenarios.service.choice import DEFAULT_FITTED, FTE_GAP, SERVICE_GAP, model_asked
from scenarios.service.supply import with_supply_fte


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
    """A manager's answer in sentences, each FTE figure saying which question it answers in the
    vocabulary's words: what the supply gives (or the plan, without one); the FTE that meets the
    target staffed to the forecast in each interval (the plan: the target curve's row) and on
    the scenario's share of days (the risk), with the difference to the supply in FTE and cost
    per week; whether the occupancy cap decides; the service model used and, where textbook and
    fitted disagree, both answers; how often the history met the target."""
    s, scenario = result.summary, result.scenario
    t = scenario.targets
    target = target_words(result)
    plan_words = each_interval(scenario.forecast.staff_to)
    sentences = []
    supply_fte = s.get("achievable_fte_available")
    if supply_fte is not None:
        expect = _expected(s, t.target_seconds, "supply_")
        met = s.get("supply_p_meet_target_mean")
        days = "" if met is None or not np.isfinite(met) else f" (target met on {met:.0%} of days)"
        sentences.append(f"With {_supply_words(s, supply_fte)}: expect {expect}{days}.")
        cap_fte = s.get("fte_for_cap")
        if cap_fte is not None and supply_fte < cap_fte - 1e-9:
            sentences.append(
                f"That is too few to keep occupancy ≤ {t.max_occupancy:.0%} {plan_words}: "
                f"the cap alone needs {cap_fte:,.1f} FTE, whatever the service target."
            )
    else:
        met = s.get("p_meet_target_mean")
        days = "" if met is None or not np.isfinite(met) else f", meeting the target on {met:.0%} of days"
        sentences.append(
            f"The plan ({s['fte_total']:,.1f} FTE, {plan_words}) gives {_expected(s, t.target_seconds, '')}{days}."
        )
    if target is not None:
        if supply_fte is not None:
            sentences.append(
                f"To meet {target} {plan_words}{_constraints(scenario)}: {s['fte_total']:,.1f} FTE"
                f"{_against(s['fte_total'], supply_fte, scenario)}."
            )
        needed = s.get("fte_for_target_days")
        if needed is not None:
            sentences.append(
                f"To meet {target} {on_days(scenario.risk.days_share)}{_constraints(scenario)}: {needed:,.1f} FTE"
                f"{_against(needed, supply_fte, scenario)}."
            )
        free = s.get("fte_without_cap")
        if free is not None and s["fte_total"] - free > 0.005 * s["fte_total"]:
            sentences.append(
                f"The occupancy cap (≤ {t.max_occupancy:.0%}) decides the plan: without it, {target} {plan_words} "
                f"needs {free:,.1f} FTE."
            )
    sentences += model_sentences(result)
    history = _history(result, target)
    if history:
        sentences.append(history)
    return sentences


def _supply_words(s: dict, supply_fte: float) -> str:
    agents = s.get("supply_agents_on_phones")
    if agents is None:
        return f"{supply_fte:,.1f} FTE"
    return f"{agents:,.1f} agents on the phones in each open interval ({supply_fte:,.1f} FTE)"


def _constraints(scenario) -> str:
    cap = scenario.targets.max_occupancy
    return "" if cap is None else f" with occupancy ≤ {cap:.0%}"


def _against(needed: float, supply_fte: float | None, scenario) -> str:
    """The difference to the supply in FTE and cost per week, when there is a supply."""
    if supply_fte is None:
        return ""
    extra = needed - supply_fte
    if scenario.supply.cost_per_agent_hour <= 0:  # no cost given: no "0 per week"
        fewer = "" if extra >= 0 else " fewer"
        return f" ({format_value('fte_total', extra if extra >= 0 else -extra, delta=extra >= 0)} FTE{fewer})"
    per_week = abs(extra) * scenario.supply.hours_per_fte * scenario.supply.cost_per_agent_hour
    if extra >= 0:
        return f" ({format_value('fte_total', extra, delta=True)} FTE, +{format_value('total_cost', per_week)} per week)"
    return f" ({format_value('fte_total', -extra)} FTE fewer, {format_value('total_cost', per_week)} less per week)"


def model_sentences(result: ScenarioResult) -> list[str]:
    """The service model each live queue was staffed with, and why; then, where the centre's
    fitted model and textbook Erlang disagree by more than a few points (``FTE_GAP`` of the
    FTE or ``SERVICE_GAP`` of service level), both answers."""
    scenario, s = result.scenario, result.summary
    live = {n: q for n, q in scenario.queues.items() if q.channel in ("voice", "chat")}
    if not live:
        return ["Service model: the backlog of deferred work, answered oldest first."]
    groups: dict[str, list[str]] = {}
    for name, q in live.items():
        groups.setdefault(q.model, []).append(name)
    sentences = []
    for model, names in groups.items():
        where = "" if len(live) == 1 else f" for {', '.join(names)}"
        sentences.append(f"Service model{where}: {service_model_name(model)}{_detail(result, model, names)}.")
    used, other = (
        ("fitted", "textbook") if "fte_textbook" in s and result.services else ("textbook", "fitted")
    )
    if f"fte_{other}" not in s:
        return sentences
    names = {
        "fitted": service_model_name(_fitted_kind(result) if result.services else DEFAULT_FITTED, short=True),
        "textbook": _textbook_name(result),
    }
    f_used, f_other = s[f"fte_{used}"], s[f"fte_{other}"]
    gap = (f_other - f_used) / f_used if f_used > 0 else 0.0
    sl_used, sl_other = s.get(f"service_level_{used}"), s.get(f"service_level_{other}")
    service_gap = abs(sl_other - sl_used) if sl_used is not None and sl_other is not None else 0.0
    other_name = names[other][0].upper() + names[other][1:]
    if abs(gap) <= FTE_GAP and service_gap <= SERVICE_GAP:
        sentences.append(f"{other_name} agrees within {FTE_GAP:.0%}: {f_other:,.1f} FTE.")
        return sentences
    text = (
        f"{other_name} disagrees: {f_other:,.1f} FTE {each_interval(scenario.forecast.staff_to)}, against "
        f"{f_used:,.1f} with {names[used]} ({gap:+.0%})"
    )
    if sl_used is not None and sl_other is not None:
        seconds = scenario.targets.target_seconds
        text += (
            f"; for the plan's agents it expects {sl_other:.0%} answered in {seconds:g} s, "
            f"{names[used]} {sl_used:.0%}"
        )
    sentences.append(text + ".")
    return sentences


def _fitted_kind(result: ScenarioResult) -> str:
    return next(iter(result.services.values())).kind


def _textbook_name(result: ScenarioResult) -> str:
    if result.services:  # the second opinion: Erlang A with the log's patience
        patience = next(iter(result.services.values())).patience_seconds
        return service_model_name("erlang-a" if np.isfinite(patience) and patience > 0 else "erlang-c")
    voice = [q.model for q in result.scenario.queues.values() if q.channel == "voice"]
    return service_model_name(voice[0] if voice else "erlang-c")


def _detail(result: ScenarioResult, model: str, names: list[str]) -> str:
    """Why the model is the one used, then what it was fitted on or given."""
    choice = result.service_choice
    fit = next((result.services[n] for n in names if n in result.services), None)
    if fit is not None:
        defaulted = choice is not None and any(n in choice.defaulted for n in names)
        why = (
            ", the default with the centre's own call log (service_model: erlang-a with patience_seconds for textbook Erlang A)"
            if defaulted
            else ", as the scenario asks"
        )
        source = f", fitted on {choice.log}" if choice is not None and choice.log else ""
        return f"{why}: {fit.availability:.0%} of the agents present available, patience {fit.patience_seconds:,.0f} s{source}"
    q = result.scenario.queues[names[0]]
    what = f": patience {q.patience_seconds:,.0f} s" if model == "erlang-a" and q.patience_seconds else ""
    if all(model_asked(result.scenario.queues[n]) for n in names):
        return ", as the scenario asks" + what
    why = None if choice is None else choice.why_textbook
    return (f", the default: {why}" if why else "") + what


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
    return with_supply_fte(scenario, headcount)
