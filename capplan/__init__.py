"""capplan as a library: capacity planning for contact centres from a notebook or a script.

The functions below are the whole public API, the same steps the ``capplan`` command runs:
read the history and its KPIs, forecast it (backtested, with bands), train and retrain
registered models, staff intervals, run and compare what-if scenarios, plan hiring months ahead
and schedule shifts. They take and return pandas tables and small result objects; MLflow is
reached through a :class:`Store` you open once and pass in.

Example::

    import capplan

    history = capplan.ingest("data/bank_calls_2003-03-03_2003-05-28.csv", time_col="DateTime", value_col="Calls")
    kpis = capplan.kpis(history, periods=("week",))
    table = capplan.forecast(history, model="auto", horizon_days=5).table
    staffed = capplan.staff(table["forecast"], aht_seconds=180, interval_minutes=5)

Importing ``capplan`` is instant: each function imports what it uses when it runs.

Beside these functions, the modules ``capplan.files``, ``errors``, ``words``, ``history``,
``forecasts``, ``store``, ``scenarios``, ``staffing`` and ``planning`` name the lower-level
pieces the command line (``capplan.cli``) and the Streamlit app use, so neither reaches into the
core packages (``forecasting``, ``scenarios``) directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.history.ingest import IngestResult
    from forecasting.store import Store

__all__ = [
    "Forecast",
    "QueuePlans",
    "backtest",
    "capacity_plan",
    "compare_scenarios",
    "forecast",
    "ingest",
    "kpis",
    "load_scenario",
    "open_store",
    "plan_queues",
    "record_scenario",
    "retrain",
    "run_scenario",
    "schedule",
    "series",
    "staff",
    "train",
]


def open_store(uri: str | Path | None = None) -> Store:
    """Open the MLflow store that runs, registered models and caches live in.

    Args:
        uri: ``sqlite:///path.db``, ``http://server:5000``, a folder, or None for the default
            (``MLFLOW_TRACKING_URI``, else the local store; ``capplan store`` prints which).

    Returns:
        The store, to pass to the functions that record or read runs.
    """
    from forecasting.store import Store

    return Store.open(None if uri is None else str(uri))


def ingest(
    path: str | Path,
    format: str | None = None,
    *,
    time_col: str | None = None,
    value_col: str | Sequence[str] | None = None,
    queue_col: str | None = None,
    mapping: str | Path | None = None,
    interval: str | None = None,
    timezone: str | None = None,
    target_seconds: float | None = None,
) -> IngestResult:
    """Read and validate a history file: a contact log, an interval report or a helpdesk export.

    Every row is accounted for: used, rejected (with its reason) or ignored.

    Args:
        path: CSV, TSV, Excel or Parquet file.
        format: ``intervals`` (a report: give ``time_col`` and ``value_col``), ``log``,
            ``anonymous-bank``, or None to infer it.
        time_col: The report's timestamp column.
        value_col: The report's value column(s) (arrivals first).
        queue_col: A column naming the queue of each row.
        mapping: A mapping file adapting another export's columns and formats.
        interval: The interval a log is counted in (``30min``); reports keep their own.
        timezone: The centre's time zone, for times written in UTC or with offsets.
        target_seconds: The service-level threshold T (default 20 s).

    Returns:
        The ingest result: ``intervals`` (the interval table), ``calendar``, ``summary()``,
        ``ledger`` of rejected rows and ``anomalies``.

    Raises:
        InputError: The file, row, column and what was expected, for anything unusable.
    """
    from forecasting.history.ingest import IngestOptions
    from forecasting.history.ingest import ingest as read
    from forecasting.history.targets import DEFAULT_TARGET_SECONDS

    values = (value_col,) if isinstance(value_col, str) else tuple(value_col or ())
    options = IngestOptions(
        format=format,
        time_col=time_col,
        value_cols=values,
        queue_col=queue_col,
        mapping=mapping,
        interval=interval,
        target_seconds=DEFAULT_TARGET_SECONDS if target_seconds is None else target_seconds,
        timezone=timezone,
    )
    return read(Path(path), options)


def kpis(
    history: IngestResult,
    periods: Sequence[str] = ("day", "week", "month"),
    targets: str | Path | None = None,
    by: str = "queue",
) -> pd.DataFrame:
    """The service KPIs per period against targets: volume, AHT, ASA, service level,
    abandonment, response and resolution times, CSAT, NPS, FCR, repeats, where the data has them.

    Args:
        history: What :func:`ingest` returned.
        periods: Any of ``day``, ``week``, ``month``, ``quarter``.
        targets: A targets YAML file, or None for the defaults.
        by: Group by ``queue`` (or a log's ``channel``, ``priority``, ``team``, ``category``).

    Returns:
        A long table: period, group, KPI, value, target and whether it was met.
    """
    from forecasting.history.kpis import kpi_report
    from forecasting.history.targets import load_targets

    return kpi_report(history, load_targets(targets), tuple(periods), by=by)


def series(history: IngestResult, field: str = "arrivals", queue: str | None = None) -> pd.Series:
    """The series the models learn from: one field (``arrivals``, ``aht``) of one queue (or
    all together) on the open intervals."""
    from forecasting.series import forecast_series

    return forecast_series(history, field, queue)


@dataclass(frozen=True)
class Forecast:
    """A forecast: ``table`` (timestamp, forecast, lo80, hi80, lo95, hi95), the model that made
    it, its backtest leaderboard (when chosen by backtest) and a warning, if any."""

    table: pd.DataFrame
    model: str
    leaderboard: pd.DataFrame | None
    warning: str | None


def forecast(
    history: IngestResult,
    model: str = "auto",
    *,
    field: str = "arrivals",
    queue: str | None = None,
    horizon_days: int = 5,
    granularity: str | None = None,
    store: Store | None = None,
    scheduler: str | None = None,
) -> Forecast:
    """Forecast a series with prediction intervals.

    Args:
        history: What :func:`ingest` returned.
        model: ``auto`` (backtested candidates, the best or a combination), ``champion`` (the
            registered model: give ``store``), or a model name (``weekday_mean``, ``ets_topdown``,
            ``prophet_topdown``, ...; several joined by ``+``).
        field: ``arrivals`` or ``aht``.
        queue: One queue, None for all together, or ``each`` for every queue with its own model.
        horizon_days: Open days ahead.
        granularity: ``interval``, ``day``, ``week`` or ``month`` (default: the data's own).
        store: Where backtest results are cached and champions are read from.
        scheduler: With ``queue="each"``: fit the queues on Dask workers, ``local`` (a
            LocalCluster of this machine's cores) or a scheduler's address; same results.

    Returns:
        A :class:`Forecast`.
    """
    from forecasting.forecast_job import make_forecast

    table, selections, warning = make_forecast(
        history,
        field,
        queue,
        model,
        horizon_days,
        progress=False,
        store=store,
        granularity=granularity,
        scheduler=scheduler,
    )
    chosen = selections[0] if len(selections) == 1 else None
    name = chosen.name if chosen else ", ".join(s.name for s in selections)
    return Forecast(table, name, chosen.leaderboard if chosen else None, warning)


def backtest(
    history: IngestResult,
    models: Sequence[str] | None = None,
    *,
    field: str = "arrivals",
    queue: str | None = None,
    horizon_days: int = 5,
    origins: int = 5,
    store: Store | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of candidate models against the baselines.

    Args:
        history: What :func:`ingest` returned.
        models: Model names, or None for every candidate of the field.
        field: ``arrivals`` or ``aht`` (see :func:`series`).
        queue: One queue, or None for all queues together.
        horizon_days: Open days ahead each origin forecasts.
        origins: Forecast origins, newest first.
        store: Where the backtest's cells are cached (reused by a later forecast or training).

    Returns:
        The leaderboard: one row per model (MASE, WAPE, bias, band coverage, seconds), best first.
    """
    from forecasting.forecast_job import backtest_and_choose, candidate_names
    from forecasting.store.backtest_cells import cells_of

    names = candidate_names(field, ",".join(models) if models else None)
    choice = backtest_and_choose(
        series(history, field, queue),
        names,
        horizon_days,
        origins,
        None,
        False,
        1,
        cells=cells_of(store) if store is not None else None,
    )
    return choice.leaderboard


def train(
    store: Store,
    history: IngestResult,
    *,
    field: str = "arrivals",
    queue: str | None = None,
    models: Sequence[str] | None = None,
    horizon_days: int = 5,
    origins: int = 10,
    registered_model: str | None = None,
    promote: bool = False,
    special_days: Any = None,
    clean: bool = True,
    jobs: int = 1,
    progress: bool = False,
    scheduler: str | None = None,
) -> Any:
    """Backtest, fit the best model on all the history, log the run and register the model as
    the champion (``capplan train``).

    With ``queue="each"`` every queue is trained on its own (one task a queue, on Dask workers
    with ``scheduler``) and, only when all are done, logged as one run and registered as ONE
    model: a panel of the queues' forecasters (default name ``capplan-<file>-<field>-each``).

    Args:
        store: Where the run is logged and the model registered (:func:`open_store`).
        history: What :func:`ingest` returned.
        field: ``arrivals`` or ``aht``.
        queue: One queue, None for all queues together, or ``each`` (a panel of every queue's model).
        models: Candidate model names, or None for every candidate of the field.
        horizon_days: Open days ahead each backtest origin forecasts.
        origins: Backtest origins the model is chosen by.
        registered_model: The registered model's name (default: from the file, field and queue).
        promote: Make the new version champion even if there is one already.
        special_days: Holidays and special days the models know (``forecasting.special_days.SpecialDays``).
        clean: Repair outliers and gaps before learning (False: learn from the raw series).
        jobs: Parallel processes for the backtest (-1: every core).
        progress: Show the backtest's progress.
        scheduler: With ``queue="each"``: ``local`` (a LocalCluster) or a Dask scheduler's
            address; None runs the queues in this process. Same results.

    Returns:
        The training outcome: ``leaderboard``, ``decision`` (in words), ``run_id``,
        ``registered_name``, ``version``; with ``queue="each"``, ``queues`` (a row a queue)
        and ``leaderboards`` instead of ``leaderboard``. A queue that fails raises
        ``PanelError`` naming it, and nothing is logged.
    """
    from forecasting.panel_training import train_panel
    from forecasting.training import train as fit

    each = _panel_options(queue, scheduler)
    return (train_panel if each else fit)(
        store,
        **_training_inputs(store, history, field, queue, models, registered_model),
        horizon_days=horizon_days,
        n_origins=origins,
        force=promote,
        **_training_options(special_days, clean, jobs, progress),
        **each,
    )


def retrain(
    store: Store,
    history: IngestResult,
    *,
    field: str = "arrivals",
    queue: str | None = None,
    models: Sequence[str] | None = None,
    horizon_days: int = 5,
    origins: int = 10,
    eval_origins: int = 5,
    registered_model: str | None = None,
    special_days: Any = None,
    clean: bool = True,
    jobs: int = 1,
    progress: bool = False,
    scheduler: str | None = None,
) -> Any:
    """Train a challenger on newer history and promote it only if it beats the champion on the
    same recent origins (``capplan retrain``).

    With ``queue="each"`` the champion is a panel (see :func:`train`): each queue's challenger
    is scored on that queue's recent window, and the new panel is promoted only if its mean
    MASE over the queues both panels have beats the champion's as trained and is no worse
    than the champion's models refitted (``forecasting.panel_training.panel_verdict``).

    Args:
        store: Where the champion is read and the challenger logged (:func:`open_store`).
        history: What :func:`ingest` returned: the newer history.
        field: ``arrivals`` or ``aht``.
        queue: One queue, or None for all queues together.
        models: Candidate model names, or None for every candidate of the field.
        horizon_days: Open days ahead each backtest origin forecasts.
        origins: Backtest origins the challenger is chosen by.
        eval_origins: Recent origins champion and challenger are compared on.
        registered_model: The registered model's name (default: from the file, field and queue).
        special_days: Holidays and special days the models know.
        clean: Repair outliers and gaps before learning.
        jobs: Parallel processes for the backtest (-1: every core).
        progress: Show the backtest's progress.
        scheduler: With ``queue="each"``: where the queues run, as for :func:`train`.

    Returns:
        The training outcome, as :func:`train`'s; ``decision`` says whether it was promoted.
    """
    from forecasting.panel_training import retrain_panel
    from forecasting.training import retrain as refit

    each = _panel_options(queue, scheduler)
    return (retrain_panel if each else refit)(
        store,
        **_training_inputs(store, history, field, queue, models, registered_model),
        horizon_days=horizon_days,
        n_origins=origins,
        eval_origins=eval_origins,
        **_training_options(special_days, clean, jobs, progress),
        **each,
    )


def _panel_options(queue: str | None, scheduler: str | None) -> dict:
    """Where every queue's training runs; a scheduler for one series is refused, not ignored."""
    if queue == "each":
        return {"scheduler": scheduler}
    if scheduler is not None:
        from forecasting.common.errors import InputError

        raise InputError(
            "a scheduler spreads queues over workers",
            option="scheduler",
            expected="queue='each' (one series is trained in this process)",
            found=scheduler,
        )
    return {}


def _training_inputs(
    store: Store, history: IngestResult, field: str, queue: str | None, models, name
) -> dict:
    """What training and retraining both start from: the series (every queue's, split by the
    panel training, for ``each``), the registered model's name, the candidates and the contract
    the model will hold the data to."""
    from forecasting.forecast_job import candidate_names
    from forecasting.model_contract import data_contract

    source = Path(history.source)
    data = (
        {"result": history, "field": field}
        if queue == "each"
        else {"history": series(history, field, queue), "calendar": history.calendar}
    )
    return {
        **data,
        "source": str(source),
        "registered_name": name or store.model_name(source, field, queue),
        "names": candidate_names(field, ",".join(models) if models else None),
        "contract": data_contract(history, field, queue, source=source.name),
    }


def _training_options(special_days, clean: bool, jobs: int, progress: bool) -> dict:
    return {"special_days": special_days, "clean": clean, "n_jobs": jobs, "progress": progress}


def staff(
    volume: float | Sequence[float],
    aht_seconds: float | Sequence[float],
    interval_minutes: float = 30,
    *,
    service_level: float | None = 0.8,
    target_seconds: float = 20,
    asa_seconds: float | None = None,
    abandon_rate: float | None = None,
    max_occupancy: float | None = None,
    model: str = "erlang-c",
    patience_seconds: float | None = None,
    shrinkage: float = 0.0,
    hours_per_fte: float = 37.5,
) -> pd.DataFrame:
    """Agents per interval to meet service targets (Erlang C or A), scheduled agents after
    shrinkage, FTE, and the service delivered.

    Args:
        volume: Contacts per interval (a number or an array).
        aht_seconds: Average handle time (a number or one per interval).
        interval_minutes: The interval's length.
        service_level: Share answered within ``target_seconds`` (None: no such target).
        target_seconds: The T of the service level.
        asa_seconds: Average speed of answer to stay within (any combination of targets).
        abandon_rate: Share abandoning to stay within (Erlang A).
        max_occupancy: Occupancy not to exceed.
        patience_seconds: Mean patience of callers (Erlang A).
        model: ``erlang-c``, or ``erlang-a`` with ``patience_seconds``.
        shrinkage: Share of paid time off the phones.
        hours_per_fte: Paid hours a week of one FTE.

    Returns:
        Per interval: agents, scheduled_agents, fte, load, service_level, asa_seconds, p_wait,
        occupancy, abandon_rate, overloaded.
    """
    import numpy as np

    from scenarios.service.staffing_plan import StaffingOptions, staff_intervals
    from scenarios.staffing.requirements import StaffingTargets

    targets = StaffingTargets(
        service_level=service_level,
        target_seconds=target_seconds,
        asa_seconds=asa_seconds,
        abandon_rate=abandon_rate,
        max_occupancy=max_occupancy,
    )
    options = StaffingOptions(
        targets=targets,
        model=model,
        patience=patience_seconds,
        shrinkage=shrinkage,
        hours_per_fte=hours_per_fte,
    )
    return staff_intervals(
        np.atleast_1d(np.asarray(volume, float)), aht_seconds, interval_minutes * 60, options
    )


@dataclass(frozen=True)
class QueuePlans:
    """Every queue's plan: ``table`` (queue, timestamp, model, forecast with its bands, agents,
    scheduled agents, FTE and service per interval) for the queues done, and ``failures``
    (queue: why) for the others."""

    table: pd.DataFrame
    failures: dict[str, str]


def plan_queues(
    history: IngestResult,
    *,
    aht_seconds: float,
    service_level: float = 0.8,
    target_seconds: float = 20,
    shrinkage: float = 0.0,
    model: str = "auto",
    models: Sequence[str] | None = None,
    horizon_days: int = 5,
    scheduler: str | None = None,
    workers: int | None = None,
) -> QueuePlans:
    """Forecast and staff every queue of ``history`` on its own, in this process or on a Dask
    cluster, with the same numbers either way.

    Args:
        history: What :func:`ingest` returned, with a queue column (``queue_col``).
        aht_seconds: Average handle time of every queue.
        service_level: Share answered within ``target_seconds``.
        target_seconds: The T of the service level.
        shrinkage: Share of paid time off the phones.
        model: ``auto`` (each queue's backtest chooses) or a model name for every queue.
        models: With ``auto``: the candidates (default: all).
        horizon_days: Open days ahead.
        scheduler: None (this process), ``local`` (a LocalCluster of this machine's cores) or a
            Dask scheduler's address (``tcp://host:8786``).
        workers: With ``local``: worker processes (default: one per core).

    Returns:
        A :class:`QueuePlans`.
    """
    import pandas as pd

    from scenarios.service.queue_plans import plan_queues as plan
    from scenarios.service.staffing_plan import StaffingOptions
    from scenarios.staffing.requirements import StaffingTargets

    options = StaffingOptions(
        StaffingTargets(service_level=service_level, target_seconds=target_seconds), shrinkage=shrinkage
    )
    outcome = plan(
        history,
        options,
        aht_seconds,
        model=model,
        models=list(models) if models else None,
        horizon_days=horizon_days,
        scheduler=scheduler,
        workers=workers,
    )
    tables = [t.assign(queue=q)[["queue", *t.columns]] for q, t in outcome.results.items()]
    return QueuePlans(pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(), outcome.failures)


def load_scenario(name_or_path: str | Path) -> Any:
    """A validated scenario (with what it ``extends`` merged in): a file, or the name of one in
    ``experiments/scenarios``. Returns ``(scenario, path)``."""
    from scenarios.inputs.spec import load_scenario as load

    return load(name_or_path)


def run_scenario(
    scenario: Any,
    store: Store | None = None,
    analysis: bool = True,
    path: Path | None = None,
    scheduler: str | None = None,
) -> Any:
    """Run a scenario: forecast, demand changes, staffing per interval and queue, the supply,
    and (``analysis``) the risk, target curve and best targets; its ``capacity:`` and
    ``schedule:`` sections too. Nothing is recorded (``capplan scenario run`` records it).

    A scenario whose data names ``queue: each`` plans every queue of its data on its own, one
    task a queue (on Dask workers with ``scheduler``), and puts them together: its tables gain
    a ``data_queue`` column and ``per_queue`` holds one row a queue.

    Args:
        scenario: A name or file, or a scenario from :func:`load_scenario`.
        store: Where the champion's forecast comes from.
        analysis: False for the quick what-if (staffing only).
        path: The scenario's file, when ``scenario`` is a loaded one (its relative paths).
        scheduler: With ``data.queue: each``: ``local`` (a cluster of this machine's cores) or
            a scheduler's address (``tcp://host:8786``); None runs the queues here.

    Returns:
        The result: ``intervals``, ``daily``, ``fte``, ``summary``, ``warnings``, ``capacity``,
        ``schedule`` (and ``per_queue`` over every queue).

    Raises:
        PanelError: Some queues failed (named); its ``partial`` holds the others' result.
    """
    from scenarios.each_queue import is_each_queue, run_each_queue
    from scenarios.runner import run_scenario as run

    if isinstance(scenario, (str, Path)):
        scenario, path = load_scenario(scenario)
    if is_each_queue(scenario):
        return run_each_queue(scenario, path, store=store, analysis=analysis, scheduler=scheduler)
    return run(scenario, path, store=store, analysis=analysis)


def record_scenario(store: Store, result: Any) -> str:
    """Record a scenario's result in MLflow (experiment ``scenarios``), as ``capplan scenario
    run`` does, so :func:`compare_scenarios` and the app's Compare page find it.

    Returns:
        The MLflow run id.
    """
    from scenarios.tracking.runs import log_scenario

    text = result.path.read_text() if result.path is not None else ""
    return log_scenario(store, result, text)


def compare_scenarios(store: Store, names: Sequence[str], baseline: str | None = None) -> pd.DataFrame:
    """The latest recorded runs of scenarios side by side, with deltas against the baseline
    (``baseline``, else the first name)."""
    from scenarios.tracking.runs import compare_runs

    return compare_runs(store, list(names), baseline)


def capacity_plan(scenario: Any, store: Store | None = None, path: Path | None = None) -> Any:
    """The long-term hiring plan of a scenario with a ``capacity:`` section: required and
    available FTE week by week, the least-cost hiring classes, attrition risk and sensitivity.

    Returns:
        The plan: ``weeks``, ``plan`` (``classes``, ``cost``, ``notes``), ``sensitivity``, ``summary``.
    """
    from scenarios.capacity.plan import run_capacity

    if isinstance(scenario, (str, Path)):
        scenario, path = load_scenario(scenario)
    return run_capacity(scenario, path, store)


def schedule(
    required: Sequence[float], templates: Sequence[dict], interval_minutes: int = 30, **limits: Any
) -> Any:
    """A week of shifts covering ``required`` agents per interval of a Monday-first week
    (``7 × 1440 / interval_minutes`` values) at least cost.

    Args:
        required: Agents to have on duty per interval of the week.
        templates: Shift templates as a scenario's ``schedule.templates`` writes them, e.g.
            ``{"name": "full", "hours": 8.5, "start_window": "07:00-13:00",
            "breaks": [{"minutes": 30, "after_hours": [3, 5]}]}``.
        interval_minutes: 15, 30 or 60.
        **limits: ``max_part_time_share``, ``max_agents``, ``min_on_duty``, ``max_on_duty``,
            ``time_limit_seconds`` (a scenario's ``schedule:`` keys).

    Returns:
        The schedule: ``shifts``, ``patterns`` (days off), ``coverage``, ``summary``, ``notes``.
    """
    import numpy as np

    from scenarios.inputs.spec import ScheduleSpec
    from scenarios.scheduling.plan import rules_of, solve

    spec = ScheduleSpec.model_validate({"templates": list(templates), **limits})
    required = np.asarray(required, float)
    required = np.where(required > 0, np.maximum(required, spec.min_on_duty), 0.0)
    return solve(required, rules_of(spec, interval_minutes), spec)
