"""The week's schedule: how many agents work each shift on each day, and on which days off
pattern, so that the agents on duty cover the requirement in every interval at least cost.

Set covering over shift patterns (Dantzig 1954) in its implicit tour form: ``x[d, v]`` agents
work variant ``v`` (a template's start and break placement) on day ``d``; ``y[t, p]`` agents of
template ``t`` follow days-off pattern ``p``; on each day a template's shifts equal the agents
whose pattern works that day. Solved with HiGHS (``scipy.optimize.milp``). With a headcount
cap the program instead minimises the weighted intervals' shortfall and surplus. Intervals no
schedule can cover are left short at a prohibitive cost and said in words, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from scenarios.scheduling.shifts import MINUTES_PER_DAY, ShiftTemplate, Variant, variants, week_cover

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT = 1e-6
MAX_SHIFTS_A_DAY = 5000  # start and break placements of all templates: beyond, the program gets slow


@dataclass(frozen=True)
class ScheduleRules:
    templates: tuple[ShiftTemplate, ...]
    interval_minutes: int = 30
    max_part_time_share: float | None = None  # of the agents
    max_agents: int | None = None  # a headcount cap: then the least weighted under- and over-coverage
    under_weight: float = 10.0  # per agent-interval short (with a headcount cap)
    over_weight: float = 1.0  # per agent-interval beyond the requirement (with a headcount cap)
    min_on_duty: np.ndarray | None = None  # per interval of the week, at least (e.g. 2 for safety)
    max_on_duty: np.ndarray | None = None  # per interval of the week, at most (seats)


@dataclass(frozen=True)
class Schedule:
    shifts: pd.DataFrame  # template, day, start, end, breaks, agents
    patterns: pd.DataFrame  # template, days worked, days off, agents
    coverage: pd.DataFrame  # per interval of the week: required, on duty, short, over
    summary: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool((self.coverage["short"] <= SHORT).all())


def _clock(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def schedule_week(required, rules: ScheduleRules, time_limit: float = 60.0, gap: float = 1e-3) -> Schedule:
    """The least-cost week of shifts covering ``required`` (agents on duty per interval of the
    week, Monday 00:00 first: ``7 × 1440 / interval_minutes`` values)."""
    step = rules.interval_minutes
    slots = MINUTES_PER_DAY // step
    required = np.asarray(required, float)
    if required.shape != (7 * slots,):
        raise ValueError(
            f"a requirement per interval of the week: {7 * slots} values for {step}-minute intervals"
        )
    shifts: list[Variant] = [v for i, t in enumerate(rules.templates) for v in variants(t, i, step)]
    if len(shifts) > MAX_SHIFTS_A_DAY:
        counts = ", ".join(f"{t.name} {len(variants(t, i, step)):,}" for i, t in enumerate(rules.templates))
        raise ValueError(
            f"too many shifts: the templates allow {len(shifts):,} start and break placements a day ({counts})",
            f"at most {MAX_SHIFTS_A_DAY:,}: a larger start step, narrower start or break windows, or fewer breaks",
        )
    if not shifts:
        raise ValueError(
            "the templates allow no shift", "a start window with a start, and breaks that fit the shift"
        )
    n_t = len(rules.templates)
    patterns = [t.off_patterns() for t in rules.templates]
    n_v, n_x = len(shifts), 7 * len(shifts)
    n_y = sum(len(p) for p in patterns)
    n_i = 7 * slots
    # variables: x (day-major: d * n_v + v), y (per template's patterns), short, over
    n = n_x + n_y + 2 * n_i
    x0, y0, s0, o0 = 0, n_x, n_x + n_y, n_x + n_y + n_i
    template_of = np.array([v.template for v in shifts], int)
    rows_at, cols_at = (
        [],
        [],
    )  # the week's intervals each shift on each day covers (sparse: a shift is a few hours)
    for j, v in enumerate(shifts):
        worked = np.flatnonzero(v.cover)
        for d in range(7):
            rows_at.append((d * slots + worked) % n_i)
            cols_at.append(np.full(len(worked), d * n_v + j))
    rows_at, cols_at = np.concatenate(rows_at), np.concatenate(cols_at)
    cover = sparse.csr_matrix((np.ones(len(rows_at)), (rows_at, cols_at)), shape=(n_i, n_x))
    paid = np.array([t.paid_hours * t.cost_per_hour for t in rules.templates])
    y_template = np.concatenate([np.full(len(p), i) for i, p in enumerate(patterns)]).astype(int)

    cost = np.zeros(n)
    capped = rules.max_agents is not None
    days_worked = np.array([t.days_per_week for t in rules.templates])
    cost[y0:s0] = paid[y_template] * days_worked[y_template]  # a week of an agent's shifts
    if capped:
        scale = 1e-4 / max(cost[y0:s0].max(initial=1), 1e-9)  # cost only breaks ties
        cost[y0:s0] *= scale
        cost[s0:o0] = rules.under_weight
        cost[o0:] = rules.over_weight
    else:
        cost[s0:o0] = 100 * (cost[y0:s0].max(initial=1) + 1)  # a short interval costs more than an agent

    rows, lo, hi = [], [], []
    eye = sparse.identity(n_i, format="csr")
    # on duty + short - over = required (over >= 0: coverage above the requirement)
    rows.append(sparse.hstack([cover, sparse.csr_matrix((n_i, n_y)), eye, -eye]))
    lo.append(required)
    hi.append(required)
    # per template and day: its shifts = its agents whose pattern works that day
    link = sparse.lil_matrix((7 * n_t, n))
    for d in range(7):
        for j, v in enumerate(shifts):
            link[d * n_t + v.template, x0 + d * n_v + j] = 1
    col = y0
    for i, p in enumerate(patterns):
        for row in p:
            for d in np.flatnonzero(row):
                link[d * n_t + i, col] = -1
            col += 1
    rows.append(link.tocsr())
    lo.append(np.zeros(7 * n_t))
    hi.append(np.zeros(7 * n_t))
    agents_row = np.zeros((1, n))
    agents_row[0, y0:s0] = 1
    if capped:
        rows.append(sparse.csr_matrix(agents_row))
        lo.append([-np.inf])
        hi.append([float(rules.max_agents)])
    for i, t in enumerate(rules.templates):
        if t.max_agents is not None:
            row = np.zeros((1, n))
            row[0, y0:s0] = y_template == i
            rows.append(sparse.csr_matrix(row))
            lo.append([-np.inf])
            hi.append([float(t.max_agents)])
    part = np.array([t.part_time for t in rules.templates])
    if rules.max_part_time_share is not None and part.any():
        row = np.zeros((1, n))
        row[0, y0:s0] = part[y_template].astype(float) - rules.max_part_time_share
        rows.append(sparse.csr_matrix(row))
        lo.append([-np.inf])
        hi.append([0.0])
    on_duty = sparse.hstack([cover, sparse.csr_matrix((n_i, n_y + 2 * n_i))]).tocsr()
    if rules.min_on_duty is not None:
        rows.append(on_duty)
        lo.append(np.asarray(rules.min_on_duty, float))
        hi.append(np.full(n_i, np.inf))
    if rules.max_on_duty is not None:
        rows.append(on_duty)
        lo.append(np.full(n_i, -np.inf))
        hi.append(np.asarray(rules.max_on_duty, float))

    lb, ub = np.zeros(n), np.full(n, np.inf)
    # no shift where it would cover no interval that needs an agent: a closed day is a day off
    needed = (required > 0) | (
        np.zeros(n_i, bool) if rules.min_on_duty is None else np.asarray(rules.min_on_duty) > 0
    )
    useful = np.asarray((cover.T @ needed.astype(float)) > 0).ravel()
    ub[x0:y0][~useful] = 0
    integrality = np.zeros(n)
    integrality[:s0] = 1
    result = milp(
        cost,
        constraints=LinearConstraint(sparse.vstack(rows).tocsr(), np.concatenate(lo), np.concatenate(hi)),
        integrality=integrality,
        bounds=Bounds(lb, ub),
        options={"time_limit": time_limit, "mip_rel_gap": gap},
    )
    if result.x is None:
        raise RuntimeError(f"the scheduler stopped without a schedule: {result.message}")
    x = np.round(result.x[x0:y0]).reshape(7, n_v)
    y = np.round(result.x[y0:s0])
    duty = cover @ np.round(result.x[x0:y0])
    short = np.maximum(required - duty, 0.0)
    over = np.maximum(duty - required, 0.0)
    return _schedule(rules, shifts, patterns, x, y, required, duty, short, over, template_of, slots, result)


def _schedule(
    rules, shifts, patterns, x, y, required, duty, short, over, template_of, slots, result
) -> Schedule:
    step = rules.interval_minutes
    rows = []
    for d, j in zip(*np.nonzero(x), strict=True):
        v, t = shifts[j], rules.templates[shifts[j].template]
        rows.append(
            {
                "template": t.name,
                "day": DAYS[d],
                "start": _clock(v.start),
                "end": _clock(v.start + round(t.hours * 60)),
                "breaks": ", ".join(_clock(b) for b in v.break_starts),
                "agents": int(x[d, j]),
                "paid_hours": t.paid_hours * x[d, j],
                "cost": t.paid_hours * x[d, j] * t.cost_per_hour,
            }
        )
    columns = ["template", "day", "start", "end", "breaks", "agents", "paid_hours", "cost"]
    shift_table = pd.DataFrame(rows, columns=columns)
    pattern_rows, col = [], 0
    for i, p in enumerate(patterns):
        for row in p:
            if y[col] > 0:
                pattern_rows.append(
                    {
                        "template": rules.templates[i].name,
                        "days_worked": ", ".join(DAYS[d][:3] for d in np.flatnonzero(row)),
                        "days_off": ", ".join(DAYS[d][:3] for d in np.flatnonzero(row == 0)) or "none",
                        "agents": int(y[col]),
                    }
                )
            col += 1
    pattern_table = pd.DataFrame(pattern_rows, columns=["template", "days_worked", "days_off", "agents"])
    minutes = np.arange(7 * slots) * step
    coverage = pd.DataFrame(
        {
            "day": [DAYS[m // MINUTES_PER_DAY] for m in minutes],
            "time": [_clock(m) for m in minutes],
            "required": required,
            "on_duty": duty,
            "short": short,
            "over": over,
        }
    )
    hours = step / 60
    paid_hours = float(shift_table["paid_hours"].sum())
    cost = float(shift_table["cost"].sum())
    summary = {
        "agents": float(y.sum()),
        "paid_hours": paid_hours,
        "cost": cost,
        "required_agent_hours": float(required.sum() * hours),
        "on_duty_agent_hours": float(duty.sum() * hours),
        "short_agent_hours": float(short.sum() * hours),
        "over_agent_hours": float(over.sum() * hours),
        "short_intervals": float((short > SHORT).sum()),
        "efficiency": float(np.minimum(duty, required).sum() / max(duty.sum(), 1e-9)),
        "solver_gap": float(getattr(result, "mip_gap", np.nan) or 0.0),
    }
    return Schedule(shift_table, pattern_table, coverage, summary, _uncovered(rules, coverage, shifts, slots))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    idx = np.flatnonzero(flags)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    return list(
        zip(np.r_[idx[0], idx[breaks + 1]].tolist(), np.r_[idx[breaks], idx[-1]].tolist(), strict=True)
    )


def _uncovered(rules: ScheduleRules, coverage: pd.DataFrame, shifts: list[Variant], slots: int) -> list[str]:
    """Each run of intervals left short, in words, with why."""
    step = rules.interval_minutes
    reachable = np.zeros(7 * slots, bool)
    for d in range(7):
        for v in shifts:
            reachable |= week_cover(v, d, slots) > 0
    notes = []
    open_days = int((coverage["required"].to_numpy().reshape(7, slots) > 0).any(axis=1).sum())
    short_anywhere = bool((coverage["short"] > SHORT).any())
    for t in rules.templates:
        if short_anywhere and t.days_per_week > open_days:
            notes.append(
                f"template {t.name} works {t.days_per_week} days a week but only {open_days} day{'s' if open_days != 1 else ''} {'need' if open_days != 1 else 'needs'} agents: "
                "its agents cannot be scheduled (fewer days_per_week)"
            )
    for first, last in _runs(coverage["short"].to_numpy() > SHORT):
        where = f"{DAYS[first // slots]} {_clock(first * step)}-{_clock((last + 1) * step)}"
        most = coverage["short"].iloc[first : last + 1].max()
        if not reachable[first : last + 1].any():
            windows = "; ".join(
                f"{t.name} starts {_clock(round(t.earliest_start * 60))}-{_clock(round(t.latest_start * 60))}, "
                f"{t.hours:g} h"
                for t in rules.templates
            )
            why = f"no shift template works then ({windows})"
        elif not reachable[first : last + 1].all():
            why = "only part of it is inside any template's hours"
        elif all(t.days_per_week > open_days for t in rules.templates):
            why = f"every template works more days a week than the {open_days} that need agents"
        elif rules.max_agents is not None:
            why = f"the headcount cap ({rules.max_agents} agents) leaves it short"
        elif rules.max_on_duty is not None:
            why = "the maximum on duty (seats) is below the requirement"
        else:
            why = "the templates' limits (agents per template, part-time share) leave it short"
        notes.append(f"{where}: short by up to {most:,.0f} agents: {why}")
    return notes
