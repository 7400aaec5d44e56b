"""Chat concurrency and deferred work against hand computations."""

import numpy as np
import pytest

from scenarios.staffing.backlog import backlog_required_agents, backlog_simulation
from scenarios.staffing.chat import chat_required_agents, chat_service, effective_chat_aht
from scenarios.staffing.requirements import StaffingTargets, required_agents


def test_effective_aht_is_longer_than_aht_over_k():
    for k, e in enumerate((1.0, 1.7, 2.5, 2.9, 3.5), start=1):
        assert effective_chat_aht(600, k) == pytest.approx(600 * k / e)
        assert effective_chat_aht(600, k) >= 600 / k
    with pytest.raises(ValueError):
        effective_chat_aht(600, 6)


def test_chat_agents_are_slots_over_concurrency():
    targets = StaffingTargets(service_level=0.8, target_seconds=60)
    slots = required_agents(100, 600 * 2 / 1.7, 1800, targets)
    assert chat_required_agents(100, 600, 1800, targets, 2) == int(np.ceil(slots / 2))
    assert chat_required_agents(100, 600, 1800, targets, 2) < chat_required_agents(100, 600, 1800, targets, 1)
    m = chat_service(100, 600, 1800, chat_required_agents(100, 600, 1800, targets, 3), 60, 3)
    assert m["service_level"] >= 0.8


def test_backlog_carries_over_closed_hours_oldest_first():
    arrivals = np.array([10, 10, 0, 0, 10, 10], float)
    sim = backlog_simulation(arrivals, 360, np.array([1, 1, 0, 0, 1, 1]), 1800, 7200)
    # capacity 5 items per open interval; hand-computed FIFO
    np.testing.assert_array_equal(sim["handled"], [5, 5, 0, 0, 5, 5])
    np.testing.assert_array_equal(sim["backlog"], [5, 10, 10, 10, 15, 20])
    np.testing.assert_array_equal(sim["oldest_age_seconds"], [1800, 1800, 3600, 5400, 7200, 3600])
    # deadline 2 h = 4 intervals; surely in time if done by the end of interval i + 3
    np.testing.assert_allclose(sim["answered_in_time"][[0, 1, 4, 5]], [1.0, 0.5, 0.0, 0.0])


def test_backlog_requirement_meets_its_target():
    rng = np.random.default_rng(1)
    arrivals = rng.poisson(20, 48 * 7).astype(float)
    open_mask = np.tile(np.r_[np.zeros(16), np.ones(20), np.zeros(12)], 7).astype(bool)  # 08:00–18:00
    agents = backlog_required_agents(arrivals, 300, open_mask, 1800, 4 * 3600)
    assert (agents[~open_mask] == 0).all()
    sim = backlog_simulation(arrivals, 300, agents, 1800, 4 * 3600)
    index = np.arange(len(arrivals))
    # arrivals that can be on time: deadline (i + 7) inside the horizon and an opening in [i, i + 7]
    reachable = np.array([open_mask[i : i + 8].any() for i in index]) & (index + 7 < len(arrivals))
    assert np.nanmin(sim["answered_in_time"][reachable & (arrivals > 0)]) >= 1 - 1e-9
    due = reachable
    fewer = backlog_simulation(arrivals, 300, np.maximum(agents - 1, 0), 1800, 4 * 3600)
    assert np.nanmean(fewer["answered_in_time"][due]) < 1


def test_starting_backlog_is_worked_first():
    """12 items waiting at the start, then 4 per interval, capacity 5: a hand-computed FIFO."""
    arrivals = np.array([4, 4, 4, 4, 4, 4], float)
    sim = backlog_simulation(arrivals, 360, np.ones(6), 1800, 3600, initial=12)
    np.testing.assert_array_equal(sim["handled"], [5, 5, 5, 5, 5, 5])
    np.testing.assert_array_equal(sim["backlog"], [11, 10, 9, 8, 7, 6])
    # deadline 1 h = 2 intervals: interval i's items (numbers 12 + 4i + 1 … 12 + 4i + 4) are
    # surely on time if handled by the end of interval i + 1 (5 (i + 2) handled by then)
    expected = [np.clip((5 * (i + 2) - (12 + 4 * i)) / 4, 0, 1) for i in range(5)]
    np.testing.assert_allclose(sim["answered_in_time"][:5], expected)
    without = backlog_simulation(arrivals, 360, np.ones(6), 1800, 3600)
    assert (without["answered_in_time"][:5] == 1).all()


def test_requirement_clears_a_starting_backlog_within_the_target():
    rng = np.random.default_rng(4)
    arrivals = rng.poisson(6, 48 * 3).astype(float)
    open_mask = np.tile(np.r_[np.zeros(16), np.ones(20), np.zeros(12)], 3).astype(bool)
    plain = backlog_required_agents(arrivals, 600, open_mask, 1800, 4 * 3600)
    agents = backlog_required_agents(arrivals, 600, open_mask, 1800, 4 * 3600, initial=200)
    # the extra work (200 × 600 s = 66.7 agent-intervals) within the target's 8 intervals from
    # the opening, spread over them rather than piled on the first; the rest as before
    first_open = int(np.flatnonzero(open_mask)[0])
    window = slice(first_open, first_open + 8)
    assert agents[window].sum() - plain[window].sum() == pytest.approx(200 * 600 / 1800, abs=2)
    assert (agents - plain)[window].max() <= np.ceil(200 * 600 / 1800 / 8) + 2
    assert abs(agents[first_open + 8 :].sum() - plain[first_open + 8 :].sum()) <= 2
    sim = backlog_simulation(arrivals, 600, agents, 1800, 4 * 3600, initial=200)
    # the 200 waiting items are gone within the target (8 intervals) of the first opening
    assert sim["backlog"][first_open + 7] <= arrivals[first_open : first_open + 8].sum() + 1e-9
    assert np.nanmin(sim["answered_in_time"][first_open : first_open + 20]) >= 1 - 1e-9
