"""Many queues on a Dask cluster (issue 30): the same forecasts as one process, a failing queue
named without losing the others, a dying worker's task retried.

Generated here: 20 queues from the bundled calls' daily shape at different levels with noise,
hourly over six weeks, in one long report (timestamp, queue, calls)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.forecast_job import make_forecast
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.panel import PanelError, run_per_queue, scheduler_from
from tests.conftest import BANK_CALLS

QUEUES = 20


def panel_report(path: Path, queues: int = QUEUES, seed: int = 7) -> Path:
    """Each queue: the bank's mean calls per weekday and hour, scaled to its own level, with
    Poisson noise, so the queues differ as real skills do."""
    calls = pd.read_csv(BANK_CALLS, parse_dates=["DateTime"])
    hourly = calls.set_index("DateTime")["Calls"].resample("h").sum()
    hourly = hourly[hourly > 0]
    shape = hourly.groupby([hourly.index.day_of_week, hourly.index.hour]).mean()
    stamps = pd.date_range("2024-01-01", periods=42 * 24, freq="h")
    keys = list(zip(stamps.day_of_week, stamps.hour, strict=True))
    mean = np.array([shape.get(k, 0.0) for k in keys])
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(queues):
        level = rng.uniform(0.2, 3.0)
        counts = rng.poisson(mean * level)
        open_ = mean > 0
        parts.append(pd.DataFrame({"timestamp": stamps[open_], "queue": f"q{i:02d}", "calls": counts[open_]}))
    pd.concat(parts).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    path = panel_report(tmp_path_factory.mktemp("panel") / "queues.csv")
    return ingest(path, IngestOptions(time_col="timestamp", value_cols=("calls",), queue_col="queue"))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["weekday_mean", "ets_topdown"])
def test_a_local_cluster_forecasts_every_queue_exactly_as_one_process(panel, model):
    alone, chosen_alone, _ = make_forecast(panel, queue="each", model=model, horizon_days=3, progress=False)
    spread, chosen_spread, _ = make_forecast(
        panel, queue="each", model=model, horizon_days=3, progress=False, scheduler="local"
    )
    assert alone["queue"].nunique() == QUEUES
    pd.testing.assert_frame_equal(alone, spread, check_exact=True)
    assert [s.name for s in chosen_alone] == [s.name for s in chosen_spread]


def _fails_on_odd(queue: str, value: int) -> int:
    if value % 2:
        raise ValueError(f"no data for {queue}")
    return value * 10


def test_a_failing_queue_is_named_and_the_others_kept():
    inputs = {f"q{i}": (f"q{i}", i) for i in range(6)}
    outcome = run_per_queue(_fails_on_odd, inputs)
    assert outcome.results == {"q0": 0, "q2": 20, "q4": 40}
    assert list(outcome.failures) == ["q1", "q3", "q5"] and "no data for q3" in outcome.failures["q3"]
    with pytest.raises(PanelError) as caught:
        outcome.complete("forecast")
    message = str(caught.value)
    assert "3 of 6 queues not done (q1, q3, q5)" in message and "\n" not in message


def _dies_once(marker: str, value: int) -> int:
    """Kills its worker process the first time it runs (as an OOM kill would), then works."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os._exit(1)
    return value + 1


def _always_dies(value: int) -> int:
    os._exit(1)


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_a_queue_that_keeps_killing_is_named(tmp_path):
    inputs = {"a": (str(tmp_path / "marker"), 1), "b": (str(tmp_path / "other"), 2)}
    outcome = run_per_queue(_dies_once, inputs, "local", workers=2)
    assert outcome.results == {"a": 2, "b": 3} and not outcome.failures

    outcome = run_per_queue(_always_dies, {"doomed": (1,)}, "local", workers=2)
    assert list(outcome.failures) == ["doomed"] and not outcome.results


def test_the_scheduler_comes_from_the_option_then_the_variable():
    env = {"CAPPLAN_DASK_SCHEDULER": "tcp://planner-cluster:8786"}
    assert scheduler_from(None, env) == "tcp://planner-cluster:8786"
    assert scheduler_from("local", env) == "local"
    assert scheduler_from(None, {}) is None and scheduler_from("none", env) is None


def test_the_table_split_once_gives_each_queues_own_series(panel):
    from forecasting.series import forecast_series, queue_series

    split = queue_series(panel)
    assert list(split) == sorted(f"q{i:02d}" for i in range(QUEUES))
    for queue in ("q00", "q07", "q19"):
        pd.testing.assert_series_equal(
            split[queue], forecast_series(panel, "arrivals", queue), check_exact=True
        )


@pytest.mark.slow
def test_an_existing_cluster_is_reached_by_its_address():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        outcome = run_per_queue(_fails_on_odd, {"a": ("a", 2), "b": ("b", 3)}, cluster.scheduler_address)
    assert outcome.results == {"a": 20} and list(outcome.failures) == ["b"]


def test_an_address_with_no_scheduler_is_a_user_error(monkeypatch):
    import forecasting.panel as panel_module
    from forecasting.common.errors import InputError

    monkeypatch.setattr(panel_module, "CONNECT_SECONDS", 1)
    with pytest.raises(InputError) as caught:
        run_per_queue(_fails_on_odd, {"a": ("a", 2)}, "tcp://127.0.0.1:1")
    assert caught.value.option == "scheduler" and "no Dask scheduler answers" in str(caught.value)
