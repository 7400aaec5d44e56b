"""Scenario runs in MLflow (experiment ``scenarios``), and reading them back for comparison.

Each run carries the scenario's YAML (as written and as resolved), its settings as flattened
parameters, the summary as metrics, the per-interval table as Parquet, the daily and FTE
tables as CSV, plots, and tags naming the scenario and linking its baseline's run. Comparison
reads runs back from the store, so it works across processes, sessions and planners.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from forecasting.errors import InputError
from forecasting.tracking import experiment, store_lock, tracking_uri, use_store
from scenarios.runner import ScenarioResult

EXPERIMENT = "scenarios"
MAX_PARAM = 6000  # MLflow's limit on a parameter value


@contextlib.contextmanager
def store_errors():
    """An unreachable or failing tracking store is a user's problem to fix: one line, not a traceback."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except (MlflowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"the MLflow store failed: {first[:200]}", expected="a reachable store (check MLFLOW_TRACKING_URI)",
                         found=tracking_uri()) from None  # fmt: skip


def latest_run(name: str):
    """The most recent finished run of a scenario, or None."""
    import mlflow

    use_store()
    name = name.replace("'", "\\'")
    found = mlflow.get_experiment_by_name(EXPERIMENT)
    if found is None:
        return None
    runs = mlflow.search_runs([found.experiment_id], filter_string=f"tags.scenario = '{name}' and attributes.status = 'FINISHED'",
                              order_by=["attributes.start_time DESC"], max_results=1, output_format="list")  # fmt: skip
    return runs[0] if runs else None


def log_scenario(result: ScenarioResult, yaml_text: str) -> str:
    """Record the run; returns its id. Computation is done before: the store is held briefly."""
    import matplotlib

    matplotlib.use("Agg")
    import mlflow

    from scenarios.plots import agents_plot, daily_service_plot

    s = result.scenario
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_tables(result, folder)
        (folder / "scenario.yaml").write_text(yaml_text)
        (folder / "scenario_resolved.yaml").write_text(yaml.safe_dump(s.model_dump(by_alias=True), sort_keys=False))
        agents_plot(result).savefig(folder / "agents_by_interval.png", dpi=110, bbox_inches="tight")
        daily_service_plot(result).savefig(folder / "service_by_day.png", dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close("all")
        with store_errors(), store_lock():  # the first use of a new store creates its schema: inside the lock too
            baseline = latest_run(s.baseline_name) if s.baseline_name else None
            with mlflow.start_run(experiment_id=experiment(EXPERIMENT), run_name=s.name) as run:
                tags = {"scenario": s.name, "forecast_model": result.forecast_model, "scenario_file": str(result.path or "")}
                if s.baseline_name:
                    tags["baseline"] = s.baseline_name
                    if baseline is not None:
                        tags["baseline_run_id"] = baseline.info.run_id
                tags["mlflow.note.content"] = _note(result, baseline)
                mlflow.set_tags(tags)
                params = {k: v[:MAX_PARAM] for k, v in s.flat_params().items()}
                for chunk in range(0, len(params), 100):
                    mlflow.log_params(dict(list(params.items())[chunk:chunk + 100]))
                mlflow.log_metrics({k: float(v) for k, v in result.summary.items() if v is not None and np.isfinite(v)})
                mlflow.log_artifacts(str(folder))
                return run.info.run_id


def _note(result: ScenarioResult, baseline) -> str:
    s = result.scenario
    text = f"{s.description}\n\nForecast: {result.forecast_model}."
    if s.baseline_name:
        text += f"\nBaseline: {s.baseline_name}" + (f" (run {baseline.info.run_id})." if baseline else " (not run yet).")
    return text


def _write_tables(result: ScenarioResult, folder: Path) -> None:
    result.intervals.to_parquet(folder / "intervals.parquet", index=False)
    result.daily.to_csv(folder / "daily.csv", index=False, float_format="%.6g")
    result.fte.to_csv(folder / "fte.csv", index=False, float_format="%.6g")
    result.curve.to_csv(folder / "target_curve.csv", index=False, float_format="%.6g")
    if result.evidence is not None:
        result.evidence.to_csv(folder / "evidence.csv", index=False, float_format="%.6g")
    (folder / "summary.json").write_text(json.dumps({**result.summary, "achievable": result.achievable}, indent=2, default=float) + "\n")


def write_outputs(result: ScenarioResult, folder: Path, yaml_text: str) -> None:
    """The same tables in a folder a planner opens (intervals also as CSV)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_tables(result, folder)
    result.intervals.to_csv(folder / "intervals.csv", index=False, float_format="%.6g", date_format="%Y-%m-%d %H:%M")
    (folder / "scenario.yaml").write_text(yaml_text)


def compare_runs(names: list[str], baseline: str | None = None) -> pd.DataFrame:
    """Metrics of each scenario's latest run side by side, with deltas against the baseline
    (``baseline``, else the first name). Reads the store only."""
    with store_errors():
        return _compare(names, baseline)


def _compare(names: list[str], baseline: str | None) -> pd.DataFrame:
    runs = {}
    for name in names:
        run = latest_run(name)
        if run is None:
            raise InputError("no run of this scenario", key=name, expected=f"a scenario run first (`capplan scenario run {name}`) in {tracking_uri()}")
        runs[name] = run
    base = baseline or names[0]
    if base not in runs:
        runs[base] = latest_run(base)
        if runs[base] is None:
            raise InputError("no run of the baseline", key=base, expected=f"`capplan scenario run {base}` first")
    metrics = sorted(set().union(*(r.data.metrics for r in runs.values())), key=_metric_order)
    table = pd.DataFrame({name: [runs[name].data.metrics.get(m, np.nan) for m in metrics] for name in names}, index=metrics)
    table.index.name = "metric"
    for name in names:
        if name != base:
            base_values = pd.Series([runs[base].data.metrics.get(m, np.nan) for m in metrics], index=metrics)
            table[f"{name} - {base}"] = table[name] - base_values
    table.attrs["runs"] = {n: r.info.run_id for n, r in runs.items()}
    table.attrs["baseline"] = base
    return table


HEADLINE = ("fte_total", "peak_agents", "total_cost", "service_level", "asa_seconds", "abandon_rate", "occupancy",
            "p_meet_target_mean", "p_meet_target_min", "supply_service_level", "supply_p_meet_target_mean",
            "understaffed_intervals", "volume_total", "aht_seconds")  # fmt: skip


def _metric_order(name: str) -> tuple[int, str]:
    return (HEADLINE.index(name) if name in HEADLINE else len(HEADLINE), name)


def runs_table() -> pd.DataFrame:
    """Every finished scenario run in the store, newest first: name, time, run id and headline metrics."""
    with store_errors():
        return _runs_table()


def _runs_table() -> pd.DataFrame:
    import mlflow

    use_store()
    found = mlflow.get_experiment_by_name(EXPERIMENT)
    if found is None:
        return pd.DataFrame(columns=["scenario", "start_time", "run_id"])
    runs = mlflow.search_runs([found.experiment_id], filter_string="attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"])
    if runs.empty:
        return pd.DataFrame(columns=["scenario", "start_time", "run_id"])
    keep = {"tags.scenario": "scenario", "start_time": "start_time", "run_id": "run_id", "status": "status", "tags.baseline": "baseline"}
    keep.update({f"metrics.{m}": m for m in HEADLINE[:5]})
    table = runs[[c for c in keep if c in runs]].rename(columns=keep)
    if "start_time" in table and getattr(table["start_time"].dt, "tz", None) is not None:
        table["start_time"] = table["start_time"].dt.tz_convert(None)  # UTC, as MLflow's UI shows it
    return table
