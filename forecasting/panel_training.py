"""``train`` and ``retrain`` with ``queue='each'``: every queue's model chosen and fitted as one
task (here, or on Dask workers with the same results), logged on the client as ONE run and
registered as ONE model, a panel of per-queue forecasters (:mod:`forecasting.forecaster_panel`).

Nothing is logged until every queue is done: a queue that fails (its data, or a worker that
died more often than Dask retries) is named in a :class:`forecasting.panel.PanelError` and no
run or model version is made, so the registry never holds a panel missing queues.

Retraining promotes the challenger panel only if, over the queues both panels have, its mean
MASE on each queue's recent window (origins after that queue's champion stopped learning) is
below the champion's as trained, and no worse than the champion's models refitted on the same
origins: the single-series rule (:func:`forecasting.training.retrain`), on the mean over queues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.backtest import origins_for
from forecasting.calendar import OperatingCalendar
from forecasting.catalog import make_model
from forecasting.common.csv_safety import write_csv
from forecasting.common.errors import InputError
from forecasting.forecast_job import backtest_and_choose, calibrate
from forecasting.forecaster_panel import PANEL_MODEL, ForecasterPanel, is_panel
from forecasting.history.ingest import IngestResult
from forecasting.model_contract import ModelContract, load_checked
from forecasting.models.base import Forecaster
from forecasting.panel import run_per_queue
from forecasting.series import queue_series
from forecasting.special_days import SpecialDays
from forecasting.store import CHAMPION, RunLog, Store
from forecasting.store.backtest_cells import BacktestCells, cells_of
from forecasting.training import (
    EXPERIMENT,
    NAME_OPTION,
    compare_on_window,
    register_challenger,
    register_trained,
    unlike_champion,
)

log = logging.getLogger(__name__)
SCORED = ("mase", "wape", "coverage80", "coverage95")


@dataclass
class QueueTraining:
    """One queue's training, as its task returns it to the client."""

    model: str  # the chosen model (or combination)
    fitted: Forecaster  # fitted on all the queue's history, bands calibrated by its backtest
    leaderboard: pd.DataFrame
    history_start: pd.Timestamp
    history_end: pd.Timestamp
    calibration: str | None = None


@dataclass
class QueueRetraining:
    """One queue's retraining: its challenger, and its window scores against the champion's
    forecaster of the queue (None for a queue the champion panel does not have)."""

    training: QueueTraining
    champion_model: str | None = None
    window_start: pd.Timestamp | None = None
    origins: int = 0
    scores: dict | None = None  # challenger, champion, champion_refit: their window metrics
    kept: bool = False  # no new data for this queue since the champion: its forecaster carried over


@dataclass
class PanelTrainingOutcome:
    """What ``train``/``retrain`` with ``queue='each'`` did: one run, one registered version."""

    run_id: str
    registered_name: str
    version: int
    model: str  # the panel in a few words (its queues and the models they chose)
    queues: pd.DataFrame  # one row a queue: chosen model, scores, history
    leaderboards: pd.DataFrame  # every queue's leaderboard, with a queue column
    promoted: bool
    decision: str


def train_queue(
    history: pd.Series,
    calendar: OperatingCalendar,
    names: list[str],
    horizon_days: int,
    n_origins: int,
    clean: bool,
    special_days: SpecialDays | None,
    cells: BacktestCells | None = None,
    n_jobs: int = 1,
) -> QueueTraining:
    """One queue's backtest, choice and fit on all its history: a pure function of its inputs,
    run here or on a Dask worker with the same result (``cells``: the store's backtest cells,
    reused here only; they hold the same numbers a worker computes)."""
    return _chosen_and_fitted(
        history, history, calendar, names, horizon_days, n_origins, clean, special_days, cells, n_jobs
    )


def _chosen_and_fitted(
    chosen_on: pd.Series,
    history: pd.Series,
    calendar: OperatingCalendar,
    names: list[str],
    horizon_days: int,
    n_origins: int,
    clean: bool,
    special_days: SpecialDays | None,
    cells: BacktestCells | None,
    n_jobs: int,
) -> QueueTraining:
    """The model the backtest on ``chosen_on`` chooses, fitted on all of ``history`` with its
    bands calibrated by that backtest."""
    choice = backtest_and_choose(
        chosen_on,
        names,
        horizon_days,
        n_origins,
        progress=False,
        n_jobs=n_jobs,
        clean=clean,
        special_days=special_days,
        cells=cells,
    )
    fitted = make_model(choice.name, clean, special_days).fit(
        history, calendar, residuals=choice.backtest.residuals(choice.name)
    )
    note = calibrate(fitted, choice.leaderboard, choice.name)
    return QueueTraining(
        choice.name, fitted, choice.leaderboard, history.index.min(), history.index.max(), note
    )


def retrain_queue(
    history: pd.Series,
    calendar: OperatingCalendar,
    champion: Forecaster | None,
    champion_model: str | None,
    names: list[str],
    horizon_days: int,
    n_origins: int,
    eval_origins: int,
    clean: bool,
    special_days: SpecialDays | None,
    cells: BacktestCells | None = None,
    n_jobs: int = 1,
) -> QueueRetraining:
    """One queue's challenger, chosen on the data before the queue's window (origins after its
    champion's data ended) and scored there against the champion as trained and refitted, then
    fitted on all the history. A queue the champion does not have is trained as new."""
    if champion is None:
        return QueueRetraining(
            train_queue(history, calendar, names, horizon_days, n_origins, clean, special_days, cells, n_jobs)
        )
    window = [o for o in origins_for(history, horizon_days, eval_origins) if o > champion.history_end_]
    if not window:  # a queue whose feed stopped does not hold back the others: its model carried over
        board = pd.DataFrame({"model": [champion_model]})
        kept = QueueTraining(champion_model, champion, board, history.index.min(), champion.history_end_)
        return QueueRetraining(kept, champion_model, kept=True)
    before = history[history.index < window[0]]  # the challenger chosen before the window judges it
    training = _chosen_and_fitted(
        before, history, calendar, names, horizon_days, n_origins, clean, special_days, cells, n_jobs
    )
    scores = compare_on_window(
        history,
        window,
        horizon_days,
        champion,
        make_model(champion_model, clean, special_days),
        make_model(training.model, clean, special_days),
        cells=cells,
    )
    return QueueRetraining(training, champion_model, window[0], len(window), scores)


def train_panel(
    store: Store,
    result: IngestResult,
    field: str,
    source: str,
    registered_name: str,
    names: list[str],
    horizon_days: int = 5,
    n_origins: int = 10,
    force: bool = False,
    progress: bool = True,
    n_jobs: int = 1,
    clean: bool = True,
    special_days: SpecialDays | None = None,
    contract: ModelContract | None = None,
    scheduler: str | None = None,
) -> PanelTrainingOutcome:
    """Every queue trained (:func:`train_queue`, one task a queue), then, only if all of them
    were, one run logged and one panel registered: champion if there is none yet (or with
    ``force``), else challenger, as for one series. ``progress`` is unused (kept for the same
    options as one series): the per-queue runner logs a line every tenth of the queues."""
    before = store.model_version(registered_name, CHAMPION)
    unlike = unlike_champion(store, before, contract, registered_name, force)
    split, failed = _split(result, field)
    settings = (names, horizon_days, n_origins, clean, special_days)
    inputs = {q: (history, result.calendar, *settings) for q, history in split.items()}
    done = _run(train_queue, inputs, failed, scheduler, store, n_jobs, "train")
    table, boards = _queue_table(done), _boards(done)
    with store.start_run(EXPERIMENT, f"train {registered_name}") as run:
        run.log_params(
            _params(source, field, split, names, horizon_days, n_origins, clean, special_days, scheduler)
            | {"kind": "train", "origins": n_origins}
        )
        _log_dataset(run, split, source, field, "training")
        _log_tables(run, table, boards)
        run.log_metrics(_summary(table))
        panel = ForecasterPanel({q: d.fitted for q, d in done.items()}, {q: d.model for q, d in done.items()})
        _calibration_notes(run, done)
        version, decision, promoted = register_trained(
            store, run, panel, PANEL_MODEL, registered_name, contract, before is None, force, unlike
        )
        decision = f"{decision}; {panel.describe()}"
        run.set_tags({"decision": decision})
    return PanelTrainingOutcome(
        run.run_id, registered_name, version, panel.describe(), table, boards, promoted, decision
    )


def retrain_panel(
    store: Store,
    result: IngestResult,
    field: str,
    source: str,
    registered_name: str,
    names: list[str],
    horizon_days: int = 5,
    n_origins: int = 10,
    eval_origins: int = 5,
    progress: bool = True,
    n_jobs: int = 1,
    clean: bool = True,
    special_days: SpecialDays | None = None,
    contract: ModelContract | None = None,
    scheduler: str | None = None,
) -> PanelTrainingOutcome:
    """Every queue retrained (:func:`retrain_queue`, one task a queue) against the champion
    panel's forecaster of the queue; the new panel is registered as challenger and promoted
    by :func:`panel_verdict`'s rule. Queues new in the data are the challenger's own (trained
    as new, not compared); queues the champion has and the data lacks are not in the new
    panel; a queue with no new data since the champion keeps the champion's forecaster (a
    stopped feed does not hold back the others; no queue with new data: refused). All are said
    in the decision. Nothing is logged unless every queue was done."""
    champion, champion_version = _champion_panel(store, registered_name, contract)
    split, failed = _split(result, field)
    settings = (names, horizon_days, n_origins, eval_origins, clean, special_days)
    inputs = {
        q: (history, result.calendar, champion.forecasters.get(q), champion.names.get(q), *settings)
        for q, history in split.items()
    }
    done = _run(retrain_queue, inputs, failed, scheduler, store, n_jobs, "retrain")
    if all(d.kept for d in done.values()):
        end = max(d.training.history_end for d in done.values())
        raise InputError(
            "no new data since the champion was trained",
            column=field,
            expected=f"at least {horizon_days} days with data after {end:%Y-%m-%d} in some queue",
        )
    table, boards = _scores_table(done), _boards({q: d.training for q, d in done.items()})
    better, means = panel_verdict(table)
    new = [q for q, d in done.items() if d.scores is None and not d.kept]
    kept = [q for q, d in done.items() if d.kept]
    gone = [q for q in champion.queues if q not in split]
    with store.start_run(EXPERIMENT, f"retrain {registered_name}") as run:
        run.log_params(
            _params(source, field, split, names, horizon_days, n_origins, clean, special_days, scheduler)
            | {
                "kind": "retrain",
                "eval_origins": eval_origins,
                "champion_version": champion_version.version,
                "champion_model": champion.describe(),
                "new_queues": len(new),
                "queues_kept": len(kept),
                "queues_without_data": len(gone),
            }
        )
        _log_dataset(run, split, source, field, "retraining")
        _log_tables(run, table, boards)
        run.log_metrics(_summary(table) | {f"window.{k}.mean_mase": v for k, v in means.items()})
        panel = ForecasterPanel(
            {q: d.training.fitted for q, d in done.items()}, {q: d.training.model for q, d in done.items()}
        )
        _calibration_notes(run, {q: d.training for q, d in done.items()})
        version, verdict, promoted = register_challenger(
            store, run, panel, PANEL_MODEL, registered_name, contract, champion_version, better
        )
        decision = _decision(version, champion_version.version, means, table, verdict, new, gone, kept)
        run.set_tags({"decision": decision})
        run.log_metrics({"promoted": float(promoted)})
    return PanelTrainingOutcome(
        run.run_id, registered_name, version, panel.describe(), table, boards, promoted, decision
    )


def panel_verdict(scores: pd.DataFrame) -> tuple[bool, dict[str, float]]:
    """Whether the challenger panel beats the champion panel, and the three mean MASEs.

    Over the queues compared (both panels have them, and all three MASEs are finite there):
    the challenger's mean MASE is below the champion's as trained, and no worse than the
    champion's models refitted at the same origins (so fresher data alone does not win it for
    weaker models). No queue compared: not promoted (nothing says the challenger is better)."""
    columns = ["challenger_mase", "champion_mase", "champion_refit_mase"]
    compared = scores.loc[scores["status"] == "compared", columns].astype(float)
    compared = compared[np.isfinite(compared).all(axis=1)]
    if compared.empty:
        return False, {}
    means = {c.removesuffix("_mase"): float(compared[c].mean()) for c in columns}
    means["queues"] = float(len(compared))
    better = (
        means["challenger"] < means["champion"] and means["challenger"] <= means["champion_refit"] + 1e-12
    )
    return better, means


def _decision(
    version: int,
    champion: int,
    means: dict[str, float],
    table: pd.DataFrame,
    verdict: str,
    new: list[str],
    gone: list[str],
    kept: list[str] = (),
) -> str:
    if means:
        said = (
            f"challenger version {version} mean MASE {means['challenger']:.3f} vs champion version {champion} "
            f"{means['champion']:.3f} as trained and {means['champion_refit']:.3f} refitted, over "
            f"{int(means['queues'])} of {len(table)} queues on their recent windows: {verdict}"
        )
    else:
        said = (
            f"challenger version {version}: no queue to compare with champion version {champion}: {verdict}"
        )
    if new:
        said += f"; queues new in the data (the challenger's own, not compared): {_names(new)}"
    if gone:
        said += f"; queues of the champion without data here (not in version {version}): {_names(gone)}"
    if kept:
        said += (
            f"; queues with no new data since the champion (its models carried over): {_names(list(kept))}"
        )
    return said


def _names(queues: list[str], shown: int = 10) -> str:
    more = f" and {len(queues) - shown} more" if len(queues) > shown else ""
    return ", ".join(queues[:shown]) + more


def _champion_panel(store: Store, name: str, contract: ModelContract | None):
    if contract is not None:
        champion, _, version, _ = load_checked(store, name, contract, purpose="retrain", key=NAME_OPTION)
    else:
        champion, _, version = store.load_forecaster(name, CHAMPION)
    if not is_panel(champion):
        raise InputError(
            f"the champion of {name} forecasts one series, not each queue",
            option="registered_model",
            expected="a model trained with <<queue>> each (train it first)",
            found=name,
        )
    return champion, version


def _split(result: IngestResult, field: str) -> tuple[dict[str, pd.Series], dict[str, str]]:
    failed: dict[str, str] = {}
    return queue_series(result, field, failed), failed


def _run(task, inputs: dict, failed: dict[str, str], scheduler, store: Store, n_jobs: int, what: str) -> dict:
    """Every queue's task, here (with the store's backtest cells and ``n_jobs`` processes) or
    on the scheduler's workers; all of them done, or a PanelError naming those not done."""
    here = partial(task, cells=cells_of(store), n_jobs=n_jobs) if scheduler is None else task
    outcome = run_per_queue(here, inputs, scheduler, what=what)
    outcome.failures.update(failed)
    outcome.total += len(failed)
    return outcome.complete(f"{what} (nothing logged)")


def _queue_table(done: dict[str, QueueTraining]) -> pd.DataFrame:
    rows = []
    for q, d in done.items():
        best = d.leaderboard.set_index("model").loc[d.model]
        rows.append(
            {"queue": q, "model": d.model}
            | {k: best.get(k, np.nan) for k in SCORED}
            | {"history_start": d.history_start, "history_end": d.history_end, "calibration": d.calibration}
        )
    return pd.DataFrame(rows)


def _scores_table(done: dict[str, QueueRetraining]) -> pd.DataFrame:
    table = _queue_table({q: d.training for q, d in done.items()})
    extra = []
    for d in done.values():
        row = {
            "status": "kept" if d.kept else "compared" if d.scores is not None else "new",
            "champion_model": d.champion_model,
            "window_start": d.window_start,
            "window_origins": d.origins,
        }
        for who in ("challenger", "champion", "champion_refit"):
            for m in SCORED:
                row[f"{who}_{m}"] = (d.scores or {}).get(who, {}).get(m, np.nan)
        extra.append(row)
    return pd.concat([table, pd.DataFrame(extra)], axis=1)


def _boards(done: dict[str, QueueTraining]) -> pd.DataFrame:
    return pd.concat(
        [d.leaderboard.assign(queue=q)[["queue", *d.leaderboard.columns]] for q, d in done.items()],
        ignore_index=True,
    )


def _params(source, field, split, names, horizon_days, n_origins, clean, special_days, scheduler) -> dict:
    starts = [h.index.min() for h in split.values()]
    ends = [h.index.max() for h in split.values()]
    return {
        "source": source,
        "series": field,
        "queue": "each",
        "queues": len(split),
        "horizon_days": horizon_days,
        "origins": n_origins,
        "candidates": ",".join(names),
        "first_timestamp": min(starts),
        "last_timestamp": max(ends),
        "clean": clean,
        "special_days": special_days.describe() if special_days else "none",
        "scheduler": scheduler or "in-process",
    }


def _log_dataset(run: RunLog, split: dict[str, pd.Series], source: str, field: str, context: str) -> None:
    """The data set wide, a column a queue: MLflow infers a text column's schema value by value
    (13 s for 300 queues of 60 days in long form), a number column's from its type (0.6 s)."""
    wide = pd.concat(split, axis=1, sort=True).copy()  # one block of numbers, in time order
    frame = wide.rename_axis("timestamp").reset_index()
    run.log_dataset(frame, source, f"{Path(source).stem}:{field} by queue", None, context)


def _log_tables(run: RunLog, table: pd.DataFrame, boards: pd.DataFrame) -> None:
    run.log_text(write_csv(table, index=False, name="queues.csv"), "queues.csv")
    run.log_text(write_csv(boards, index=False, name="leaderboards.csv"), "leaderboards.csv")


def _summary(table: pd.DataFrame) -> dict[str, float]:
    """Metrics of the panel as a whole: the mean over queues (MASE's median too: a few queues
    far off move the mean)."""
    out = {"queues": float(len(table)), "median_mase": float(table["mase"].median())}
    return out | {f"mean_{k}": float(table[k].mean()) for k in SCORED}


def _calibration_notes(run: RunLog, done: dict[str, QueueTraining]) -> None:
    notes = [f"{q}: {d.calibration}" for q, d in done.items() if d.calibration]
    if notes:
        log.warning("warning: %d queues' bands were recalibrated (first: %s)", len(notes), notes[0])
        run.set_tags({"calibration": "; ".join(notes)[:5000]})
