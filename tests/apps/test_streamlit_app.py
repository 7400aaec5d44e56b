"""Every page of the app through Streamlit's AppTest: no exception, widgets work, and the numbers
shown are the packages' numbers for the same inputs."""

import pytest
from streamlit.testing.v1 import AppTest

from forecasting.common.vocabulary import format_value, label
from forecasting.history.ingest import IngestOptions, ingest
from tests.apps.conftest import APP
from tests.conftest import BANK_LOG

PAGES = [
    "overview",
    "data_kpis",
    "forecast",
    "scenario_builder",
    "compare",
    "targets",
    "capacity",
    "schedule",
]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescaped(frame):
    """A static table's frame as the planner reads it (``app_support.plain_text`` undone)."""
    import re

    def text(value):
        return re.sub(r"\\(.)", r"\1", value) if isinstance(value, str) else value

    out = frame.map(text)
    out.columns = [text(c) for c in frame.columns]
    out.index = frame.index.map(text)
    return out


def shown_tables(at: AppTest) -> list:
    """The page's tables (static ``st.table`` or grids), in page order, as frames."""
    found = []

    def walk(node) -> None:
        if getattr(node, "type", None) in ("arrow_data_frame", "dataframe"):
            found.append(node.value)
        elif getattr(node, "type", None) == "table":  # its text escaped from Markdown: read as shown
            found.append(unescaped(node.value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def by_label(elements, label: str):
    return next(e for e in elements if e.label == label)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_an_empty_store_says_what_to_do(empty_store, page):
    at = open_page(page)
    shown = " ".join(str(e.value) for e in [*at.info, *at.error, *at.warning])
    if page in ("overview", "compare"):
        assert "capplan demo" in shown
    if page == "forecast":
        assert "Train" in shown and at.button  # and the train button is there
    if page in ("scenario_builder", "targets"):  # a scenario that needs no champion, and how to get one
        assert "'baseline' forecasts with the registered champion" in shown and "capplan demo" in shown
        assert not at.error


def test_overview_lists_the_scenario_runs(store):
    from scenarios.tracking.runs import latest_run

    at = open_page("overview")
    table = shown_tables(at)[0].set_index("scenario")
    assert {"baseline", "campaign_week"} <= set(table.index)
    logged = latest_run(store, "baseline").metrics
    for key in ("fte_total", "total_cost", "service_level", "asa_seconds"):
        assert table.loc["baseline", label(key)] == format_value(key, logged[key])
    # the bundled baseline has a headcount: the supply's service is listed beside the plan's
    assert table.loc["baseline", label("supply_service_level")] == format_value(
        "supply_service_level", logged["supply_service_level"]
    )


def test_data_page_shows_the_ingest_accounting_and_kpis(store):
    at = open_page("data_kpis")
    expected = ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min")).summary()
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["rows read"] == f"{expected['rows_read']:,}"
        and metrics["used"] == f"{expected['rows_used']:,}"
    )
    assert metrics["ignored"] == f"{expected['rows_ignored']:,}"
    kpis = next(t for t in shown_tables(at) if "target" in t.columns)  # static or grid
    assert {"service level", "abandonment", "ASA"} <= set(kpis.index) and {"target", "latest"} <= set(
        kpis.columns
    )
    from forecasting.history.kpis import ALL_QUEUES, kpi_table

    weekly = kpi_table(ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min")), "week")
    first = weekly[weekly["queue"] == ALL_QUEUES].iloc[0]  # the page opens on all queues
    column = f"{first['period_start']:%Y-%m-%d}" + (" *" if first["partial"] else "")
    assert kpis.loc["service level", column] == f"{first['service_level']:.1%}"  # shares as %
    assert kpis.loc["arrivals", column] == f"{first['arrivals']:,.0f}"  # counts with separators
    assert kpis.loc["ASA", column] == f"{first['asa']:,.1f} s"
    at.radio(key="source").set_value(at.radio(key="source").options[1]).run()
    assert not at.exception and {m.label: m.value for m in at.metric}["rows read"] == "10,140"


def test_data_page_shows_the_review_of_the_cli(store):
    """The page's review is the one `capplan kpis --report` writes for the same data and period."""
    from forecasting.history.kpi_review import review_markdown
    from forecasting.history.kpis import kpi_report
    from forecasting.history.targets import load_targets

    at = open_page("data_kpis")
    at.segmented_control(key="kpi_period").set_value("month").run()
    assert not at.exception
    result = ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min"))
    expected = review_markdown(
        kpi_report(result, load_targets(), ("month", "week")),
        "month",
        result.source.name,
        "the defaults (DOMAIN.md's table)",
    )
    shown = [m.value for m in at.markdown if m.value.startswith("# KPI review")]
    assert shown == [expected.strip()]
    assert "## Against target" in expected and "## Trend" in expected


def test_forecast_page_shows_leaderboard_and_champion(store):
    at = open_page("forecast")
    board = shown_tables(at)[0]
    assert list(board["model"]) == ["weekday_mean"]
    assert any("Champion: weekday_mean (version 1)" in c.value for c in at.caption)
    assert any(c.value.startswith(f"All {len(board)} models") for c in at.caption)


def test_builder_what_if_equals_the_runner_and_saves_to_mlflow(store):
    from scenarios.inputs.spec import Scenario, load_scenario, merge, raw_scenario
    from scenarios.runner import run_scenario
    from scenarios.tracking.runs import latest_run

    at = open_page("scenario_builder")
    by_label(at.number_input, "Overall growth (%)").set_value(20.0).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    _, path = load_scenario("baseline")
    raw = merge(raw_scenario(path), {"name": "baseline_what_if", "demand": {"growth_pct": 20.0}})
    expected = run_scenario(Scenario.model_validate(raw), path, analysis=False, store=store).summary
    for key in ("fte_total", "peak_agents", "total_cost", "service_level", "asa_seconds"):
        assert metrics[label(key)] == format_value(key, expected[key])
    assert metrics["FTE needed"] == f"{expected['fte_total']:,.1f}"  # the vocabulary, spelt out once
    assert metrics["service level (plan)"] == f"{expected['service_level']:.1%}"
    by_label(at.button, "Run and save").click().run()
    assert not at.exception
    assert any("Saved 'baseline_what_if'" in s.value for s in at.success)
    run = latest_run(store, "baseline_what_if")
    assert run.params["demand.growth_pct"] == "20.0" and run.tags["baseline"] == "baseline"
    assert run.metrics["fte_total"] == pytest.approx(expected["fte_total"])


def test_compare_page_equals_compare_runs(store):
    from scenarios.tracking.runs import compare_runs

    at = open_page("compare")
    assert at.selectbox[0].value == "baseline"  # deltas against the baseline, not the latest run
    shown = shown_tables(at)[0].set_index("MLflow metric")
    expected = compare_runs(store, ["baseline", "campaign_week"], "baseline")
    for key in expected.index:
        assert shown.loc[key, "metric"] == label(key)
        for column in expected.columns:
            delta = " - " in column
            assert shown.loc[key, column] == format_value(key, expected.loc[key, column], delta=delta)
    assert (
        shown.loc["service_level", "baseline"].endswith("%")
        and shown.loc["total_cost", "baseline"].count(",") >= 1
    )
    assert "campaign_week - baseline" in shown.columns
    at.multiselect[0].set_value(["campaign_week"]).run()
    assert not at.exception
    assert list(shown_tables(at)[0].columns) == ["metric", "campaign_week", "MLflow metric"]


def test_targets_page_equals_the_realistic_targets(store):
    from scenarios.analysis.realistic_targets import achievable_targets
    from scenarios.demand.planning import build_demand
    from scenarios.inputs.base_forecast import base_forecast
    from scenarios.inputs.spec import load_scenario

    at = open_page("targets")
    by_label(at.number_input, "Headcount (FTE)").set_value(300.0).run()
    assert not at.exception
    s, path = load_scenario("baseline")
    demand = build_demand(s, base_forecast(s.data, s.forecast, s.risk.correlation, path.parent, store))
    best = achievable_targets(s, demand, 300.0)
    metrics = {m.label: m.value for m in at.metric}
    expected = best["service_level"]  # None: the occupancy cap alone needs more than 300 FTE
    assert metrics[label("achievable_service_level")] == (
        format_value("achievable_service_level", expected) if expected is not None else "not reachable"
    )
    text = " ".join(m.value for m in at.markdown)
    assert "With 300.0 FTE: expect" in text and "To meet 80/20 on 80% of days" in text


def test_data_choice_survives_leaving_the_page(store):
    at = open_page("data_kpis")
    second = at.radio(key="source").options[1]
    at.radio(key="source").set_value(second).run()
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/data_kpis.py").run()
    assert not at.exception and at.radio(key="source").value == second


def test_builder_shows_changes_that_touch_nothing(store):
    at = open_page("scenario_builder")
    at.selectbox[0].set_value("campaign_week").run()
    by_label(at.slider, "Horizon (open days)").set_value(1).run()
    assert not at.exception
    assert any("applies to no open interval" in w.value for w in at.warning)


def test_builder_staffs_against_a_service_model_fitted_on_the_log(store):
    from scenarios.inputs.spec import Scenario, load_scenario, merge, raw_scenario
    from scenarios.runner import run_scenario

    at = open_page("scenario_builder")
    erlang = {m.label: m.value for m in at.metric}
    by_label(at.selectbox, "Service model (voice)").set_value("calibrated").run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    _, path = load_scenario("baseline")
    raw = merge(
        raw_scenario(path), {"name": "baseline_what_if", "queues": {"voice": {"service_model": "calibrated"}}}
    )
    expected = run_scenario(Scenario.model_validate(raw), path, analysis=False, store=store).summary
    assert metrics["FTE needed"] == format_value("fte_total", expected["fte_total"]) != erlang["FTE needed"]
    assert "service.voice.availability" in expected


def test_compare_shows_each_scenario_s_expected_csat(empty_store, tmp_path):
    import yaml

    from capplan.cli import main
    from tests.scenarios.service.test_satisfaction import _log_file

    log = _log_file(tmp_path / "contacts.csv")
    spec = {
        "name": "good",
        "data": {"input": str(log), "format": "log"},
        "forecast": {"model": "weekday_mean", "horizon_days": 2, "interval": "60min"},
        "queues": {"voice": {"model": "erlang-a", "patience_seconds": 300}},
        "targets": {"service_level": 0.9, "target_seconds": 20},
        "risk": {"simulations": 50},
    }
    (tmp_path / "good.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "poor.yaml").write_text(
        yaml.safe_dump({"extends": "good", "name": "poor", "targets": {"service_level": 0.4}})
    )
    assert (
        main(
            [
                "-q",
                "scenario",
                "run",
                str(tmp_path / "good.yaml"),
                str(tmp_path / "poor.yaml"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    at = open_page("compare")
    shown = shown_tables(at)[0].set_index("MLflow metric")
    csat = shown.loc["csat", ["good", "poor"]].str.rstrip("%").astype(float)
    assert shown.loc["csat", "metric"] == "CSAT (plan)" and csat["good"] > csat["poor"]
    assert any("**csat**" in c.value and "last week" in c.value for c in at.caption)


def test_targets_page_shows_how_the_service_model_reproduces_the_log(store):
    from scenarios.inputs.load import load_service_check
    from scenarios.inputs.spec import load_scenario

    at = open_page("targets")
    s, path = load_scenario("baseline")
    check = load_service_check(s, path.parent)
    text = " ".join(m.value for m in at.markdown)
    assert f"Chosen by out-of-time error: **{check.chosen}**" in text
    shown = shown_tables(at)[-1]
    assert list(shown["model"]) == list(check.summary["model"])
    by_label(at.segmented_control, "Metric").set_value("sl").run()
    assert not at.exception


def test_one_number_has_one_name_in_the_cli_the_app_and_mlflow(empty_store, tmp_path, monkeypatch, capsys):
    """A scenario with a headcount: the plan's and the supply's service, FTE and chance of
    meeting the target read the same (label and written value) in `capplan scenario run`, on
    the Scenario builder and Targets pages, and in the MLflow run."""
    import yaml

    from capplan.cli import main
    from scenarios.tracking.runs import latest_run
    from tests.conftest import FAST

    folder = tmp_path / "experiments" / "scenarios"
    folder.mkdir(parents=True)
    spec = {**FAST, "name": "staffed", "supply": {**FAST["supply"], "headcount": 250}}
    (folder / "staffed.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.chdir(tmp_path)
    assert main(["scenario", "run", "staffed", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    logged = latest_run(empty_store, "staffed").metrics
    keys = ("fte_total", "service_level", "supply_service_level", "supply_p_meet_target_mean")
    for key in keys:
        assert f"{label(key)} {format_value(key, logged[key])}" in printed, key
    builder = {m.label: m.value for m in open_page("scenario_builder").metric}
    for key in ("fte_total", "service_level", "supply_service_level"):
        assert builder[label(key)] == format_value(key, logged[key]), key
    targets = open_page("targets")
    shown = {m.label: m.value for m in targets.metric}
    assert shown[label("supply_service_level")] == format_value(
        "supply_service_level", logged["supply_service_level"]
    )
    text = " ".join(m.value for m in targets.markdown)
    assert f"target met on {logged['supply_p_meet_target_mean']:.0%} of days" in text
