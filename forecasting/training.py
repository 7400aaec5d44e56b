"""``capplan train`` and ``retrain``: backtest, choose, fit, log to MLflow, register, promote.

Every training is an MLflow run (experiment ``forecasting``) with its parameters, the data set
(``mlflow.log_input``), metrics per model and horizon, the leaderboard, a forecast-vs-actual
plot and the fitted model. Retraining only moves the ``champion`` alias when the challenger
beats the champion on the same recent window the champion has never seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.backtest import Backtest, origins_for, run_backtest
from forecasting.catalog import COMBINE_SEP, combination_forecasts, make_model
from forecasting.common.csv_safety import write_csv
from forecasting.common.errors import InputError
from forecasting.forecast_job import backtest_and_choose, calibrate, horizon_timestamps
from forecasting.metrics import accuracy
from forecasting.model_contract import ModelContract, check_fits, load_checked, stored_contract
from forecasting.plots import forecast_plot
from forecasting.special_days import SpecialDays
from forecasting.store import CHALLENGER, CHAMPION, FORECASTING, RunLog, Store
from forecasting.store.backtest_cells import BacktestCells, cells_of

log = logging.getLogger(__name__)
EXPERIMENT = FORECASTING


@dataclass
class TrainingOutcome:
    run_id: str
    registered_name: str
    version: int
    model: str
    leaderboard: pd.DataFrame
    promoted: bool
    decision: str


def _log_backtest(run: RunLog, board: pd.DataFrame, backtest: Backtest) -> None:
    metrics = ("mase", "wape", "mae", "rmse", "bias", "coverage80", "coverage95")
    run.log_metrics(
        {f"{row.model}.{m}": getattr(row, m, np.nan) for row in board.itertuples() for m in metrics}
    )
    for row in backtest.by_horizon().itertuples():
        run.log_metrics({f"{row.model}.mase_by_horizon": row.mase}, step=int(row.horizon_day))
    run.log_table(board, "leaderboard.json")
    run.log_text(write_csv(board, index=False, name="leaderboard.csv"), "leaderboard.csv")


def _log_dataset(run: RunLog, history: pd.Series, source: str, context: str) -> None:
    frame = history.rename_axis("timestamp").reset_index()
    run.log_dataset(frame, source, f"{Path(source).stem}:{history.name}", str(history.name), context)


def _plot(run: RunLog, history: pd.Series, backtest: Backtest, model: str, fitted, horizon_days: int) -> None:
    f = backtest.forecasts
    last = f["origin"].max()
    if COMBINE_SEP in model:
        shown = combination_forecasts(f[f["origin"] == last], model.split(COMBINE_SEP))
    else:
        shown = f[(f["origin"] == last) & (f["model"] == model)]
    future = fitted.predict(
        horizon_timestamps(fitted.calendar_, history.index.max(), horizon_days)
    ).reset_index()
    recent = history[history.index >= last - pd.Timedelta(days=7)]
    both = pd.concat([shown[future.columns], future], ignore_index=True)
    fig = forecast_plot(recent, both, f"{history.name}: backtest from {last:%Y-%m-%d} and forecast ({model})")
    run.log_figure(fig, "forecast_vs_actual.png")


def train(
    store: Store,
    history: pd.Series,
    calendar,
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
) -> TrainingOutcome:
    """Backtest the candidates, fit the winner on all history and register it; it becomes the
    champion if there is none yet (or with ``force``), else the challenger. The backtest runs
    unlocked; registration and the champion decision hold the store's lock, so of two first
    trainings at once exactly one becomes the champion."""
    before = store.model_version(registered_name, CHAMPION)
    unlike = unlike_champion(store, before, contract, registered_name, force)
    with store.start_run(EXPERIMENT, f"train {registered_name}") as run:
        run.log_params(
            {
                "source": source,
                "series": history.name,
                "horizon_days": horizon_days,
                "origins": n_origins,
                "candidates": ",".join(names),
                "first_timestamp": history.index.min(),
                "last_timestamp": history.index.max(),
                "kind": "train",
                "clean": clean,
                "special_days": special_days.describe() if special_days else "none",
            }
        )
        _log_dataset(run, history, source, "training")
        choice = backtest_and_choose(
            history,
            names,
            horizon_days,
            n_origins,
            progress=progress,
            n_jobs=n_jobs,
            clean=clean,
            special_days=special_days,
            cells=cells_of(store),
        )
        board, chosen = choice.leaderboard, choice.name
        _log_backtest(run, board, choice.backtest)
        log.info("train: fitting %s on all %d days", chosen, history.index.normalize().nunique())
        fitted = make_model(chosen, clean, special_days).fit(
            history, calendar, residuals=choice.backtest.residuals(chosen)
        )
        _calibrated(run, fitted, board, chosen)
        _plot(run, history, choice.backtest, chosen, fitted, horizon_days)
        run.log_params({"chosen_model": chosen})
        row = board.set_index("model").loc[chosen]
        run.log_metrics({k: row[k] for k in ("mase", "wape", "coverage80", "coverage95")})
        version, decision, promoted = register_trained(
            store, run, fitted, chosen, registered_name, contract, before is None, force, unlike
        )
        run.set_tags({"decision": decision})
        return TrainingOutcome(run.run_id, registered_name, version, chosen, board, promoted, decision)


def retrain(
    store: Store,
    history: pd.Series,
    calendar,
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
) -> TrainingOutcome:
    """Train a challenger on the new data and promote it only if it beats the champion on the
    most recent window (origins after the champion's training data ended). Data unlike the
    champion's (another interval, series or queue set) is refused before any work: the two
    could not be compared, and the challenger would silently replace another series' model."""
    if contract is not None:
        champion, champion_name, champion_version, _ = load_checked(
            store, registered_name, contract, purpose="retrain", key=NAME_OPTION
        )
    else:
        champion, champion_name, champion_version = store.load_forecaster(registered_name, CHAMPION)
    window = [o for o in origins_for(history, horizon_days, eval_origins) if o > champion.history_end_]
    if not window:
        raise InputError(
            "no new data since the champion was trained",
            column=str(history.name),
            expected=f"at least {horizon_days} days with data after {champion.history_end_:%Y-%m-%d}",
        )
    before = history[history.index < window[0]]
    with store.start_run(EXPERIMENT, f"retrain {registered_name}") as run:
        run.log_params(
            {
                "source": source,
                "series": history.name,
                "horizon_days": horizon_days,
                "kind": "retrain",
                "clean": clean,
                "special_days": special_days.describe() if special_days else "none",
                "champion_version": champion_version.version,
                "champion_model": champion_name,
                "window_start": window[0],
                "window_origins": len(window),
                "last_timestamp": history.index.max(),
            }
        )
        _log_dataset(run, history, source, "retraining")
        # choose the challenger on data before the window, so the window judges it fairly
        choice = backtest_and_choose(
            before,
            names,
            horizon_days,
            n_origins,
            progress=progress,
            n_jobs=n_jobs,
            clean=clean,
            special_days=special_days,
            cells=cells_of(store),
        )
        board, challenger_name = choice.leaderboard, choice.name
        _log_backtest(run, board, choice.backtest)
        log.info(
            "retrain: challenger %s against champion %s (as trained and refitted) on %d origins from %s",
            challenger_name,
            champion_name,
            len(window),
            f"{window[0]:%Y-%m-%d}",
        )
        scores = compare_on_window(
            history,
            window,
            horizon_days,
            champion,
            make_model(champion_name, clean, special_days),
            make_model(challenger_name, clean, special_days),
            cells=cells_of(store),
        )
        run.log_metrics({f"window.{k}.{m}": v for k, s in scores.items() for m, v in s.items()})
        # better than the champion as it stands, and no worse than the champion's model refitted
        # on the same data (so fresher data alone does not win it for a weaker model)
        better = (
            scores["challenger"]["mase"] < scores["champion"]["mase"]
            and scores["challenger"]["mase"] <= scores["champion_refit"]["mase"] + 1e-12
        )
        log.info("retrain: fitting %s on all %d days", challenger_name, history.index.normalize().nunique())
        fitted = make_model(challenger_name, clean, special_days).fit(
            history, calendar, residuals=choice.backtest.residuals(challenger_name)
        )
        _calibrated(run, fitted, board, challenger_name)
        version, verdict, better = register_challenger(
            store, run, fitted, challenger_name, registered_name, contract, champion_version, better
        )
        number = champion_version.version
        decision = (
            f"challenger version {version} ({challenger_name}) MASE {scores['challenger']['mase']:.3f} vs champion "
            f"version {number} ({champion_name}) {scores['champion']['mase']:.3f} as trained and "
            f"{scores['champion_refit']['mase']:.3f} refitted, on {len(window)} origins from {window[0]:%Y-%m-%d}: {verdict}"
        )
        run.set_tags({"decision": decision})
        run.log_params({"challenger_model": challenger_name})
        run.log_metrics({"promoted": float(better)})
        return TrainingOutcome(run.run_id, registered_name, version, challenger_name, board, better, decision)


def register_trained(
    store: Store,
    run: RunLog,
    fitted,
    chosen: str,
    registered_name: str,
    contract: ModelContract | None,
    first: bool,
    force: bool,
    unlike: str = "",
) -> tuple[int, str, bool]:
    """Register a trained model (a forecaster, or a panel of them) and set its alias: champion
    if there is none yet (or with ``force``), else challenger; (version, decision, promoted).
    ``first``: no champion was there when the training began. Under the store's lock, so of two
    first trainings at once exactly one becomes the champion."""
    with store.lock():  # the champion seen and the alias set are one step for all processes
        existing = store.model_version(registered_name, CHAMPION)
        version = run.log_forecaster(fitted, chosen, registered_name, _tags(contract))
        if existing is not None and not force:
            store.set_alias(registered_name, CHALLENGER, version)
            meanwhile = " (registered by another training while this one ran)" if first else ""
            decision = (
                f"version {version} ({chosen}) registered as challenger; champion stays version {existing.version}"
                f"{meanwhile}: retrain to compare them, or promote it to replace it"
            )
        elif existing is not None:
            store.set_alias(registered_name, CHAMPION, version)
            decision = f"version {version} ({chosen}) replaces champion version {existing.version} (promoted on request{unlike})"
        else:
            store.set_alias(registered_name, CHAMPION, version)
            decision = f"version {version} ({chosen}) is the first champion"
    return version, decision, existing is None or force


def register_challenger(
    store: Store,
    run: RunLog,
    fitted,
    name: str,
    registered_name: str,
    contract: ModelContract | None,
    champion_version,
    better: bool,
) -> tuple[int, str, bool]:
    """Register a retrained model as challenger and promote it if it was ``better`` than
    ``champion_version``, and only over that champion (one promoted meanwhile is never
    replaced by a model compared with another): (version, verdict in words, promoted)."""
    with store.lock():
        current = store.model_version(registered_name, CHAMPION)
        version = run.log_forecaster(fitted, name, registered_name, _tags(contract))
        store.set_alias(registered_name, CHALLENGER, version)
        number = champion_version.version
        moved = current is not None and current.version != number
        verdict = "promoted to champion" if better else f"not promoted; champion stays version {number}"
        if better and moved:
            verdict = (
                f"not promoted: the champion became version {current.version} while this retrain ran "
                "(retrain again to compare with it)"
            )
        better = better and not moved
        if better:
            store.set_alias(registered_name, CHAMPION, version)
    return version, verdict, better


NAME_OPTION = {"option": "registered_model"}


def _calibrated(run: RunLog, fitted, board: pd.DataFrame, name: str) -> None:
    """The registered model carries the band correction its backtest called for, as `forecast`
    applies it (forecasting.calibration), and the run says so."""
    note = calibrate(fitted, board, name)
    if note:
        log.warning("warning: %s", note)
        run.set_tags({"calibration": note})


def _tags(contract: ModelContract | None) -> dict[str, str] | None:
    return contract.to_tags() if contract is not None else None


def unlike_champion(store: Store, champion, contract: ModelContract | None, name: str, force: bool) -> str:
    """A training registered beside a champion of other data would become a challenger no
    retrain can compare: refused, unless it replaces the champion on request (then said)."""
    if champion is None or contract is None:
        return ""
    recorded = stored_contract(store, champion)
    if recorded is None:
        return ""
    try:
        check_fits(recorded, contract, f"{name} version {champion.version}", purpose="train", key=NAME_OPTION)
    except InputError as exc:
        if not force:
            raise
        return f"; it was trained on other data: {exc.detail}, {exc.found}"
    return ""


def compare_on_window(
    history: pd.Series,
    window: list[pd.Timestamp],
    horizon_days: int,
    champion,
    champion_model,
    challenger,
    cells: BacktestCells | None = None,
) -> dict:
    """MASE, WAPE and coverage on the window for the champion as trained (never refitted), the
    champion's model refitted at each origin, and the challenger refitted at each origin."""
    refits = run_backtest(
        {"champion_refit": champion_model, "challenger": challenger},
        history,
        horizon_days,
        origins=window,
        progress=False,
        cells=cells,
    )
    f = refits.forecasts
    frozen = []
    for _origin, part in f[f["model"] == "challenger"].groupby("origin"):
        frozen.append(
            champion.predict(pd.DatetimeIndex(part["timestamp"]))
            .reset_index(drop=True)
            .assign(actual=part["actual"].to_numpy(), scale=part["scale"].to_numpy())
        )
    scores = {name: accuracy(part) for name, part in f.groupby("model")}
    scores["champion"] = accuracy(pd.concat(frozen, ignore_index=True))
    return scores
