"""The centre's own service model first: a voice queue that names no model is staffed with the
model fitted on the centre's call log (when the scenario has one with agents, waits and
abandonment), a textbook one on request; every answer names the model it used, and where
textbook and fitted disagree by more than a few points the answer gives both FTE figures,
each equal to the plan a scenario asking for that model gets."""

import pandas as pd
import pytest

from forecasting.common.vocabulary import EACH_INTERVAL
from scenarios.analysis.answers import manager_answer
from scenarios.inputs.spec import Scenario
from scenarios.runner import run_scenario
from scenarios.service.choice import FTE_GAP, SERVICE_GAP, model_asked
from tests.conftest import BANK_LOG, FAST


def own(queue: dict, log=BANK_LOG) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "own",
            "data": {"input": str(log), "format": "anonymous-bank"},
            "forecast": {"model": "weekday_mean", "horizon_days": 3, "interval": "60min"},
            "queues": {"voice": queue},
            "targets": {"service_level": 0.8, "target_seconds": 20},
            "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30},
            "risk": {"simulations": 100},
        }
    )


@pytest.fixture(scope="module")
def default():
    return run_scenario(own({}))


@pytest.fixture(scope="module")
def patience(default):
    return default.services["voice"].patience_seconds


@pytest.fixture(scope="module")
def textbook(patience):
    return run_scenario(own({"service_model": "erlang-a", "patience_seconds": round(patience, 6)}))


@pytest.mark.slow  # fits the centre's model with its last-week check (half a minute)
def test_a_queue_naming_no_model_gets_the_centre_s_fitted_one(default):
    assert not model_asked(own({}).queues["voice"])
    assert default.scenario.queues["voice"].model == "calibrated" and "voice" in default.services
    assert (default.intervals["model"] == "calibrated").all()
    assert default.service_choice.defaulted == ("voice",)
    text = " ".join(manager_answer(default))
    assert "Service model: the centre's fitted service model (calibrated Erlang A), the default" in text
    assert "service_model: erlang-a" in text  # how to ask for the textbook one


@pytest.mark.slow  # fits the centre's model with its last-week check (half a minute)
def test_the_default_equals_asking_for_the_fitted_model(default):
    asked = run_scenario(own({"service_model": "calibrated"}), analysis=False)
    assert asked.summary["fte_total"] == pytest.approx(default.summary["fte_total"], rel=1e-12)
    pd.testing.assert_series_equal(asked.intervals["required_agents"], default.intervals["required_agents"])


@pytest.mark.slow  # fits the centre's model with its last-week check (half a minute)
def test_textbook_on_request_and_both_answers_side_by_side(default, textbook):
    assert textbook.scenario.queues["voice"].model == "erlang-a" and not textbook.services
    d, t = default.summary, textbook.summary
    # each side's second opinion is the other side's own plan
    assert d["fte_textbook"] == pytest.approx(t["fte_total"], rel=1e-9)
    assert t["fte_fitted"] == pytest.approx(d["fte_total"], rel=1e-9)
    assert d["service_level_fitted"] == pytest.approx(d["service_level"], rel=1e-9)
    text = " ".join(manager_answer(textbook))
    assert "Service model: textbook Erlang A, as the scenario asks" in text
    gap = abs(d["fte_total"] - t["fte_total"]) / t["fte_total"]
    sl_gap = abs(t["service_level_fitted"] - t["service_level_textbook"])
    if gap > FTE_GAP or sl_gap > SERVICE_GAP:
        assert "The centre's fitted model disagrees" in text
        assert f"{d['fte_total']:,.1f} FTE {EACH_INTERVAL}, against {t['fte_total']:,.1f}" in text
    else:
        assert f"agrees within {FTE_GAP:.0%}: {d['fte_total']:,.1f} FTE" in text
    text = " ".join(manager_answer(default))
    if gap > FTE_GAP or abs(d["service_level_textbook"] - d["service_level_fitted"]) > SERVICE_GAP:
        assert f"Textbook Erlang A disagrees: {t['fte_total']:,.1f} FTE {EACH_INTERVAL}" in text


@pytest.mark.slow  # fits the centre's model with its last-week check (half a minute)
def test_the_textbook_plan_s_service_under_the_fitted_model(textbook):
    """The fitted model's service level of the textbook plan: its agents, the fitted function."""
    f = textbook.intervals
    fit = next(iter(textbook.service_choice.other.values()))
    assert fit.kind == "calibrated" and fit.validation is None  # quick: no last-week check
    m = fit.function(f["volume"] / f["coverage"], f["aht"], 3600.0, f["required_agents"], 20.0)
    busy = f["volume"] > 0
    expected = (m["service_level"][busy] * f["volume"][busy]).sum() / f["volume"][busy].sum()
    assert textbook.summary["service_level_fitted"] == pytest.approx(expected, rel=1e-9)


def test_without_a_call_log_the_textbook_model_says_why():
    result = run_scenario(Scenario.model_validate(FAST))
    assert result.scenario.queues["voice"].model == "erlang-c" and not result.services
    text = " ".join(manager_answer(result))
    assert "Service model: textbook Erlang C, the default: no call log" in text
    assert "fte_fitted" not in result.summary and "fte_textbook" not in result.summary


def test_a_log_too_short_to_fit_leaves_the_textbook_model(tmp_path):
    """Two days of the log: too few to fit the centre's model on; the queue stays textbook and
    the choice says why."""
    from scenarios.service.choice import MIN_DAYS, choose_service_models

    lines = BANK_LOG.read_text().splitlines(keepends=True)
    column = lines[0].split("\t").index("date")
    days = sorted({line.split("\t")[column] for line in lines[1:]})
    assert MIN_DAYS > 2 and len(days) > MIN_DAYS
    log = tmp_path / "short.tsv"
    log.write_text("".join([lines[0], *(x for x in lines[1:] if x.split("\t")[column] in days[:2])]))
    scenario, choice = choose_service_models(own({}, log), None)
    assert scenario.queues["voice"].model == "erlang-c" and choice.defaulted == ()
    assert "too short" in choice.why_textbook and "2 days" in choice.why_textbook
    full, choice = choose_service_models(own({}), None)
    assert full.queues["voice"].model == "calibrated" and choice.why_textbook is None


@pytest.mark.slow  # fits on three weeks of a generated centre (half a minute)
def test_a_generated_centre_s_log_with_a_binding_cap(tmp_path):
    """A generated contact log (random agents, lognormal handle times): the fitted model by
    default, the plan's FTE is the curve's row and the interval table's, and the occupancy
    cap's own need is said when the headcount is below it."""
    from tests.scenarios.service.test_satisfaction import _log_file

    log = _log_file(tmp_path / "contacts.csv")
    spec = {
        "name": "generated",
        "data": {"input": str(log), "format": "log"},
        "forecast": {"model": "weekday_mean", "horizon_days": 3, "interval": "60min"},
        "queues": {"voice": {}},
        "targets": {"service_level": 0.8, "target_seconds": 20, "max_occupancy": 0.85},
        "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30, "headcount": 5},
        "risk": {"simulations": 50},
    }
    result = run_scenario(Scenario.model_validate(spec))
    assert result.scenario.queues["voice"].model == "calibrated"
    s = result.summary
    f = result.intervals
    hours = (f["scheduled_agents"] * 1.0 * f["coverage"]).sum()
    days = f["interval_start"].dt.normalize().nunique()
    assert s["fte_total"] == pytest.approx(hours / days / (37.5 / result.demand.days_per_week), rel=1e-12)
    assert result.curve.loc[result.curve["plan"], "fte"].iloc[0] == pytest.approx(s["fte_total"], rel=1e-12)
    text = " ".join(manager_answer(result))
    assert "the default with the centre's own call log" in text and "fte_textbook" in s
    if s["fte_for_cap"] > 5:
        assert f"the cap alone needs {s['fte_for_cap']:,.1f} FTE" in text
