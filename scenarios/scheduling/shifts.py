"""Shift templates and the shifts they allow, as coverage of a week's intervals.

A week is ``7 × slots`` intervals, Monday 00:00 first. A shift starts on a day at an allowed
time, lasts its template's hours and takes its breaks somewhere in their windows; every way of
placing them is a variant of its own (the program chooses the placement, which is how breaks
are staggered so that coverage holds). A shift running past midnight covers the next day's
first intervals; Sunday's late shift runs into Monday (the week repeats).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Break:
    """A break of ``minutes`` starting between ``earliest`` and ``latest`` hours after the
    shift starts; unpaid breaks are not paid hours."""

    minutes: int
    earliest: float
    latest: float
    paid: bool = False


@dataclass(frozen=True)
class ShiftTemplate:
    """A kind of shift: its length, when it may start, its breaks, the days a week it is worked
    and what an hour of it costs. Times are hours from midnight (7.5 is 07:30)."""

    name: str
    hours: float  # from start to end, breaks included
    earliest_start: float
    latest_start: float
    start_step_minutes: int = 30
    breaks: tuple[Break, ...] = ()
    days_per_week: int = 5
    consecutive_days_off: bool = True  # the days off are together (Sunday and Monday count as together)
    part_time: bool = False
    cost_per_hour: float = 1.0
    max_agents: int | None = None  # of this template, at most

    @property
    def paid_hours(self) -> float:
        """Paid hours of one shift: its length less its unpaid breaks."""
        return self.hours - sum(b.minutes for b in self.breaks if not b.paid) / 60

    def starts(self, interval_minutes: int) -> np.ndarray:
        """Allowed start times, minutes from midnight, on the interval grid (a start between
        two intervals moves to the next: a shift never covers an interval it only partly works)."""
        step = -(-max(self.start_step_minutes, interval_minutes) // interval_minutes) * interval_minutes
        first = -(-round(self.earliest_start * 60) // interval_minutes) * interval_minutes  # on the grid
        return np.arange(first, round(self.latest_start * 60) + 1, step)

    def off_patterns(self) -> np.ndarray:
        """The weekly patterns of this template, one row each: 1 on the days worked (Monday
        first). Days off together when asked (cyclic: Sunday-Monday is a pair)."""
        off = 7 - self.days_per_week
        if off == 0:
            return np.ones((1, 7), int)
        if self.consecutive_days_off:
            rows = [np.ones(7, int) for _ in range(7)]
            for first, row in enumerate(rows):
                row[[(first + k) % 7 for k in range(off)]] = 0
            return np.unique(np.array(rows), axis=0)
        rows = []
        for days in itertools.combinations(range(7), off):
            row = np.ones(7, int)
            row[list(days)] = 0
            rows.append(row)
        return np.array(rows)


@dataclass(frozen=True)
class Variant:
    """One shift as the program sees it: its template, start and break starts (minutes from
    midnight) and the intervals of a day it covers (from the start day's 00:00, two days long)."""

    template: int
    start: int
    break_starts: tuple[int, ...]
    cover: np.ndarray  # (2 × slots a day,) 1 while working


def variants(template: ShiftTemplate, index: int, interval_minutes: int) -> list[Variant]:
    """Every start and break placement of ``template`` on the interval grid."""
    if MINUTES_PER_DAY % interval_minutes:
        raise ValueError("an interval that divides the day")
    if not 0 < template.hours <= 24:
        raise ValueError(f"shift template {template.name!r}: hours from 0 to 24")
    slots = MINUTES_PER_DAY // interval_minutes
    length = round(template.hours * 60)
    out = []
    for start in template.starts(interval_minutes):
        windows = []
        for b in template.breaks:
            first = start + round(b.earliest * 60)
            last = start + round(b.latest * 60)
            first = -(-first // interval_minutes) * interval_minutes  # on the grid
            windows.append(range(first, last + 1, interval_minutes))
        for placed in itertools.product(*windows) if windows else [()]:
            cover = np.zeros(2 * slots)
            a, b = start // interval_minutes, -(-(start + length) // interval_minutes)
            cover[a:b] = 1
            ok = True
            for brk, at in zip(template.breaks, placed, strict=True):
                s, e = at // interval_minutes, -(-(at + brk.minutes) // interval_minutes)
                if at + brk.minutes > start + length or cover[s:e].min() == 0:
                    ok = False  # outside the shift or on another break
                    break
                cover[s:e] = 0
            if ok:
                out.append(Variant(index, int(start), tuple(int(p) for p in placed), cover))
    return out


def week_cover(variant: Variant, day: int, slots: int) -> np.ndarray:
    """The variant worked on ``day`` (0 = Monday) as coverage of the week (the week repeats)."""
    week = np.zeros(7 * slots)
    idx = (day * slots + np.flatnonzero(variant.cover)) % (7 * slots)
    week[idx] = 1
    return week
