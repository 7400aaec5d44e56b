"""The shape of a day: how a day's (or a week's) contacts fall into the intervals staffing needs.

Many centres only keep daily reports. Staffing a day as one 24-hour interval needs a handful of
agents for hundreds of calls (they would all have to arrive evenly round the clock), so a daily
or weekly volume is spread to intervals with an intraday profile: per weekday, the share of the
day's contacts in each slot of the day (the slots with a share are the opening hours) and,
for weekly totals, the share of the week's contacts on each weekday.

A profile comes from, best first: an intraday history of the same queue (``from_history``: the
trimmed mean of the recent same weekdays' shares, so one odd day does not bend it), a profile file
the planner writes (``read_profile``), or the bundled typical contact-centre shape
(``typical_profile``), which is generic and is only used with a warning that says so.

Spreading keeps totals exactly: a day's slots add up to its total, a week's days to the week's.
Uncertainty is carried in proportion (each slot keeps the day's coefficient of variation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.common.errors import InputError

DAY = pd.Timedelta(days=1)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RECENT_WEEKS = 8  # same weekdays a history's profile is made of
TRIM = 0.2  # the share of those days' highest and lowest values left out (1 of 8 at each end)
SUM_TOLERANCE = 0.01  # a weekday's shares adding up to 1 ± this are taken as they are
TYPICAL_FILE = Path(__file__).resolve().parent / "typical_intraday_profile.csv"
TYPICAL_WARNING = (
    "no intraday profile given: the volumes by day (or week) are spread to intervals by capplan's "
    "bundled typical contact-centre week (Mon-Fri 08:00-20:00 with a mid-morning peak, shorter "
    "weekends), a generic shape, not this centre's: give an intraday profile or an intraday history "
    "of the queue"
)


@dataclass(frozen=True)
class IntradayProfile:
    """Shares of a day per weekday (0 = Monday) × slot of the day, and opening hours."""

    interval: pd.Timedelta  # slot length
    shares: np.ndarray  # (7, slots a day): each open weekday's row adds up to 1; closed weekdays 0
    open: np.ndarray  # (7, slots a day) bool: opening hours (an open slot may have a share of 0)
    day_mix: np.ndarray | None  # (7,) share of a week on each weekday (adds up to 1), if known
    source: str  # where it came from, in words
    typical: bool = False  # the bundled generic shape
    notes: tuple[str, ...] = field(default_factory=tuple)  # what was mended on reading
    coverage: np.ndarray | None = None  # (7, slots) share of each slot inside opening hours

    @property
    def open_weekdays(self) -> tuple[int, ...]:
        return tuple(int(d) for d in np.flatnonzero(self.open.any(axis=1)))

    def hours(self) -> dict[int, tuple[tuple[pd.Timedelta, pd.Timedelta], ...]]:
        """Opening hours as runs of open slots per weekday (an ``OperatingCalendar``'s ``hours``)."""
        out = {}
        for day in self.open_weekdays:
            slots = np.flatnonzero(self.open[day])
            breaks = np.flatnonzero(np.diff(slots) > 1) + 1
            out[day] = tuple(
                (run[0] * self.interval, (run[-1] + 1) * self.interval) for run in np.split(slots, breaks)
            )
        return out

    def frame(self) -> pd.DataFrame:
        """Long table: weekday, time (slot start), share of the day, for the open slots."""
        day, slot = np.nonzero(self.open)
        return pd.DataFrame(
            {
                "weekday": [WEEKDAY_NAMES[d] for d in day],
                "time": [_clock(s * self.interval) for s in slot],
                "share": self.shares[day, slot],
            }
        )

    def at(self, interval: pd.Timedelta, key: dict | None = None) -> IntradayProfile:
        """The same profile on longer slots (shares summed), for a planning interval that is a
        whole number of the profile's slots; shorter slots would have to invent a shape."""
        if interval == self.interval:
            return self
        ratio = interval / self.interval
        if interval < self.interval or ratio != int(ratio) or DAY % interval != pd.Timedelta(0):
            raise InputError(
                f"the intraday profile has {_minutes(self.interval)}-minute slots",
                expected=f"a planning interval of {_minutes(self.interval)} minutes or a multiple of it "
                "(or a profile with slots this short)",
                found=f"{_minutes(interval)} minutes",
                **(key or {"option": "interval"}),
            )
        k = int(ratio)
        shares = self.shares.reshape(7, -1, k).sum(axis=2)
        opened = self.open.reshape(7, -1, k)
        return IntradayProfile(
            interval,
            shares,
            opened.any(axis=2),
            self.day_mix,
            self.source,
            self.typical,
            self.notes,
            coverage=opened.sum(axis=2) / k,
        )

    def spread_days(
        self,
        days: pd.DatetimeIndex,
        volume: np.ndarray,
        sd: np.ndarray | None = None,
        what: str = "forecast",
        where: dict | None = None,
    ) -> pd.DataFrame:
        """Each day's volume × its weekday's shares: a row per open slot (timestamp, volume, sd,
        coverage, and ``row``: the day's position). Days with volume on a weekday the profile is
        closed are refused (``where``: the file or key the days came from), never dropped."""
        days = pd.DatetimeIndex(days).normalize()
        volume = np.asarray(volume, float)
        sd = np.zeros(len(days)) if sd is None else np.asarray(sd, float)
        weekday = days.day_of_week.to_numpy()
        closed = ~self.open.any(axis=1)[weekday] & (volume > 0)
        if closed.any():
            i = int(np.flatnonzero(closed)[0])
            raise InputError(
                f"the intraday profile ({self.source}) has no opening hours on {WEEKDAY_NAMES[weekday[i]]}s",
                expected=f"a profile with the hours of every weekday the {what} has contacts on",
                found=f"{volume[i]:,.0f} contacts on {days[i]:%Y-%m-%d}",
                **(where or {}),
            )
        rows = self.shares[weekday]  # (days, slots)
        keep = self.open[weekday]
        slot = np.broadcast_to(np.arange(self.shares.shape[1]), rows.shape)
        coverage = np.ones(rows.shape) if self.coverage is None else self.coverage[weekday]
        stamps = days.to_numpy()[:, None] + (slot * self.interval.to_timedelta64())
        return pd.DataFrame(
            {
                "timestamp": stamps[keep],
                "volume": (volume[:, None] * rows)[keep],
                "sd": (sd[:, None] * rows)[keep],
                "coverage": coverage[keep],
                "row": np.broadcast_to(np.arange(len(days))[:, None], rows.shape)[keep],
            }
        )

    def weekday_mix(self) -> tuple[np.ndarray, str | None]:
        """The share of a week on each weekday, and a note when it is not known (then the open
        weekdays share the week evenly)."""
        if self.day_mix is not None:
            return self.day_mix, None
        mix = self.open.any(axis=1).astype(float)
        return mix / mix.sum(), (
            f"the intraday profile ({self.source}) has no weekday mix: each week is split evenly over its "
            f"{int(mix.sum())} open weekdays"
        )

    def spread_weeks(
        self,
        weeks: pd.DatetimeIndex,
        volume: np.ndarray,
        sd: np.ndarray | None = None,
        what: str = "forecast",
        where: dict | None = None,
    ) -> tuple[pd.DataFrame, str | None]:
        """Each week's volume (labelled by its first day) → its days by the weekday mix → slots
        (``row``: the week's position)."""
        mix, note = self.weekday_mix()
        weeks = pd.DatetimeIndex(weeks).normalize()
        offsets = np.arange(7)
        days = weeks.to_numpy()[:, None] + (offsets * DAY.to_timedelta64())
        weekday = pd.DatetimeIndex(days.ravel()).day_of_week.to_numpy().reshape(days.shape)
        share = mix[weekday]
        volume = np.asarray(volume, float)
        sd = np.zeros(len(weeks)) if sd is None else np.asarray(sd, float)
        keep = share > 0
        week = np.broadcast_to(np.arange(len(weeks))[:, None], share.shape)[keep]
        out = self.spread_days(
            pd.DatetimeIndex(days[keep]),
            (volume[:, None] * share)[keep],
            (sd[:, None] * share)[keep],
            what,
            where,
        )
        return out.assign(row=week[out["row"].to_numpy()]), note


def from_history(
    history: pd.Series,
    interval: pd.Timedelta,
    open_slots: np.ndarray | None = None,
    weeks: int = RECENT_WEEKS,
    source: str = "the intraday history",
) -> IntradayProfile:
    """The profile of an intraday history (index: slot starts; open slots only): per weekday,
    the mean over its last ``weeks`` days with contacts of each slot's share of the day, the
    highest and lowest fifth left out (``TRIM``), renormalised to add up to 1; the weekday mix
    is the same trimmed mean of the day totals. ``open_slots`` (7 × slots) are the opening hours
    (default: the slots with a share)."""
    if DAY % interval != pd.Timedelta(0) or interval >= DAY:
        raise InputError(
            "not an intraday history",
            expected="an interval report or log with intervals within the day (15min, 30min, 60min …)",
            found=f"{_minutes(interval)}-minute intervals",
        )
    stamps = pd.DatetimeIndex(history.index)
    frame = pd.DataFrame(
        {
            "date": stamps.normalize(),
            "slot": ((stamps - stamps.normalize()) // interval).astype(int),
            "value": history.to_numpy(float),
        }
    )
    per_day = frame.pivot_table(index="date", columns="slot", values="value", aggfunc="sum", fill_value=0.0)
    slots = int(DAY / interval)
    per_day = per_day.reindex(columns=range(slots), fill_value=0.0)
    totals = per_day.sum(axis=1)
    per_day, totals = per_day[totals > 0], totals[totals > 0]
    if per_day.empty:
        raise InputError("no contacts in the intraday history", expected="an intraday history with contacts")
    weekday = pd.DatetimeIndex(per_day.index).day_of_week.to_numpy()
    recent = (per_day.groupby(weekday).cumcount(ascending=False) < weeks).to_numpy()  # in date order
    day_shares = per_day.div(totals, axis=0).to_numpy()[recent]
    day_totals, weekday = totals.to_numpy()[recent], weekday[recent]
    shares, mix = np.zeros((7, slots)), np.zeros(7)
    for day in np.unique(weekday):  # a trimmed mean: an odd day drops out, a quiet queue keeps its shape
        shares[day] = stats.trim_mean(day_shares[weekday == day], TRIM, axis=0)
        mix[day] = stats.trim_mean(day_totals[weekday == day], TRIM)
    has = shares.sum(axis=1) > 0
    opened = has[:, None] & (shares > 0 if open_slots is None else np.asarray(open_slots, bool))
    shares = np.where(opened, shares, 0.0)
    sums = shares.sum(axis=1, keepdims=True)
    shares = shares / np.where(sums > 0, sums, 1.0)
    mix = np.where(opened.any(axis=1), mix, 0.0)
    return IntradayProfile(interval, shares, opened, mix / mix.sum(), source)


def from_ingest(result, queue: str | None = None, source: str = "the intraday history") -> IntradayProfile:
    """The profile of an ingested intraday history (``forecasting.history.ingest``): its
    arrivals on open slots, its opening hours from its operating calendar."""
    from forecasting.series import forecast_series

    if result.interval >= DAY or result.period:
        raise InputError(
            "not an intraday history",
            path=result.source,
            expected="an interval report or log of the same queue with intervals within the day",
            found=f"totals per {result.reported_by or 'day'}",
        )
    series = forecast_series(result, "arrivals", queue)
    week = pd.date_range("2024-01-01", periods=7 * int(DAY / result.interval), freq=result.interval)
    opened = result.calendar.is_open(week).reshape(7, -1)  # 2024-01-01 is a Monday
    return from_history(series, result.interval, opened, source=source)


def typical_profile() -> IntradayProfile:
    """capplan's bundled generic contact-centre week (``typical_intraday_profile.csv``, shares
    of the week in 15-minute slots): Monday to Friday 08:00-20:00 with the classic mid-morning
    peak (about 10:45), a smaller one after lunch and a tail after 17:00; Saturday 09:00-17:00
    and Sunday 10:00-16:00 with a midday peak (every weekday has hours, so no day's volume is
    lost); weekday mix 20/18/17/17/16/8/4 %. A stand-in, never the centre's own shape."""
    profile = read_profile(TYPICAL_FILE)
    return IntradayProfile(
        profile.interval,
        profile.shares,
        profile.open,
        profile.day_mix,
        "capplan's bundled typical contact-centre week (generic, not this centre's)",
        typical=True,
    )


def read_profile(path: str | Path, key: dict | None = None) -> IntradayProfile:
    """An intraday profile file: long (columns weekday, time, share) or wide (a time column and
    one column per weekday). Shares are of the day (each weekday adds up to 1) or of the week
    (all add up to 1, which gives the weekday mix too); anything else is normalised per weekday,
    with a note. Weekdays left out are closed."""
    from forecasting.history.tables import read_table

    raw = read_table(path)
    return profile_from_table(raw.frame, Path(path), raw.row_number, key)


def profile_from_table(
    frame: pd.DataFrame, path: Path, row_number=lambda i: i + 2, key: dict | None = None
) -> IntradayProfile:
    """The profile in a table read from ``path`` (see ``read_profile``)."""
    where = {"path": path, **(key or {})}
    columns = {str(c).strip().lower(): c for c in frame.columns}
    names = {n.lower(): i for i, n in enumerate(WEEKDAY_NAMES)} | {
        n[:3].lower(): i for i, n in enumerate(WEEKDAY_NAMES)
    }
    if "time" not in columns:
        raise InputError(
            "missing column",
            column="time",
            row=1,
            expected="an intraday profile: columns weekday, time, share (or time and one column per weekday)",
            **where,
        )
    if "weekday" in columns and "share" in columns:
        long = pd.DataFrame(
            {
                "weekday": frame[columns["weekday"]].astype(str).str.strip(),
                "time": frame[columns["time"]].astype(str).str.strip(),
                "share": frame[columns["share"]],
                "position": np.arange(len(frame)),
                "share_col": columns["share"],
            }
        )
    else:
        wide = [c for c in columns if c in names]
        if not wide:
            raise InputError(
                "no weekday columns",
                row=1,
                expected="columns weekday, time, share, or a time column and one column per weekday "
                "(Monday … Sunday or Mon … Sun)",
                **where,
            )
        parts = [
            pd.DataFrame(
                {
                    "weekday": c,
                    "time": frame[columns["time"]].astype(str).str.strip(),
                    "share": frame[columns[c]],
                    "position": np.arange(len(frame)),
                    "share_col": columns[c],
                }
            )
            for c in wide
        ]
        long = pd.concat(parts, ignore_index=True)
        blank = long["share"].astype(str).str.strip().isin(("", "nan"))
        long = long[~blank.to_numpy()]  # a wide table's empty cell: that slot is closed
    if long.empty:
        raise InputError("no rows", expected="an intraday profile with at least one slot", **where)

    def bad(i: int, column: str, expected: str, found) -> InputError:
        position = int(long["position"].iloc[i])
        return InputError(
            "bad intraday profile",
            row=row_number(position),
            column=str(column),
            expected=expected,
            found=found,
            **where,
        )

    day = long["weekday"].str.lower().map(names)
    if day.isna().any():
        i = int(np.flatnonzero(day.isna().to_numpy())[0])
        raise bad(
            i,
            columns.get("weekday", "weekday"),
            "a weekday: Monday … Sunday (or Mon … Sun)",
            long["weekday"].iloc[i],
        )
    clock = long["time"].str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?")  # '8' would read as 8 nanoseconds
    offset = pd.to_timedelta(
        long["time"].where(long["time"].str.count(":") != 1, long["time"] + ":00").where(clock),
        errors="coerce",
    )
    off = ~clock | offset.isna() | (offset < pd.Timedelta(0)) | (offset >= DAY)
    if off.any():
        i = int(np.flatnonzero(off.to_numpy())[0])
        raise bad(i, columns["time"], "a time of day such as 08:30 (the slot's start)", long["time"].iloc[i])
    text = long["share"].astype(str).str.strip()
    percent = text.str.endswith("%")  # 12.5% is 0.125
    share = pd.to_numeric(text.str.removesuffix("%"), errors="coerce") / np.where(percent, 100.0, 1.0)
    wrong = share.isna() | ~np.isfinite(share) | (share < 0)
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise bad(i, long["share_col"].iloc[i], "a share of 0 or more", long["share"].iloc[i])
    seconds = (offset.dt.total_seconds() // 60).astype(int).to_numpy()
    steps = np.diff(np.unique(seconds))
    step = int(pd.Series(steps).mode().max()) if len(steps) else 60  # a tie: the coarser grid
    if 1440 % step:
        step = math.gcd(step, 1440)
    off_grid = seconds % step != 0
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        raise bad(
            i, columns["time"], f"a slot start on the profile's {step}-minute grid", long["time"].iloc[i]
        )
    slot = seconds // step
    key_pairs = pd.Series(day.to_numpy().astype(int) * 10_000 + slot)
    twice = key_pairs.duplicated().to_numpy()
    if twice.any():
        i = int(np.flatnonzero(twice)[0])
        raise bad(
            i,
            columns["time"],
            "each weekday and time once",
            f"{long['weekday'].iloc[i]} {long['time'].iloc[i]}",
        )
    n = 1440 // step
    shares = np.zeros((7, n))
    opened = np.zeros((7, n), bool)
    shares[day.to_numpy().astype(int), slot] = share.to_numpy(float)
    opened[day.to_numpy().astype(int), slot] = True
    sums = shares.sum(axis=1)
    listed = opened.any(axis=1)
    empty = listed & (sums <= 0)
    if empty.any():
        d = int(np.flatnonzero(empty)[0])
        raise InputError(
            f"the shares of {WEEKDAY_NAMES[d]} add up to 0",
            expected="shares above 0 on an open weekday (leave a closed weekday out)",
            **where,
        )
    notes: list[str] = []
    mix = None
    if abs(sums.sum() - 1) <= SUM_TOLERANCE and (np.abs(sums[listed] - 1) > SUM_TOLERANCE).any():
        mix = sums / sums.sum()  # shares of the week: the weekday mix comes with them
    elif (np.abs(sums[listed] - 1) > SUM_TOLERANCE).any():
        values = np.unique(np.round(sums[listed], 6))
        shown = (
            f"each weekday's add up to {values[0]:.4g}"
            if len(values) == 1
            else "they add up to "
            + ", ".join(f"{WEEKDAY_NAMES[d]} {sums[d]:.4g}" for d in np.flatnonzero(listed))
        )
        notes.append(
            f"the intraday profile {path.name}: shares of a day, expected to add up to 1 ({shown}), "
            "are read as weights and normalised per weekday"
        )
    shares = shares / np.where(sums > 0, sums, 1.0)[:, None]
    return IntradayProfile(
        pd.Timedelta(minutes=step), shares, opened, mix, f"profile file {path.name}", notes=tuple(notes)
    )


def period_of(stamps: pd.DatetimeIndex, groups: np.ndarray | None = None) -> pd.Timedelta | None:
    """The spacing of timestamps that are whole days (midnight) a day or more apart (daily or
    weekly data: the most common step within each group), else None (intraday data)."""
    stamps = pd.DatetimeIndex(stamps)
    if len(stamps) == 0 or (stamps != stamps.normalize()).any():
        return None
    frame = pd.DataFrame({"at": stamps, "group": 0 if groups is None else groups})
    steps = frame.sort_values("at").groupby("group")["at"].diff().dropna()
    if steps.empty:
        return None
    step = steps.mode().min()
    return step if step >= DAY else None


def _clock(offset: pd.Timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(step: pd.Timedelta) -> int:
    return int(step.total_seconds() // 60)
