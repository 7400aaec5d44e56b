"""A scenario's long-term capacity plan (its ``capacity:`` section), in the scenario's stages:
load (:func:`load_capacity_inputs`: the history, its weekly forecast, the shape of a week and
the handle times: the only I/O) and compute (:func:`compute_capacity`: pure, from
:mod:`scenarios.capacity`).

The weekly volume is the forecast of weekly totals by the period models, as far ahead as the
history reaches back; beyond that (a 78-week plan from a few months of history) the last
forecast weeks' level is carried on with a band that keeps widening, and the plan says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.store import Store
from scenarios.capacity.optimizer import COVERED, HiringPlan, HiringRules, plan_hiring
from scenarios.capacity.requirement import WeekShape, growth_factor, required_fte, volume_quantile
from scenarios.capacity.risk import Case, sensitivity, simulate_supply
from scenarios.capacity.workforce import Attrition, Cohort, Ramp, Transfer, Workforce
from scenarios.demand.planning import staffing_targets
from scenarios.inputs.spec import CapacitySpec, Scenario
from scenarios.service.staffing_plan import StaffingOptions

log = logging.getLogger(__name__)
DAY = pd.Timedelta(days=1)
RECENT_AHT_DAYS = 56  # the history's handle time: its last eight weeks
LEVEL_WEEKS = 4  # beyond the forecast's reach, the level of its last four weeks carries on
OVERTIME_PRICE, OUTSOURCING_PRICE = 1.5, 1.3  # × pay, where the scenario gives no price


@dataclass(frozen=True)
class CapacityInputs:
    scenario: Scenario
    path: Path | None
    week_starts: pd.DatetimeIndex  # the plan's weeks (Mondays), week 1 first
    volume: np.ndarray  # weekly contacts of all the scenario's queues, forecast
    volume_sd: np.ndarray  # its standard deviation (from the forecast's 80 % band)
    shape: WeekShape  # how a week's contacts fall into the planning intervals
    aht: dict[str, float]  # seconds per queue
    model: str  # what forecast the weekly volume
    notes: list[str] = field(default_factory=list)
    services: dict = field(default_factory=dict)  # queue -> fitted service model


@dataclass(frozen=True)
class CapacityResult:
    inputs: CapacityInputs
    weeks: (
        pd.DataFrame
    )  # one row per week: requirement (P50, planned percentile, per queue), supply, plan, risk
    plan: HiringPlan
    sensitivity: pd.DataFrame
    summary: dict[str, float]
    notes: list[str]


def spec_of(scenario: Scenario) -> CapacitySpec:
    if scenario.capacity is None:
        raise InputError(
            "the scenario has no capacity section",
            key="capacity",
            expected="a capacity: section with at least team: (see README, 'Long-term capacity plan')",
        )
    return scenario.capacity


def plan_start(history_end: pd.Timestamp) -> pd.Timestamp:
    """The Monday after the history's last day: plans run in whole weeks."""
    day = (history_end + DAY).normalize()
    return day + pd.Timedelta(days=(7 - day.day_of_week) % 7)


def load_capacity_inputs(
    scenario: Scenario, path: Path | None = None, store: Store | None = None
) -> CapacityInputs:
    """The weekly forecast, week shape and handle times the plan needs, from the scenario's data."""
    from forecasting.forecast_job import make_forecast
    from forecasting.series import forecast_series
    from forecasting.slots import next_open_days
    from scenarios.inputs.base_forecast import load_history
    from scenarios.inputs.load import load_services

    spec = spec_of(scenario)
    folder = path.parent if path else None
    result = load_history(scenario.data, scenario.forecast.interval, folder, weekly=True)
    history = forecast_series(result, "arrivals", scenario.data.queue)
    end = pd.Timestamp(result.intervals["interval_start"].max())
    first = plan_start(end)
    week_starts = pd.date_range(first, periods=spec.weeks, freq="7D")
    reach = (end.normalize() - history.index.min().normalize()).days + 1
    plan_end = week_starts[-1] + pd.Timedelta(days=6)
    ahead = min((plan_end - end.normalize()).days, reach)
    days = next_open_days(result.calendar, end, ahead + 7)  # the forecast's horizon counts open days
    horizon = max(int((days <= end.normalize() + pd.Timedelta(days=ahead)).sum()), 1)
    log.info(
        "%s: forecasting weekly volume %d open days ahead (the plan: %d weeks)",
        scenario.name,
        horizon,
        spec.weeks,
    )
    try:
        table, selections, _ = make_forecast(
            by_day(result),
            "arrivals",
            scenario.data.queue,
            "auto",
            horizon,
            progress=False,
            store=store,
            granularity="week",
        )
    except InputError as exc:
        raise exc.as_keys("data") from None
    volume, sd, notes = _weekly_volume(table, week_starts)
    shape, shape_notes = _week_shape(scenario, result, folder)
    aht = {q: _aht(scenario, q, result) for q in scenario.queues}
    model = f"{selections[0].name} on weekly totals" if selections else "weekly totals"
    return CapacityInputs(
        scenario,
        path,
        week_starts,
        volume,
        sd,
        shape,
        aht,
        model,
        notes + shape_notes,
        load_services(scenario, folder),
    )


def by_day(result):
    """An intraday history as daily totals: weeks ahead are forecast from days (the daily models
    learn the weekday pattern, the trend and, given two years, the yearly season), 15× faster
    than from 5-minute slots and no less accurate for weekly totals."""
    from dataclasses import replace

    from forecasting.calendar import infer_calendar
    from forecasting.history.interval_series import resample_intervals

    if result.interval >= DAY or result.period:
        return result
    days = resample_intervals(result.intervals, result.interval, DAY)
    return replace(result, intervals=days, interval=DAY, calendar=infer_calendar(days, DAY))


def _weekly_volume(
    table: pd.DataFrame, week_starts: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The forecast's weekly totals on the plan's weeks; weeks beyond its reach carry the last
    full weeks' level on, their band widening with the square root of the weeks beyond."""
    from scipy import stats

    z = stats.norm.ppf(0.9)
    weeks = pd.to_datetime(table["timestamp"]).dt.to_period("W-SUN").dt.start_time
    frame = (
        pd.DataFrame(
            {
                "week": weeks,
                "forecast": table["forecast"].to_numpy(float),
                "sd": (table["hi80"].to_numpy(float) - table["lo80"].to_numpy(float)) / (2 * z),
            }
        )
        .groupby("week")
        .agg(forecast=("forecast", "sum"), sd=("sd", "sum"))
    )
    known = frame.reindex(week_starts)
    full = frame.loc[frame.index >= week_starts[0]]
    if full.empty:
        raise InputError(
            "the weekly forecast does not reach the plan's first week",
            key="capacity.weeks",
            expected=f"a history whose forecast reaches {week_starts[0]:%Y-%m-%d}",
        )
    notes = []
    missing = known["forecast"].isna().to_numpy()
    if missing.any():
        last = full.iloc[-LEVEL_WEEKS:]
        level = float(last["forecast"].mean())
        rel = float((last["sd"] / last["forecast"].clip(lower=1e-9)).mean())
        beyond = np.cumsum(missing)[missing]
        reached = int((~missing).sum())
        known.loc[missing, "forecast"] = level
        known.loc[missing, "sd"] = level * rel * np.sqrt(1 + beyond / max(reached, 1))
        notes.append(
            f"the history reaches back {reached} weeks, so the forecast reaches {reached} weeks ahead; "
            f"weeks {reached + 1}-{len(week_starts)} carry its last {len(last)} weeks' level on "
            f"({level:,.0f} contacts a week, before growth) with a widening band: give a history "
            f"as long as the plan (with a yearly season for a yearly pattern)"
        )
    return known["forecast"].to_numpy(float), known["sd"].to_numpy(float), notes


def _week_shape(scenario: Scenario, result, folder: Path | None) -> tuple[WeekShape, list[str]]:
    """Shares of a week per planning interval (Monday 00:00 first): the history's own intraday
    profile, or for daily and weekly reports the scenario's profile (file, intraday history or
    the typical day)."""
    from forecasting.intraday_profile import from_ingest
    from scenarios.inputs.base_forecast import intraday_profile_for

    interval = pd.Timedelta(scenario.forecast.interval)
    if result.interval < DAY and not result.period:
        profile, notes = from_ingest(result, scenario.data.queue, "the history"), []
    else:
        profile, notes = intraday_profile_for(scenario.data, scenario.forecast, folder)
    profile = profile.at(interval)
    mix, note = profile.weekday_mix()
    shares = mix[:, None] * profile.shares
    shares = shares / shares.sum()
    return WeekShape(shares.ravel(), interval.total_seconds()), notes + ([note] if note else [])


def _aht(scenario: Scenario, queue: str, result) -> float:
    """The queue's handle time: its ``aht_seconds``, else the history's over its last weeks."""
    given = scenario.queues[queue].aht_seconds
    if given is not None:
        return float(given)
    frame = result.intervals
    if "aht" in frame and frame["aht"].notna().any():
        recent = frame[
            frame["interval_start"] >= frame["interval_start"].max() - pd.Timedelta(days=RECENT_AHT_DAYS)
        ]
        ok = recent["aht"].notna() & (recent["arrivals"] > 0)
        if ok.any():
            return float(np.average(recent.loc[ok, "aht"], weights=recent.loc[ok, "arrivals"]))
    raise InputError(
        "no handle time for the capacity plan",
        key=f"queues.{queue}.aht_seconds",
        expected="the queue's average handle time in seconds (the data has none)",
    )


def workforce_of(spec: CapacitySpec) -> Workforce:
    bands = Attrition(tuple(b.monthly for b in spec.attrition), tuple(b.after_weeks for b in spec.attrition))
    return Workforce(
        tuple(Cohort(c.heads, c.tenure_weeks, c.fte_per_head) for c in spec.team),
        bands,
        Ramp(spec.training_weeks, tuple(spec.ramp)),
        spec.hire_fte,
        tuple(Transfer(t.week, t.fte) for t in spec.transfers),
    )


def rules_of(scenario: Scenario) -> HiringRules:
    spec = spec_of(scenario)
    h, c = spec.hiring, spec.costs
    pay = c.per_fte_week or (
        scenario.supply.cost_per_agent_hour * scenario.supply.hours_per_fte
        if scenario.supply.cost_per_agent_hour > 0
        else 1.0
    )
    starts = (
        tuple(h.start_weeks)
        if h.start_weeks
        else tuple(range(h.lead_weeks + 1, spec.weeks + 1, h.every_weeks))
    )
    return HiringRules(
        starts=starts,
        max_class=h.max_class,
        min_class=h.min_class,
        lead_weeks=h.lead_weeks,
        training_capacity=h.training_capacity,
        cost_per_hire=c.per_hire,
        cost_per_class=c.per_class,
        cost_per_fte_week=pay,
        overtime_share=spec.overtime_max_share,
        overtime_cost_per_fte_week=OVERTIME_PRICE * pay
        if c.overtime_per_fte_week is None
        else c.overtime_per_fte_week,
        outsourcing_fte=spec.outsourcing_max_fte,
        outsourcing_cost_per_fte_week=(
            OUTSOURCING_PRICE * pay if c.outsourcing_per_fte_week is None else c.outsourcing_per_fte_week
        ),
        surplus_cost_per_fte_week=c.surplus_per_fte_week,
    )


def shrinkage_by_week(scenario: Scenario, week_starts: pd.DatetimeIndex) -> np.ndarray:
    """Each week's shrinkage: its month's (by the week's Thursday), else the supply's."""
    spec = spec_of(scenario)
    months = (week_starts + pd.Timedelta(days=3)).month
    return np.array([spec.shrinkage_by_month.get(int(m), scenario.supply.shrinkage) for m in months], float)


def queue_requirements(
    inputs: CapacityInputs, volume: np.ndarray, aht_factor: float = 1.0
) -> dict[str, np.ndarray]:
    """FTE per week for each queue, for weekly volumes of all the queues together."""
    scenario = inputs.scenario
    spec = spec_of(scenario)
    shrink = shrinkage_by_week(scenario, inputs.week_starts)
    out = {}
    for name, q in scenario.queues.items():
        targets = scenario.targets.for_queue(name)
        fitted = inputs.services.get(name)
        options = StaffingOptions(
            targets=staffing_targets(targets),
            model=q.model if fitted is not None or q.model in ("erlang-c", "erlang-a") else "erlang-c",
            patience=q.patience_seconds,
            concurrency=q.concurrency,
            response_hours=targets.response_hours if q.channel == "email" else None,
            response_share=targets.response_share,
            service=fitted.function if fitted is not None else None,
        )
        aht = inputs.aht[name] * (1 + spec.aht_change_pct / 100) * aht_factor
        out[name] = required_fte(
            volume * q.share, inputs.shape, aht, options, shrink, scenario.supply.hours_per_fte
        ).fte
    return out


@dataclass(frozen=True)
class Requirements:
    """FTE required per queue and week at P50 and at the planned percentile, and the weekly
    volume (with growth) behind them: what a redraw with other supply inputs reuses."""

    median: dict[str, np.ndarray]
    planned: dict[str, np.ndarray]
    volume: np.ndarray
    volume_sd: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return np.sum(list(self.planned.values()), axis=0)


def capacity_requirements(
    inputs: CapacityInputs, volume_factor: float = 1.0, aht_factor: float = 1.0
) -> Requirements:
    """The requirement the plan covers: the forecast with the scenario's growth, at P50 and at
    its percentile, staffed interval by interval."""
    spec = spec_of(inputs.scenario)
    grown = growth_factor(spec.weeks, spec.growth_pct_per_year)
    mean, sd = inputs.volume * grown * volume_factor, inputs.volume_sd * grown * volume_factor
    median = queue_requirements(inputs, volume_quantile(mean, sd, 0.5), aht_factor)
    planned = queue_requirements(inputs, volume_quantile(mean, sd, spec.percentile), aht_factor)
    return Requirements(median, planned, mean, sd)


def sensitivity_cases(inputs: CapacityInputs, required: np.ndarray, workforce: Workforce) -> list[Case]:
    """The plan's assumptions moved one at a time: attrition ±2 points, volume ±10 %, AHT ±5 %."""
    cases = [
        Case("as planned", required, workforce),
        Case("attrition +2 points", required, workforce.with_attrition(workforce.attrition.shifted(0.02))),
        Case("attrition -2 points", required, workforce.with_attrition(workforce.attrition.shifted(-0.02))),
    ]
    for name, v, a in (
        ("volume +10 %", 1.1, 1.0),
        ("volume -10 %", 0.9, 1.0),
        ("AHT +5 %", 1.0, 1.05),
        ("AHT -5 %", 1.0, 0.95),
    ):
        cases.append(Case(name, capacity_requirements(inputs, v, a).total, workforce))
    return cases


def compute_capacity(
    inputs: CapacityInputs, requirements: Requirements | None = None, with_sensitivity: bool = True
) -> CapacityResult:
    """The plan: requirement at P50 and at the planned percentile, the least-cost hiring plan,
    its Monte Carlo and (``with_sensitivity``) the sensitivity table. Pure, from loaded inputs;
    ``requirements`` reuses one computed before (only the supply's inputs changed)."""
    scenario = inputs.scenario
    spec = spec_of(scenario)
    req = capacity_requirements(inputs) if requirements is None else requirements
    required = req.total
    workforce, rules = workforce_of(spec), rules_of(scenario)
    log.info(
        "%s: hiring plan for %d weeks (%d possible classes)",
        scenario.name,
        spec.weeks,
        len(rules.allowed_starts(spec.weeks)),
    )
    try:
        plan = plan_hiring(required, workforce, rules)
    except RuntimeError:  # HiGHS out of time before any plan: never with the shortfall allowed, but said
        raise InputError(
            "no hiring plan found in the time allowed",
            key="capacity.hiring",
            expected="fewer possible class starts (every_weeks) or a shorter plan (weeks)",
        ) from None
    log.info(
        "%s: attrition Monte Carlo (%d draws)%s",
        scenario.name,
        spec.simulations,
        " and sensitivity" if with_sensitivity else "",
    )
    draws = simulate_supply(workforce, plan.classes, spec.weeks, spec.simulations, spec.seed)
    risk = draws.summary(plan, rules.overtime_share)
    p = f"p{round(spec.percentile * 100)}"
    weeks = plan.weeks.copy()
    weeks.insert(1, "week_start", inputs.week_starts)
    weeks.insert(2, "volume", req.volume)
    weeks.insert(3, "volume_sd", req.volume_sd)
    weeks.insert(4, "required_fte_p50", np.sum(list(req.median.values()), axis=0))
    weeks = weeks.rename(columns={"required_fte": f"required_fte_{p}"})
    if len(req.planned) > 1:
        for name, fte in req.planned.items():
            weeks[f"required_fte_{p}_{name}"] = fte
    weeks["class_starts"] = (
        weeks["week"].map(plan.classes.set_index("start_week")["hires"]).fillna(0).astype(int)
    )
    weeks["shrinkage"] = shrinkage_by_week(scenario, inputs.week_starts)
    weeks = weeks.merge(risk, on="week")
    table = (
        sensitivity(sensitivity_cases(inputs, required, workforce), rules, first=plan)
        if with_sensitivity
        else pd.DataFrame()
    )
    short = plan.weeks["gap"] > COVERED
    summary = {
        "capacity_weeks": float(spec.weeks),
        "capacity_hires": float(plan.hires),
        "capacity_classes": float(len(plan.classes)),
        "capacity_first_class_week": float(plan.classes["start_week"].min())
        if len(plan.classes)
        else float("nan"),
        "capacity_cost_total": plan.cost["total"],
        "capacity_cost_hiring": plan.cost["hiring"] + plan.cost["hires_pay"],
        "capacity_cost_overtime": plan.cost["overtime"],
        "capacity_cost_outsourcing": plan.cost["outsourcing"],
        "capacity_weeks_short": float(short.sum()),
        "capacity_peak_required_fte": float(required.max()),
        "capacity_mean_required_fte": float(required.mean()),
        "capacity_mean_chance_covered": float(risk["chance_covered"].mean()),
        "capacity_min_chance_covered": float(risk["chance_covered"].min()),
    }
    return CapacityResult(inputs, weeks, plan, table, summary, inputs.notes + plan.notes)


def run_capacity(scenario: Scenario, path: Path | None = None, store: Store | None = None) -> CapacityResult:
    return compute_capacity(load_capacity_inputs(scenario, path, store))
