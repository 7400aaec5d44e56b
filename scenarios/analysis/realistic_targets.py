"""Realistic targets: what a service target costs, what a headcount or budget can reach, and
what the center's own history shows to be attainable.

Both the curve and the best reachable targets staff like the plan: each interval to the
forecast (its mean, or the percentile ``staff_to`` asks for), under the scenario's occupancy
cap, abandonment target, shrinkage and service model. Only the waiting-time target varies, so
the curve's row at the scenario's own target *is* the plan, and "what this target costs" and
"what these people can give" agree with each other and with the plan.

Required FTE rises monotonically with the service-level target (and falls as the ASA or
response-time target loosens), so the best target a headcount reaches is found by bisection
on the target, each step one vectorized staffing of the whole horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.common.vocabulary import each_interval, service_model_name
from forecasting.history.ingest import IngestResult
from forecasting.history.kpis import ALL_QUEUES, kpi_table
from scenarios.demand.planning import IntervalDemand, plan_fte
from scenarios.inputs.spec import Scenario

SERVICE_LEVELS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
ASA_SECONDS = (300.0, 120.0, 60.0, 30.0, 20.0, 10.0)
RESPONSE_HOURS = (48.0, 24.0, 12.0, 8.0, 4.0, 2.0)


def _queues(scenario: Scenario, channels: tuple[str, ...]) -> list[str]:
    return [n for n, q in scenario.queues.items() if q.channel in channels]


WAITING_TARGETS = ("service_level", "asa_seconds")


def _overrides(scenario: Scenario, kind: str, value: float) -> dict[str, dict]:
    """The scenario's targets with one kind set to ``value``: every other constraint stays
    (occupancy cap, abandonment, the other waiting-time target the queue has), so the row at
    the scenario's own value is its plan. A waiting-time kind the queue has no target of
    replaces the one it has (an ASA target instead of 80/20), the cap and abandonment kept."""
    if kind == "response_hours":
        return {q: {"response_hours": value} for q in _queues(scenario, ("email",))}
    out = {}
    for q in _queues(scenario, ("voice", "chat")):
        update = {kind: value}
        if getattr(scenario.targets.for_queue(q), kind) is None:
            update |= {other: None for other in WAITING_TARGETS if other != kind}
        out[q] = update
    return out


def _fte(scenario: Scenario, demand: IntervalDemand, kind: str, value: float) -> tuple[float, float, float]:
    return plan_fte(scenario, demand, _overrides(scenario, kind, value))


def constraint_words(scenario: Scenario) -> str:
    """The constraints every row of the curve keeps, as the answers and pages say them:
    ``occupancy ≤ 90%, shrinkage 30%, textbook Erlang A``."""
    t = scenario.targets
    words = []
    if t.max_occupancy is not None:
        words.append(f"occupancy ≤ {t.max_occupancy:.0%}")
    if t.abandon_rate is not None:
        words.append(f"abandonment ≤ {t.abandon_rate:.1%}")
    words.append(f"shrinkage {scenario.supply.shrinkage:.0%}")
    live = [q.model for q in scenario.queues.values() if q.channel in ("voice", "chat")]
    words += [service_model_name(m, short=True) for m in dict.fromkeys(live)]
    return ", ".join(words)


CURVE_COLUMNS = ["target", "value", "fte", "cost", "peak_agents", "plan"]


def own_targets(scenario: Scenario) -> dict[str, float]:
    """The scenario's own value of each kind the curve varies, when its queues share one: the
    row at that value is the plan."""
    own = {}
    for kind, channels in (
        ("service_level", ("voice", "chat")),
        ("asa_seconds", ("voice", "chat")),
        ("response_hours", ("email",)),
    ):
        values = {getattr(scenario.targets.for_queue(q), kind) for q in _queues(scenario, channels)}
        if len(values) == 1 and None not in values:
            own[kind] = values.pop()
    return own


def curve_words(scenario: Scenario) -> str:
    """What every row of the curve keeps, for its heading in the CLI and the app: how it staffs
    and the scenario's constraints."""
    return f"{each_interval(scenario.forecast.staff_to)}; {constraint_words(scenario)}"


def target_curve(scenario: Scenario, demand) -> pd.DataFrame:
    """Required FTE, cost and peak agents for a range of service-level, ASA and response-time
    targets, each row the plan with that target (see :func:`_overrides`); the scenario's own
    values are among the rows, marked ``plan``, and cost what the plan costs."""
    rows = []
    kinds = []
    if _queues(scenario, ("voice", "chat")):
        kinds += [("service_level", SERVICE_LEVELS), ("asa_seconds", ASA_SECONDS)]
    if _queues(scenario, ("email",)):
        kinds.append(("response_hours", RESPONSE_HOURS))
    own = own_targets(scenario)
    for kind, values in kinds:
        order = sorted(set(values) | ({own[kind]} if own.get(kind) is not None else set()))
        for value in order if kind == "service_level" else order[::-1]:
            fte, cost, peak = _fte(scenario, demand, kind, value)
            rows.append(
                {
                    "target": kind,
                    "value": value,
                    "fte": fte,
                    "cost": cost,
                    "peak_agents": peak,
                    "plan": own.get(kind) is not None and bool(np.isclose(value, own[kind])),
                }
            )
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def _bisect(fte_of, lo: float, hi: float, limit: float, rising: bool, steps: int = 10) -> float | None:
    """The value in [lo, hi] nearest the tight end whose FTE stays within ``limit``."""
    loose, tight = (lo, hi) if rising else (hi, lo)
    if fte_of(loose) > limit:
        return None  # not even the loosest target fits
    if fte_of(tight) <= limit:
        return tight
    for _ in range(steps):
        mid = (loose + tight) / 2
        if fte_of(mid) <= limit:
            loose = mid
        else:
            tight = mid
    return loose


def achievable_targets(scenario: Scenario, demand, fte_limit: float | None) -> dict[str, float | None]:
    """Best service level, ASA and response time that ``fte_limit`` FTE (the scenario's headcount
    or budget) reaches, staffing each interval to that target; empty without a supply."""
    if fte_limit is None:
        return {}
    out: dict[str, float | None] = {"fte_available": fte_limit}
    if _queues(scenario, ("voice", "chat")):
        out["service_level"] = _bisect(
            lambda v: _fte(scenario, demand, "service_level", v)[0], 0.0, 0.995, fte_limit, True
        )
        asa = _bisect(
            lambda v: _fte(scenario, demand, "asa_seconds", float(np.exp(v)))[0],
            np.log(1.0),
            np.log(3600.0),
            fte_limit,
            False,
            steps=8,
        )
        out["asa_seconds"] = None if asa is None else float(np.exp(asa))
    if _queues(scenario, ("email",)):
        low = demand.grid.interval.total_seconds() / 3600 * 2
        out["response_hours"] = _bisect(
            lambda v: _fte(scenario, demand, "response_hours", v)[0], low, 168.0, fte_limit, False
        )
    return out


EVIDENCE_KPIS = {
    "service_level": "higher",
    "asa": "lower",
    "abandon_rate": "lower",
    "first_response_mean_s": "lower",
    "resolution_mean_s": "lower",
    "csat": "higher",
    "fcr": "higher",
    "occupancy": "lower",
}
SCENARIO_TARGET = {"service_level": "service_level", "asa": "asa_seconds", "abandon_rate": "abandon_rate"}


def evidence_table(scenario: Scenario, result: IngestResult) -> pd.DataFrame:
    """Per KPI the history supports: its distribution over periods (median, best quarter, best
    tenth) and how often the scenario's target would have been met."""
    e = scenario.evidence
    wide = kpi_table(result, e.period)
    wide = wide[~wide["partial"]]
    if result.intervals["queue"].nunique() > 1:
        wide = wide[wide["queue"] == ALL_QUEUES]
    target_values = scenario.targets.model_dump()
    rows = []
    for kpi, better in EVIDENCE_KPIS.items():
        if kpi not in wide or wide[kpi].notna().sum() == 0:
            continue
        v = wide[kpi].dropna().to_numpy(float)
        good = (75, 90) if better == "higher" else (25, 10)
        target = target_values.get(SCENARIO_TARGET.get(kpi, ""), None)
        met = np.nan if target is None else float(np.mean(v >= target if better == "higher" else v <= target))
        rows.append(
            {
                "kpi": kpi,
                "better": better,
                "periods": len(v),
                "period": e.period,
                "median": float(np.median(v)),
                "best_quarter": float(np.percentile(v, good[0])),
                "best_tenth": float(np.percentile(v, good[1])),
                "scenario_target": target,
                "share_of_periods_meeting_target": met,
            }
        )
    return pd.DataFrame(rows)
