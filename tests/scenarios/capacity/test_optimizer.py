"""The hiring plan: the integer program's plan against a brute-force optimum, and the weeks it
cannot cover said with their reason."""

import itertools

import numpy as np
import pytest

from scenarios.capacity.optimizer import HiringRules, plan_hiring
from scenarios.capacity.workforce import Attrition, Cohort, Ramp, Workforce

TEAM = Workforce((Cohort(30),), Attrition((0.06, 0.03), (0, 8)), Ramp(2, (0.5,)))
RULES = HiringRules(
    starts=(1, 4, 7, 10),
    max_class=4,
    lead_weeks=0,
    cost_per_hire=3.0,
    cost_per_fte_week=1.0,
    overtime_share=0.05,
    overtime_cost_per_fte_week=1.5,
    outsourcing_fte=1.5,
    outsourcing_cost_per_fte_week=1.3,
    surplus_cost_per_fte_week=0.2,
)


def brute_force(required, team, rules):
    """Every class-size combination; per week, the cheapest way to fill what is left (outsourcing
    before overtime, each within its cap); combinations that leave a week short are out."""
    weeks = len(required)
    starts = rules.allowed_starts(weeks)
    base, _ = team.current(weeks)
    productive, paid, _ = team.per_hire(weeks, starts)
    cheap, dear = sorted(
        [("out", rules.outsourcing_cost_per_fte_week), ("ot", rules.overtime_cost_per_fte_week)],
        key=lambda kv: kv[1],
    )
    best = (np.inf, None)
    for sizes in itertools.product(range(rules.max_class + 1), repeat=len(starts)):
        x = np.array(sizes, float)
        prod = base + productive @ x
        cost = rules.cost_per_hire * x.sum() + rules.cost_per_fte_week * (paid @ x).sum()
        caps = {"out": np.full(weeks, rules.outsourcing_fte), "ot": rules.overtime_share * prod}
        short = required - prod
        cost += rules.surplus_cost_per_fte_week * np.maximum(-short, 0).sum()
        left = np.maximum(short, 0)
        for name, price in (cheap, dear):
            used = np.minimum(left, caps[name])
            cost += price * used.sum()
            left = left - used
        if (left > 1e-9).any():
            continue
        if cost < best[0]:
            best = (cost, sizes)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_plan_is_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    weeks = 14
    required = 27 + np.cumsum(rng.uniform(0, 0.8, weeks))  # a growing requirement with noise
    cost, sizes = brute_force(required, TEAM, RULES)
    assert sizes is not None, "the case has a feasible plan"
    plan = plan_hiring(required, TEAM, RULES, gap=0.0)
    assert plan.covered
    solver_cost = plan.cost["total"] - plan.cost["team_pay"]
    assert solver_cost == pytest.approx(cost, rel=1e-6)
    # the plan's own table adds up
    w = plan.weeks
    assert (w["covered_fte"] - w["surplus_fte"] + w["gap"]).to_numpy() == pytest.approx(required)
    assert (w["overtime_fte"] <= RULES.overtime_share * w["productive_fte"] + 1e-6).all()
    assert (w["outsourcing_fte"] <= RULES.outsourcing_fte + 1e-6).all()


def test_classes_respect_size_limits_and_training_capacity():
    team = Workforce((Cohort(56),), Attrition((0.04,)), Ramp(4, (0.5, 0.75)))
    required = np.linspace(50, 80, 40)
    rules = HiringRules(starts=tuple(range(1, 41, 2)), max_class=12, min_class=5, training_capacity=15)
    plan = plan_hiring(required, team, rules)
    assert plan.covered
    assert plan.classes["hires"].between(5, 12).all()
    assert (plan.weeks["trainees"] <= 15 + 1e-9).all()
    assert set(plan.classes["start_week"]) <= set(rules.starts)


def test_uncoverable_weeks_are_named_with_the_reason():
    team = Workforce((Cohort(10),), Attrition((0.0,)), Ramp(4, ()))
    required = np.array([10, 10] + [14] * 10, float)
    rules = HiringRules(starts=tuple(range(1, 13)), lead_weeks=2)
    plan = plan_hiring(required, team, rules)
    assert not plan.covered
    short = plan.weeks.loc[plan.weeks["gap"] > 0, "week"].tolist()
    assert short == [3, 4, 5, 6]  # a class starting week 3 takes calls from week 7
    assert len(plan.notes) == 1
    note = plan.notes[0]
    assert note.startswith("weeks 3-6: short by up to 4.0 FTE")
    assert "no class can be productive before week 7" in note
    assert "2 weeks of recruiting lead time" in note
    # from week 7 the plan covers, with the fewest hires that do
    assert plan.hires == 4


def test_no_start_week_in_the_plan_is_said():
    team = Workforce((Cohort(10),), Attrition((0.03,)), Ramp(4, ()))
    plan = plan_hiring(np.full(8, 10.0), team, HiringRules(starts=(1, 2), lead_weeks=3))
    assert not plan.covered
    assert "no class can start within the plan" in plan.notes[0]


def test_full_classes_are_named_as_the_limit():
    team = Workforce((Cohort(10),), Attrition((0.0,)), Ramp(1, ()))
    required = np.array([10] * 4 + [40] * 6, float)
    plan = plan_hiring(required, team, HiringRules(starts=(1, 2), max_class=5))
    assert not plan.covered
    assert "maximum size (5)" in plan.notes[0]


def test_weeks_that_cannot_be_covered_do_not_loosen_the_cost():
    """The penalty of uncovered weeks dwarfs the real cost: the plan's cost is still within its
    gap of the least cost among the plans that leave the least uncovered."""
    team = Workforce((Cohort(40),), Attrition((0.06, 0.03), (0, 13)), Ramp(4, (0.5, 0.75)))
    rng = np.random.default_rng(4)
    required = np.concatenate([[46.0] * 4, 46 + np.cumsum(rng.uniform(0, 0.9, 26))])  # short at once
    rules = HiringRules(
        starts=tuple(range(3, 31, 3)),
        max_class=6,
        min_class=2,
        cost_per_hire=5.0,
        overtime_share=0.05,
        outsourcing_fte=1.0,
    )
    quick = plan_hiring(required, team, rules, gap=1e-3)
    exact = plan_hiring(required, team, rules, gap=0.0, time_limit=120)
    assert not quick.covered
    assert quick.weeks["gap"].sum() == pytest.approx(exact.weeks["gap"].sum(), abs=1e-4)
    quick_cost = quick.cost["total"] - quick.cost["team_pay"]
    exact_cost = exact.cost["total"] - exact.cost["team_pay"]
    assert quick_cost <= exact_cost * (1 + 1.1e-3)
