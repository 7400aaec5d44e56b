"""The FTE each week of the plan needs: weekly volumes spread over the week's intervals by the
centre's shape, staffed interval by interval (the peaks drive agents: a weekly average would
need far fewer), then shrinkage and paid hours.

Every interval of every week is staffed (78 weeks of 30-minute slots are 26,000 intervals, a
fraction of a second for Erlang C), so a holiday week or a growing month is staffed as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from scenarios.service.staffing_plan import StaffingOptions, staff_intervals


@dataclass(frozen=True)
class WeekShape:
    """How a week's contacts fall into its intervals: ``shares`` per slot of the week (Monday
    00:00 first; open slots add up to 1) and the planning interval's length."""

    shares: np.ndarray  # (slots a week,)
    interval_seconds: float

    def __post_init__(self):
        total = float(np.sum(self.shares))
        if not np.all(np.asarray(self.shares) >= 0) or not abs(total - 1) < 1e-6:
            raise ValueError("a week's shares are >= 0 and add up to 1")

    @property
    def open(self) -> np.ndarray:
        return np.asarray(self.shares) > 0


@dataclass(frozen=True)
class Requirement:
    """Per week: the FTE needed, the agent-hours on the phones behind it and the busiest
    interval's agents."""

    fte: np.ndarray
    agent_hours: np.ndarray
    peak_agents: np.ndarray


def required_fte(
    weekly_volume,
    shape: WeekShape,
    aht,
    options: StaffingOptions,
    shrinkage,
    hours_per_fte: float,
) -> Requirement:
    """FTE per week: ``weekly_volume`` (one per week) spread by ``shape``, each interval staffed
    to ``options``' targets with ``aht`` (seconds: one value, or one per slot of the week), the
    agents' hours divided by ``1 - shrinkage`` (one value or one per week) and the paid hours
    of an FTE."""
    weekly_volume = np.asarray(weekly_volume, float)
    weeks = len(weekly_volume)
    shares = np.asarray(shape.shares, float)
    open_slots = shape.open
    volume = weekly_volume[:, None] * shares[None, open_slots]  # (weeks, open slots)
    aht_slots = np.broadcast_to(np.asarray(aht, float), shares.shape)[open_slots]
    aht_grid = np.broadcast_to(aht_slots[None, :], volume.shape)
    options = replace(options, shrinkage=0.0)
    table = staff_intervals(
        volume.ravel(),
        aht_grid.ravel(),
        shape.interval_seconds,
        options,
        open_mask=np.ones(volume.size, bool),
    )
    agents = table["agents"].to_numpy(float).reshape(volume.shape)
    agents = np.ceil(agents - 1e-9)  # whole agents in each interval
    hours = agents.sum(axis=1) * shape.interval_seconds / 3600
    shrink = np.broadcast_to(np.asarray(shrinkage, float), (weeks,))
    if np.any((shrink < 0) | (shrink >= 1)):
        raise ValueError("shrinkage in [0, 1)")
    return Requirement(hours / (1 - shrink) / hours_per_fte, hours, agents.max(axis=1, initial=0))


def volume_quantile(mean, sd, quantile: float) -> np.ndarray:
    """The weekly volume at ``quantile`` of a normal forecast error (0.5: the forecast itself),
    never below zero."""
    if not 0 < quantile < 1:
        raise ValueError("a quantile between 0 and 1")
    return np.maximum(np.asarray(mean, float) + stats.norm.ppf(quantile) * np.asarray(sd, float), 0.0)


def growth_factor(weeks: int, growth_pct_per_year: float) -> np.ndarray:
    """Volume multiplier per week (1…weeks) for growth compounding over a year: +15 % a year is
    ×1.15 at week 52, ×1.0027 at week 1."""
    return (1 + growth_pct_per_year / 100) ** (np.arange(1, weeks + 1) / 52)
