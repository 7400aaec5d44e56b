"""Days known in advance to be unlike others: public holidays and the planner's own list.

A holiday in the history is not an outlier to mend but an effect to learn, and a holiday in
the horizon must be forecast as one; both need the dates ahead of time. Country calendars
come from the ``holidays`` package ("US", "DE", or "US-CA" for a state); the planner's list
(a CSV of ``date[,name]`` rows: a product launch, the day after Thanksgiving, a yearly sale)
adds days the country calendar does not know. Days with the same name share one effect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.common.errors import InputError


@dataclass(frozen=True)
class SpecialDays:
    """A country's public holidays (optional) plus named dates of the planner's own."""

    country: str | None = None
    dates: tuple[tuple[dt.date, str], ...] = ()

    def __post_init__(self) -> None:
        if self.country:
            self._country_calendar([2000])  # an unknown code fails here, once, with a clear message

    def __bool__(self) -> bool:
        return bool(self.country or self.dates)

    def between(self, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
        """Name of each special day from ``first`` to ``last`` (inclusive), indexed by day."""
        first, last = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
        named: dict[pd.Timestamp, str] = {}
        if self.country:
            for day, name in self._country_calendar(range(first.year, last.year + 1)).items():
                named[pd.Timestamp(day)] = _first_name(name)
        for day, name in self.dates:  # the planner's name wins over the country's
            named[pd.Timestamp(day)] = name
        days = pd.Series(named, dtype=object).sort_index()
        days.index = pd.DatetimeIndex(days.index)
        return days[(days.index >= first) & (days.index <= last)]

    def _country_calendar(self, years):
        import holidays

        code, _, subdiv = self.country.partition("-")
        try:
            return holidays.country_holidays(code.upper(), subdiv=subdiv.upper() or None, years=list(years))
        except NotImplementedError:
            raise InputError(
                "unknown holiday calendar",
                option="holidays",
                expected="a country code such as US, GB, DE or FR, optionally with a region (US-CA, DE-BY)",
                found=self.country,
            ) from None

    def describe(self) -> str:
        parts = [f"{self.country} public holidays"] if self.country else []
        parts += [f"{len(self.dates)} special days of your own"] if self.dates else []
        return " and ".join(parts) or "none"


def _first_name(name: str) -> str:
    """'Christmas Day; Boxing Day' (two holidays on one date) -> 'Christmas Day'."""
    return name.split(";")[0].strip()


def read_special_days(path: str | Path) -> tuple[tuple[dt.date, str], ...]:
    """The planner's list: a CSV whose first column is a date and optional second a name (days
    without a name are named by their date's month and day, so a yearly date repeats as one)."""
    from forecasting.history.tables import read_table

    raw = read_table(path)
    frame = raw.frame
    date_col = frame.columns[0]
    if pd.notna(pd.to_datetime(pd.Series([str(date_col)]), format="ISO8601", errors="coerce").iloc[0]):
        raise InputError(  # its first day was taken for the header and lost
            "no header line",
            path=raw.path,
            row=1,
            expected="a header line such as 'date,name' before the days",
            found=str(date_col),
        )
    days = pd.to_datetime(frame[date_col], format="ISO8601", errors="coerce")
    bad = (
        days.isna() | (days < pd.Timestamp("1900-01-01")) | (days >= pd.Timestamp("2200-01-01"))
    ).to_numpy()
    if bad.any():
        i = int(bad.argmax())
        raise InputError(
            "not a date",
            path=raw.path,
            row=raw.row_number(i),
            column=str(date_col),
            expected="a date such as 2025-11-28 in the first column (after a header line)",
            found=str(frame[date_col].iloc[i]),
        )
    if len(frame.columns) > 1:
        names = frame[frame.columns[1]].fillna("").astype(str).str.strip()
    else:
        names = pd.Series([""] * len(frame))
    out = []
    for day, name in zip(days, names, strict=True):
        out.append((day.date(), name or f"special {day:%m-%d}"))
    return tuple(out)
