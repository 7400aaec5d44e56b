"""argparse types for capplan's numeric options: one place where every number typed on the
command line is read and held to its rule (``forecasting.common.input_rules``), before any command
runs, so ``inf``, ``nan``, a negative count or an empty value is refused with one line naming
the option, never taken, silently dropped or left to fail deep inside (a headcount of ``inf``
was dropped; ``--efficiency 1,5`` for two chats was a traceback).

A type raises :class:`OptionValueError`; :class:`capplan.cli.Parser` names the option it
came from and turns it into an ``InputError``, printed as one line like every user error.
Checks between options (a list against its companion) are :func:`factors_for`'s.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from capplan.errors import RULES, InputError, Rule, number_text


@dataclass(frozen=True)
class BelowRule(Rule):
    """A rule whose ``high`` itself is not valid (a share of days below 1: the best day of
    all is not a target)."""

    def broken(self, values) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return super().broken(v) | (v >= self.high)


# the command line's own rules, beside the shared ones (a scenario says the same in its keys)
CLI_RULES: dict[str, Rule] = {
    "headcount": Rule("a number of FTE above 0 and at most 1,000,000", 0, 1e6, low_open=True),
    "days_share": BelowRule("a share above 0 and below 1 (e.g. 0.8 for 80 % of days)", 0, 1, low_open=True),
}


class OptionValueError(InputError):
    """A bad option value, before argparse says which option it was given to."""

    def for_option(self, option: str) -> InputError:
        return InputError(self.detail, option=option, expected=self.expected, found=self.found)


def _rule(name: str) -> Rule:
    return CLI_RULES.get(name) or RULES[name]


def _read(text: str, expected: str) -> float:
    """``text`` as a float, or an error saying what was expected (a decimal comma named). Only
    ASCII digits (:func:`~forecasting.common.input_rules.number_text`): float() read '1_000' as 1000
    and '٣' as 3."""
    try:
        return number_text(text)
    except ValueError:
        hint = " (a point for decimals)" if re.fullmatch(r"\s*-?\d+,\d+\s*", text) else ""
        what = "no value" if not text.strip() else "not a number"
        raise OptionValueError(what + hint, expected=expected, found=text) from None


def _held(value: float, rule: Rule, text: str, what: str = "") -> float:
    if rule.broken([value]).any():
        problem = "out of range" if np.isfinite(value) else "not a finite number"
        if rule.integer and np.isfinite(value) and value % 1:
            problem = "not a whole number"
        raise OptionValueError(what + problem, expected=rule.expected, found=text)
    return value


def number(rule: str) -> Callable[[str], float]:
    """argparse type: a finite number that keeps ``rule`` (a whole one for integer rules)."""
    held = _rule(rule)

    def parse(text: str) -> float:
        value = _held(_read(text, held.expected), held, text)
        return int(value) if held.integer else value

    parse.__name__ = f"number ({rule})"
    return parse


def number_list(rule: str, position_bound: bool = False) -> Callable[[str], tuple[float, ...]]:
    """argparse type: comma-separated numbers, each keeping ``rule``; with ``position_bound``
    the k-th is at most k (chat efficiency: k chats at once never go more than k times as
    fast as one)."""
    held = _rule(rule)

    def parse(text: str) -> tuple[float, ...]:
        parts = text.split(",")
        values = []
        for k, part in enumerate(parts, start=1):
            what = f"value {k} of {len(parts)}: " if len(parts) > 1 else ""
            if not part.strip():
                raise OptionValueError(
                    what + "no value", expected=f"comma-separated numbers, each {held.expected}", found=text
                )
            value = _held(_read(part, held.expected), held, text, what)
            if position_bound and len(parts) > 1 and value > k:
                raise OptionValueError(
                    f"{what}{value:g} is more than {k}",
                    expected="the k-th factor at most k (k chats at once go at most k times as fast as one)",
                    found=text,
                )
            values.append(value)
        return tuple(values)

    parse.__name__ = f"numbers ({rule})"
    return parse


def text(name: str) -> Callable[[str], str]:
    """argparse type: a value that is not blank (an empty ``--interval`` fell back to the
    default without a word)."""

    def parse(value: str) -> str:
        if not value.strip():
            raise OptionValueError("no value", expected=name, found=value)
        return value.strip()

    parse.__name__ = "text"
    return parse


def factors_for(
    factors: tuple[float, ...] | None,
    count: int | None,
    default: tuple[float, ...],
    option: str,
    companion: str,
) -> tuple[float, ...]:
    """A per-position list (``factors[k-1]`` for k) held against its companion ``count``: it
    must hold exactly ``count`` values (one for each of 1 to ``count``: fewer leave ``count``
    without one, more are for chats never held at once), or one value, which is then the one for
    ``count``. Without ``count`` a list is an error, not silently ignored."""
    if factors is None:
        if count is not None and count > len(default):
            raise InputError(
                "out of range",
                option=companion,
                expected=f"1 to {len(default)} (the default factors), or <<{option}>> with a factor for {count}",
                found=count,
            )
        return default
    if count is None:
        raise InputError(
            f"without <<{companion}>>",
            option=option,
            expected=f"<<{companion}>> too (the factors are used only with it), or no <<{option}>>",
        )
    if len(factors) == 1:
        value = factors[0]
        if value > count:
            raise InputError(
                "out of range",
                option=option,
                expected=f"a factor for {count} at once of at most {count} (or one per 1 to {count})",
                found=f"{value:g}",
            )
        return tuple(float(k) for k in range(1, count)) + (value,)
    if len(factors) != count:  # more than count: factors for chats never held at once, a typo
        raise InputError(
            f"{len(factors)} values for <<{companion}>> {count}",
            option=option,
            expected=f"one value for each of 1 to {count} ({count} values), or a single value for {count}",
            found=",".join(f"{v:g}" for v in factors),
        )
    return factors


def positive_int(text: str, high: int = 100_000) -> int:
    """argparse type: a whole number from 1 to ``high`` (argparse prints the one-line error);
    ASCII digits only, as :func:`_read` (int() read '٣' as 3 and '1_000' as 1000)."""
    try:
        if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text, re.ASCII):
            raise ValueError(text)
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if not 1 <= value <= high:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {high:,}, found {value}")
    return value


def up_to(high: int):
    """argparse type: a whole number from 1 to ``high``."""

    def parse(text: str) -> int:
        return positive_int(text, high)

    parse.__name__ = "whole number"
    return parse


MAX_HORIZON_DAYS = 1100  # open days: three years and more; a longer one is a typo
MAX_ORIGINS = 200


def jobs_count(text: str) -> int:
    value = int(text) if re.fullmatch(r"-?[0-9]+", text) else 0  # ASCII digits: '٣'.isdigit()
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes (1, 2, …) or -1 for every core, found {text!r}"
        )
    return value
