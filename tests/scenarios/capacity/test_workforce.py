"""The supply model against the check values of ../shared/DOMAIN.md (computed independently)."""

import numpy as np
import pytest

from scenarios.capacity.workforce import Attrition, Cohort, Ramp, Transfer, Workforce, weekly_survival

DOMAIN_RAMP = Ramp(training_weeks=4, ramp=(0.5, 0.5, 0.75, 0.75))


def test_monthly_attrition_to_weekly_survival():
    assert weekly_survival(0.03) == pytest.approx(0.9929956, abs=5e-8)
    assert 1 - weekly_survival(0.03) == pytest.approx(0.0070044, abs=5e-8)


def test_hundred_agents_without_hiring_after_52_weeks():
    team = Workforce((Cohort(100),), Attrition((0.03,)), DOMAIN_RAMP)
    productive, paid = team.current(52)
    assert paid[-1] == pytest.approx(69.38424, abs=5e-6)
    assert productive[-1] == pytest.approx(69.38424, abs=5e-6)  # experienced: fully productive


def test_a_class_of_twenty_ramps_up_as_domain_says():
    team = Workforce((), Attrition((0.03,)), DOMAIN_RAMP)
    productive, paid, training = team.per_hire(10, [1])
    expected = [0, 0, 0, 0, 9.655, 9.587, 14.280, 14.180, 18.774, 18.642]
    assert 20 * productive[:, 0] == pytest.approx(expected, abs=5e-4)
    assert training[:, 0].tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    s = weekly_survival(0.03)
    assert 20 * paid[:, 0] == pytest.approx(20 * s ** np.arange(1, 11))


def test_a_later_class_is_the_same_class_shifted():
    team = Workforce((), Attrition((0.06, 0.03), (0, 13)), DOMAIN_RAMP)
    productive, _, _ = team.per_hire(30, [1, 6])
    assert productive[:5, 1].sum() == 0
    assert productive[5:, 1] == pytest.approx(productive[:25, 0])


def test_new_hires_leave_faster_by_tenure_band():
    bands = Attrition((0.06, 0.03), (0, 13))
    assert bands.survival(13) == pytest.approx(weekly_survival(0.06) ** 13)
    assert bands.survival(20) == pytest.approx(weekly_survival(0.06) ** 13 * weekly_survival(0.03) ** 7)
    # a cohort hired 10 weeks ago spends 3 more weeks in the fast band
    team = Workforce((Cohort(50, tenure_weeks=10),), bands, DOMAIN_RAMP)
    _, paid = team.current(5)
    expected = 50 * np.array([bands.survival(10 + w) / bands.survival(10) for w in range(1, 6)])
    assert paid == pytest.approx(expected)
    assert paid[2] == pytest.approx(50 * weekly_survival(0.06) ** 3)


def test_cohorts_in_training_are_paid_not_productive_and_part_time_counts_half():
    team = Workforce(
        (Cohort(10, tenure_weeks=1), Cohort(4, fte_per_head=0.5)), Attrition((0.0,)), DOMAIN_RAMP
    )
    productive, paid = team.current(9)
    assert paid == pytest.approx(np.full(9, 12.0))
    # the trainees are in tenure weeks 2..10: 0 0 0 0.5 0.5 0.75 0.75 1 1
    assert productive - 2 == pytest.approx(10 * np.array([0, 0, 0, 0.5, 0.5, 0.75, 0.75, 1, 1]))


def test_transfers_add_or_remove_experienced_fte_from_their_week():
    team = Workforce(
        (Cohort(20),), Attrition((0.0,)), DOMAIN_RAMP, transfers=(Transfer(3, 5), Transfer(6, -2))
    )
    productive, _ = team.current(8)
    assert productive.tolist() == [20, 20, 25, 25, 25, 23, 23, 23]


def test_bad_bands_are_refused():
    with pytest.raises(ValueError):
        Attrition((0.03, 0.02), (5, 13))
    with pytest.raises(ValueError):
        Attrition((1.2,))
