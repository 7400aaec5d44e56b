"""Every queue forecast and staffed on its own: the per-queue work of a plan for hundreds or
thousands of queues. :func:`plan_queue` is a pure function of one queue's inputs, so a Dask
worker runs it (:mod:`forecasting.panel`) with the same result as this process;
:func:`plan_queues` prepares each queue's inputs here and gathers the results here."""

from __future__ import annotations

import pandas as pd

from forecasting.calendar import OperatingCalendar
from forecasting.forecast_job import candidate_names, forecast_queue, horizon_timestamps
from forecasting.history.ingest import IngestResult
from forecasting.panel import PanelOutcome, run_per_queue
from forecasting.series import queue_series
from scenarios.service.staffing_plan import StaffingOptions, staff_intervals


def plan_queue(
    history: pd.Series,
    calendar: OperatingCalendar,
    stamps: pd.DatetimeIndex,
    settings: tuple,
    options: StaffingOptions,
    interval_seconds: float,
    aht_seconds: float,
) -> pd.DataFrame:
    """One queue: its model chosen by backtest and fitted, its forecast at ``stamps`` and the
    agents each interval needs for ``options``' targets (per interval: the forecast with its
    bands, then agents, scheduled agents, FTE and the service they give)."""
    table, selection = forecast_queue(history, calendar, stamps, None, "horizon_days", settings)
    staffed = staff_intervals(table["forecast"].to_numpy(), aht_seconds, interval_seconds, options)
    out = pd.concat([table.reset_index(drop=True), staffed], axis=1)
    out.insert(1, "model", selection.name)
    return out


def plan_queues(
    result: IngestResult,
    options: StaffingOptions,
    aht_seconds: float,
    *,
    model: str = "auto",
    models: list[str] | None = None,
    horizon_days: int = 5,
    select_origins: int = 5,
    clean: bool = True,
    scheduler: str | None = None,
    workers: int | None = None,
) -> PanelOutcome:
    """Every queue of ``result`` planned by :func:`plan_queue`, here or on the ``scheduler``'s
    workers; the outcome holds each queue's table and names the queues that failed."""
    data_end = pd.Timestamp(result.intervals["interval_start"].max())
    names = candidate_names("arrivals", ",".join(models) if models else None) if model == "auto" else None
    settings = (model, names, horizon_days, select_origins, clean, None, None, "interval", "arrivals")
    seconds = result.interval.total_seconds()
    inputs, failed = {}, {}
    for q, history in queue_series(result, "arrivals", failed).items():  # the table split once
        stamps = horizon_timestamps(result.calendar, max(history.index.max(), data_end), horizon_days)
        inputs[q] = (history, result.calendar, stamps, settings, options, seconds, aht_seconds)
    outcome = run_per_queue(plan_queue, inputs, scheduler, what="plan", workers=workers)
    outcome.failures.update(failed)  # queues with nothing to plan: named beside the others
    outcome.total += len(failed)
    return outcome
