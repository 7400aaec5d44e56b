"""A scenario over every queue of its data (``data.queue: each``): each queue planned exactly as
a scenario naming it would be, the queues put together honestly, the same numbers on a Dask
cluster as in one process, and a failing queue named with nothing recorded."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.forecast_job import backtest_queues, make_forecast
from forecasting.forecaster_panel import load_panel
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.panel import PanelError
from forecasting.store import SCENARIOS
from scenarios.each_queue import DATA_QUEUE, for_queue, run_each_queue
from scenarios.inputs.spec import load_scenario
from scenarios.runner import run_scenario
from tests.forecasting.test_panel import panel_report

READ = {"format": "intervals", "time_col": "timestamp", "value_col": "calls", "queue_col": "queue"}


def each_scenario(data: Path, name: str = "grow-each", **changes) -> dict:
    spec = {
        "name": name,
        "data": {"input": str(data), **READ, "queue": "each"},
        "forecast": {"model": "weekday_mean", "horizon_days": 3, "interval": "60min"},
        "queues": {"voice": {"channel": "voice", "aht_seconds": 240}},
        "demand": {"multipliers": [{"factor": 1.1}]},
        "targets": {"service_level": 0.8, "target_seconds": 20},
        "risk": {"simulations": 50},
    }
    spec.update(changes)
    return spec


@pytest.fixture(scope="module")
def panel_file(tmp_path_factory) -> Path:
    return panel_report(tmp_path_factory.mktemp("each") / "queues.csv", queues=4)


@pytest.fixture(scope="module")
def each(panel_file, tmp_path_factory):
    import yaml

    path = tmp_path_factory.mktemp("each_spec") / "grow-each.yaml"
    path.write_text(yaml.safe_dump(each_scenario(panel_file)))
    scenario, path = load_scenario(path)
    return scenario, path, run_each_queue(scenario, path)


def test_each_queue_is_planned_as_the_scenario_naming_it(each):
    scenario, path, result = each
    assert sorted(result.intervals[DATA_QUEUE].unique()) == ["q00", "q01", "q02", "q03"]
    for q in ("q00", "q03"):
        alone = run_scenario(for_queue(scenario, q), path)
        mine = result.intervals[result.intervals[DATA_QUEUE] == q].drop(columns=DATA_QUEUE)
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone.intervals, check_exact=True)
        row = result.per_queue.set_index(DATA_QUEUE).loc[q]
        assert row["fte_total"] == alone.summary["fte_total"]


def test_the_queues_together_add_up(each):
    _, _, result = each
    per, s, f = result.per_queue, result.summary, result.intervals
    assert s["queues"] == 4
    assert s["volume_total"] == pytest.approx(per["volume_total"].sum())
    # FTE of dedicated queues add: every queue opens the same days here, so the mean adds too
    assert s["fte_total"] == pytest.approx(per["fte_total"].sum())
    queued = f[f["volume"] > 0]
    expected = np.average(queued["service_level"], weights=queued["volume"])
    assert s["service_level"] == pytest.approx(expected)
    peak = f.groupby("interval_start")["scheduled_agents"].sum().max()
    assert s["peak_agents"] == peak <= per["peak_agents"].sum()  # the peaks of all queues at once
    assert result.forecast_model.startswith("per queue: ") and result.forecast_model.endswith(" ×4")


@pytest.mark.slow
def test_a_local_cluster_runs_backtest_forecast_and_scenario_as_one_process(tmp_path):
    """The issue's acceptance: one LocalCluster of 2 processes, 20 generated queues, backtest +
    forecast + a scenario, each exactly the sequential run's."""
    import yaml
    from distributed import LocalCluster

    data = panel_report(tmp_path / "queues.csv", queues=20)
    history = ingest(data, IngestOptions(time_col="timestamp", value_cols=("calls",), queue_col="queue"))
    spec = tmp_path / "grow-each.yaml"
    spec.write_text(yaml.safe_dump(each_scenario(data)))
    scenario, spec = load_scenario(spec)
    names = ["weekday_mean", "seasonal_naive_week"]

    def everything(scheduler):
        boards = backtest_queues(history, "arrivals", names, 2, 3, scheduler=scheduler).complete("backtest")
        forecast, _, _ = make_forecast(
            history, queue="each", model="ets_topdown", horizon_days=3, progress=False, scheduler=scheduler
        )
        return boards, forecast, run_each_queue(scenario, spec, scheduler=scheduler)

    alone = everything(None)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        spread = everything(cluster.scheduler_address)
    for q in alone[0]:
        timings = [c for c in alone[0][q].leaderboard if "seconds" in c]
        pd.testing.assert_frame_equal(
            alone[0][q].leaderboard.drop(columns=timings),
            spread[0][q].leaderboard.drop(columns=timings),
            check_exact=True,
        )
        assert alone[0][q].name == spread[0][q].name
    pd.testing.assert_frame_equal(alone[1], spread[1], check_exact=True)
    one, many = alone[2], spread[2]
    assert one.intervals[DATA_QUEUE].nunique() == 20
    for table in ("intervals", "daily", "fte", "curve", "per_queue"):
        pd.testing.assert_frame_equal(getattr(one, table), getattr(many, table), check_exact=True)
    assert one.summary == many.summary


def test_a_failing_queue_is_named_the_others_kept_and_nothing_recorded(
    run_cli, tracking_store, panel_file, write_scenario, tmp_path
):
    frame = pd.read_csv(panel_file)
    tiny = frame[frame["queue"] == "q00"].head(5).assign(queue="tiny")  # a day of history
    data = tmp_path / "with_tiny.csv"
    pd.concat([frame, tiny]).to_csv(data, index=False)
    path = write_scenario("tiny-each", each_scenario(data, name="tiny-each"))
    scenario, path = load_scenario(path)
    with pytest.raises(PanelError) as caught:
        run_each_queue(scenario, path)
    assert "1 of 5 queues not done (tiny)" in str(caught.value) and "too little history" in str(caught.value)
    assert sorted(caught.value.partial.per_queue[DATA_QUEUE]) == ["q00", "q01", "q02", "q03"]

    code, _, err = run_cli("scenario", "run", path, "--out", tmp_path / "out")
    assert code == 1 and "(tiny)" in err and "Traceback" not in err
    done = pd.read_csv(tmp_path / "out" / "tiny-each_partial" / "queues.csv")
    assert sorted(done[DATA_QUEUE]) == ["q00", "q01", "q02", "q03"]
    assert not (tmp_path / "out" / "tiny-each").exists()
    assert tracking_store.runs(SCENARIOS, tags={"scenario": "tiny-each"}) == []


def test_the_command_writes_every_queue_and_records_one_run(run_cli, tracking_store, each, tmp_path):
    _, path, result = each
    code, out, err = run_cli("scenario", "run", path, "--out", tmp_path / "out")
    assert code == 0, err
    assert "4 queues, each planned on its own" in out
    queues = pd.read_csv(tmp_path / "out" / "grow-each" / "queues.csv")
    assert sorted(queues[DATA_QUEUE]) == ["q00", "q01", "q02", "q03"]
    assert queues["fte_total"].to_numpy() == pytest.approx(result.per_queue["fte_total"].to_numpy(), rel=1e-5)
    intervals = pd.read_parquet(tmp_path / "out" / "grow-each" / "intervals.parquet")
    assert intervals[DATA_QUEUE].nunique() == 4
    code, out, err = run_cli("scenario", "compare", "grow-each")
    assert code == 0, err


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"supply": {"headcount": 40}}, "supply.headcount"),
    ],
)
def test_one_team_for_every_queue_is_refused(
    run_cli, tracking_store, panel_file, write_scenario, tmp_path, change, key
):
    path = write_scenario("team-each", each_scenario(panel_file, name="team-each", **change))
    code, _, err = run_cli("scenario", "run", path, "--out", tmp_path / "out")
    assert code == 2 and key in err and "Traceback" not in err


def test_the_runner_alone_refuses_every_queue(each):
    scenario, path, _ = each
    with pytest.raises(InputError, match="queue by queue"):
        run_scenario(scenario, path)


def test_the_python_api_plans_every_queue(each):
    import capplan

    _, path, result = each
    again = capplan.run_scenario(path)
    pd.testing.assert_frame_equal(again.per_queue, result.per_queue, check_exact=True)


def test_a_champion_panel_forecasts_each_queue_of_the_scenario(tracking_store, panel_file, write_scenario):
    """``train --queue each`` registers one panel; a scenario over every queue takes each queue's
    forecaster from it, and a queue the panel lacks is named, the others planned."""
    import capplan

    history = capplan.ingest(panel_file, time_col="timestamp", value_col="calls", queue_col="queue")
    capplan.train(tracking_store, history, queue="each", models=["weekday_mean"], horizon_days=2, origins=2)
    spec = each_scenario(panel_file, name="champ-each", forecast={"horizon_days": 3, "interval": "60min"})
    result = capplan.run_scenario(write_scenario("champ-each", spec), store=tracking_store)
    models = result.per_queue.set_index(DATA_QUEUE)["forecast_model"]
    assert all(
        models[q].endswith("(capplan-queues-arrivals-each version 1)") for q in ("q00", "q01", "q02", "q03")
    )
    panel, _ = load_panel(tracking_store, "capplan-queues-arrivals-each")
    q02 = result.intervals[result.intervals[DATA_QUEUE] == "q02"]
    own = panel["q02"].predict(pd.DatetimeIndex(q02["interval_start"]))["forecast"].to_numpy()
    np.testing.assert_allclose(q02["volume"].to_numpy(), 1.1 * own, rtol=1e-12)  # the scenario's +10 %

    frame = pd.read_csv(panel_file)
    extra = frame[frame["queue"] == "q00"].assign(queue="new")  # a queue the panel never saw
    data = panel_file.parent / "later" / panel_file.name  # the same file, later: the panel's name
    data.parent.mkdir()
    pd.concat([frame, extra]).to_csv(data, index=False)
    spec["data"]["input"] = str(data)
    with pytest.raises(PanelError) as caught:
        capplan.run_scenario(write_scenario("champ-each", spec), store=tracking_store)
    assert "1 of 5 queues not done (new)" in str(caught.value) and "no model of this queue" in str(
        caught.value
    )
    assert sorted(caught.value.partial.per_queue[DATA_QUEUE]) == ["q00", "q01", "q02", "q03"]


def test_a_report_with_a_column_a_queue_plans_as_the_long_one(each, write_scenario):
    """``value_col: [q00, q01, …]`` (one column per queue) is the same data as a queue column."""
    _, path, result = each
    long = pd.read_csv(result.scenario.data.input)
    wide = long.pivot(index="timestamp", columns="queue", values="calls").reset_index()
    data = path.parent / "wide.csv"
    wide.to_csv(data, index=False)
    spec = each_scenario(data, name="wide-each")
    spec["data"] = {"input": str(data), "format": "intervals", "time_col": "timestamp", "queue": "each"}
    spec["data"]["value_col"] = ["q00", "q01", "q02", "q03"]
    scenario, spec_path = load_scenario(write_scenario("wide-each", spec))
    columns = run_each_queue(scenario, spec_path)
    numbers = [c for c in result.per_queue if c != "forecast_model"]
    pd.testing.assert_frame_equal(columns.per_queue[numbers], result.per_queue[numbers], check_exact=True)


def test_a_model_of_one_series_cannot_plan_every_queue(
    run_cli, tracking_store, panel_file, write_scenario, tmp_path
):
    import capplan

    history = capplan.ingest(panel_file, time_col="timestamp", value_col="calls", queue_col="queue")
    capplan.train(
        tracking_store,
        history,
        queue="q00",
        models=["weekday_mean"],
        horizon_days=2,
        origins=2,
        registered_model="one",
    )
    spec = each_scenario(
        panel_file,
        name="one-each",
        forecast={"registered_model": "one", "horizon_days": 3, "interval": "60min"},
    )
    code, _, err = run_cli("scenario", "run", write_scenario("one-each", spec), "--out", tmp_path / "out")
    assert (
        code == 2 and "forecast.registered_model" in err and "every queue" in err and "Traceback" not in err
    )


def test_a_warning_of_many_queues_is_said_once():
    from types import SimpleNamespace

    from scenarios.each_queue import grouped_warnings

    results = {f"q{i}": SimpleNamespace(warnings=["generic day"]) for i in range(8)}
    results["q3"].warnings = ["generic day", "stale model"]
    assert grouped_warnings(results) == ["q0, q1, q2, q3, q4 and 3 more: generic day", "q3: stale model"]
