"""Demand changes of a scenario applied to a forecast: growth, multipliers, events, shifts, AHT.

Demand is held as (queues × intervals) arrays, so every change is one masked numpy operation.
Changes are multiplicative on the forecast, so its relative uncertainty (coefficient of
variation per interval) carries over unchanged; only the mean and AHT are transformed here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.common.input_rules import RULES
from scenarios.inputs.spec import WEEKDAYS, DemandSpec, Event, Window


@dataclass(frozen=True)
class DemandGrid:
    stamps: pd.DatetimeIndex  # interval starts
    queues: tuple[str, ...]
    volume: np.ndarray  # (queues, intervals) expected contacts
    aht: np.ndarray  # (queues, intervals) seconds
    interval: pd.Timedelta

    def frame(self) -> pd.DataFrame:
        """Long table: interval_start, queue, volume, aht."""
        q, n = self.volume.shape
        return pd.DataFrame(
            {
                "interval_start": np.tile(self.stamps.to_numpy(), q),
                "queue": np.repeat(np.array(self.queues, dtype=object), n),
                "volume": self.volume.ravel(),
                "aht": self.aht.ravel(),
            }
        )


MAX_INTERVAL_VOLUME = RULES["calls"].high
MAX_AHT_SECONDS = RULES["aht"].high


def _end_exclusive(text: str) -> pd.Timestamp:
    """A date-only end includes its whole day; a date-time end is the moment it names."""
    end = pd.Timestamp(text)
    return end + pd.Timedelta(days=1) if len(text.strip()) <= 10 else end


def window_mask(window: Window, grid: DemandGrid) -> np.ndarray:
    """(queues × intervals) True where the change applies."""
    stamps = grid.stamps
    when = np.ones(len(stamps), bool)
    if window.start is not None:
        when &= stamps >= pd.Timestamp(window.start)
    if window.end is not None:
        when &= stamps < _end_exclusive(window.end)
    if window.weekdays:
        when &= np.isin(stamps.day_of_week, [WEEKDAYS.index(d) for d in window.weekdays])
    if window.hours:
        start, end = (pd.Timedelta(f"{p.strip()}:00") for p in window.hours.split("-"))
        clock = stamps - stamps.normalize()
        when &= (clock >= start) & (clock < end)
    which = np.ones(len(grid.queues), bool) if not window.queues else np.isin(grid.queues, window.queues)
    return which[:, None] & when[None, :]


def event_lift(event: Event, grid: DemandGrid) -> np.ndarray:
    """Relative lift per interval (0 outside the event): the shape's mean over each interval,
    integrated exactly, so a quarter-hour step is half a half-hour's lift and a spike is its
    area, wherever the interval's midpoint falls (a sample there dropped short events)."""
    start = ((grid.stamps - pd.Timestamp(event.start)) / pd.Timedelta(hours=1)).to_numpy(float)
    width = grid.interval / pd.Timedelta(hours=1)
    shape = (_shape_area(event, start + width) - _shape_area(event, start)) / width
    window = replace_start(event)
    return event.lift * shape[None, :] * window_mask(window, grid)


def _shape_area(event: Event, hours: np.ndarray) -> np.ndarray:
    """The area under the event's shape from its start to ``hours`` after it (its antiderivative)."""
    d = event.duration_hours
    if event.shape == "step":
        return np.clip(hours, 0.0, d)
    if event.shape == "spike":  # a triangle rising to 1 at d/2 and back to 0 at d
        c = d / 2
        h = np.clip(hours, 0.0, d)
        rising = np.minimum(h, c) ** 2 / (2 * c)
        past = np.clip(h - c, 0.0, c)
        return rising + past - past**2 / (2 * c)
    half_life = event.half_life_hours  # decay: 0.5 ** (h / half-life) from the start on
    return np.where(hours > 0, half_life / np.log(2) * (1 - 0.5 ** (np.maximum(hours, 0) / half_life)), 0.0)


def replace_start(event: Event) -> Window:
    """The event's window without its start (the start sets the shape's origin, not a cut-off)."""
    return Window(end=event.end, weekdays=event.weekdays, hours=event.hours, queues=event.queues)


def apply_demand(grid: DemandGrid, demand: DemandSpec) -> DemandGrid:
    """A new grid with the changes applied in order: growth, multipliers, events, shifts, AHT."""
    volume = grid.volume * (1 + demand.growth_pct / 100)
    for m in demand.multipliers:
        volume = np.where(window_mask(m, grid), volume * m.factor, volume)
    if demand.events:
        volume = volume * np.clip(1 + sum(event_lift(e, grid) for e in demand.events), 0, None)
    queues = list(grid.queues)
    for s in demand.shifts:
        mask = window_mask(s, grid)[queues.index(s.from_queue)]
        moved = np.where(mask, volume[queues.index(s.from_queue)] * s.share, 0.0)
        volume[queues.index(s.from_queue)] -= moved
        volume[queues.index(s.to_queue)] += moved
    aht = grid.aht.copy()
    for i, a in enumerate(demand.aht_changes):
        where = window_mask(a, grid)
        changed = aht * (1 + a.percent / 100) + a.seconds
        out = where & ((changed <= 0) | (changed > MAX_AHT_SECONDS))
        if out.any():  # was clamped to 1 s without a word: a staffing of a few agents
            raise InputError(
                "the AHT change leaves no sensible handle time",
                key=f"demand.aht_changes.{i}",
                expected=f"a handle time above 0 and at most {MAX_AHT_SECONDS:,.0f} s after the change",
                found=f"{aht[out][0]:.0f} s becomes {changed[out][0]:.0f} s",
            )
        aht = np.where(where, changed, aht)
    peak = float(np.nanmax(volume, initial=0.0))
    if peak > MAX_INTERVAL_VOLUME:  # stacked multipliers: trillions of agents, or no end to the search
        raise InputError(
            "the demand changes make too many contacts",
            key="demand",
            expected=f"at most {MAX_INTERVAL_VOLUME:,.0f} contacts in an interval (check multipliers, events, growth)",
            found=f"{peak:,.0f}",
        )
    return replace(grid, volume=volume, aht=aht)
