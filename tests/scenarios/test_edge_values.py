"""Every value checked at the edge (issue 24): a YAML number no float holds, money and hours
without bounds, an occupancy cap near 0, more efficiency factors than chats, and digits of
other scripts or with underscores are each refused in one line naming where they came from."""

from __future__ import annotations

import pytest

from forecasting.common.errors import InputError
from forecasting.common.input_rules import RULES, check_value, number_text
from tests.conftest import BANK_CALLS

SCENARIO = "name: edge\ndata: {input: x.csv, format: intervals, time_col: t, value_col: v}\n"
KPIS = ["kpis", str(BANK_CALLS), "--time-col", "DateTime", "--value-col", "Calls"]
HUGE = {
    "5,000 nines": "9" * 5000,  # Python reads at most 4,300 digits: a ValueError traceback
    "4,000 hex digits": "0x" + "f" * 4000,  # read, but overflowed every float after
    "a 301-digit integer": "1" + "0" * 300,
    "a negative 5,000 digits": "-" + "9" * 5000,
}
FILES = {  # the file, with N for the number, and the command that reads it ({} is its path)
    "mapping": ("realtime_channels: [N]\n", ["ingest", "log.csv", "--mapping", "{}", "--out", "out"]),
    "targets": ("targets: {service_level: {min: N}}\n", [*KPIS, "--targets", "{}", "--out", "out"]),
    "scenario": (
        SCENARIO + "supply: {budget: N, cost_per_agent_hour: 30}\n",
        ["scenario", "run", "{}", "--no-track"],
    ),
}


@pytest.mark.parametrize("number", HUGE.values(), ids=HUGE.keys())
@pytest.mark.parametrize("kind", FILES)
def test_a_yaml_number_too_long_for_any_float_is_one_line_naming_file_and_row(
    run_cli, tmp_path, monkeypatch, kind, number
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAPPLAN_HOME", str(tmp_path / "home"))
    (tmp_path / "log.csv").write_text("contact_id,arrival_time\nc1,2024-01-08 09:00:00\n")
    text, command = FILES[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(text.replace("N", number))
    row = text.count("\n")  # the number is on the file's last line
    code, _, err = run_cli(*[a.replace("{}", str(path)) for a in command])
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err[-500:]
    assert f"{path}, row {row}" in err and "at most 300 digits" in err


def test_a_float_with_a_huge_exponent_is_refused_as_not_finite(write_scenario):
    from scenarios.inputs.spec import load_scenario

    with pytest.raises(InputError) as err:
        load_scenario(
            write_scenario("edge", SCENARIO + "supply: {budget: 1.0e+99999, cost_per_agent_hour: 30}\n")
        )
    assert "key 'supply.budget'" in str(err.value)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("{budget: 1.0e+300, cost_per_agent_hour: 30}", "budget"),
        ("{budget: 0, cost_per_agent_hour: 30}", "budget"),
        ("{cost_per_agent_hour: 1.0e+7}", "cost_per_hour"),
        ("{hours_per_fte: 0.001}", "hours_per_fte"),
        ("{hours_per_fte: 168}", "hours_per_fte"),
    ],
)
def test_money_and_paid_hours_are_bounded_in_a_scenario(write_scenario, text, rule):
    """A budget of 1e300 planned 300-digit FTE and costs; 0.001 paid hours made 975,833 FTE."""
    from scenarios.inputs.spec import load_scenario

    with pytest.raises(InputError) as err:
        load_scenario(write_scenario("edge", SCENARIO + f"supply: {text}\n"))
    assert "key 'supply." in str(err.value) and RULES[rule].expected in str(err.value)


def test_sensible_money_and_hours_still_load(write_scenario):
    from scenarios.inputs.spec import load_scenario

    text = "supply: {budget: 2.5e+6, cost_per_agent_hour: 35.5, hours_per_fte: 40}\ntargets: {max_occupancy: 0.85}\n"
    scenario, _ = load_scenario(write_scenario("edge", SCENARIO + text))
    assert scenario.supply.budget == 2.5e6 and scenario.supply.hours_per_fte == 40


@pytest.mark.parametrize("value", ["1e-9", "0.1", "0.19"])
def test_an_occupancy_cap_near_zero_is_refused_on_the_command_line_and_in_a_scenario(
    run_cli, write_scenario, value
):
    """--max-occupancy 1e-9 asked for 9,999,999,999 agents: one rule for both places."""
    from scenarios.inputs.spec import load_scenario

    code, out, err = run_cli("staff", "--calls", "100", "--aht", "180", "--max-occupancy", value)
    assert code == 2 and out == "" and "--max-occupancy" in err and RULES["occupancy"].expected in err
    with pytest.raises(InputError) as exc:
        load_scenario(write_scenario("edge", SCENARIO + f"targets: {{max_occupancy: {value}}}\n"))
    assert RULES["occupancy"].expected in str(exc.value)


@pytest.mark.parametrize("value", ["0.5", "200"])
def test_paid_hours_out_of_range_are_refused_on_the_command_line(run_cli, value):
    code, _, err = run_cli(
        "staff", "--calls", "100", "--aht", "180", "--service-level", "0.8", "--hours-per-fte", value
    )
    assert code == 2 and "--hours-per-fte" in err and RULES["hours_per_fte"].expected in err


@pytest.mark.parametrize(("k", "factors"), [("2", "1,1.7,2.5"), ("1", "1,1.7"), ("3", "1,1.7,2.5,2.9,3.5")])
def test_more_efficiency_factors_than_chats_at_once_are_refused(run_cli, k, factors):
    code, out, err = run_cli(
        "staff",
        "--calls",
        "100",
        "--aht",
        "180",
        "--service-level",
        "0.8",
        "--concurrency",
        k,
        "--efficiency",
        factors,
    )
    assert code == 2 and out == "" and "--efficiency" in err and f"({k} values)" in err


def test_exactly_one_factor_per_chat_is_still_taken(run_cli):
    code, _, err = run_cli(
        "staff",
        "--calls",
        "100",
        "--aht",
        "180",
        "--service-level",
        "0.8",
        "--concurrency",
        "2",
        "--efficiency",
        "1,1.7",
    )
    assert code == 0, err


OTHER_DIGITS = ["٣", "３", "1_000", "१०", "0x10", "1 000"]


@pytest.mark.parametrize("text", OTHER_DIGITS)
def test_a_number_in_other_digits_or_with_underscores_is_refused_on_the_command_line(run_cli, text):
    """Python's float() read '٣' (Arabic three) as 3 and '1_000' as 1000."""
    code, out, err = run_cli("staff", "--calls", text, "--aht", "180", "--service-level", "0.8")
    assert code == 2 and out == "" and "--calls" in err and "not a number" in err
    code, out, err = run_cli(
        "staff",
        *("--calls", "100", "--aht", "180", "--service-level", "0.8"),
        "--concurrency",
        "2",
        "--efficiency",
        f"1,{text}",
    )
    assert code == 2 and "--efficiency" in err


@pytest.mark.parametrize("text", ["٣", "1_000", "３"])
def test_a_whole_number_option_takes_ascii_digits_only(text):
    import argparse

    from capplan.cli.options import jobs_count, positive_int

    with pytest.raises(argparse.ArgumentTypeError):
        positive_int(text)
    with pytest.raises(argparse.ArgumentTypeError):
        jobs_count(text)


@pytest.mark.parametrize("text", OTHER_DIGITS)
def test_the_shared_rules_read_only_ascii_numbers(text):
    with pytest.raises(ValueError):
        number_text(text)
    with pytest.raises(InputError, match="not a finite number"):
        check_value(text, "calls", option="calls")


@pytest.mark.parametrize("text", ["'1_000'", "'٣'"])
def test_a_quoted_number_in_a_scenario_takes_ascii_digits_only(write_scenario, text):
    """pydantic read the text '1_000' as 1000 for a number key."""
    from scenarios.inputs.spec import load_scenario

    with pytest.raises(InputError) as err:
        load_scenario(write_scenario("edge", SCENARIO + f"supply: {{cost_per_agent_hour: {text}}}\n"))
    assert "key 'supply.cost_per_agent_hour'" in str(err.value)


@pytest.mark.parametrize("text", ["1", "-2.5", ".5", "5.", "1e3", "1E-3", " 7 ", "+3"])
def test_plain_numbers_still_read(text):
    assert number_text(text) == float(text)
