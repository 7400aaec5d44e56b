"""The Capacity plan page through Streamlit's AppTest: it shows the package's plan for the same
inputs, an edit of the team's inputs redraws it as it should, and with no capacity scenario it
says how to add one."""

import dataclasses
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from forecasting.common.vocabulary import format_value
from scenarios.capacity.plan import compute_capacity, load_capacity_inputs
from scenarios.inputs.bundled import BUNDLED_SCENARIOS
from scenarios.inputs.spec import load_scenario
from tests.apps.conftest import APP
from tests.apps.test_streamlit_app import shown_tables

SCENARIO = "capacity_growth"


def open_capacity_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("pages/capacity.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def key(name: str) -> str:
    """A sidebar input's key: each scenario keeps its own edits."""
    return f"{name}@{SCENARIO}"


@pytest.fixture(scope="module")
def package_inputs(filled_store):
    """The plan's inputs loaded by the package from the store the app reads (once per module)."""
    scenario, path = load_scenario(SCENARIO)
    return load_capacity_inputs(scenario, path, filled_store)


def with_attrition(inputs, factor: float):
    """The inputs with every tenure band's monthly attrition times ``factor``, built the way a
    planner's edit is meant to change the scenario (independently of the page's code)."""
    spec = inputs.scenario.capacity
    bands = [b.model_copy(update={"monthly": b.monthly * factor}) for b in spec.attrition]
    edited = inputs.scenario.model_copy(update={"capacity": spec.model_copy(update={"attrition": bands})})
    return dataclasses.replace(inputs, scenario=edited)


@pytest.mark.slow
def test_the_page_shows_the_packages_plan(store, package_inputs):
    at = open_capacity_page()
    assert at.selectbox(key="capacity_scenario").value == SCENARIO
    expected = compute_capacity(package_inputs, with_sensitivity=False)
    shown = metrics(at)
    assert shown["hires"] == format_value("capacity_hires", expected.summary["capacity_hires"])
    assert shown["classes"] == format_value("capacity_classes", expected.summary["capacity_classes"])
    assert shown["cost over the plan"] == format_value(
        "capacity_cost_total", expected.summary["capacity_cost_total"]
    )
    warnings = [w.value for w in at.warning]
    assert warnings == expected.notes and any("forecast reaches" in w for w in warnings)  # extrapolated
    classes = next(t for t in shown_tables(at) if "class starts in week" in t.columns)
    assert (
        classes["class starts in week"].astype(int).tolist() == expected.plan.classes["start_week"].tolist()
    )
    assert sum(int(h.replace(",", "")) for h in classes["hires"]) == expected.plan.hires
    assert any("Download the weekly plan" in str(b.proto.label) for b in at.get("download_button"))


@pytest.mark.slow
def test_more_attrition_means_more_hires_as_the_package_plans(store, package_inputs):
    at = open_capacity_page()
    before = int(metrics(at)["hires"].replace(",", ""))
    bands = [at.number_input(key=key(f"attrition{i}")) for i in range(2)]
    for band in bands:
        band.set_value(band.value * 1.5)
    at.run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    after = int(metrics(at)["hires"].replace(",", ""))
    expected = compute_capacity(with_attrition(package_inputs, 1.5), with_sensitivity=False)
    assert after == expected.plan.hires > before
    at.number_input(key=key("overtime")).set_value(0.0).run()  # no overtime: the gap needs more hires
    assert int(metrics(at)["hires"].replace(",", "")) >= after


@pytest.mark.slow
def test_the_sensitivity_is_computed_on_demand(store, package_inputs):
    at = open_capacity_page()
    assert not any("case" in t.columns for t in shown_tables(at))  # not before it is asked for
    at.button(key="capacity_sensitivity_button").click().run()
    assert not at.exception
    table = next(t for t in shown_tables(at) if "case" in t.columns).set_index("case")
    expected = compute_capacity(package_inputs).sensitivity.set_index("case")
    assert table.loc["as planned", "hires"] == format_value(
        "capacity_hires", expected.loc["as planned", "hires"]
    )
    plus = expected.loc["attrition +2 points", "hires"]
    assert table.loc["attrition +2 points", "hires"] == format_value("capacity_hires", plus)
    assert plus > expected.loc["as planned", "hires"]


@pytest.mark.slow
def test_a_ramp_that_is_not_numbers_is_an_error_not_a_crash(store):
    at = open_capacity_page()
    at.text_input(key=key("ramp")).input("50, half, 75").run()
    assert not at.exception and at.error
    assert "capacity.ramp" in at.error[0].value and "50, 50, 75, 75" in at.error[0].value


def test_without_a_capacity_scenario_the_page_says_how_to_add_one(empty_store, tmp_path, monkeypatch):
    folder = tmp_path / "experiments" / "scenarios"
    folder.mkdir(parents=True)
    shutil.copy(BUNDLED_SCENARIOS / "baseline.yaml", folder)  # a scenario, but no capacity section
    monkeypatch.chdir(tmp_path)  # the app looks up scenarios in ./experiments/scenarios
    at = open_capacity_page()
    said = " ".join(i.value for i in at.info)
    assert "capacity:" in said and "capacity_growth.yaml" in said and not at.metric
