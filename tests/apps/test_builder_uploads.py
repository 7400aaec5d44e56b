"""The Scenario builder plans from uploads: a scenario YAML read by the CLI's loader (bad ones
in one line, nothing written into the scenarios folder) and the history uploaded on Data & KPIs,
each giving the numbers the runner gives for the same files."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from forecasting.common.vocabulary import format_value, label
from forecasting.history.ingest import IngestOptions, ingest
from scenarios.inputs.bundled import scenario_dir
from scenarios.inputs.spec import scenario_files
from tests.apps.conftest import APP
from tests.forecasting.history.test_bounded_yaml import alias_bomb

KEYS = ("fte_total", "peak_agents", "total_cost", "service_level", "asa_seconds")


def builder(uploaded=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.run()
    if uploaded is not None:
        at.session_state["uploaded"] = uploaded  # as the Data & KPIs page leaves an upload
    at.switch_page("pages/scenario_builder.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def scenario_uploader(at: AppTest):
    return next(u for u in at.get("file_uploader") if "scenario file" in u.label)


def folder_state() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in scenario_files(scenario_dir())}


def test_an_uploaded_scenario_is_planned_like_the_cli_and_saved(store, tmp_path):
    from scenarios.inputs.spec import load_scenario
    from scenarios.runner import run_scenario
    from scenarios.tracking.runs import latest_run

    text = yaml.safe_dump({"extends": "baseline", "name": "uploaded_plan", "demand": {"growth_pct": 15}})
    before = folder_state()
    at = builder()
    scenario_uploader(at).set_value(("uploaded_plan.yaml", text.encode(), "text/yaml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the CLI's reading of the same file, beside the scenario it extends
    (tmp_path / "baseline.yaml").write_bytes((scenario_dir() / "baseline.yaml").read_bytes())
    (tmp_path / "uploaded_plan.yaml").write_text(text)
    scenario, path = load_scenario(tmp_path / "uploaded_plan.yaml")
    expected = run_scenario(scenario, path, analysis=False, store=store).summary
    shown = {m.label: m.value for m in at.metric}
    for key in KEYS:
        assert shown[label(key)] == format_value(key, expected[key]), key
    assert next(t for t in at.text_input if t.label == "Scenario name").value == "uploaded_plan"
    next(b for b in at.button if b.label == "Run and save").click().run()
    assert not at.exception and any("Saved 'uploaded_plan'" in s.value for s in at.success)
    run = latest_run(store, "uploaded_plan")
    assert run.tags["baseline"] == "baseline" and run.metrics["fte_total"] == pytest.approx(
        expected["fte_total"]
    )
    assert folder_state() == before  # nothing written into (or over) the scenarios folder
    assert not list(Path(tempfile.gettempdir()).glob("capplan-upload-*/uploaded_plan.yaml"))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"name: bad\nforecast: {horizon_dayz: 3}\n", ["forecast.horizon_dayz", "unknown key"]),
        (b"- one\n- two\n", ["a YAML mapping"]),
        (b"extends: nowhere\n", ["extends", "not there", "baseline"]),
        (b"name: [unclosed\n", ["bad.yaml"]),
        (alias_bomb("demand"), ["aliases expand it", "at most"]),
        (b"# padding\n" * 60_000, ["too large to upload", "at most"]),
    ],
)
def test_a_bad_scenario_upload_is_one_line_naming_the_file(store, content, words):
    at = builder()
    scenario_uploader(at).set_value(("bad.yaml", content, "text/yaml")).run()
    assert not at.exception, [e.value for e in at.exception]
    (shown,) = [e.value for e in at.error]
    assert shown.startswith("bad.yaml") and "\n" not in shown, shown
    assert all(w in shown for w in words), shown
    assert "capplan-upload" not in shown and tempfile.gettempdir() not in shown
    assert not at.metric  # nothing planned from it


def _interval_report(path: Path) -> Path:
    """Eight weeks of a generated centre: weekdays 08:00-18:00, calls per 30 minutes."""
    rng = np.random.default_rng(5)
    stamps = pd.date_range("2024-01-01", "2024-02-26", freq="30min", inclusive="left")
    stamps = stamps[(stamps.day_of_week < 5) & (stamps.hour >= 8) & (stamps.hour < 18)]
    shape = 30 + 20 * np.sin((stamps.hour - 8) / 10 * np.pi)
    pd.DataFrame({"Time": stamps, "Offered": rng.poisson(shape)}).to_csv(path, index=False)
    return path


def test_the_builder_plans_from_the_history_uploaded_on_the_data_page(store, tmp_path):
    from scenarios.inputs.spec import Scenario, load_scenario, merge, raw_scenario
    from scenarios.runner import run_scenario

    report = _interval_report(tmp_path / "calls_report.csv")
    upload = ingest(report, IngestOptions(time_col="Time", value_cols=("Offered",)))
    at = builder(upload)
    choice = next(r for r in at.radio if r.label == "History to plan from")
    assert "calls_report.csv" in choice.options[1]
    choice.set_value(choice.options[1]).run()
    next(s for s in at.selectbox if s.label.startswith("Forecast model")).set_value("weekday_mean").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the runner on the uploaded file itself
    _, path = load_scenario("baseline")
    raw = merge(
        raw_scenario(path),
        {
            "name": "baseline_what_if",
            "data": {"input": str(report), "time_col": "Time", "value_col": "Offered"},
            "forecast": {"model": "weekday_mean"},
        },
    )
    expected = run_scenario(Scenario.model_validate(raw), path, analysis=False, store=store).summary
    shown = {m.label: m.value for m in at.metric}
    for key in KEYS:
        assert shown[label(key)] == format_value(key, expected[key]), key
    assert shown[label("fte_total")] != format_value(
        "fte_total", _baseline_fte(store)
    )  # not the bundled data
    assert not list(Path(tempfile.gettempdir()).glob("capplan-upload-plan-*"))  # deleted after the run


def _baseline_fte(store) -> float:
    from scenarios.tracking.runs import latest_run

    return latest_run(store, "baseline").metrics["fte_total"]


def test_without_an_upload_the_builder_does_not_offer_one(store):
    at = builder()
    assert not [r for r in at.radio if r.label == "History to plan from"]
