"""The least-cost hiring plan that covers the required FTE every week.

An integer program solved by HiGHS (``scipy.optimize.milp``). Decisions: the size of a class at
each allowed start week (whole people, within the class size limits), overtime and outsourcing
FTE per week (within their caps). Costs: each hire (recruiting) and their pay from the day they
start (training weeks included, less the expected leavers), each class, overtime, outsourcing,
and FTE beyond the requirement. Every week must be covered; where no plan can cover a week, the
shortfall is allowed at a prohibitive cost so the solver still finds the plan that leaves the
least uncovered, and the weeks left short are said in words, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from scenarios.capacity.workforce import Workforce

COVERED = 0.01  # FTE short that still counts as covered: the solver's tolerance, 20 minutes a week


@dataclass(frozen=True)
class HiringRules:
    """What the plan may do, and what each thing costs (in any one currency, per FTE-week where
    it says so; the defaults count paid FTE-weeks, with overtime and outsourcing off)."""

    starts: tuple[int, ...]  # weeks (1 = the plan's first) in which a class may start
    max_class: int = 15
    min_class: int = 1
    lead_weeks: int = 0  # recruiting lead time: no class starts in the plan's first lead_weeks weeks
    training_capacity: int | None = None  # trainees in training at once
    cost_per_hire: float = 0.0
    cost_per_class: float = 0.0
    cost_per_fte_week: float = 1.0  # pay of a paid FTE (hires are paid while training)
    overtime_share: float = 0.0  # overtime up to this share of the productive FTE
    overtime_cost_per_fte_week: float = 1.5
    outsourcing_fte: float = 0.0  # outsourced FTE per week at most
    outsourcing_cost_per_fte_week: float = 1.3
    surplus_cost_per_fte_week: float = 0.0  # beyond pay: a cost of idle FTE, if any

    def allowed_starts(self, weeks: int) -> np.ndarray:
        return np.array(sorted({int(k) for k in self.starts if self.lead_weeks < k <= weeks}), int)


@dataclass(frozen=True)
class HiringPlan:
    classes: pd.DataFrame  # start_week, hires (classes of 0 left out)
    weeks: pd.DataFrame  # one row per week: requirement, supply, the plan's levers, gap
    cost: dict[str, float]
    notes: list[str] = field(default_factory=list)  # weeks that cannot be covered, and why

    @property
    def covered(self) -> bool:
        return bool((self.weeks["gap"] <= COVERED).all())

    @property
    def hires(self) -> int:
        return int(self.classes["hires"].sum())


def plan_hiring(
    required, workforce: Workforce, rules: HiringRules, time_limit: float = 30.0, gap: float = 1e-3
) -> HiringPlan:
    """The plan of least cost covering ``required`` (FTE per week, week 1 first), within ``gap``
    of the least cost (0.1 %: proving the last tenth of a percent takes HiGHS 100x longer on a
    78-week plan, for plans that differ by a hire moved a class earlier)."""
    required = np.asarray(required, float)
    weeks = len(required)
    starts = rules.allowed_starts(weeks)
    base, base_paid = workforce.current(weeks)
    per_hire, paid, training = workforce.per_hire(weeks, starts)
    n_classes = len(starts)
    gated = n_classes > 0 and (rules.min_class > 1 or rules.cost_per_class > 0)
    sizes = (n_classes, n_classes if gated else 0, weeks, weeks, weeks, weeks)  # x, y, o, u, s, g
    offsets = np.cumsum((0, *sizes))
    n = int(offsets[-1])

    def block(i: int) -> slice:
        return slice(int(offsets[i]), int(offsets[i + 1]))

    cost = np.zeros(n)
    hire_cost = rules.cost_per_hire + rules.cost_per_fte_week * paid.sum(axis=0)
    cost[block(0)] = hire_cost
    cost[block(1)] = rules.cost_per_class
    cost[block(2)] = rules.overtime_cost_per_fte_week
    cost[block(3)] = rules.outsourcing_cost_per_fte_week
    cost[block(4)] = rules.surplus_cost_per_fte_week
    week_price = max(
        rules.cost_per_fte_week,
        rules.overtime_cost_per_fte_week,
        rules.outsourcing_cost_per_fte_week,
        rules.surplus_cost_per_fte_week,
        (hire_cost.max(initial=0) + rules.cost_per_class),
    )
    cost[block(5)] = 100 * (week_price + 1)  # a week left short costs more than any way to cover it

    eye = sparse.identity(weeks, format="csr")
    rows, lower, upper = [], [], []
    # cover: current + hires + overtime + outsourcing + short - surplus = required
    cover = [sparse.csr_matrix(per_hire), sparse.csr_matrix((weeks, sizes[1])), eye, eye, -eye, eye]
    rows.append(sparse.hstack(cover))
    lower.append(required - base)
    upper.append(required - base)
    if rules.overtime_share > 0:  # overtime <= share of productive FTE
        ot = [sparse.csr_matrix(-rules.overtime_share * per_hire), sparse.csr_matrix((weeks, sizes[1])), eye]
        ot += [sparse.csr_matrix((weeks, weeks))] * 3
        rows.append(sparse.hstack(ot))
        lower.append(np.full(weeks, -np.inf))
        upper.append(rules.overtime_share * base)
    if rules.training_capacity is not None and n_classes:
        seats = [sparse.csr_matrix(training), sparse.csr_matrix((weeks, n - n_classes))]
        rows.append(sparse.hstack(seats))
        lower.append(np.full(weeks, -np.inf))
        upper.append(np.full(weeks, float(rules.training_capacity)))
    if gated:  # min_class * y <= x <= max_class * y
        ident = sparse.identity(n_classes, format="csr")
        rest = sparse.csr_matrix((n_classes, 4 * weeks))
        rows.append(sparse.hstack([ident, -rules.max_class * ident, rest]))
        lower.append(np.full(n_classes, -np.inf))
        upper.append(np.zeros(n_classes))
        rows.append(sparse.hstack([ident, -rules.min_class * ident, rest]))
        lower.append(np.zeros(n_classes))
        upper.append(np.full(n_classes, np.inf))

    lb, ub = np.zeros(n), np.full(n, np.inf)
    ub[block(0)] = rules.max_class
    ub[block(1)] = 1
    ub[block(2)] = 0 if rules.overtime_share <= 0 else np.inf
    ub[block(3)] = rules.outsourcing_fte
    integrality = np.zeros(n)
    integrality[block(0)] = 1
    integrality[block(1)] = 1
    options = {"time_limit": time_limit, "mip_rel_gap": gap}
    matrix = sparse.vstack(rows).tocsr()
    bounds, lower, upper = Bounds(lb, ub), np.concatenate(lower), np.concatenate(upper)
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=integrality,
        bounds=bounds,
        options=options,
    )
    if result.x is None:
        raise RuntimeError(f"the hiring plan's solver stopped without a plan: {result.message}")
    least_short = float(result.x[block(5)].sum())
    if least_short > COVERED:
        # weeks that cannot be covered: their penalty dwarfs the real cost, so the gap above
        # was a gap on the penalty. With the shortfall held at its least, solve for the cost.
        total_short = np.zeros((1, n))
        total_short[0, block(5)] = 1.0
        cost[block(5)] = 0.0
        matrix = sparse.vstack([matrix, sparse.csr_matrix(total_short)]).tocsr()
        lower = np.append(lower, -np.inf)
        upper = np.append(upper, least_short * (1 + 1e-9) + 1e-6)
        second = milp(
            cost,
            constraints=LinearConstraint(matrix, lower, upper),
            integrality=integrality,
            bounds=bounds,
            options=options,
        )
        if second.x is not None:
            result = second
    x = result.x
    hires = np.round(x[block(0)])
    overtime, outsourcing = x[block(2)], x[block(3)]
    hired = per_hire @ hires
    productive = base + hired
    covered = productive + overtime + outsourcing
    gap = np.maximum(required - covered, 0.0)
    gap[gap <= COVERED] = 0.0
    table = pd.DataFrame(
        {
            "week": np.arange(1, weeks + 1),
            "required_fte": required,
            "current_team_fte": base,
            "hires_fte": hired,
            "productive_fte": productive,
            "overtime_fte": overtime,
            "outsourcing_fte": outsourcing,
            "covered_fte": covered,
            "surplus_fte": np.maximum(covered - required, 0.0),
            "gap": gap,
            "paid_fte": base_paid + paid @ hires,
            "trainees": training @ hires,
        }
    )
    classes = pd.DataFrame({"start_week": starts, "hires": hires.astype(int)})
    classes = classes[classes["hires"] > 0].reset_index(drop=True)
    spend = {
        "hiring": float(rules.cost_per_hire * hires.sum() + rules.cost_per_class * (hires > 0).sum()),
        "hires_pay": float(rules.cost_per_fte_week * (paid @ hires).sum()),
        "team_pay": float(rules.cost_per_fte_week * base_paid.sum()),
        "overtime": float(rules.overtime_cost_per_fte_week * overtime.sum()),
        "outsourcing": float(rules.outsourcing_cost_per_fte_week * outsourcing.sum()),
        "surplus": float(rules.surplus_cost_per_fte_week * table["surplus_fte"].sum()),
    }
    spend["total"] = float(sum(spend.values()))
    plan = HiringPlan(classes, table, spend)
    return HiringPlan(classes, table, spend, short_weeks(plan, workforce, rules))


def _ranges(weeks: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive week numbers as (first, last) runs."""
    if not len(weeks):
        return []
    breaks = np.flatnonzero(np.diff(weeks) > 1)
    firsts = np.concatenate([[weeks[0]], weeks[breaks + 1]])
    lasts = np.concatenate([weeks[breaks], [weeks[-1]]])
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def short_weeks(plan: HiringPlan, workforce: Workforce, rules: HiringRules) -> list[str]:
    """Each run of weeks the plan leaves short, in words: by how much, and what stops it."""
    table = plan.weeks
    weeks = len(table)
    starts = rules.allowed_starts(weeks)
    first_productive = int(starts.min()) + workforce.ramp.training_weeks if len(starts) else None
    notes = []
    for first, last in _ranges(table.loc[table["gap"] > COVERED, "week"].to_numpy()):
        span = f"week {first}" if first == last else f"weeks {first}-{last}"
        short = table.loc[(table["week"] >= first) & (table["week"] <= last), "gap"].max()
        why = []
        if first_productive is None:
            why.append(
                "no class can start within the plan (no allowed start week after the recruiting lead time)"
            )
        elif last < first_productive:
            lead = f" after {rules.lead_weeks} weeks of recruiting lead time" if rules.lead_weeks else ""
            why.append(
                f"no class can be productive before week {first_productive} (first start week "
                f"{int(starts.min())}{lead}, then {workforce.ramp.training_weeks} weeks of training)"
            )
        else:
            useful = plan.classes[plan.classes["start_week"] <= last - workforce.ramp.training_weeks]
            if first < first_productive:
                why.append(f"no class can be productive before week {first_productive}")
            if len(useful) and (useful["hires"] >= rules.max_class).all():
                why.append(f"every class that can help is at its maximum size ({rules.max_class})")
            if rules.training_capacity is not None and (
                table.loc[table["week"] <= last, "trainees"].max() >= rules.training_capacity - 1e-9
            ):
                why.append(f"training is full ({rules.training_capacity} trainees at once)")
            if not why:
                why.append("the classes allowed before then cannot add enough")
        levers = []
        if rules.overtime_share > 0:
            levers.append(f"overtime up to {rules.overtime_share:.0%} of the team")
        if rules.outsourcing_fte > 0:
            levers.append(f"outsourcing up to {rules.outsourcing_fte:g} FTE")
        lever_text = (
            f"; {' and '.join(levers)} cover only part of it"
            if levers
            else "; no overtime or outsourcing allowed"
        )
        notes.append(f"{span}: short by up to {short:,.1f} FTE: {'; '.join(why)}{lever_text}")
    return notes
