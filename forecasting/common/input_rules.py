"""One set of rules for every number a user gives: command-line options, batch-file columns,
scenario keys and app widgets are checked against the same rule, so a value refused in one
place is refused in all, with the same words.

A rule says what a valid value is, with its unit, and refuses what is not a finite number or
lies outside the range: ``nan`` calls would staff 0 agents, ``inf`` calls would never finish
the search, an occupancy cap of 0 would ask for ten billion agents. The bounds are generous
(no real centre is near them) but keep every computation finite and quick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from forecasting.common.errors import InputError


@dataclass(frozen=True)
class Rule:
    expected: str  # a valid value in words, with its unit
    low: float = -np.inf
    high: float = np.inf
    low_open: bool = False  # ``low`` itself is not valid
    integer: bool = False

    def broken(self, values) -> np.ndarray:
        """Mask of the values this rule refuses (anything not a finite number included)."""
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(v) | (v > self.high) | ((v <= self.low) if self.low_open else (v < self.low))
            if self.integer:
                bad |= np.isfinite(v) & (v % 1 != 0)
        return bad


RULES: dict[str, Rule] = {
    "calls": Rule("a number of contacts from 0 to 10,000,000", 0, 1e7),
    "aht": Rule("a handle time in seconds, above 0 and at most 86,400 (a day)", 0, 86_400, low_open=True),
    "patience": Rule("a mean patience in seconds from 1 to 86,400", 1, 86_400),
    "seconds": Rule("seconds from 0 to 86,400", 0, 86_400),
    "positive_seconds": Rule("seconds above 0 and at most 86,400", 0, 86_400, low_open=True),
    "share": Rule("a share from 0 to 1 (e.g. 0.8 for 80 %)", 0, 1),
    # an occupancy cap below 0.2 staffs more than five agents for each one busy: no centre plans
    # so, and 1e-9 asked for ten billion agents (a cap of 0.0085 for 85 % is a typo, not a plan)
    "occupancy": Rule("a share from 0.2 to 1 (e.g. 0.85 for 85 %)", 0.2, 1),
    "shrinkage": Rule("a share from 0 to 0.95 of paid time (e.g. 0.3 for 30 %)", 0, 0.95),
    "agents": Rule("a number of agents from 0 to 1,000,000", 0, 1e6),
    # paid hours of one FTE: 0.001 made 975,833 FTE of a small plan; 168 is every hour of a week
    "hours_per_fte": Rule("paid hours a week from 1 to 80", 1, 80),
    # money, in the cost's currency: bounded like every number (a budget of 1e300 was a plan)
    "cost_per_hour": Rule("a cost per agent hour from 0 to 1,000,000", 0, 1e6),
    "budget": Rule("an amount above 0 and at most 1,000,000,000,000", 0, 1e12, low_open=True),
    "efficiency": Rule("a factor above 0 and at most 10", 0, 10, low_open=True),
    "replications": Rule("a whole number of replications from 1 to 1,000", 1, 1_000, integer=True),
    "response_hours": Rule("hours above 0 and at most 8,760 (a year)", 0, 8_760, low_open=True),
    "handle_cv": Rule("a coefficient of variation from 0 to 10", 0, 10),
    "concurrency": Rule("a whole number of chats at once from 1 to 10", 1, 10, integer=True),
}


# A number as text: ASCII digits, a sign, a point, an exponent (and inf / nan, which the rules
# then refuse in their own words). Python's float() also reads '1_000' as 1000 and '٣' (Arabic
# three) or '３' as 3: a typo or another script, never taken as a number here.
NUMBER_TEXT = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)\s*",
    re.ASCII | re.IGNORECASE,
)


def number_text(text: str) -> float:
    """``text`` as a float when written as :data:`NUMBER_TEXT`, else ``ValueError``: the one
    reader of numbers typed as text (options, widgets, a number quoted in a file)."""
    if not NUMBER_TEXT.fullmatch(text):
        raise ValueError(f"not a number written with the digits 0-9: {text!r}")
    return float(text)


def check_value(value, rule: str, **where):
    """``value`` if ``RULES[rule]`` holds for it, else an ``InputError`` naming where it came
    from (``option=``, ``key=``, ``column=``/``row=``/``path=``). None passes: not given."""
    if value is None:
        return value
    if RULES[rule].broken([_number(value)]).any():
        raise InputError(_what(value), expected=RULES[rule].expected, found=value, **where)
    return value


def check_column(values, rule: str, row_of, **where) -> None:
    """Every value of a column (NaN allowed where ``allow_blank``) against ``RULES[rule]``; the
    error names the first bad row (``row_of(i)``: its line in the file) and how many more."""
    v = np.asarray(values, dtype=float)
    bad = RULES[rule].broken(v) & ~np.isnan(v)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        more = int(bad.sum()) - 1
        raise InputError(
            _what(v[first]) + (f" ({more} more rows like it)" if more else ""),
            row=row_of(first),
            expected=RULES[rule].expected,
            found=v[first],
            **where,
        )


def _number(value) -> float:
    """``value`` as a float; nan (refused) for what is no number, a boolean included."""
    if isinstance(value, (bool, np.bool_)):
        return float("nan")
    try:
        return number_text(value) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _what(value) -> str:
    return "out of range" if np.isfinite(_number(value)) else "not a finite number"
