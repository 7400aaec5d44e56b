"""The supply model: who will be on the team, and how productive, week by week.

Weeks are numbered from 1 (the plan's first week). A person's tenure week ``t`` is the ``t``-th
week they are employed: a class starting in week ``k`` is in tenure week ``w - k + 1`` in week
``w``. Survival is counted from the first tenure week, as ``../shared/DOMAIN.md`` does: a
class of 20 at 3 % monthly attrition has ``20 s`` people in its first week, ``20 s^5`` in its
fifth. Attrition depends on tenure (new hires leave faster), productivity too (nobody takes
contacts in training, then a ramp-up to full productivity).

Everything here is linear in the class sizes, which is what lets the hiring plan be an integer
program (:mod:`scenarios.capacity.optimizer`): a class of ``n`` gives ``n`` times the FTE of a
class of one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEKS_PER_MONTH = 52 / 12
EXPERIENCED_TENURE = 520  # weeks: transfers and cohorts given without tenure are well past every band


def weekly_survival(monthly_attrition) -> np.ndarray:
    """Share of the team still there a week later, from a monthly attrition rate:
    ``(1 - m) ** (12 / 52)`` (3 % a month → 0.9929956)."""
    return (1.0 - np.asarray(monthly_attrition, float)) ** (1 / WEEKS_PER_MONTH)


@dataclass(frozen=True)
class Attrition:
    """Monthly attrition by tenure band: ``monthly[i]`` applies from tenure week
    ``from_week[i] + 1`` on (``from_week`` starts at 0 and rises), e.g. 6 % a month in the first
    13 weeks, then 3 %: ``Attrition((0.06, 0.03), (0, 13))``."""

    monthly: tuple[float, ...] = (0.03,)
    from_week: tuple[int, ...] = (0,)

    def __post_init__(self):
        if len(self.monthly) != len(self.from_week) or not self.monthly:
            raise ValueError("one starting tenure week per attrition rate")
        if self.from_week[0] != 0 or any(np.diff(self.from_week) <= 0):
            raise ValueError("tenure bands start at week 0 and rise")
        if any(not 0 <= m < 1 for m in self.monthly):
            raise ValueError("monthly attrition rates in [0, 1)")

    def shifted(self, points: float) -> Attrition:
        """Every band's rate moved by ``points`` (0.02: two percentage points), kept in [0, 0.99]."""
        rates = tuple(float(np.clip(m + points, 0.0, 0.99)) for m in self.monthly)
        return Attrition(rates, self.from_week)

    def weekly(self, tenure_weeks) -> np.ndarray:
        """Survival through tenure week ``t`` (1, 2, …), given employment at its start."""
        t = np.asarray(tenure_weeks)
        band = np.searchsorted(np.asarray(self.from_week), t - 1, side="right") - 1
        return weekly_survival(np.asarray(self.monthly)[band])

    def survival(self, tenure_weeks) -> np.ndarray:
        """Share of a class still employed at the end of tenure week ``t`` (1 at ``t = 0``)."""
        t = np.asarray(tenure_weeks, int)
        top = int(max(t.max(initial=0), 0))
        curve = np.concatenate([[1.0], np.cumprod(self.weekly(np.arange(1, top + 1)))])
        return curve[np.clip(t, 0, None)]


@dataclass(frozen=True)
class Ramp:
    """Productivity by tenure week: 0 for ``training_weeks``, then ``ramp`` week by week, then 1."""

    training_weeks: int = 4
    ramp: tuple[float, ...] = (0.5, 0.5, 0.75, 0.75)

    def __post_init__(self):
        if self.training_weeks < 0 or any(not 0 <= r <= 1 for r in self.ramp):
            raise ValueError("training weeks >= 0 and ramp-up productivities in [0, 1]")

    def productivity(self, tenure_weeks) -> np.ndarray:
        t = np.asarray(tenure_weeks, int)
        curve = np.concatenate([np.zeros(self.training_weeks + 1), self.ramp, [1.0]])
        return curve[np.clip(t, 0, len(curve) - 1)]

    @property
    def weeks_to_productive(self) -> int:
        """Tenure week of a hire's first productive hours."""
        return self.training_weeks + 1

    @property
    def weeks_to_full(self) -> int:
        return self.training_weeks + len(self.ramp) + 1


@dataclass(frozen=True)
class Cohort:
    """People on the team at the plan's start who joined together."""

    heads: int
    tenure_weeks: int = EXPERIENCED_TENURE  # weeks employed when the plan starts
    fte_per_head: float = 1.0  # 0.5: half-time


@dataclass(frozen=True)
class Transfer:
    """Experienced people moving in (``fte > 0``) or out from ``week`` on; they leave at the
    experienced rate afterwards."""

    week: int
    fte: float


@dataclass(frozen=True)
class Workforce:
    """The team now, how people leave and how new hires become productive."""

    cohorts: tuple[Cohort, ...]
    attrition: Attrition = Attrition()
    ramp: Ramp = Ramp()
    hire_fte: float = 1.0  # FTE per new hire
    transfers: tuple[Transfer, ...] = ()

    def with_attrition(self, attrition: Attrition) -> Workforce:
        return Workforce(self.cohorts, attrition, self.ramp, self.hire_fte, self.transfers)

    def current(self, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Productive and paid FTE per week (1…weeks) of today's team and the transfers."""
        w = np.arange(1, weeks + 1)
        productive, paid = np.zeros(weeks), np.zeros(weeks)
        for c in self.cohorts:
            stays = self.attrition.survival(c.tenure_weeks + w) / self.attrition.survival(c.tenure_weeks)
            fte = c.heads * c.fte_per_head * stays
            paid += fte
            productive += fte * self.ramp.productivity(c.tenure_weeks + w)
        for t in self.transfers:
            tenure = np.where(w >= t.week, EXPERIENCED_TENURE + w - t.week + 1, EXPERIENCED_TENURE)
            stays = self.attrition.survival(tenure) / self.attrition.survival(EXPERIENCED_TENURE)
            moved = np.where(w >= t.week, t.fte * stays, 0.0)
            paid += moved
            productive += moved
        return productive, paid

    def per_hire(self, weeks: int, starts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For one hire in a class starting each week of ``starts``, per week (rows) and start
        (columns): productive FTE, paid FTE, and 1 while in training (the trainee's seat)."""
        w = np.arange(1, weeks + 1)[:, None]
        tenure = w - np.asarray(starts, int)[None, :] + 1
        employed = tenure >= 1
        stays = np.where(employed, self.attrition.survival(np.clip(tenure, 0, None)), 0.0)
        paid = stays * self.hire_fte
        productive = paid * self.ramp.productivity(np.clip(tenure, 0, None))
        training = (employed & (tenure <= self.ramp.training_weeks)).astype(float)
        return productive, paid, training

    def heads(self, weeks: int) -> np.ndarray:
        """Expected heads of today's team per week (no transfers, no hires)."""
        w = np.arange(1, weeks + 1)
        out = np.zeros(weeks)
        for c in self.cohorts:
            out += (
                c.heads
                * self.attrition.survival(c.tenure_weeks + w)
                / self.attrition.survival(c.tenure_weeks)
            )
        return out
