"""Scenario files: validation errors name the key and what is allowed; extends merges."""

import pytest

from forecasting.common.errors import InputError
from scenarios.inputs.bundled import BUNDLED_SCENARIOS as SCENARIO_DIR
from scenarios.inputs.spec import load_scenario, merge, scenario_files
from tests.conftest import FAST


def test_every_bundled_scenario_is_valid():
    files = scenario_files()
    assert len(files) >= 4
    names = {load_scenario(p)[0].name for p in files}
    assert {"baseline", "campaign_week", "product_launch", "holiday_shrinkage"} <= names


def test_extends_merges_mappings_and_replaces_values():
    campaign, _ = load_scenario("campaign_week")
    baseline, _ = load_scenario(SCENARIO_DIR / "baseline.yaml")
    assert campaign.data == baseline.data and campaign.supply == baseline.supply
    assert campaign.demand.multipliers[0].factor == 1.2 and not baseline.demand.multipliers
    assert campaign.baseline_name == "baseline" and baseline.baseline_name is None
    assert merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]}) == {
        "a": {"b": 1, "c": 3},
        "l": [2],
    }


def _error(write_scenario, content) -> str:
    path = write_scenario("bad", content)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text
    return text


def test_unknown_key_names_it_and_the_allowed_keys(write_scenario):
    text = _error(write_scenario, {**FAST, "demand": {"growth": 5}})
    assert (
        "unknown key" in text and "'demand.growth'" in text and "growth_pct" in text and "multipliers" in text
    )
    text = _error(write_scenario, {**FAST, "suply": {}})
    assert "'suply'" in text and "supply" in text


def test_negative_multiplier_names_the_key(write_scenario):
    text = _error(
        write_scenario, {**FAST, "demand": {"multipliers": [{"start": "2003-06-02", "factor": -0.5}]}}
    )
    assert "'demand.multipliers.0.factor'" in text and "greater than or equal to 0" in text and "-0.5" in text


def test_target_above_100_percent_names_the_key(write_scenario):
    text = _error(write_scenario, {**FAST, "targets": {"service_level": 80}})
    assert "'targets.service_level'" in text and "from 0 to 1" in text
    text = _error(write_scenario, {**FAST, "targets": {"queues": {"voice": {"abandon_rate": 1.5}}}})
    assert "'targets.queues.voice.abandon_rate'" in text


def test_wrong_choice_lists_the_allowed_values(write_scenario):
    text = _error(write_scenario, {**FAST, "queues": {"voice": {"channel": "fax", "aht_seconds": 180}}})
    assert "'queues.voice.channel'" in text and "'voice'" in text and "'chat'" in text and "'email'" in text
    text = _error(write_scenario, {**FAST, "forecast": {"staff_to": 1.5}})
    assert "'forecast.staff_to'" in text and "quantile" in text
    text = _error(write_scenario, {**FAST, "forecast": {"model": "auto", "holidays": "Narnia"}})
    assert "'forecast.holidays'" in text and "country code" in text and "Narnia" in text


def test_consistency_checks(write_scenario):
    shares = {
        "voice": {"aht_seconds": 180, "share": 0.7},
        "chat": {"channel": "chat", "aht_seconds": 300, "share": 0.2},
    }
    assert "adding up to 1" in _error(write_scenario, {**FAST, "queues": shares})
    text = _error(
        write_scenario, {**FAST, "demand": {"shifts": [{"from": "voice", "to": "sms", "share": 0.1}]}}
    )
    assert "unknown: sms" in text
    email = {
        "voice": {"aht_seconds": 180, "share": 0.9},
        "mail": {"channel": "email", "aht_seconds": 300, "share": 0.1},
    }
    assert "response_hours" in _error(write_scenario, {**FAST, "queues": email})
    assert "'demand.events.0.start'" in _error(
        write_scenario, {**FAST, "demand": {"events": [{"start": "soon", "lift": 0.2}]}}
    )


def test_extends_in_a_circle_and_missing_parent(write_scenario):
    write_scenario("a", {"extends": "b"})
    path = write_scenario("b", {"extends": "a"})
    with pytest.raises(InputError, match="circle"):
        load_scenario(path)
    with pytest.raises(InputError, match=r"extends.*nowhere|not there"):
        load_scenario(write_scenario("orphan", {**FAST, "extends": "nowhere"}))


def test_cli_reports_bad_scenario_in_one_line(run_cli, write_scenario):
    path = write_scenario("bad", {**FAST, "demand": {"multipliers": [{"factor": -1}]}})
    code, out, err = run_cli("scenario", "run", path, "--no-track")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "demand.multipliers.0.factor" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            {"demand": {"multipliers": [{"start": "2003-06-02T00:00:00Z", "factor": 2}]}},
            "demand.multipliers.0.start",
            "no time zone",
        ),
        (
            {"demand": {"multipliers": [{"start": "today", "factor": 2}]}},
            "demand.multipliers.0.start",
            "local date",
        ),
        ({"name": "it's"}, "name", "letters, digits"),
        ({"queues": {"voice (EN)": {"aht_seconds": 180}}}, "queues", "letters, digits"),
        ({"forecast": {"model": "crystal_ball"}}, "forecast.model", "weekday_mean"),
        ({"supply": {"budget": 1000}}, "supply", "cost_per_agent_hour"),
        ({"supply": {"available_agents": "150"}}, "supply.available_agents", "no quotes"),
        ({"supply": {"available_agents": True}}, "supply.available_agents", "number of agents"),
        ({"targets": {"service_level": None}}, None, "a target for queue 'voice'"),
        ({"demand": {"multipliers": [{"factr": 2}]}}, "demand.multipliers.0.factr", "factor"),
        (
            {"queues": {"voice": {"aht_seconds": 180, "starting_backlog": 40}}},
            "queues.voice",
            "only for channel email",
        ),
        (
            {
                "queues": {"email": {"channel": "email", "aht_seconds": 600, "starting_backlog": -3}},
                "targets": {"response_hours": 4},
            },
            "queues.email.starting_backlog",
            "auto, or a number of items waiting",
        ),
    ],
)
def test_more_bad_values_name_their_key(write_scenario, change, key, words):
    text = _error(write_scenario, {**FAST, **change})
    assert (f"'{key}'" in text) if key else "key ''" not in text
    assert words in text and "{" not in text  # no dump of a whole section


def test_missing_section_is_named(write_scenario):
    text = _error(write_scenario, {k: v for k, v in FAST.items() if k != "data"})
    assert "missing key" in text and "'data'" in text


def test_a_mistake_in_the_extended_scenario_is_reported_in_its_file(write_scenario):
    parent = write_scenario("parent", {**FAST, "name": "parent", "demand": {"growth_pct": -150}})
    child = write_scenario("child", {"extends": "parent", "supply": {"shrinkage": 0.2}})
    with pytest.raises(InputError) as info:
        load_scenario(child)
    assert str(parent) in str(info.value) and "demand.growth_pct" in str(info.value)


def test_a_scenario_file_that_is_not_utf8_is_named(write_scenario):
    path = write_scenario("latin", "name: latin\n")
    path.write_bytes("name: latin\ndescription: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(path) in str(err.value) and "not UTF-8" in str(err.value)


def test_scenario_list_survives_a_file_that_is_not_utf8(run_cli, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "experiments" / "scenarios"  # ./experiments/scenarios is where names are looked up
    shutil.copytree(SCENARIO_DIR, folder)
    (folder / "latin.yaml").write_bytes("name: latin\ndescription: caf\xe9\n".encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("scenario", "list")
    assert code == 0 and "Traceback" not in err
    line = next(row for row in out.splitlines() if row.strip().startswith("latin"))
    assert "invalid" in line and "not UTF-8" in line


@pytest.mark.parametrize(
    ("demand", "fragment"),
    [
        (
            "{multipliers: [{start: 2003-02-30, factor: 1.2}]}",
            "'demand.multipliers.0.start'",
        ),  # crashed PyYAML
        ("{multipliers: [{start: 2003-13-01, factor: 1.2}]}", "'demand.multipliers.0.start'"),
        ("{multipliers: [{start: 2003-06-05, end: 2003-06-01, factor: 1.2}]}", "an end after the start"),
    ],
)
def test_a_bad_date_in_a_scenario_is_named(write_scenario, demand, fragment):
    text = _error(
        write_scenario, "name: bad\ndata: {input: x.csv, time_col: t, value_col: v}\ndemand: " + demand + "\n"
    )
    assert fragment in text


def test_a_scenario_may_not_take_the_name_of_the_one_it_extends(write_scenario):
    write_scenario("parent", FAST)
    text = _error(write_scenario, "name: parent\nextends: parent\n")
    assert "a name of its own" in text
