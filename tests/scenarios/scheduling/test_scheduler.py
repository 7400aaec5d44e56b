"""Shift schedules: the integer program against a brute-force optimum on small weeks, every
template rule held in the output, and the intervals no template can cover said in words."""

import itertools

import numpy as np
import pytest

from scenarios.scheduling.scheduler import DAYS, ScheduleRules, schedule_week
from scenarios.scheduling.shifts import Break, ShiftTemplate, variants, week_cover

HOURLY = 60
SLOTS = 24  # hours of a day


def small_week(seed: int) -> np.ndarray:
    """0-2 agents an hour from 08:00 to 16:00, fewer at the weekend."""
    rng = np.random.default_rng(seed)
    week = np.zeros(7 * SLOTS)
    for d in range(7):
        week[d * SLOTS + 8 : d * SLOTS + 16] = rng.integers(0, 3 if d < 5 else 2, 8)
    return week


def brute_force(required: np.ndarray, template: ShiftTemplate) -> float:
    """Fewest agents (all paid alike) over every days-off pattern mix of up to 5 agents each:
    a mix works when each day has at least the fewest agents some choice of starts needs to
    cover that day (more never hurts: no cap on duty here)."""
    shifts = variants(template, 0, HOURLY)
    covers = np.array([week_cover(v, 0, SLOTS)[:SLOTS] for v in shifts])
    day_need = required.reshape(7, SLOTS)
    fewest = np.full(7, np.inf)
    for d in range(7):
        for k in range(0, 13):
            splits = [c for c in itertools.product(range(k + 1), repeat=len(shifts)) if sum(c) == k]
            if any((np.asarray(c) @ covers >= day_need[d]).all() for c in splits):
                fewest[d] = k
                break
    patterns = template.off_patterns()
    mixes = np.array(list(itertools.product(range(6), repeat=len(patterns))))
    working = mixes @ patterns
    ok = (working >= fewest).all(axis=1)
    return float(mixes[ok].sum(axis=1).min())


@pytest.mark.parametrize("seed", [0, 1])
def test_the_schedule_is_the_brute_force_optimum(seed):
    template = ShiftTemplate("4h", 4, 8, 12, 120, days_per_week=5)  # starts 08:00, 10:00, 12:00
    required = small_week(seed)
    best = brute_force(required, template)
    schedule = schedule_week(required, ScheduleRules((template,), HOURLY), gap=0.0)
    assert schedule.covered
    assert schedule.summary["agents"] == best
    assert schedule.summary["paid_hours"] == best * 5 * 4


def test_every_template_rule_holds_in_the_schedule():
    step = 30
    slots = 48
    t = np.arange(slots) / 2
    day = np.where((t >= 7) & (t < 21), 6 + 8 * np.exp(-(((t - 11) / 2.5) ** 2)), 0).round()
    required = np.concatenate([day * f for f in (1.1, 1, 1, 1, 0.9, 0.5, 0.3)]).round()
    full = ShiftTemplate("full", 8.5, 6, 12.5, 30, (Break(30, 3, 5),), 5, cost_per_hour=30)
    part = ShiftTemplate(
        "part", 4, 9, 17, 60, (), 4, consecutive_days_off=False, part_time=True, cost_per_hour=27
    )
    rules = ScheduleRules((full, part), step, max_part_time_share=0.3)
    s = schedule_week(required, rules, gap=1e-4)
    assert s.covered
    on_duty = s.coverage["on_duty"].to_numpy()
    assert (on_duty >= required - 1e-9).all()
    agents = s.patterns.groupby("template")["agents"].sum()
    assert agents.get("part", 0) <= 0.3 * agents.sum() + 1e-9
    for row in s.shifts.itertuples():
        tpl = full if row.template == "full" else part
        h, m = map(int, row.start.split(":"))
        assert tpl.earliest_start <= h + m / 60 <= tpl.latest_start
        assert (h * 60 + m - round(tpl.earliest_start * 60)) % tpl.start_step_minutes == 0
        if tpl.breaks:
            bh, bm = map(int, row.breaks.split(":"))
            after = (bh * 60 + bm - (h * 60 + m)) / 60
            assert tpl.breaks[0].earliest <= after <= tpl.breaks[0].latest
    for row in s.patterns.itertuples():
        worked = row.days_worked.split(", ")
        tpl = full if row.template == "full" else part
        assert len(worked) == tpl.days_per_week
        if tpl.consecutive_days_off:
            off = [i for i, d in enumerate(DAYS) if d[:3] not in worked]
            assert (off[1] - off[0]) % 7 in (1, 6)
    # each day, a template's shifts equal its agents working that day
    for name in ("full", "part"):
        per_day = s.shifts[s.shifts["template"] == name].groupby("day")["agents"].sum()
        for d in DAYS:
            on = s.patterns[(s.patterns["template"] == name) & s.patterns["days_worked"].str.contains(d[:3])]
            assert per_day.get(d, 0) == on["agents"].sum()
    # the cost is the paid hours at each template's rate
    assert s.summary["cost"] == pytest.approx(
        (s.shifts["paid_hours"] * s.shifts["template"].map({"full": 30, "part": 27})).sum()
    )


def test_intervals_no_template_covers_are_named():
    required = np.zeros(7 * SLOTS)
    for d in range(5):
        required[d * SLOTS + 8 : d * SLOTS + 16] = 1  # weekdays 08:00-16:00
    required[SLOTS * 2 + 5 : SLOTS * 2 + 7] = 2  # Wednesday 05:00-07:00: before any start
    template = ShiftTemplate("8h", 8, 8, 9, 60)
    s = schedule_week(required, ScheduleRules((template,), HOURLY))
    assert not s.covered
    assert s.notes == [
        "Wednesday 05:00-07:00: short by up to 2 agents: no shift template works then (8h starts 08:00-09:00, 8 h)"
    ]
    assert s.coverage["short"].sum() == 4  # nothing else is short


def test_a_headcount_cap_leaves_the_least_weighted_shortfall():
    required = np.zeros(7 * SLOTS)
    for d in range(5):
        required[d * SLOTS + 8 : d * SLOTS + 16] = 3
    template = ShiftTemplate("8h", 8, 8, 8, 60, days_per_week=5)
    s = schedule_week(required, ScheduleRules((template,), HOURLY, max_agents=2))
    assert s.summary["agents"] == 2
    assert s.summary["short_agent_hours"] == 5 * 8  # one agent short every weekday hour
    assert any("headcount cap (2 agents)" in n for n in s.notes)


def test_closed_days_are_days_off_and_too_few_open_days_are_said():
    required = np.zeros(7 * SLOTS)
    for d in range(5):
        required[d * SLOTS + 8 : d * SLOTS + 16] = 2
    five = ShiftTemplate("8h", 8, 8, 8, 60, days_per_week=5)
    s = schedule_week(required, ScheduleRules((five,), HOURLY))
    assert s.covered and s.summary["agents"] == 2
    assert set(s.shifts["day"]) <= set(DAYS[:5])  # nobody works the closed weekend
    required[3 * SLOTS : 5 * SLOTS] = 0  # open Monday to Wednesday only
    s = schedule_week(required, ScheduleRules((five,), HOURLY))
    assert not s.covered
    assert s.notes[0].startswith("template 8h works 5 days a week but only 3 days need agents")


def test_starts_off_the_grid_move_to_the_next_interval():
    t = ShiftTemplate("x", 8, 7.25, 9.0, 45)
    assert t.starts(30).tolist() == [450, 510]  # 07:30 and 08:30: the step rounded up to the grid
    assert ShiftTemplate("y", 8, 7, 8, 30).starts(15).tolist() == [420, 450, 480]
