"""Numbers a user gives to ``staff``: every one is checked by the same rules (finite, in range,
with units) and a bad one stops with exit 2 and one line naming it, no traceback, no output
file; before, ``nan`` calls staffed 0 agents, ``inf`` never finished, an occupancy cap of 0
asked for ten billion agents, and -3 agents were scheduled."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasting.common.errors import InputError
from forecasting.common.input_rules import RULES, check_column, check_value

CASE = ("--calls", "100", "--aht", "180")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--calls", "nan", "--aht", "180", "--service-level", "0.8"), "--calls"),
        (("--calls", "inf", "--aht", "180", "--service-level", "0.8"), "--calls"),
        (("--calls", "1e308", "--aht", "180", "--service-level", "0.8"), "--calls"),
        (("--calls", "-1", "--aht", "180", "--service-level", "0.8"), "--calls"),
        (("--calls", "100", "--aht", "inf", "--service-level", "0.8"), "--aht"),
        (("--calls", "100", "--aht", "0", "--service-level", "0.8"), "--aht"),
        ((*CASE, "--max-occupancy", "0"), "--max-occupancy"),
        ((*CASE, "--agents", "-3"), "--agents"),
        ((*CASE, "--service-level", "1.5"), "--service-level"),
        ((*CASE, "--service-level", "nan"), "--service-level"),
        ((*CASE, "--service-level", "0.8", "--target-seconds", "-1"), "--target-seconds"),
        ((*CASE, "--abandon-rate", "0.05", "--patience", "0.01"), "--patience"),
        ((*CASE, "--service-level", "0.8", "--shrinkage", "1"), "--shrinkage"),
        ((*CASE, "--service-level", "0.8", "--efficiency", "1,-2"), "--efficiency"),
        ((*CASE, "--service-level", "0.8", "--hours-per-fte", "0"), "--hours-per-fte"),
        ((*CASE, "--service-level", "0.8", "--simulate", "-1"), "--simulate"),
        ((*CASE, "--service-level", "0.8", "--simulate", "100000000"), "--simulate"),
        ((*CASE, "--service-level", "0.8", "--response-share", "2"), "--response-share"),
    ],
)
def test_a_bad_number_on_the_command_line_is_named_and_nothing_runs(run_cli, args, named):
    code, out, err = run_cli("staff", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and named in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("rows", "row", "column"),
    [
        (["100,180", "-5,180"], 3, "calls"),  # a negative volume
        (["100,0"], 2, "aht"),  # contacts with no handle time
        ([",180"], 2, "calls"),  # a blank volume
        (["inf,180"], 2, "calls"),
        (["1e308,180"], 2, "calls"),  # would never finish
        (["100,1e400"], 2, "aht"),  # a float overflow read as inf
    ],
)
def test_a_bad_batch_row_is_named_by_line_and_column_and_no_file_is_written(
    run_cli, tmp_path, rows, row, column
):
    stamps = [f"2024-01-01 {8 + i // 2:02d}:{30 * (i % 2):02d}" for i in range(len(rows))]
    path = tmp_path / "batch.csv"
    path.write_text(
        "interval_start,calls,aht\n" + "\n".join(f"{t},{r}" for t, r in zip(stamps, rows, strict=True)) + "\n"
    )
    code, _, err = run_cli("staff", "--input", path, "--service-level", "0.8", "--out", tmp_path / "s.csv")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"row {row}" in err and f"column '{column}'" in err
    assert not (tmp_path / "s.csv").exists()


def test_a_duplicate_interval_in_a_batch_is_refused(run_cli, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text("interval_start,calls,aht\n2024-01-01 08:00,100,180\n2024-01-01 08:00,50,180\n")
    code, _, err = run_cli("staff", "--input", path, "--service-level", "0.8", "--out", tmp_path / "s.csv")
    assert code == 2 and "row 3" in err and "duplicate interval" in err


def test_an_interval_without_contacts_needs_no_handle_time(run_cli, tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text("interval_start,calls,aht\n2024-01-01 08:00,0,0\n2024-01-01 08:30,10,180\n")
    code, _, err = run_cli("staff", "--input", path, "--service-level", "0.8", "--out", tmp_path / "s.csv")
    assert code == 0, err


def test_json_output_is_valid_json_when_a_number_is_infinite(run_cli):
    code, out, _ = run_cli("staff", *CASE, "--agents", "2", "--json")  # overloaded: ASA is infinite
    assert code == 0 and "Infinity" not in out and "NaN" not in out
    assert json.loads(out)["asa_seconds"] is None


@given(st.sampled_from(sorted(RULES)), st.floats(allow_nan=True, allow_infinity=True))
def test_a_rule_refuses_exactly_what_is_not_finite_or_out_of_its_range(name, value):
    rule = RULES[name]
    inside = (
        np.isfinite(value)
        and (value > rule.low if rule.low_open else value >= rule.low)
        and value <= rule.high
    )
    inside = inside and (not rule.integer or float(value).is_integer())
    if inside:
        assert check_value(value, name, option="x") == value
    else:
        with pytest.raises(InputError) as err:
            check_value(value, name, option="x")
        assert rule.expected in str(err.value)


@given(st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=30), st.integers(0, 29))
def test_a_column_check_names_the_first_bad_row(values, bad_at):
    values = np.array(values)
    check_column(values, "calls", lambda i: i + 2, column="calls")  # all in range: passes
    if bad_at < len(values):
        values[bad_at] = np.inf
        with pytest.raises(InputError) as err:
            check_column(values, "calls", lambda i: i + 2, column="calls")
        assert err.value.row == bad_at + 2


@pytest.mark.parametrize(
    ("section", "text", "rule"),
    [
        ("queues", "{voice: {aht_seconds: .inf}}", "aht"),
        ("queues", "{voice: {aht_seconds: 0}}", "aht"),
        ("queues", "{voice: {model: erlang-a, patience_seconds: 0.01}}", "patience"),
        ("queues", "{voice: {channel: chat, concurrency: 11}}", "concurrency"),
        ("targets", "{service_level: .nan}", "share"),
        ("targets", "{service_level: 5}", "share"),
        ("targets", "{max_occupancy: 0}", "occupancy"),
        ("targets", "{target_seconds: -1}", "positive_seconds"),
        ("supply", "{shrinkage: 0.97}", "shrinkage"),
        ("supply", "{hours_per_fte: .inf}", "hours_per_fte"),
        ("supply", "{headcount: 1e9}", "agents"),
    ],
)
def test_a_scenario_key_is_held_to_the_command_lines_rule(write_scenario, section, text, rule):
    """``aht_seconds: .inf`` passed 'greater than 0' and hung the staffing search; a scenario
    shrinkage of 0.97 was allowed where ``staff --shrinkage`` stopped at 0.95."""
    from scenarios.inputs.spec import load_scenario

    yaml_text = (
        "name: bad\ndata: {input: x.csv, format: intervals, time_col: t, value_col: v}\n"
        + f"{section}: {text}\n"
    )
    with pytest.raises(InputError) as err:
        load_scenario(write_scenario("bad", yaml_text))
    message = str(err.value)
    assert f"key '{section}." in message and "\n" not in message
    assert RULES[rule].expected in message


def test_no_scenario_number_may_be_infinite(write_scenario):
    from scenarios.inputs.spec import load_scenario

    path = write_scenario(
        "bad",
        "name: bad\ndata: {input: x.csv, format: intervals, time_col: t, value_col: v}\ndemand: {growth_pct: .inf}\n",
    )
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert "key 'demand.growth_pct'" in str(err.value) and "finite" in str(err.value)


@pytest.mark.parametrize(
    ("option", "value"),
    [("--replications", "100000000"), ("--replications", "0"), ("--target-seconds", "nan")],
)
def test_validate_staffing_options_are_held_to_the_rules(run_cli, tmp_path, option, value):
    """--replications 1e8 asked numpy for 125 GiB and died with a traceback."""
    from tests.conftest import BANK_LOG

    out = tmp_path / "v.csv"
    code, _, err = run_cli(
        "validate-staffing",
        "--log",
        BANK_LOG,
        "--format",
        "anonymous-bank",
        "--train-until",
        "1999-02-07",
        option,
        value,
        "--out",
        out,
    )
    assert code == 2 and option in err and err.count("\n") == 1 and not out.exists()


def test_a_batch_is_staffed_at_its_own_spacing(run_cli, tmp_path):
    """15-minute rows were staffed as half-hours (14 agents instead of 24)."""
    import pandas as pd

    path = tmp_path / "batch.csv"
    path.write_text(
        "interval_start,calls,aht\n" + "".join(f"2024-01-01 08:{m:02d},100,180\n" for m in (0, 15, 30))
    )
    out = tmp_path / "s.csv"
    code, _, err = run_cli("staff", "--input", path, "--service-level", "0.8", "--out", out)
    assert code == 0, err
    code, single, _ = run_cli("staff", *CASE, "--service-level", "0.8", "--interval", "15min", "--json")
    assert code == 0 and (pd.read_csv(out)["agents"] == json.loads(single)["agents"]).all()
    code, _, err = run_cli(
        "staff", "--input", path, "--service-level", "0.8", "--interval", "30min", "--out", out
    )
    assert code == 2 and "--interval" in err and "15min" in err
