"""How sure the plan is: attrition is random, and the assumptions behind the plan may be off.

The Monte Carlo draws each week's leavers per cohort (binomial: each person stays the week with
the survival of their tenure week), so a team of 100 at 3 % a month loses 0.7 people a week on
average but some weeks 3; the chance each week is covered comes from those draws. The
sensitivity table re-plans with one assumption moved at a time and says the hires each needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.capacity.optimizer import COVERED, HiringPlan, HiringRules, plan_hiring
from scenarios.capacity.workforce import EXPERIENCED_TENURE, Workforce


@dataclass(frozen=True)
class SupplyDraws:
    """Productive FTE per simulation (rows) and week (columns) of the team and the plan's classes."""

    productive: np.ndarray

    def summary(self, plan: HiringPlan, overtime_share: float = 0.0) -> pd.DataFrame:
        """Per week: the simulated productive FTE (mean, its standard error, P10, P90) and the
        chance the week is covered, with the plan's outsourcing and overtime flexing up to its
        cap on the team that is actually there."""
        weeks = plan.weeks
        draws = self.productive
        covered = draws * (1 + overtime_share) + weeks["outsourcing_fte"].to_numpy()[None, :]
        meets = covered >= weeks["required_fte"].to_numpy()[None, :] - COVERED
        return pd.DataFrame(
            {
                "week": weeks["week"].to_numpy(),
                "productive_fte_mean": draws.mean(axis=0),
                "productive_fte_se": draws.std(axis=0, ddof=1) / np.sqrt(len(draws)),
                "productive_fte_p10": np.percentile(draws, 10, axis=0),
                "productive_fte_p90": np.percentile(draws, 90, axis=0),
                "chance_covered": meets.mean(axis=0),
            }
        )


def simulate_supply(
    workforce: Workforce, classes: pd.DataFrame, weeks: int, simulations: int = 1000, seed: int = 0
) -> SupplyDraws:
    """Productive FTE per week in ``simulations`` draws of who leaves when: today's cohorts and
    the plan's classes (``start_week``, ``hires``) lose binomial leavers each week; transfers
    are taken at their expected size."""
    rng = np.random.default_rng(seed)
    sizes = [(int(c.heads), c.tenure_weeks, c.fte_per_head, 0) for c in workforce.cohorts]
    sizes += [
        (int(h), 0, workforce.hire_fte, int(k))
        for k, h in zip(classes["start_week"], classes["hires"], strict=True)
    ]
    heads = np.array([s[0] for s in sizes], dtype=np.int64)
    tenure0 = np.array([s[1] for s in sizes])
    fte = np.array([s[2] for s in sizes], float)
    start = np.array([s[3] for s in sizes])  # 0: on the team already
    alive = np.broadcast_to(np.where(start == 0, heads, 0), (simulations, len(sizes))).copy()
    out = np.zeros((simulations, weeks))
    for w in range(1, weeks + 1):
        joining = start == w
        alive[:, joining] = heads[joining]
        tenure = np.where(start == 0, tenure0 + w, w - start + 1)
        on = (start == 0) | (start <= w)
        stay = workforce.attrition.weekly(np.clip(tenure, 1, None))
        alive[:, on] = rng.binomial(alive[:, on], stay[on])
        out[:, w - 1] = (alive[:, on] * (fte[on] * workforce.ramp.productivity(tenure[on]))).sum(axis=1)
    for t in workforce.transfers:  # expected, not drawn: a transfer is a planned number
        w = np.arange(1, weeks + 1)
        tenure = np.where(w >= t.week, EXPERIENCED_TENURE + w - t.week + 1, EXPERIENCED_TENURE)
        stays = workforce.attrition.survival(tenure) / workforce.attrition.survival(EXPERIENCED_TENURE)
        out += np.where(w >= t.week, t.fte * stays, 0.0)[None, :]
    return SupplyDraws(out)


@dataclass(frozen=True)
class Case:
    """One assumption moved: the requirement and the team it gives."""

    name: str
    required: np.ndarray
    workforce: Workforce


def sensitivity(
    cases: list[Case], rules: HiringRules, plan: Callable = plan_hiring, first: HiringPlan | None = None
) -> pd.DataFrame:
    """Per case, the plan it needs: hires, classes, first class, cost and weeks left short;
    ``first``: the first case's plan when it is already made (the plan as planned)."""
    rows = []
    for i, case in enumerate(cases):
        p = first if i == 0 and first is not None else plan(case.required, case.workforce, rules)
        rows.append(
            {
                "case": case.name,
                "hires": p.hires,
                "classes": len(p.classes),
                "first_class_week": int(p.classes["start_week"].min()) if len(p.classes) else None,
                "peak_required_fte": float(np.max(case.required)),
                "cost": p.cost["total"],
                "weeks_short": int((p.weeks["gap"] > COVERED).sum()),
            }
        )
    table = pd.DataFrame(rows)
    if len(table):
        table["hires_vs_base"] = table["hires"] - table["hires"].iloc[0]
        table["cost_vs_base"] = table["cost"] - table["cost"].iloc[0]
    return table
