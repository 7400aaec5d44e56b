"""Capacity plan speed: the 78-week hiring plan of five generated queues, stage by stage
(required FTE at P50 and P80, the hiring plan's integer program, a Monte Carlo of 1,000 draws
of attrition, the sensitivity table), and what the integer program buys beside two planners
a spreadsheet would use: the LP relaxation rounded up, and hiring each class to the shortfall
expected when it becomes fully productive.

Everything is generated from a seed (no bundled data):

    .venv/bin/python benchmarks/capacity_speed.py
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from scenarios.capacity.optimizer import COVERED, HiringRules, plan_hiring
from scenarios.capacity.requirement import WeekShape, growth_factor, required_fte, volume_quantile
from scenarios.capacity.risk import Case, sensitivity, simulate_supply
from scenarios.capacity.workforce import Attrition, Cohort, Ramp, Workforce
from scenarios.service.staffing_plan import StaffingOptions
from scenarios.staffing.requirements import StaffingTargets

WEEKS = 78
INTERVAL = 1800.0  # 30-minute slots
SLOTS_PER_DAY = 48
HOURS_PER_FTE = 37.5
FIRST_MONDAY = pd.Timestamp("2027-01-04")
# holidays in summer and at the year's end take the most paid time off the phones
SHRINKAGE_BY_MONTH = np.array([0.33, 0.31, 0.30, 0.31, 0.33, 0.36, 0.40, 0.39, 0.32, 0.30, 0.31, 0.37])
OPTIONS = StaffingOptions(StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=0.85))
ATTRITION = Attrition((0.06, 0.03), (0, 13))  # 6 % a month in the first 13 weeks, then 3 %
RAMP = Ramp(4, (0.5, 0.5, 0.75, 0.75))  # 4 weeks of training, 4 of ramp-up
LEAD_WEEKS = 2
CANDIDATE_STARTS = tuple(range(LEAD_WEEKS + 1, LEAD_WEEKS + 1 + 4 * 20, 4))  # 20 starts, 4 weeks apart
PAY = 850.0  # per paid FTE-week
SIMULATIONS = 1000


@dataclass(frozen=True)
class Queue:
    """One queue's plan inputs: the weekly forecast and its error, the week's shape, AHT,
    shrinkage by week, today's team and the hiring rules."""

    name: str
    volume: np.ndarray
    volume_sd: np.ndarray
    shape: WeekShape
    aht: float
    shrinkage: np.ndarray
    team: Workforce
    rules: HiringRules


def week_shape(rng: np.random.Generator) -> WeekShape:
    """Mon-Fri 08:00-20:00 with a mid-morning peak and a smaller one after lunch, Monday the
    busiest day; Saturday 09:00-15:00 at under half a weekday; Sunday closed."""
    hours = np.arange(SLOTS_PER_DAY) / 2 + 0.25  # slot centres
    peak = 10.5 + rng.uniform(-0.5, 0.5)
    day = 0.6 + np.exp(-0.5 * ((hours - peak) / 1.3) ** 2) + 0.45 * np.exp(-0.5 * ((hours - 14.5) / 1.5) ** 2)
    weekday = np.where((hours > 8) & (hours < 20), day, 0.0)
    saturday = np.where((hours > 9) & (hours < 15), 0.4 * day, 0.0)
    days = [weekday * f for f in (1.15, 1.0, 0.97, 0.95, 0.9)] + [saturday, np.zeros(SLOTS_PER_DAY)]
    shares = np.concatenate(days)
    return WeekShape(shares / shares.sum(), INTERVAL)


def weekly_volume(rng: np.random.Generator, base: float) -> tuple[np.ndarray, np.ndarray]:
    """A forecast with growth, a yearly season and noise, and its error (4 % next week, 10 %
    at the plan's end)."""
    day_of_year = (FIRST_MONDAY + pd.to_timedelta(7 * np.arange(WEEKS), "D")).day_of_year.to_numpy()
    season = 1 + rng.uniform(0.05, 0.15) * np.cos(2 * np.pi * (day_of_year - rng.uniform(0, 365)) / 365.25)
    noise = 1 + rng.normal(0, 0.03, WEEKS)
    mean = base * growth_factor(WEEKS, rng.uniform(-2, 15)) * season * noise
    sd = mean * np.linspace(0.04, 0.10, WEEKS)
    return mean, sd


def shrinkage_by_week() -> np.ndarray:
    months = (FIRST_MONDAY + pd.to_timedelta(7 * np.arange(WEEKS) + 3, "D")).month.to_numpy()
    return SHRINKAGE_BY_MONTH[months - 1]


def team_near(fte: float, rng: np.random.Generator) -> Workforce:
    """Today's team: as many heads as the first weeks need (give or take 4 %), three in four
    experienced, the rest hired 30, 10 and 3 weeks ago (the last still in training)."""
    heads = fte * rng.uniform(0.98, 1.06)
    split = {520: 0.75, 30: 0.12, 10: 0.08, 3: 0.05}
    cohorts = tuple(Cohort(round(heads * share), tenure) for tenure, share in split.items())
    return Workforce(cohorts, ATTRITION, RAMP)


def hiring_rules(fte: float) -> HiringRules:
    """Classes of 5 to 15 (a room of 15 trainees), a trainer's cost per class, overtime up to
    8 % of the productive team, outsourcing up to 6 % of today's need."""
    return HiringRules(
        starts=CANDIDATE_STARTS,
        max_class=15,
        min_class=5,
        lead_weeks=LEAD_WEEKS,
        training_capacity=15,
        cost_per_hire=3500.0,
        cost_per_class=6000.0,
        cost_per_fte_week=PAY,
        overtime_share=0.08,
        overtime_cost_per_fte_week=1.5 * PAY,
        outsourcing_fte=round(0.06 * fte, 1),
        outsourcing_cost_per_fte_week=1.25 * PAY,
    )


def make_queues(seed: int) -> list[Queue]:
    """Five queues of 2,000 to 40,000 contacts a week, AHT 180-600 s."""
    rng = np.random.default_rng(seed)
    bases = np.geomspace(2000, 40000, 5) * rng.uniform(0.9, 1.1, 5)
    ahts = rng.permutation(np.linspace(180, 600, 5)).round()
    shrink = shrinkage_by_week()
    queues = []
    for i, (base, aht) in enumerate(zip(bases, ahts, strict=True)):
        mean, sd = weekly_volume(rng, base)
        shape = week_shape(rng)
        first = required_fte(mean[:4], shape, aht, OPTIONS, shrink[:4], HOURS_PER_FTE).fte.mean()
        queues.append(
            Queue(
                f"Q{i + 1}", mean, sd, shape, float(aht), shrink, team_near(first, rng), hiring_rules(first)
            )
        )
    return queues


def best_of(fn: Callable, repeats: int):
    """The result of ``fn()`` and its fastest wall time of ``repeats`` runs."""
    seconds = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        seconds = min(seconds, time.perf_counter() - started)
    return result, seconds


def requirements(q: Queue, volume_factor: float = 1.0, aht_factor: float = 1.0):
    """Required FTE per week at P50 and P80 of the volume forecast."""
    return tuple(
        required_fte(
            volume_quantile(q.volume * volume_factor, q.volume_sd * volume_factor, p),
            q.shape,
            q.aht * aht_factor,
            OPTIONS,
            q.shrinkage,
            HOURS_PER_FTE,
        )
        for p in (0.5, 0.8)
    )


def sensitivity_table(q: Queue, p50: np.ndarray) -> pd.DataFrame:
    """The plan each moved assumption needs; volume and AHT cases re-run the requirement."""

    def fte(volume: float = 1.0, aht: float = 1.0) -> np.ndarray:
        return required_fte(
            q.volume * volume, q.shape, q.aht * aht, OPTIONS, q.shrinkage, HOURS_PER_FTE
        ).fte  # the P50 volume is the forecast itself

    cases = [
        Case("base", p50, q.team),
        Case("attrition +2 points", p50, q.team.with_attrition(ATTRITION.shifted(0.02))),
        Case("attrition -2 points", p50, q.team.with_attrition(ATTRITION.shifted(-0.02))),
        Case("volume +10 %", fte(volume=1.1), q.team),
        Case("volume -10 %", fte(volume=0.9), q.team),
        Case("AHT +5 %", fte(aht=1.05), q.team),
        Case("AHT -5 %", fte(aht=0.95), q.team),
    ]
    return sensitivity(cases, q.rules)


def evaluate(hires: np.ndarray, required: np.ndarray, team: Workforce, rules: HiringRules) -> dict:
    """Cost and cover of given class sizes with the supply model the plan uses: each week's
    gap filled by the cheaper of outsourcing and overtime first, each within its cap; what is
    left is short."""
    weeks = len(required)
    base, base_paid = team.current(weeks)
    productive, paid, training = team.per_hire(weeks, rules.allowed_starts(weeks))
    supply = base + productive @ hires
    need = required - supply
    caps = {
        "outsourcing": (np.full(weeks, rules.outsourcing_fte), rules.outsourcing_cost_per_fte_week),
        "overtime": (rules.overtime_share * supply, rules.overtime_cost_per_fte_week),
    }
    left, flex = np.maximum(need, 0.0), 0.0
    for cap, price in sorted(caps.values(), key=lambda c: c[1]):
        used = np.minimum(left, cap)
        flex += price * used.sum()
        left = left - used
    cost = (
        rules.cost_per_hire * hires.sum()
        + rules.cost_per_class * (hires > 0).sum()
        + rules.cost_per_fte_week * ((paid @ hires).sum() + base_paid.sum())
        + flex
        + rules.surplus_cost_per_fte_week * np.maximum(-need, 0.0).sum()
    )
    over_training = rules.training_capacity is not None and bool(
        (training @ hires > rules.training_capacity + 1e-9).any()
    )
    return {
        "cost": float(cost),
        "cost beyond team pay": float(cost - rules.cost_per_fte_week * base_paid.sum()),
        "hires": int(hires.sum()),
        "classes": int((hires > 0).sum()),
        "weeks_short": int((left > COVERED).sum()),
        "fte_weeks_short": float(left[left > COVERED].sum()),
        "over_training": over_training,
    }


def hiring_program(required: np.ndarray, team: Workforce, rules: HiringRules):
    """The hiring plan's program as :func:`plan_hiring` states it, restated here so its class
    sizes can be left continuous: cover every week, classes within their sizes, training seats,
    overtime and outsourcing caps, a week short at a prohibitive price. Returns the costs, the
    constraints, the upper bounds and the number of classes."""
    weeks = len(required)
    starts = rules.allowed_starts(weeks)
    base, _ = team.current(weeks)
    productive, paid, training = team.per_hire(weeks, starts)
    k = len(starts)
    z, eye = sparse.csr_matrix, sparse.identity(weeks, format="csr")
    hire_cost = rules.cost_per_hire + rules.cost_per_fte_week * paid.sum(axis=0)
    short_price = 100 * (
        max(
            rules.outsourcing_cost_per_fte_week,
            rules.overtime_cost_per_fte_week,
            rules.cost_per_fte_week,
            hire_cost.max() + rules.cost_per_class,
        )
        + 1
    )
    # variables: x (class sizes), y (class held), overtime, outsourcing, surplus, short
    cost = np.concatenate(
        [
            hire_cost,
            np.full(k, rules.cost_per_class),
            np.full(weeks, rules.overtime_cost_per_fte_week),
            np.full(weeks, rules.outsourcing_cost_per_fte_week),
            np.full(weeks, rules.surplus_cost_per_fte_week),
            np.full(weeks, short_price),
        ]
    )
    cover = sparse.hstack([z(productive), z((weeks, k)), eye, eye, -eye, eye])
    overtime = sparse.hstack(
        [z(-rules.overtime_share * productive), z((weeks, k)), eye, z((weeks, 3 * weeks))]
    )
    seats = sparse.hstack([z(training), z((weeks, k + 4 * weeks))])
    ident, rest = sparse.identity(k), z((k, 4 * weeks))
    at_most = sparse.hstack([ident, -rules.max_class * ident, rest])
    at_least = sparse.hstack([ident, -rules.min_class * ident, rest])
    inf = np.full(weeks, np.inf)
    constraints = [
        LinearConstraint(cover, required - base, required - base),
        LinearConstraint(overtime, -inf, rules.overtime_share * base),
        LinearConstraint(seats, -inf, np.full(weeks, float(rules.training_capacity or np.inf))),
        LinearConstraint(at_most, -np.inf, 0.0),
        LinearConstraint(at_least, 0.0, np.inf),
    ]
    upper = np.concatenate(
        [np.full(k, rules.max_class), np.ones(k), inf, np.full(weeks, rules.outsourcing_fte), inf, inf]
    )
    return cost, constraints, upper, k


def relaxation(
    required: np.ndarray, team: Workforce, rules: HiringRules, integer: bool = False
) -> np.ndarray:
    """Class sizes of :func:`hiring_program` with continuous class sizes (the LP relaxation),
    or whole ones, to check the restatement against :func:`plan_hiring`."""
    cost, constraints, upper, k = hiring_program(required, team, rules)
    integrality = np.zeros(len(cost))
    integrality[: 2 * k] = 1 if integer else 0
    result = milp(
        cost,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0, upper),
        options={"mip_rel_gap": 1e-3},
    )
    if result.x is None:
        raise RuntimeError(f"relaxation: {result.message}")
    return result.x[:k]


def lp_rounded(required: np.ndarray, team: Workforce, rules: HiringRules) -> np.ndarray:
    """The LP relaxation's class sizes rounded up (to the smallest class where a class is held)."""
    x = np.ceil(relaxation(required, team, rules) - 1e-6)
    return np.where((x > 0) & (x < rules.min_class), rules.min_class, np.minimum(x, rules.max_class))


def naive(required: np.ndarray, team: Workforce, rules: HiringRules) -> np.ndarray:
    """At each allowed start, in order, the heads that close the shortfall expected in the week
    the class becomes fully productive (given the classes before it), within the class size and
    the training seats left."""
    weeks = len(required)
    starts = rules.allowed_starts(weeks)
    base, _ = team.current(weeks)
    productive, _, training = team.per_hire(weeks, starts)
    hires = np.zeros(len(starts))
    for j, start in enumerate(starts):
        full = min(start + team.ramp.weeks_to_full - 1, weeks) - 1  # row of that week
        shortfall = required[full] - base[full] - productive[full] @ hires
        if shortfall <= 0 or productive[full, j] <= 0:
            continue
        in_training = training[:, j] > 0  # the class's own training weeks
        seats = (
            np.inf
            if rules.training_capacity is None
            else rules.training_capacity - (training @ hires)[in_training].max()
        )
        heads = min(np.ceil(shortfall / productive[full, j]), rules.max_class, seats)
        hires[j] = max(heads, rules.min_class) if heads > 0 else 0
    return hires


def run_queue(q: Queue, repeats: int, seed: int) -> tuple[dict, pd.DataFrame, pd.DataFrame, list[str]]:
    """One queue through every stage, timed; and the two baselines beside the plan."""
    (p50, p80), t_req = best_of(lambda: requirements(q), repeats)
    plan, t_plan = best_of(lambda: plan_hiring(p50.fte, q.team, q.rules), repeats)
    mc, t_mc = best_of(
        lambda: simulate_supply(q.team, plan.classes, WEEKS, SIMULATIONS, seed).summary(
            plan, q.rules.overtime_share
        ),
        repeats,
    )
    sens, t_sens = best_of(lambda: sensitivity_table(q, p50.fte), 1)
    hires_by_start = pd.Series(0.0, index=q.rules.allowed_starts(WEEKS))
    hires_by_start[plan.classes["start_week"].to_numpy()] = plan.classes["hires"].to_numpy()
    ours = evaluate(hires_by_start.to_numpy(), p50.fte, q.team, q.rules)
    if abs(ours["cost"] - plan.cost["total"]) > 1e-6 * plan.cost["total"]:
        print(
            f"{q.name}: the evaluation's cost {ours['cost']:,.0f} is not the plan's {plan.cost['total']:,.0f}"
        )
    methods = [{"queue": q.name, "method": "integer program (plan_hiring)", **ours, "seconds": t_plan}]
    for name, planner in (
        ("LP relaxation, rounded up", lp_rounded),
        ("naive: shortfall at full productivity", naive),
    ):
        hires, seconds = best_of(lambda planner=planner: planner(p50.fte, q.team, q.rules), repeats)
        methods.append(
            {"queue": q.name, "method": name, **evaluate(hires, p50.fte, q.team, q.rules), "seconds": seconds}
        )
    same = relaxation(p50.fte, q.team, q.rules, integer=True)  # the restatement, whole classes
    check = evaluate(np.round(same), p50.fte, q.team, q.rules)["cost"]
    row = {
        "queue": q.name,
        "contacts/week": round(q.volume.mean()),
        "AHT s": round(q.aht),
        "team now": sum(c.heads for c in q.team.cohorts),
        "peak FTE P50": p50.fte.max(),
        "peak FTE P80": p80.fte.max(),
        "requirement s": t_req,
        "plan s": t_plan,
        "Monte Carlo s": t_mc,
        "sensitivity s": t_sens,
        "hires": plan.hires,
        "classes": len(plan.classes),
        "weeks short": int((plan.weeks["gap"] > COVERED).sum()),
        "min chance covered": mc["chance_covered"].min(),
        "mean chance covered": mc["chance_covered"].mean(),
        "restated / plan cost": check / plan.cost["total"],
    }
    return row, pd.DataFrame(methods), sens.assign(queue=q.name), plan.notes


def one_pass(queues: list[Queue], seed: int) -> tuple[float, float]:
    """Wall seconds of requirement + plan for all queues, and of every stage, in one pass."""
    started = time.perf_counter()
    plans = []
    for q in queues:
        p50, _ = requirements(q)
        plans.append((q, p50, plan_hiring(p50.fte, q.team, q.rules)))
    planned = time.perf_counter() - started
    for q, p50, plan in plans:
        simulate_supply(q.team, plan.classes, WEEKS, SIMULATIONS, seed).summary(plan, q.rules.overtime_share)
        sensitivity_table(q, p50.fte)
    return planned, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per cheap stage")
    args = parser.parse_args()
    queues = make_queues(args.seed)
    q0 = queues[0]
    print(
        f"{len(queues)} queues, {WEEKS} weeks, {len(CANDIDATE_STARTS)} candidate class starts "
        f"(weeks {CANDIDATE_STARTS[0]}-{CANDIDATE_STARTS[-1]}; {len(q0.rules.allowed_starts(WEEKS))} inside the plan), "
        f"{int(q0.shape.open.sum())} open 30-minute slots a week"
    )
    rows, methods, tables, notes = [], [], [], []
    for q in queues:
        row, method, sens, note = run_queue(q, args.repeats, args.seed)
        rows.append(row)
        methods.append(method)
        tables.append(sens)
        notes += [f"{q.name}: {n}" for n in note]
    stages = pd.DataFrame(rows)
    timed = ["requirement s", "plan s", "Monte Carlo s", "sensitivity s"]
    stages["total s"] = stages[timed].sum(axis=1)
    summed = ["contacts/week", "team now", "peak FTE P50", "peak FTE P80", *timed, "total s"]
    total = pd.DataFrame([{"queue": "all 5", **stages[summed].sum().to_dict()}])
    speed = pd.concat([stages[["queue", *summed]], total], ignore_index=True)
    speed.insert(2, "AHT s", [*stages["AHT s"], ""])
    print(f"\nseconds per stage (best of {args.repeats}; sensitivity once)\n")
    print(speed.to_markdown(index=False, floatfmt=("", ",.0f", "", ",.0f", ",.1f", ",.1f", *[".3f"] * 5)))
    plans = stages[["queue", "hires", "classes", "weeks short", "min chance covered", "mean chance covered"]]
    print("\nthe plans (P50 requirement; chance covered: Monte Carlo of attrition, per week)\n")
    print(plans.to_markdown(index=False, floatfmt=".2f"))
    ratio = stages["restated / plan cost"]
    print(
        f"\nthe baseline's restated program with whole classes costs {ratio.min():.5f}-{ratio.max():.5f} "
        "times plan_hiring's plan (the restatement is the same program)"
    )

    planned, everything = one_pass(queues, args.seed)
    verdict = "within" if planned < 5 else "OVER"
    print(
        f"\none pass, all 5 queues: requirement (P50, P80) + hiring plan {planned:.2f} s "
        f"({verdict} the 5 s bar); with Monte Carlo and sensitivity {everything:.2f} s"
    )

    by_method = pd.concat(methods)
    columns = [
        "cost",
        "cost beyond team pay",
        "hires",
        "classes",
        "weeks_short",
        "fte_weeks_short",
        "seconds",
    ]
    summary = by_method.groupby("method", sort=False)[columns].sum()
    beyond = summary["cost beyond team pay"]
    summary.insert(2, "vs integer program", (beyond / beyond.iloc[0] - 1).map("{:+.1%}".format))
    summary["over training seats"] = by_method.groupby("method", sort=False)["over_training"].sum()
    print(
        "\nall 5 queues by method, planned on the P50 requirement (cost: pay of the team and the hires, "
        "recruiting, classes, overtime, outsourcing; beyond team pay: what the plan decides)\n"
    )
    print(
        summary.reset_index().to_markdown(
            index=False, floatfmt=(",.0f", ",.0f", ",.0f", "", *[",.0f"] * 4, ".3f")
        )
    )
    print("\nper queue\n")
    print(
        by_method[["queue", "method", *columns]].to_markdown(
            index=False, floatfmt=("", "", ",.0f", ",.0f", ",.0f", ",.0f", ",.0f", ",.1f", ".3f")
        )
    )
    largest = tables[int(np.argmax([q.volume.mean() for q in queues]))]
    print("\nsensitivity of the largest queue\n")
    print(largest.drop(columns="queue").to_markdown(index=False, floatfmt=",.0f"))
    if notes:
        print("\nweeks the plans leave short:\n" + "\n".join(notes))
    print(f"\nload average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
