"""Rolling-origin backtests: refit at each origin on the past only, forecast the next open days.

Origins are the starts of days with data; each model is refitted (by ``clone``) on everything
before the origin, with a calendar inferred from that past alone, so nothing from the test
window leaks into the fit. Forecasts of all models are kept, which lets ``auto`` choose, and
combinations be scored, without refitting.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from tqdm.auto import tqdm

from forecasting.calibration import conformal_bands
from forecasting.common.errors import InputError
from forecasting.metrics import accuracy, median_mase, weekly_naive_scale
from forecasting.models.base import LEVELS, Forecaster, mended_once
from forecasting.models.ensemble import COMBINE_SEP
from forecasting.slots import as_history, calendar_of, interval_of
from forecasting.store.backtest_cells import BacktestCells, cell_key

log = logging.getLogger(__name__)
HALVING_ORIGINS = 2  # origins every model is fitted at before successive halving leaves some out
PARALLEL_WORTH_SECONDS = 6.0  # cells left that would take longer here go to worker processes


@dataclass
class Backtest:
    """All backtest forecasts (one row per model, origin and slot) and fit times."""

    forecasts: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    horizon_days: int = 5
    dropped: dict[str, str] = field(default_factory=dict)  # models left out after the first origins, and why

    def residuals(self, name: str) -> pd.DataFrame:
        """The rows a model (or a combination ``a+b``: its members') is fitted with, its bands
        matched to them (``Forecaster.fit(residuals=...)``)."""
        members = name.split(COMBINE_SEP)
        return self.forecasts[self.forecasts["model"].isin(members)]

    def leaderboard(self, since: pd.Timestamp | None = None) -> pd.DataFrame:
        f = self.forecasts if since is None else self.forecasts[self.forecasts["origin"] >= since]
        rows = []
        for model, part in f.groupby("model", sort=False):
            rows.append(
                {
                    "model": model,
                    **accuracy(part, LEVELS),
                    "mase_median": median_mase(part),
                    "origins": part["origin"].nunique(),
                    "seconds": self.seconds.get(model, np.nan),
                }
            )
        board = pd.DataFrame(rows).sort_values(["mase", "model"]).reset_index(drop=True)
        board.insert(0, "rank", np.arange(1, len(board) + 1))
        return board

    def by_horizon(self) -> pd.DataFrame:
        """Accuracy per model and horizon day (1 = the first day after the origin)."""
        rows = [
            {"model": m, "horizon_day": h, **accuracy(part, LEVELS)}
            for (m, h), part in self.forecasts.groupby(["model", "horizon_day"], sort=False)
        ]
        return pd.DataFrame(rows)


def origins_for(
    history: pd.Series, horizon_days: int, n_origins: int, step_days: int = 1
) -> list[pd.Timestamp]:
    """The last ``n_origins`` day starts (every ``step_days`` days with data) that leave a full horizon."""
    days = history.index.normalize().unique()
    usable = days[: len(days) - horizon_days + 1]
    picked = usable[::-1][::step_days][:n_origins][::-1]
    if len(picked) == 0:
        raise InputError(
            "too little history for the horizon",
            column=str(history.name),
            expected=f"more than {horizon_days} days with data",
            found=f"{len(days)} days",
        )
    return list(picked)


def run_backtest(
    models: dict[str, Forecaster],
    history: pd.Series,
    horizon_days: int = 5,
    n_origins: int = 10,
    step_days: int = 1,
    origins: list[pd.Timestamp] | None = None,
    progress: bool | Callable[[int, int], None] = True,
    n_jobs: int = 1,
    sequential_bands: bool = False,
    cells: BacktestCells | None = None,
    keep_within: float | None = None,
) -> Backtest:
    """Refit every model at every origin and collect its forecasts of the next ``horizon_days``.

    Each cell is a point forecast, fitted once; the bands of every origin are matched to the
    same model's errors at the other origins (``sequential_bands``: at the origins already over
    before it; see forecasting.calibration.conformal_bands).

    ``progress``: a progress bar on stderr, or a callable told (fits done, fits in all), as the
    app's progress bar is.

    ``n_jobs`` > 1 (or -1 for every core) fits origins and models in parallel processes.

    ``cells``: the store's cache of backtest cells: a cell fitted before on the same past and
    test days (any command, any longer history) is read back, and new ones are kept.

    ``keep_within``: successive halving for a choice. The newest ``HALVING_ORIGINS`` origins
    are fitted first; models whose MASE there is beyond (1 + keep_within) × the best's are
    left out of the others (``Backtest.dropped`` says why) and of the choice.
    """
    history = as_history(history)
    days = history.index.normalize().unique()
    origins = origins or origins_for(history, horizon_days, n_origins, step_days)
    # Every model is scored on the same origins, so leaderboards and combinations compare like
    # with like: a model needing more history than the first origin has is left out, and an
    # origin without a one-week naive scale (no two days a week apart before it) is skipped.
    trained = {o: history[history.index < o] for o in origins}
    scales = {o: weekly_naive_scale(t) for o, t in trained.items()}
    usable = [o for o in origins if np.isfinite(scales[o]) and scales[o] > 0]
    if len(usable) < len(origins):
        log.warning(
            "skipped %d origins with less than a week of history before them (MASE needs it)",
            len(origins) - len(usable),
        )
    if not usable and any(scales[o] == 0 for o in origins):
        raise InputError(
            "the history does not change from week to week (every value equals the one a week before)",
            column=str(history.name),
            expected="a series that varies: MASE scales errors by the one-week naive forecast's, which is 0 here",
        )
    if not usable:
        raise InputError(
            "too little history for the backtest",
            column=str(history.name),
            expected="at least 8 days of history before the first origin (for the one-week MASE scale)",
        )
    first_days = trained[usable[0]].index.normalize().nunique()
    left_out = [n for n, m in models.items() if first_days < m.min_history_days]
    for name in left_out:
        log.warning(
            "%s needs %d days of history before the first origin (it has %d): left out",
            name,
            models[name].min_history_days,
            first_days,
        )
    models = {n: m for n, m in models.items() if n not in left_out}
    if not models:
        raise InputError(
            "too little history for every model",
            column=str(history.name),
            expected=f"more days before the first origin (it has {first_days})",
        )
    interval = interval_of(history)
    windows = {}
    for origin in usable:
        test_days = days[days >= origin][:horizon_days]
        test = history[history.index.normalize().isin(test_days)]
        horizon_day = (
            pd.Series(np.arange(1, len(test_days) + 1), index=test_days)
            .reindex(test.index.normalize())
            .to_numpy()
        )
        windows[origin] = (
            trained[origin],
            test,
            calendar_of(trained[origin], interval),
            scales[origin],
            horizon_day,
        )
    # successive halving: the newest origins first; a model far behind the best there is not
    # fitted at the others (it could not win, nor join a winning combination)
    first = usable[-HALVING_ORIGINS:] if keep_within is not None and len(usable) > HALVING_ORIGINS else usable
    rounds = [first, [o for o in usable if o not in first]]
    total = len(models) * len(usable)
    bar = tqdm(
        total=total,
        desc="backtest",
        unit="fit",
        disable=callable(progress) or not progress,
        leave=False,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,
    )
    parts, seconds, done, dropped, timing = [], {name: 0.0 for name in models}, 0, {}, {}
    for round_origins in rounds:
        cells_of_round = [
            (name, origin) for origin in round_origins for name in models if name not in dropped
        ]
        for name, elapsed, frame in _run_cells(cells_of_round, models, windows, cells, n_jobs, timing):
            parts.append(frame)
            seconds[name] += elapsed
            done += 1
            bar.set_postfix_str(name)
            bar.update()
            if callable(progress):
                progress(done, total)
        if round_origins is first and rounds[1]:
            dropped = _far_behind(pd.concat(parts), keep_within)
            for name, why in dropped.items():
                log.info("backtest: %s left out after the %d newest origins (%s)", name, len(first), why)
            total -= len(dropped) * len(rounds[1])
            bar.total = total
            bar.refresh()
    bar.close()
    order = {name: i for i, name in enumerate(models)}
    forecasts = pd.concat(parts).reset_index()
    forecasts = forecasts.sort_values(
        ["origin", "model", "timestamp"],
        key=lambda c: c.map(order) if c.name == "model" else c,
        kind="stable",
    )
    forecasts = forecasts.reset_index(drop=True)
    distributions = {name: model.distribution for name, model in models.items()}
    forecasts = conformal_bands(forecasts, distributions, sequential=sequential_bands)
    n = forecasts.groupby("model")["origin"].nunique()
    per_fit = {k: v / max(int(n.get(k, 1)), 1) for k, v in seconds.items()}
    return Backtest(forecasts, per_fit, horizon_days, dropped)


def _far_behind(forecasts: pd.DataFrame, keep_within: float) -> dict[str, str]:
    """The models whose MASE on the origins so far is beyond (1 + keep_within) × the best's."""
    mase = (
        (np.abs(forecasts["forecast"] - forecasts["actual"]) / forecasts["scale"])
        .groupby(forecasts["model"])
        .mean()
    )
    best = float(mase.min())
    return {
        name: f"MASE {m:.3f} against the best's {best:.3f}"
        for name, m in mase.items()
        if m > (1 + keep_within) * best
    }


def _run_cells(
    cells_to_run: list[tuple[str, pd.Timestamp]],
    models: dict[str, Forecaster],
    windows: dict,
    cells: BacktestCells | None,
    n_jobs: int,
    timing: dict[str, float],
):
    """(name, seconds, frame) per cell: read from the store's cache, or fitted (each origin's
    past mended once per way of mending it, not once per model) and kept. ``timing``: each
    model's latest fit seconds in this process (its first includes its imports), updated."""
    tasks, keys = [], {}
    mended: dict = {}
    for name, origin in cells_to_run:
        model = models[name]
        train, test, calendar, scale, horizon_day = windows[origin]
        if cells is not None:
            keys[name, origin] = cell_key(model, train, test, calendar.interval)
            hit = cells.get(keys[name, origin])
            if hit is not None:
                yield name, hit[1], hit[0].assign(model=name)
                continue
        ready = mended_once([(name, model)], train, calendar.interval, mended.setdefault(origin, {}))[name]
        tasks.append((name, model, origin, train, ready, test, calendar, scale, horizon_day))
    if keys and len(tasks) < len(cells_to_run):
        log.info(
            "backtest: %d of %d fits found in the store's cache",
            len(cells_to_run) - len(tasks),
            len(cells_to_run),
        )
    if not tasks:
        return
    cores = os.cpu_count() or 1  # more processes than cores or fits only costs memory (--jobs 99999)
    n_jobs = max(1, min(cores if n_jobs < 0 else n_jobs, cores, len(tasks)))
    # Cells run here until the rest looks worth the worker processes' start (each imports the
    # models anew: 1-2 s): one origin's cells first, then the rest here too unless, at each
    # model's latest fit time here, they would take longer than PARALLEL_WORTH_SECONDS. A
    # 60-day backtest was slower in two processes than in one.
    probe, done = len({task[0] for task in tasks}), 0
    while done < len(tasks):
        if n_jobs > 1 and done >= probe:
            typical = float(np.mean(list(timing.values())))
            if sum(timing.get(task[0], typical) for task in tasks[done:]) > PARALLEL_WORTH_SECONDS:
                break
        cell = _fit_predict(*tasks[done])
        timing[cell[0]] = cell[1]
        yield _kept(cell, cells, keys)
        done += 1
    if done < len(tasks):
        rest = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_fit_predict)(*task) for task in tasks[done:]
        )
        for cell in rest:
            yield _kept(cell, cells, keys)


def _kept(cell: tuple[str, float, pd.DataFrame], cells: BacktestCells | None, keys: dict):
    name, elapsed, frame = cell
    if cells is not None:
        cells.put(keys[name, frame["origin"].iloc[0]], frame, elapsed)
    return cell


def _fit_predict(
    name, model, origin, train, mended, test, calendar, scale, horizon_day
) -> tuple[str, float, pd.DataFrame]:
    """One backtest cell: refit a fresh clone on the past and forecast the test days (point
    forecasts: the bands come from the other cells' errors)."""
    started = time.perf_counter()
    pred = clone(model).fit_point(train, calendar, mended).predict(test.index, levels=())
    elapsed = time.perf_counter() - started
    return (
        name,
        elapsed,
        pred.assign(model=name, origin=origin, actual=test.to_numpy(), scale=scale, horizon_day=horizon_day),
    )
