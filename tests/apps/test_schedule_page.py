"""The Schedule page through Streamlit's AppTest: it shows the package's schedule for the same
inputs, an edit of the templates reschedules the week as it should, a bad edit is an error that
names the key, and with no schedule scenario it says how to add one."""

import dataclasses
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from forecasting.common.vocabulary import format_value
from scenarios.inputs.bundled import BUNDLED_SCENARIOS
from scenarios.inputs.spec import load_scenario
from scenarios.runner import run_scenario
from scenarios.scheduling.plan import run_schedule
from tests.apps.conftest import APP
from tests.apps.test_streamlit_app import shown_tables

SCENARIO = "shift_schedule"


def open_schedule_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("pages/schedule.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def count(text: str) -> int:
    return int(text.replace(",", ""))


def key(name: str) -> str:
    """A sidebar input's key: each scenario keeps its own edits."""
    return f"{name}@{SCENARIO}"


@pytest.fixture(scope="module")
def computed(filled_store):
    """The scenario computed by the package from the store the app reads (once per module)."""
    scenario, path = load_scenario(SCENARIO)
    return run_scenario(scenario, path, store=filled_store, analysis=False)


def rescheduled(computed, **changes):
    """The package's schedule with the section changed as a planner's edit means (built here,
    independently of the page's code)."""
    spec = computed.scenario.schedule.model_copy(update=changes)
    return run_schedule(
        dataclasses.replace(computed, scenario=computed.scenario.model_copy(update={"schedule": spec}))
    )


@pytest.mark.slow
def test_the_page_shows_the_packages_schedule(store, computed):
    at = open_schedule_page()
    assert at.selectbox(key="schedule_scenario").value == SCENARIO
    assert not at.error
    expected = run_schedule(computed)
    shown = metrics(at)
    assert shown["agents"] == format_value("schedule_agents", expected.summary["schedule_agents"])
    assert shown["cost a week"] == format_value("schedule_cost", expected.summary["schedule_cost"])
    assert shown["service level delivered"] == format_value(
        "schedule_service_level", expected.summary["schedule_service_level"]
    )
    assert [w.value for w in at.warning] == expected.notes
    patterns = next(t for t in shown_tables(at) if "days off" in t.columns)
    assert sum(count(a) for a in patterns["agents"]) == expected.summary["schedule_agents"]
    daily = next(t for t in shown_tables(at) if "service level" in t.columns)
    assert len(daily) == len(expected.daily)
    assert any("Download the shifts" in str(b.proto.label) for b in at.get("download_button"))


@pytest.mark.slow
def test_no_part_timers_means_full_time_shifts_only_as_the_package_schedules(store, computed):
    at = open_schedule_page()
    before = metrics(at)
    at.number_input(key=key("part_time")).set_value(0.0).run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    after = metrics(at)
    expected = rescheduled(computed, max_part_time_share=0.0)
    assert set(expected.schedule.shifts["template"]) == {"full_time"}
    assert after["agents"] == format_value("schedule_agents", expected.summary["schedule_agents"])
    assert after["paid hours a week"] == format_value(
        "schedule_paid_hours", expected.summary["schedule_paid_hours"]
    )
    # without the 4-hour shifts at the peaks, more full-time hours are paid
    assert count(after["paid hours a week"]) > count(before["paid hours a week"])
    patterns = next(t for t in shown_tables(at) if "days off" in t.columns)
    assert set(patterns["template"]) == {"full_time"}


@pytest.mark.slow
def test_a_longer_unpaid_lunch_pays_less_per_shift_as_the_package_schedules(store, computed):
    at = open_schedule_page()
    before = metrics(at)
    at.number_input(key=key("lunch0")).set_value(60).run()  # full_time: lunch from 30 to 60 minutes
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    spec = computed.scenario.schedule
    full = spec.templates[0]
    lunch = full.breaks[0].model_copy(update={"minutes": 60})
    templates = [full.model_copy(update={"breaks": [lunch]}), *spec.templates[1:]]
    expected = rescheduled(computed, templates=templates)
    after = metrics(at)
    assert after["agents"] == format_value("schedule_agents", expected.summary["schedule_agents"])
    assert after["paid hours a week"] == format_value(
        "schedule_paid_hours", expected.summary["schedule_paid_hours"]
    )
    assert after != before
    shifts = expected.schedule.shifts
    full_time = shifts[shifts["template"] == "full_time"]
    assert (full_time["paid_hours"] == (full.hours - 1) * full_time["agents"]).all()  # 8.5 h less the hour


@pytest.mark.slow
def test_a_lunch_outside_the_shift_is_an_error_naming_the_key(store):
    at = open_schedule_page()
    at.number_input(key=key("hours0")).set_value(5.0).run()  # lunch 3-5 h in: ends after a 5 h shift
    assert not at.exception and at.error
    assert "schedule.templates.0" in at.error[0].value and "breaks inside the shift" in at.error[0].value
    assert not at.metric


def test_without_a_schedule_scenario_the_page_says_how_to_add_one(empty_store, tmp_path, monkeypatch):
    folder = tmp_path / "experiments" / "scenarios"
    folder.mkdir(parents=True)
    shutil.copy(BUNDLED_SCENARIOS / "baseline.yaml", folder)  # a scenario, but no schedule section
    monkeypatch.chdir(tmp_path)  # the app looks up scenarios in ./experiments/scenarios
    at = open_schedule_page()
    said = " ".join(i.value for i in at.info)
    assert "schedule:" in said and "shift_schedule.yaml" in said and not at.metric
