"""Scenarios staffed against a service model fitted on the centre's own log (calibrated or
learned): the staffing search finds the fewest agents that meet the target under that model,
and the fit and its held-out check are recorded with the run."""

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from forecasting.history.ingest import IngestOptions, ingest
from scenarios.service.fitted import fit_service
from scenarios.staffing.requirements import StaffingTargets, required_agents
from tests.conftest import BANK_LOG

HOUR = pd.Timedelta("60min")


@pytest.fixture(scope="module")
def contacts():
    return ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min")).contacts


@pytest.fixture(scope="module", params=["calibrated", "learned"])
def fitted(request, contacts):
    return fit_service(contacts, HOUR, 20.0, request.param)


def test_required_agents_are_the_fewest_that_meet_the_fitted_model(fitted):
    rng = np.random.default_rng(3)
    volume = rng.uniform(5, 250, 60)
    aht = rng.uniform(120, 260, 60)
    for level in (0.8, 0.95):
        need = required_agents(
            volume,
            aht,
            3600.0,
            StaffingTargets(service_level=level, target_seconds=20),
            service=fitted.function,
        )
        at = fitted.function(volume, aht, 3600.0, need, 20.0)["service_level"]
        below = fitted.function(volume, aht, 3600.0, need - 1, 20.0)["service_level"]
        assert (at >= level - 1e-9).all()
        assert (below[need > 0] < level).all()


def test_more_agents_never_give_worse_service(fitted):
    agents = np.arange(1, 120, dtype=float)
    m = fitted.function(np.full(agents.shape, 150.0), 200.0, 3600.0, agents, 20.0)
    assert (np.diff(m["service_level"]) >= -1e-12).all()
    assert (np.diff(m["abandon_rate"]) <= 1e-12).all()
    assert ((m["occupancy"] >= 0) & (m["occupancy"] <= 1)).all()


def test_the_fit_is_validated_on_the_log_s_last_week(fitted):
    v = fitted.validation
    assert v is not None and {"present", "learned", "erlang-a"} <= set(v["model"])
    metrics = fitted.metrics("voice")
    assert 0.3 <= metrics["service.voice.availability"] <= 1.0
    assert (
        0
        < metrics["service.voice.validation_abandon_rate_mae"]
        < v.set_index("model").loc["erlang-a", "abandon_rate_mae"]
    )


def _scenario(model: str) -> dict:
    return {
        "name": f"own_{model}",
        "data": {"input": str(BANK_LOG), "format": "anonymous-bank"},
        "forecast": {"model": "weekday_mean", "horizon_days": 3, "interval": "60min"},
        "queues": {"voice": {"service_model": model}},
        "targets": {"service_level": 0.8, "target_seconds": 20},
        "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30},
        "risk": {"simulations": 100},
    }


def test_a_scenario_staffs_against_the_learned_model_and_records_it(
    run_cli, write_scenario, tracking_store, tmp_path
):
    path = write_scenario("own", _scenario("learned"))
    code, _out, err = run_cli("scenario", "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    intervals = pd.read_csv(tmp_path / "out" / "own_learned" / "intervals.csv")
    busy = intervals[intervals["volume"] > 0]
    assert (busy["service_level"] >= 0.8 - 1e-9).all() and busy["abandon_rate"].notna().all()
    client = MlflowClient(tracking_store.tracking_uri)
    run = client.search_runs([client.get_experiment_by_name("scenarios").experiment_id])[0]
    assert {"service.voice.availability", "service.voice.validation_abandon_rate_mae", "abandon_rate"} <= set(
        run.data.metrics
    )
    assert "service_validation.csv" in {a.path for a in client.list_artifacts(run.info.run_id)}


def test_a_fitted_model_needs_a_call_log(run_cli, write_scenario):
    from tests.conftest import BANK_CALLS

    spec = _scenario("calibrated") | {
        "data": {"input": str(BANK_CALLS), "time_col": "DateTime", "value_col": "Calls"},
        "queues": {"voice": {"service_model": "calibrated", "aht_seconds": 180}},
    }
    code, _out, err = run_cli("scenario", "run", write_scenario("counts", spec))
    assert code != 0 and "queues.voice.model" in err and "call log" in err and "Traceback" not in err


def test_service_model_is_for_voice_queues():
    from pydantic import ValidationError

    from scenarios.inputs.spec import QueueSpec

    assert QueueSpec.model_validate({"service_model": "learned"}).model == "learned"
    with pytest.raises(ValidationError, match="voice queues only"):
        QueueSpec.model_validate({"channel": "chat", "service_model": "learned", "concurrency": 2})
