"""Required FTE by week against DOMAIN.md's Erlang C reference, and the Monte Carlo of supply
against the deterministic plan."""

import numpy as np
import pandas as pd
import pytest

from scenarios.capacity.optimizer import HiringRules, plan_hiring
from scenarios.capacity.requirement import WeekShape, growth_factor, required_fte, volume_quantile
from scenarios.capacity.risk import Case, sensitivity, simulate_supply
from scenarios.capacity.workforce import Attrition, Cohort, Ramp, Workforce
from scenarios.service.staffing_plan import StaffingOptions
from scenarios.staffing.requirements import StaffingTargets

SLOTS = 7 * 48  # 30-minute slots of a week
EIGHTY_TWENTY = StaffingOptions(StaffingTargets(service_level=0.8, target_seconds=20))


def flat_shape(open_slots: int = 80) -> WeekShape:
    shares = np.zeros(SLOTS)
    open_idx = np.concatenate([np.arange(d * 48 + 18, d * 48 + 34) for d in range(5)])[:open_slots]
    shares[open_idx] = 1 / open_slots
    return WeekShape(shares, 1800.0)


def test_a_week_of_domain_intervals_needs_fourteen_agents_each():
    # 100 calls per 30 minutes, AHT 180 s, 80/20: 14 agents (DOMAIN.md reference table)
    req = required_fte([8000.0, 8000.0], flat_shape(), 180.0, EIGHTY_TWENTY, 0.3, 37.5)
    assert req.peak_agents.tolist() == [14, 14]
    assert req.agent_hours == pytest.approx([80 * 14 * 0.5] * 2)
    assert req.fte == pytest.approx([80 * 14 * 0.5 / 0.7 / 37.5] * 2)


def test_peaks_drive_agents_not_the_weekly_workload():
    peaky = np.zeros(SLOTS)
    idx = np.flatnonzero(flat_shape().shares)
    peaky[idx] = np.where(np.arange(len(idx)) % 4 == 0, 4.0, 1.0)
    peaky /= peaky.sum()
    flat = required_fte([8000.0], flat_shape(), 180.0, EIGHTY_TWENTY, 0.0, 37.5)
    peaks = required_fte([8000.0], WeekShape(peaky, 1800.0), 180.0, EIGHTY_TWENTY, 0.0, 37.5)
    workload_hours = 8000 * 180 / 3600  # the week's work, were agents busy every minute
    assert flat.agent_hours[0] > workload_hours * 1.3
    assert peaks.agent_hours[0] > workload_hours * 1.3
    assert peaks.peak_agents[0] > 1.5 * flat.peak_agents[0]  # the busiest interval sets the peak


def test_shrinkage_by_week_and_growth():
    req = required_fte([8000.0, 8000.0], flat_shape(), 180.0, EIGHTY_TWENTY, [0.3, 0.4], 37.5)
    assert req.fte[1] / req.fte[0] == pytest.approx(0.7 / 0.6)
    assert growth_factor(52, 15)[-1] == pytest.approx(1.15)
    assert volume_quantile([100.0], [10.0], 0.8)[0] == pytest.approx(100 + 0.8416212 * 10)


def test_monte_carlo_mean_matches_the_deterministic_plan():
    team = Workforce(
        (Cohort(80), Cohort(12, tenure_weeks=5)), Attrition((0.08, 0.03), (0, 13)), Ramp(3, (0.5, 0.8))
    )
    required = np.linspace(80, 100, 52)
    plan = plan_hiring(required, team, HiringRules(starts=tuple(range(1, 53, 4)), max_class=12))
    draws = simulate_supply(team, plan.classes, 52, simulations=4000, seed=1)
    summary = draws.summary(plan)
    expected = plan.weeks["productive_fte"].to_numpy()
    z = (summary["productive_fte_mean"] - expected) / summary["productive_fte_se"]
    assert (np.abs(z) < 4.5).all()
    assert abs(z.mean()) < 1.0  # no bias across weeks
    assert summary["chance_covered"].between(0, 1).all()
    assert (summary["productive_fte_p10"] <= summary["productive_fte_p90"]).all()


def test_chance_covered_is_sure_with_room_to_spare_and_even_when_planned_exactly():
    team = Workforce((Cohort(100),), Attrition((0.03,)), Ramp(4, ()))
    plan = plan_hiring(np.full(20, 50.0), team, HiringRules(starts=(1,)))
    summary = simulate_supply(team, plan.classes, 20, simulations=500).summary(plan)
    assert (summary["chance_covered"] == 1.0).all()
    tight = plan_hiring(np.full(20, 100.0) * 0.99, team, HiringRules(starts=tuple(range(1, 21))))
    chance = simulate_supply(team, tight.classes, 20, simulations=2000).summary(tight)["chance_covered"]
    assert 0.2 < chance.iloc[-1] < 0.95  # planned to the expected leavers: about a coin toss


def test_sensitivity_moves_hires_the_right_way():
    team = Workforce((Cohort(64),), Attrition((0.03,)), Ramp(2, (0.5,)))
    required = np.linspace(60, 75, 40)
    rules = HiringRules(starts=tuple(range(1, 41, 2)))
    cases = [
        Case("base", required, team),
        Case("attrition +2 points", required, team.with_attrition(team.attrition.shifted(0.02))),
        Case("volume +10 %", required * 1.1, team),
    ]
    table = sensitivity(cases, rules)
    assert isinstance(table, pd.DataFrame)
    assert table.loc[0, "hires_vs_base"] == 0
    assert table.loc[1, "hires"] > table.loc[0, "hires"]
    assert table.loc[2, "hires"] > table.loc[0, "hires"]
    assert table.loc[0, "weeks_short"] == 0
