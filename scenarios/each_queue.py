"""A scenario over every queue of its data (``data: {queue: each}``): the same what-if planned
for each queue on its own, here or on a Dask cluster, with the same answers either way.

A planner with hundreds of queues asks one question of all of them ("volume +10 %, 80/20"): each
queue of the data is forecast and staffed as if the scenario named it (``data.queue: <queue>``),
one task per queue through :func:`forecasting.panel.run_per_queue`; the results are then put
together into one :class:`~scenarios.result.ScenarioResult` whose tables carry a ``data_queue``
column, whose FTE adds the queues' own (agents of one queue do not serve another), and whose
summary is the organisation's: totals, volume-weighted service, and the number of queues.

A supply, a hiring plan or a week of shifts belongs to one team, not to every queue at once:
such scenarios are refused with the key to drop, rather than giving each queue the whole team.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forecasting.common.errors import InputError
from forecasting.panel import PanelError, run_per_queue
from forecasting.store import Store
from scenarios.inputs.base_forecast import base_forecast, load_history
from scenarios.inputs.spec import EACH_QUEUE, Scenario
from scenarios.result import ScenarioResult, summarize

if TYPE_CHECKING:  # forecast_job loads when a forecast is made
    from forecasting.forecast_job import PanelChampion

log = logging.getLogger(__name__)

DATA_QUEUE = "data_queue"  # the column naming the data's queue in a scenario over every queue
TEAM_KEYS = (  # what describes one team, not every queue
    ("supply.headcount", lambda s: s.supply.headcount),
    ("supply.budget", lambda s: s.supply.budget),
    ("supply.available_agents", lambda s: s.supply.available_agents),
    ("capacity", lambda s: s.capacity),
    ("schedule", lambda s: s.schedule),
)


def is_each_queue(scenario: Scenario) -> bool:
    """Whether the scenario plans every queue of its data on its own."""
    return scenario.data.queue == EACH_QUEUE


def check_each_queue(scenario: Scenario, path: Path | None = None) -> None:
    """Refuse what cannot be given to every queue at once, naming the key."""
    for key, value in TEAM_KEYS:
        if value(scenario) is not None:
            raise InputError(
                f"{key} describes one team; with data.queue: each every queue would get all of it",
                path=path,
                key=key,
                expected="no such key in a scenario over every queue (plan each queue's needs first, "
                "then give one queue's scenario its team)",
            )


def data_queues(scenario: Scenario, path: Path | None = None) -> list[str]:
    """The queues of the scenario's data, in order; its data read once in this process."""
    folder = path.parent if path else None
    result = load_history(scenario.data, scenario.forecast.interval, folder, weekly=True)
    queues = sorted(map(str, result.intervals["queue"].unique()))
    if not queues:
        raise InputError("no queue in the data", key="data.input", expected="rows with a queue")
    return queues


def for_queue(scenario: Scenario, queue: str) -> Scenario:
    """The scenario as if it named one queue of its data."""
    return scenario.model_copy(update={"data": scenario.data.model_copy(update={"queue": queue})})


def run_queue(
    scenario: Scenario,
    path: Path | None,
    base,
    analysis: bool,
    store: Store | None = None,
) -> ScenarioResult:
    """One queue's scenario end to end: a pure function of its inputs (the data file is read
    where the task runs), run here or on a Dask worker with the same result."""
    from scenarios.runner import run_scenario

    with quiet_queues():
        return run_scenario(scenario, path, base=base, analysis=analysis, store=store)


@contextmanager
def quiet_queues() -> Iterator[None]:
    """The scenario's lines of progress left out for each queue: one line a queue would drown
    the progress of all of them (:func:`forecasting.panel.run_per_queue` says it)."""
    quiet = logging.getLogger("scenarios")
    level = quiet.level
    quiet.setLevel(max(logging.WARNING, level))
    try:
        yield
    finally:
        quiet.setLevel(level)


def run_each_queue(
    scenario: Scenario,
    path: Path | None = None,
    store: Store | None = None,
    analysis: bool = True,
    scheduler: str | None = None,
) -> ScenarioResult:
    """Every queue of the data planned on its own (one task a queue, on ``scheduler``'s workers
    or here), put together by :func:`combine`. A queue that fails is named in a
    :class:`~forecasting.panel.PanelError` whose ``partial`` holds the queues done.

    A champion forecast is made here, from the store, and sent with the task (workers need not
    reach the store): each queue's forecaster of the champion panel of the data
    (``train --queue each``) when there is one, else each queue's own champion; any other model
    is fitted where the task runs. Here, the store's forecast
    cache is used; on workers each forecast is computed, to the same numbers."""
    check_each_queue(scenario, path)
    queues = data_queues(scenario, path)
    log.info("%s: %d queues of %s, each planned on its own", scenario.name, len(queues), scenario.data.input)
    folder = path.parent if path else None
    panel = champion_panel(scenario, folder, store)
    inputs, failed = {}, {}
    for q in queues:
        own = for_queue(scenario, q)
        base = None
        if own.forecast.model == "champion":  # the store is the client's: its forecasts go to the workers
            if panel is not None and q not in panel.model.forecasters:
                failed[q] = (
                    f"the panel {panel.name} has no model of this queue (retrain the panel on this data to add it)"
                )
                continue
            try:
                with quiet_queues():
                    base = base_forecast(own.data, own.forecast, own.risk.correlation, folder, store, panel)
            except InputError as exc:  # this queue's champion is wanting: named, the others go on
                failed[q] = str(exc)
                continue
        inputs[q] = (own, path, base, analysis)
    task = run_queue if scheduler is not None else partial(run_queue, store=store)
    outcome = run_per_queue(task, inputs, scheduler, what=f"scenario {scenario.name}")
    outcome.failures.update(failed)
    outcome.total += len(failed)
    if outcome.failures:
        error = PanelError(f"scenario {scenario.name}", outcome)
        error.partial = combine(scenario, path, outcome.results) if outcome.results else None
        raise error
    return combine(scenario, path, outcome.results)


def champion_panel(scenario: Scenario, folder: Path | None, store: Store | None) -> PanelChampion | None:
    """The registered panel the queues' champions come from (``forecast.registered_model``,
    else the data's ``capplan-<input>-arrivals-each``), checked against the data; None without
    one: each queue then takes its own champion (``capplan-<input>-arrivals-<queue>``)."""
    if store is None or scenario.forecast.model != "champion":
        return None
    from forecasting.forecast_job import champion_panel as registered_panel

    result = load_history(scenario.data, scenario.forecast.interval, folder, weekly=True)
    try:
        return registered_panel(store, result, "arrivals", scenario.forecast.registered_model)
    except InputError as exc:  # the scenario's keys, not the command line's options
        raise exc.as_keys("forecast") from None


def combine(scenario: Scenario, path: Path | None, results: dict[str, ScenarioResult]) -> ScenarioResult:
    """The queues' results as one: tables with a ``data_queue`` column, FTE added up by day and
    week, the summary of all queues (totals, volume-weighted service), one row a queue."""
    first = next(iter(results.values()))

    def stacked(name: str) -> pd.DataFrame:
        tables = [getattr(r, name).assign(**{DATA_QUEUE: q}) for q, r in results.items()]
        table = pd.concat(tables, ignore_index=True)
        return table[[DATA_QUEUE, *(c for c in table if c != DATA_QUEUE)]]

    intervals, daily, curve = stacked("intervals"), stacked("daily"), stacked("curve")
    fte = added_fte([r.fte for r in results.values()])
    days_per_week = max(r.demand.days_per_week for r in results.values() if r.demand is not None)
    summary = summarize(scenario, intervals, daily, fte, {}, False, days_per_week)
    per_queue = queue_table(results)
    for key in per_queue:  # FTE the analysis found per queue add up too (dedicated agents)
        if key.startswith("fte_") and key not in summary and pd.api.types.is_numeric_dtype(per_queue[key]):
            summary[key] = float(per_queue[key].sum())
    summary["queues"] = float(len(results))
    warnings = grouped_warnings(results)
    return ScenarioResult(
        scenario,
        path,
        intervals,
        daily,
        fte,
        curve,
        {},
        first.evidence,
        summary,
        model_counts(results),
        warnings,
        analysed=all(r.analysed for r in results.values()),
        per_queue=per_queue,
    )


def grouped_warnings(results: dict[str, ScenarioResult], shown: int = 5) -> list[str]:
    """Each warning once, with the queues it concerns: a thousand queues spread by the same
    generic day say so in one line, not a thousand."""
    queues: dict[str, list[str]] = {}
    for q, r in results.items():
        for w in r.warnings:
            queues.setdefault(w, []).append(q)
    out = []
    for w, names in queues.items():
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        out.append(f"{', '.join(names[:shown])}{more}: {w}")
    return out


def added_fte(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Agent-hours and FTE per day and week added over the queues (each queue's FTE on its own
    opening days); a week is partial when every queue's is."""
    f = pd.concat(tables, ignore_index=True)
    out = f.groupby(["period", "period_start"], as_index=False, sort=False).agg(
        agent_hours=("agent_hours", "sum"),
        fte=("fte", "sum"),
        days=("days", "max"),
        partial=("partial", "all"),
    )
    order = {"day": 0, "week": 1}
    return out.sort_values(
        ["period", "period_start"], key=lambda c: c.map(order) if c.name == "period" else c
    )[list(tables[0].columns)].reset_index(drop=True)


def queue_table(results: dict[str, ScenarioResult]) -> pd.DataFrame:
    """One row a queue: its forecast model, its summary's numbers and how many warnings it had."""
    rows = [
        {DATA_QUEUE: q, "forecast_model": r.forecast_model, **r.summary, "warnings": len(r.warnings)}
        for q, r in results.items()
    ]
    return pd.DataFrame(rows)


def model_counts(results: dict[str, ScenarioResult]) -> str:
    """Which models forecast the queues, e.g. ``per queue: ets_topdown ×12, weekday_mean ×8``."""
    counts = Counter(r.forecast_model.split(" (")[0] for r in results.values())
    return "per queue: " + ", ".join(f"{m} ×{n}" for m, n in counts.most_common())


def scenario_queues_summary(result: ScenarioResult, top: int = 10) -> pd.DataFrame:
    """The queues needing the most FTE, for a listing."""
    table = result.per_queue
    if table is None or "fte_total" not in table:
        return pd.DataFrame()
    columns = [
        c for c in (DATA_QUEUE, "fte_total", "peak_agents", "service_level", "volume_total") if c in table
    ]
    return table.sort_values("fte_total", ascending=False)[columns].head(top)
