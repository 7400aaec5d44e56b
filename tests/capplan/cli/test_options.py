"""Every numeric option of every subcommand, found from the parser itself, refuses ``inf``,
``nan``, a negative number and an empty value with one line naming it and exit 2, before
anything runs; list options are held against their companions. Before, ``targets --headcount
inf`` was accepted and dropped and ``staff --efficiency 1,5`` for two chats was a traceback."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from capplan.cli import build_parser, main

BAD = ("inf", "-inf", "nan", "-1", "", "1e400")
NEGATIVE_ALLOWED = {
    ("demo", "--jobs"),
    ("backtest", "--jobs"),
    ("forecast", "--jobs"),
    ("train", "--jobs"),
    ("retrain", "--jobs"),
}  # -1: every core


def _is_number(value) -> bool:
    if isinstance(value, tuple):
        return bool(value) and all(_is_number(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(action: argparse.Action) -> bool:
    """An option whose type turns text into numbers (whatever the type is called)."""
    if not action.option_strings or action.type is None or action.type in (str, Path):
        return False
    for sample in ("1", "0.5", "2", "10"):
        try:
            return _is_number(action.type(sample))
        except Exception:  # refused: try another sample
            continue
    return False


def _options(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, (*path, name))
        elif path and action.option_strings:
            yield path, action


NUMERIC = [(path, action.option_strings[0]) for path, action in _options(build_parser()) if _numeric(action)]


def test_the_numeric_options_are_found():
    """The table below is every numeric option: these at least (a discovery finding none
    would let every test pass)."""
    found = {(" ".join(path), option) for path, option in NUMERIC}
    assert {
        ("staff", "--calls"),
        ("staff", "--efficiency"),
        ("staff", "--concurrency"),
        ("targets", "--headcount"),
        ("targets", "--days-share"),
        ("ingest", "--target-seconds"),
        ("validate-staffing", "--replications"),
        ("backtest", "--origins"),
        ("demo", "--jobs"),
    } <= found


def test_no_numeric_option_is_read_by_a_bare_float_or_int():
    """``type=float`` takes inf and nan; every number goes through capplan.cli.options."""
    bare = [(p, a.option_strings[0]) for p, a in _options(build_parser()) if a.type in (float, int)]
    assert bare == []


def _refused(capsys, *args: str) -> tuple[int, str]:
    try:
        code = main(["-q", *args])
    except SystemExit as stop:  # argparse's own one-line usage error
        code = stop.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("path", "option"), NUMERIC, ids=[f"{' '.join(p)} {o}" for p, o in NUMERIC])
def test_a_bad_number_for_any_option_is_one_line_naming_it(capsys, path, option, bad):
    if bad == "-1" and (path[-1], option) in NEGATIVE_ALLOWED:
        pytest.skip("-1 is a valid value here")
    code, err = _refused(capsys, *path, f"{option}={bad}")
    assert code == 2
    assert err.count("\n") == 1 and option in err and "Traceback" not in err, err


CASE = ("staff", "--calls", "100", "--aht", "180", "--service-level", "0.8")


def _agents(capsys, *extra: str) -> int:
    code, out = main(["-q", *CASE, *extra, "--json"]), capsys.readouterr().out
    assert code == 0
    return json.loads(out)["agents"]


@pytest.mark.parametrize(
    ("extra", "named", "fragment"),
    [
        (("--concurrency", "2", "--efficiency", "1,5"), "--efficiency", "at most k"),  # the probe's traceback
        (("--concurrency", "3", "--efficiency", "1,1.7"), "--efficiency", "3 values"),
        (("--concurrency", "3", "--efficiency", "3.5"), "--efficiency", "at most 3"),
        (("--concurrency", "1", "--efficiency", "1.5"), "--efficiency", "at most 1"),
        (("--efficiency", "1,1.7"), "--efficiency", "--concurrency"),  # ignored before
        (("--concurrency", "7"), "--concurrency", "1 to 5"),
        (("--handle-cv", "2"), "--handle-cv", "--simulate"),  # ignored before
        (("--simulate", "10"), "--simulate", "--input"),
        (("--response-share", "0.9"), "--response-share", "--response-hours"),
    ],
)
def test_a_list_or_option_is_held_against_its_companion(capsys, extra, named, fragment):
    code, err = _refused(capsys, *CASE, *extra)
    assert code == 2 and err.count("\n") == 1 and named in err and fragment in err, err


def test_one_efficiency_factor_is_the_one_for_the_concurrency_given(capsys):
    """A single value is broadcast to the concurrency: the same staffing as the full list."""
    full = _agents(capsys, "--concurrency", "3", "--efficiency", "1,1.7,2.5")
    assert _agents(capsys, "--concurrency", "3", "--efficiency", "2.5") == full
    assert _agents(capsys, "--concurrency", "3") == full  # the default factors agree
    assert _agents(capsys, "--concurrency", "3", "--efficiency", "1,1.7,2") > full


def test_a_decimal_comma_is_named(capsys):
    code, err = _refused(capsys, "staff", "--calls", "100", "--aht", "180", "--service-level", "0,8")
    assert code == 2 and "--service-level" in err and "a point for decimals" in err


@pytest.mark.parametrize(
    ("path", "option"),
    [
        (("staff",), "--interval"),
        (("ingest",), "--interval"),
        (("ingest",), "--encoding"),
        (("ingest",), "--timezone"),
        (("validate-staffing",), "--train-until"),
    ],
)
def test_an_empty_setting_is_refused_not_taken_as_the_default(capsys, path, option):
    code, err = _refused(capsys, *path, f"{option}=")
    assert code == 2 and option in err and "no value" in err
