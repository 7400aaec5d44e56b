"""Scenario runs in MLflow (experiment ``scenarios``), and reading them back for comparison.

Each run carries the scenario's YAML (as written and as resolved), its settings as flattened
parameters, the summary as metrics, the per-interval table as Parquet, the daily and FTE
tables as CSV, plots, and tags naming the scenario and linking its baseline's run. Comparison
reads runs back from the store, so it works across processes, sessions and planners.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from forecasting.common.csv_safety import write_csv
from forecasting.common.errors import InputError
from forecasting.common.jsonable import dumps
from forecasting.common.output_files import OutputFolder
from forecasting.store import SCENARIOS, RunRecord, Store
from scenarios.result import HEADLINE, ScenarioResult

EXPERIMENT = SCENARIOS
CAPACITY_EXPERIMENT = "capacity"  # plans run alone (capplan capacity); scenario runs carry theirs
SCHEDULE_OUTPUTS = (
    "schedule_shifts.csv",
    "schedule_patterns.csv",
    "schedule_coverage.csv",
    "schedule_service.csv",
    "schedule_daily.csv",
)
CAPACITY_OUTPUTS = (
    "capacity_weeks.csv",
    "capacity_classes.csv",
    "capacity_sensitivity.csv",
    "capacity_plan.xlsx",
)


class NoRunError(InputError):
    """A scenario asked for by name has no finished run in the store (yet)."""

    def __init__(self, scenario: str, store: Store):
        self.scenario = scenario
        super().__init__("no run of this scenario", key=scenario, expected=f"a run of it first, in {store}")


def latest_run(store: Store, name: str) -> RunRecord | None:
    """The most recent finished run of a scenario, or None."""
    return store.latest_run(EXPERIMENT, tags={"scenario": name})


def log_scenario(store: Store, result: ScenarioResult, yaml_text: str) -> str:
    """Record the run; returns its id. Computation is done before: the store is held briefly."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scenarios.tracking.plots import agents_plot, daily_service_plot

    s = result.scenario
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_tables(result, folder)
        (folder / "scenario.yaml").write_text(yaml_text)
        (folder / "scenario_resolved.yaml").write_text(
            yaml.safe_dump(s.model_dump(by_alias=True), sort_keys=False)
        )
        agents_plot(result).savefig(folder / "agents_by_interval.png", dpi=110, bbox_inches="tight")
        daily_service_plot(result).savefig(folder / "service_by_day.png", dpi=110, bbox_inches="tight")
        if result.schedule is not None:
            from scenarios.tracking.plots import schedule_plot

            schedule_plot(result.schedule).savefig(
                folder / "schedule_coverage.png", dpi=110, bbox_inches="tight"
            )
        if result.capacity is not None:
            from scenarios.tracking.plots import capacity_plot

            capacity_plot(result.capacity).savefig(folder / "capacity_plan.png", dpi=110, bbox_inches="tight")
        plt.close("all")
        if result.warnings:  # what the run printed stays with it (a generic intraday shape, ...)
            (folder / "warnings.txt").write_text("\n".join(result.warnings) + "\n")
        with store.lock():  # the first use of a new store creates its schema: inside the lock too
            baseline = latest_run(store, s.baseline_name) if s.baseline_name else None
            with store.start_run(EXPERIMENT, s.name) as run:
                tags = {
                    "scenario": s.name,
                    "forecast_model": result.forecast_model,
                    "scenario_file": str(result.path or ""),
                }
                if result.warnings:
                    tags["warnings"] = "\n".join(result.warnings)[:5000]
                if result.per_queue is not None:
                    tags["queues"] = str(len(result.per_queue))
                if s.baseline_name:
                    tags["baseline"] = s.baseline_name
                    if baseline is not None:
                        tags["baseline_run_id"] = baseline.run_id
                run.set_tags(tags)
                run.set_note(_note(result, baseline))
                run.log_params(s.flat_params())
                run.log_metrics(result.summary)
                run.log_artifacts(folder)
                return run.run_id


def _note(result: ScenarioResult, baseline: RunRecord | None) -> str:
    s = result.scenario
    text = f"{s.description}\n\nForecast: {result.forecast_model}."
    if result.warnings:
        text += "\n\nWarnings:\n" + "\n".join(f"- {w}" for w in result.warnings)
    if s.baseline_name:
        text += f"\nBaseline: {s.baseline_name}" + (
            f" (run {baseline.run_id})." if baseline else " (not run yet)."
        )
    return text


def _write_tables(result: ScenarioResult, folder: Path) -> None:
    result.intervals.to_parquet(folder / "intervals.parquet", index=False)
    write_csv(result.daily, folder / "daily.csv", index=False, float_format="%.6g")
    write_csv(result.fte, folder / "fte.csv", index=False, float_format="%.6g")
    write_csv(result.curve, folder / "target_curve.csv", index=False, float_format="%.6g")
    if result.evidence is not None:
        write_csv(result.evidence, folder / "evidence.csv", index=False, float_format="%.6g")
    validations = [
        fit.validation.assign(queue=name)
        for name, fit in result.services.items()
        if fit.validation is not None
    ]
    if validations:  # the service model fitted on the log, checked on its last week
        write_csv(pd.concat(validations), folder / "service_validation.csv", index=False, float_format="%.6g")
    checks = [
        fit.validation.assign(survey=s)
        for s, fit in result.satisfaction.items()
        if fit.validation is not None
    ]
    if checks:  # the wait-to-satisfaction model, checked on the log's last week
        write_csv(pd.concat(checks), folder / "satisfaction_validation.csv", index=False, float_format="%.6g")
    (folder / "summary.json").write_text(
        dumps({**result.summary, "achievable": result.achievable}, indent=2, default=float) + "\n"
    )
    if result.per_queue is not None:  # a scenario over every queue: one row a queue, every queue's notes
        write_csv(result.per_queue, folder / "queues.csv", index=False, float_format="%.6g")
        if result.warnings:
            (folder / "warnings.txt").write_text("\n".join(result.warnings) + "\n")
    if result.capacity is not None:
        write_capacity_tables(result.capacity, folder)
    if result.schedule is not None:
        write_schedule_tables(result.schedule, folder)


def write_schedule_tables(schedule, folder: Path) -> None:
    """The week's shifts (per template, day, start and break), its days-off patterns, its
    coverage against the requirement per interval of the week, and the service it delivers per
    interval and day of the horizon."""
    tables = (
        schedule.schedule.shifts,
        schedule.schedule.patterns,
        schedule.schedule.coverage,
        schedule.service,
        schedule.daily,
    )
    for table, name in zip(tables, SCHEDULE_OUTPUTS, strict=True):
        write_csv(table, folder / name, index=False, float_format="%.6g", date_format="%Y-%m-%d %H:%M")


def write_capacity_tables(capacity, folder: Path) -> None:
    """The plan's weekly table, its classes and the sensitivity table as CSV, and all three in
    one Excel workbook a planner opens (with the inputs' notes on a sheet of their own)."""
    from forecasting.common.csv_safety import write_excel

    tables = {
        "weekly plan": capacity.weeks,
        "hiring classes": capacity.plan.classes,
        "sensitivity": capacity.sensitivity,
    }
    for table, name in zip(tables.values(), CAPACITY_OUTPUTS, strict=False):
        write_csv(table, folder / name, index=False, float_format="%.6g", date_format="%Y-%m-%d")
    costs = pd.DataFrame({"cost": list(capacity.plan.cost), "amount": list(capacity.plan.cost.values())})
    notes = pd.DataFrame({"note": capacity.notes or ["every week covered"]})
    with pd.ExcelWriter(folder / "capacity_plan.xlsx", engine="openpyxl") as book:
        for sheet, table in tables.items():
            write_excel(table, book, name="capacity_plan.xlsx", sheet_name=sheet, index=False)
        write_excel(costs, book, name="capacity_plan.xlsx", sheet_name="costs", index=False)
        write_excel(notes, book, name="capacity_plan.xlsx", sheet_name="notes", index=False)


def log_schedule(store: Store, result: ScenarioResult, yaml_text: str) -> str:
    """Record a schedule made alone (``capplan schedule``) in the experiment ``schedules``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scenarios.tracking.plots import schedule_plot

    s = result.scenario
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_schedule_tables(result.schedule, folder)
        (folder / "scenario.yaml").write_text(yaml_text)
        schedule_plot(result.schedule).savefig(folder / "schedule_coverage.png", dpi=110, bbox_inches="tight")
        plt.close("all")
        with store.lock(), store.start_run("schedules", s.name) as run:
            tags = {"scenario": s.name, "forecast_model": result.forecast_model}
            if result.schedule.notes:
                tags["warnings"] = "\n".join(result.schedule.notes)[:5000]
            run.set_tags(tags)
            run.set_note(f"{s.description}\n\nForecast: {result.forecast_model}.")
            run.log_params(
                {k: v for k, v in s.flat_params().items() if k.startswith(("schedule.", "data.", "targets."))}
            )
            run.log_metrics(result.schedule.summary)
            run.log_artifacts(folder)
            return run.run_id


def log_capacity(store: Store, capacity, yaml_text: str) -> str:
    """Record a plan run alone (``capplan capacity``) in the experiment ``capacity``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scenarios.tracking.plots import capacity_plot

    s = capacity.inputs.scenario
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_capacity_tables(capacity, folder)
        (folder / "scenario.yaml").write_text(yaml_text)
        capacity_plot(capacity).savefig(folder / "capacity_plan.png", dpi=110, bbox_inches="tight")
        plt.close("all")
        with store.lock(), store.start_run(CAPACITY_EXPERIMENT, s.name) as run:
            tags = {"scenario": s.name, "forecast_model": capacity.inputs.model}
            if capacity.notes:
                tags["warnings"] = "\n".join(capacity.notes)[:5000]
            run.set_tags(tags)
            run.set_note(f"{s.description}\n\nWeekly volume: {capacity.inputs.model}.")
            run.log_params({k: v for k, v in s.flat_params().items() if k.startswith(("capacity.", "data."))})
            run.log_metrics(capacity.summary)
            run.log_artifacts(folder)
            return run.run_id


# every file a scenario run can write in its folder (see _write_tables)
OUTPUTS = (
    "intervals.parquet",
    "intervals.csv",
    "daily.csv",
    "fte.csv",
    "target_curve.csv",
    "evidence.csv",
    "service_validation.csv",
    "satisfaction_validation.csv",
    "summary.json",
    "scenario.yaml",
    "queues.csv",
    "warnings.txt",
    *CAPACITY_OUTPUTS,
    *SCHEDULE_OUTPUTS,
)


def write_outputs(result: ScenarioResult, folder: Path, yaml_text: str) -> None:
    """The same tables in a folder a planner opens (intervals also as CSV), all moved in at
    the end with the marker of a complete run (``forecasting.common.output_files``)."""
    with OutputFolder(folder, f"scenario run {result.scenario.name}", outputs=OUTPUTS) as out:
        _write_tables(result, out.draft)
        write_csv(
            result.intervals,
            out.path("intervals.csv"),
            index=False,
            float_format="%.6g",
            date_format="%Y-%m-%d %H:%M",
        )
        out.path("scenario.yaml").write_text(yaml_text)


def compare_runs(store: Store, names: list[str], baseline: str | None = None) -> pd.DataFrame:
    """Metrics of each scenario's latest run side by side, with deltas against the baseline
    (``baseline``, else the first name). Reads the store only."""
    runs = {}
    for name in names:
        runs[name] = latest_run(store, name)
        if runs[name] is None:
            raise NoRunError(name, store)
    base = baseline or names[0]
    if base not in runs:
        runs[base] = latest_run(store, base)
        if runs[base] is None:
            raise NoRunError(base, store)
    metrics = sorted(set().union(*(r.metrics for r in runs.values())), key=_metric_order)
    table = pd.DataFrame(
        {name: [runs[name].metrics.get(m, np.nan) for m in metrics] for name in names}, index=metrics
    )
    table.index.name = "metric"
    for name in names:
        if name != base:
            base_values = pd.Series([runs[base].metrics.get(m, np.nan) for m in metrics], index=metrics)
            table[f"{name} - {base}"] = table[name] - base_values
    table.attrs["runs"] = {n: r.run_id for n, r in runs.items()}
    table.attrs["baseline"] = base
    return table


def _metric_order(name: str) -> tuple[int, str]:
    return (HEADLINE.index(name) if name in HEADLINE else len(HEADLINE), name)


# what a list of runs shows: the plan's needs and service, and the supply's service where one was given
LISTED = (
    "fte_total",
    "peak_agents",
    "total_cost",
    "service_level",
    "asa_seconds",
    "p_meet_target_mean",
    "achievable_fte_available",
    "supply_service_level",
    "supply_p_meet_target_mean",
)


def runs_table(store: Store) -> pd.DataFrame:
    """Every finished scenario run in the store, newest first: name, time, run id, baseline and
    headline metrics."""
    rows = [
        {
            "scenario": r.tags.get("scenario"),
            "start_time": r.start_time,
            "run_id": r.run_id,
            "status": r.status,
            "baseline": r.tags.get("baseline"),
            **{m: r.metrics.get(m, np.nan) for m in LISTED},
        }
        for r in store.runs(EXPERIMENT)
    ]
    return pd.DataFrame(rows, columns=["scenario", "start_time", "run_id", "status", "baseline", *LISTED])
