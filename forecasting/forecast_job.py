"""Backtest, select and forecast for one series: what ``capplan backtest`` / ``forecast`` run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.backtest import Backtest, run_backtest
from forecasting.calendar import OperatingCalendar
from forecasting.calibration import band_factors, needs_recalibration
from forecasting.catalog import (
    COMBINE_SEP,
    candidates,
    check_model_for_field,
    choose_from,
    explain_choice,
    make_model,
    parse_models,
)
from forecasting.common.errors import InputError
from forecasting.forecaster_panel import ForecasterPanel, is_panel
from forecasting.history.ingest import IngestResult
from forecasting.history.intervals import interval_minutes
from forecasting.history.ledger import RowLedger
from forecasting.history.parsing import parse_times
from forecasting.history.tables import read_table
from forecasting.model_contract import (
    Fit,
    ModelContract,
    check_hours,
    data_contract,
    load_checked,
    stored_contract,
)
from forecasting.models.base import LEVELS, Forecaster, interval_bounds, open_weekmask
from forecasting.panel import PanelError, PanelOutcome, run_per_queue
from forecasting.series import forecast_series, queue_series
from forecasting.slots import next_open_days, open_slots
from forecasting.special_days import SpecialDays
from forecasting.store import ModelVersion, Store
from forecasting.store.backtest_cells import BacktestCells, cells_of

log = logging.getLogger(__name__)
OUTPUT_COLUMNS = ["timestamp", "forecast", "lo80", "hi80", "lo95", "hi95"]
# Successive halving in a choice's backtest: after its newest origins, models more than 25 %
# behind the best are fitted no further: 2.5 times the margin within which auto combines models
# (catalog.NOISE_MARGIN), so none that could join the winning combination is lost to the
# noise of two origins.
HALVING_MARGIN = 0.25


@dataclass
class Selection:
    name: str
    model: Forecaster
    backtest: Backtest | None
    leaderboard: pd.DataFrame | None
    fit: Fit | None = None  # a stored model's slots against the data's intervals
    why: str | None = None  # auto's choice in one line: which rank, and the rule that picked it
    calibration: str | None = None  # what the backtest found off in the model's bands, and what was done


def require_clean(result: IngestResult) -> None:
    """Forecasts need every row: a rejected row is an error here, not a gap to fill."""
    rejected = result.ledger.rejected_rows()
    if len(rejected):
        first = rejected.iloc[0]
        raise InputError(
            f"{first['reason']} ({len(rejected)} bad rows in all; ingesting the file lists them)",
            path=result.source,
            row=int(first["row"]),
            column=first["column"],
            expected="a valid value in every row",
            found=first["value"],
        )


def candidate_names(field: str, models: str | None) -> list[str]:
    return parse_models(models, field)


@dataclass
class Choice:
    """The outcome of backtesting candidates and choosing among them."""

    backtest: Backtest
    leaderboard: pd.DataFrame  # single models and combinations of the best, best first
    name: str  # the winner: a model name or a combination ``a+b``


def backtest_and_choose(
    history: pd.Series,
    names: list[str],
    horizon_days: int,
    n_origins: int,
    step_days: int | None = None,
    progress: bool | Callable[[int, int], None] = True,
    n_jobs: int = 1,
    clean: bool = True,
    special_days: SpecialDays | None = None,
    cells: BacktestCells | None = None,
) -> Choice:
    """Backtest the candidates on the same origins and choose, by MASE, a combination of the
    best (see ``catalog.choose_from``): the one selection step of ``backtest``, ``forecast
    --model auto``, ``train`` and ``retrain``. How much history is enough is the backtest's
    rule (a full horizon after each origin, a week before it, each model's own minimum).
    ``step_days`` None spaces origins by the horizon: a day apart for a week ahead, weeks
    apart for months ahead, so the origins do not all see the same future."""
    models = {n: make_model(n, clean, special_days) for n in names}
    step_days = step_days or origin_step(horizon_days)
    backtest = run_backtest(
        models,
        history,
        horizon_days,
        n_origins,
        step_days,
        progress=progress,
        n_jobs=n_jobs,
        cells=cells,
        keep_within=HALVING_MARGIN,
    )
    board = candidates(backtest)
    return Choice(backtest, board, choose_from(board))


def backtest_queues(
    result: IngestResult,
    field: str,
    names: list[str],
    horizon_days: int,
    n_origins: int,
    step_days: int | None = None,
    *,
    clean: bool = True,
    special_days: SpecialDays | None = None,
    scheduler: str | None = None,
    cells: BacktestCells | None = None,
    n_jobs: int = 1,
    choices=None,
) -> PanelOutcome:
    """Every queue's backtest and choice, each queue a task (here, or on a Dask cluster with
    the same results); a queue whose backtest fails is named in the outcome, the others kept.
    Here, the store's backtest cells are reused; on workers each cell is computed. Each
    queue's choice is remembered in ``choices`` (the store's cache) for its forecast."""
    settings = (names, horizon_days, n_origins, step_days, False, 1, clean, special_days)
    failed: dict[str, str] = {}
    inputs = {
        q: (history, *settings) for q, history in queue_series(result, field, failed).items()
    }  # split once
    task = (
        backtest_and_choose if scheduler is not None else partial(_backtest_here, cells=cells, n_jobs=n_jobs)
    )
    outcome = run_per_queue(task, inputs, scheduler, what="backtest")
    for q, choice in outcome.results.items() if choices is not None else ():
        remember_choice(choices, choice_key(inputs[q][0], names, clean, special_days), choice, horizon_days)
    outcome.failures.update(failed)
    outcome.total += len(failed)
    return outcome


def _backtest_here(*args, cells: BacktestCells | None, n_jobs: int) -> Choice:
    history, names, horizon_days, n_origins, step_days, progress, _, clean, special_days = args
    return backtest_and_choose(
        history, names, horizon_days, n_origins, step_days, progress, n_jobs, clean, special_days, cells
    )


def choice_key(history: pd.Series, names: list[str], clean: bool, special_days: SpecialDays | None) -> str:
    """What a backtest's choice depends on besides its horizon and origins: the history's
    content, the candidates and how the history is prepared."""
    from forecasting.store.forecast_cache import digest, series_digest

    return digest(
        {
            "history": series_digest(history),
            "candidates": sorted(names),
            "clean": clean,
            "special_days": special_days.describe() if special_days else None,
            "entry": 1,
        }
    )


def remember_choice(cache, key: str, choice: Choice, horizon_days: int) -> None:
    """Keep a backtest's leaderboard so ``forecast --model auto`` on the same data reuses its
    choice instead of running a smaller selection that may choose otherwise."""
    origins = int(choice.backtest.forecasts["origin"].nunique())
    meta = {
        "winner": choice.name,
        "horizon_days": horizon_days,
        "origins": origins,
        "at": pd.Timestamp.now().isoformat(timespec="seconds"),
    }
    cache.put(key, choice.leaderboard, meta)


def recalled_choice(cache, key: str, horizon_days: int) -> tuple[pd.DataFrame, dict] | None:
    """The latest backtest's leaderboard and choice for this content, when it looked at least
    ``horizon_days`` ahead (a choice for tomorrow says little about next month)."""
    hit = cache.get(key) if cache is not None else None
    if hit is None or int(hit[1].get("horizon_days", 0)) < horizon_days:
        return None
    return hit


def origin_step(horizon_days: int) -> int:
    """Days between backtest origins for a horizon: 1 up to two weeks ahead, a week up to a
    quarter, four weeks beyond."""
    return 1 if horizon_days <= 14 else 7 if horizon_days <= 92 else 28


def _repeats_every_week(history: pd.Series) -> bool:
    """A constant series (or one whose weeks are all alike) leaves backtests nothing to score
    against (the one-week naive error, MASE's scale, is 0): repeating it is the forecast."""
    from forecasting.metrics import weekly_naive_scale

    scale = weekly_naive_scale(history)
    return bool(np.isfinite(scale) and scale == 0)


def select_and_fit(
    history: pd.Series,
    calendar: OperatingCalendar,
    model: str = "auto",
    names: list[str] | None = None,
    horizon_days: int = 5,
    select_origins: int = 5,
    progress: bool = True,
    n_jobs: int = 1,
    clean: bool = True,
    special_days: SpecialDays | None = None,
    choices=None,
    cells: BacktestCells | None = None,
    recalled: tuple[pd.DataFrame, dict] | str | None = "look up",
) -> Selection:
    """Fit the named model, or for ``auto`` backtest the candidates and fit the winner (the
    winner of the latest ``backtest`` of the same content in ``choices``, when there is one),
    its bands matched to its backtest errors. ``cells``: the store's backtest cells, reused and
    kept (forecasting.store.backtest_cells)."""
    names = names or parse_models(None)
    if model == "auto" and len(names) == 1:
        model = names[0]  # nothing to choose between (AHT has one model)
    if model == "auto" and _repeats_every_week(history):
        log.warning(
            "the history repeats exactly every week: forecast as the same week again (seasonal_naive_week)"
        )
        model = "seasonal_naive_week"
    if isinstance(recalled, str):  # not given: looked up in ``choices`` (a worker gets it given)
        recalled = recalled_choice(choices, choice_key(history, names, clean, special_days), horizon_days)
    if model != "auto":
        check_model_for_field(model, str(history.name) if history.name in ("arrivals", "aht") else "arrivals")
        fitted = make_model(model, clean, special_days).fit(history, calendar)
        board = recalled[0] if recalled is not None else None  # a backtest of this data scored it
        return Selection(model, fitted, None, None, calibration=calibrate(fitted, board, model))
    if recalled is not None:
        board, meta = recalled
        log.info(
            "auto: the backtest of this data (%s, %d origins, %d days ahead) chose %s",
            meta["at"],
            meta["origins"],
            meta["horizon_days"],
            meta["winner"],
        )
        members = {n: make_model(n, clean, special_days) for n in meta["winner"].split(COMBINE_SEP)}
        step = origin_step(horizon_days)
        errors = run_backtest(
            members,
            history,
            horizon_days,
            select_origins,
            step,
            progress=progress,
            n_jobs=n_jobs,
            cells=cells,
        )
        fitted = make_model(meta["winner"], clean, special_days).fit(
            history, calendar, residuals=errors.residuals(meta["winner"])
        )
        return Selection(
            meta["winner"],
            fitted,
            None,
            board,
            why=explain_choice(board, meta["winner"]),
            calibration=calibrate(fitted, board, meta["winner"]),
        )
    choice = backtest_and_choose(
        history,
        names,
        horizon_days,
        select_origins,
        progress=progress,
        n_jobs=n_jobs,
        clean=clean,
        special_days=special_days,
        cells=cells,
    )
    log.info(
        "auto chose %s (backtest MASE %.3f over %d origins)",
        choice.name,
        choice.leaderboard.set_index("model").loc[choice.name, "mase"],
        choice.backtest.forecasts["origin"].nunique(),
    )
    fitted = make_model(choice.name, clean, special_days).fit(
        history, calendar, residuals=choice.backtest.residuals(choice.name)
    )
    return Selection(
        choice.name,
        fitted,
        choice.backtest,
        choice.leaderboard,
        why=explain_choice(choice.leaderboard, choice.name),
        calibration=calibrate(fitted, choice.leaderboard, choice.name),
    )


def calibrate(model: Forecaster, board: pd.DataFrame | None, name: str) -> str | None:
    """Widen the fitted model's bands as its backtest entry in ``board`` says (see
    forecasting.calibration); the entry's one line when something was off, else None."""
    if board is None or "calibration" not in board or name not in set(board["model"]):
        return None
    entry = board.set_index("model").loc[name]
    if needs_recalibration(entry):
        model.recalibrate(band_factors(entry))
    return None if entry["calibration"] == "ok" else f"{name}: {entry['calibration']}"


def horizon_timestamps(calendar: OperatingCalendar, end: pd.Timestamp, horizon_days: int) -> pd.DatetimeIndex:
    """Open slots of the next ``horizon_days`` open days after the history."""
    return open_slots(calendar, next_open_days(calendar, end, horizon_days))


def read_timestamps(
    path: str | Path, time_format: str | None = None, interval: pd.Timedelta | None = None
) -> pd.DatetimeIndex:
    """The first column of a CSV (after its header line) as timestamps, strictly parsed: no
    duplicates, and on the interval grid when ``interval`` is given."""
    raw = read_table(path)
    first = raw.frame.columns[0]
    if not pd.isna(pd.to_datetime(pd.Series([first]), format="ISO8601", errors="coerce").iloc[0]):
        raise InputError(
            "no header line",
            path=raw.path,
            row=1,
            column=first,
            expected="a header line (e.g. 'timestamp') before the timestamps",
        )
    ledger = RowLedger(raw, strict=True)
    stamps = parse_times(raw.frame[first], first, ledger, time_format)
    if stamps.isna().any():
        row = raw.row_number(int(np.flatnonzero(stamps.isna().to_numpy())[0]))
        raise InputError(
            "missing timestamp", path=raw.path, row=row, column=first, expected="a timestamp in every row"
        )
    dup = stamps.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(
            "duplicate timestamp",
            path=raw.path,
            row=raw.row_number(i),
            column=first,
            expected="each timestamp once",
            found=str(stamps.iloc[i]),
        )
    if interval is not None:
        off = ((stamps - stamps.dt.normalize()) % interval != pd.Timedelta(0)).to_numpy()
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise InputError(
                "timestamp off the interval grid",
                path=raw.path,
                row=raw.row_number(i),
                column=first,
                expected=f"interval starts every {interval_minutes(interval)} minutes",
                found=str(stamps.iloc[i]),
            )
    return pd.DatetimeIndex(stamps)


MAX_AHEAD = pd.Timedelta(days=3 * 366)  # forecasts further out are a typo, not a plan


def check_requested_times(at: pd.DatetimeIndex, history_end: pd.Timestamp) -> None:
    """Requested times lie after the history and within three years of its end: a time in
    the past (a year typed wrong) was forecast silently, decades ahead would be made up."""
    for wrong, reason, expected in (
        (
            at <= history_end,
            "a time inside or before the history",
            f"times after the history's end ({history_end:%Y-%m-%d %H:%M})",
        ),
        (
            at > history_end + MAX_AHEAD,
            "a time too far ahead",
            f"times within three years of the history's end ({history_end:%Y-%m-%d})",
        ),
    ):
        if wrong.any():
            more = int(wrong.sum()) - 1
            found = f"{at[wrong][0]:%Y-%m-%d %H:%M}" + (f" and {more} more" if more else "")
            raise InputError(reason, option="at", expected=expected, found=found)


def call_weights(result: IngestResult, queue: str | None, stamps: pd.DatetimeIndex) -> np.ndarray | None:
    """The calls each slot can expect (the mean of its weekday and time over the last eight
    weeks of arrivals), to weigh handle times by; None when the data has no arrivals."""
    try:
        arrivals = forecast_series(result, "arrivals", queue)
    except InputError:
        return None
    recent = arrivals[arrivals.index > arrivals.index.max() - pd.Timedelta(weeks=8)]
    index = pd.DatetimeIndex(recent.index)
    profile = recent.groupby([index.day_of_week, index - index.normalize()]).mean()
    stamps = pd.DatetimeIndex(stamps)
    keys = pd.MultiIndex.from_arrays([stamps.day_of_week, stamps - stamps.normalize()])
    weights = profile.reindex(keys).fillna(0.0).to_numpy(float)
    return weights if weights.sum() > 0 else None


def check_history_reach(
    history: pd.Series,
    stamps: pd.DatetimeIndex,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    option: str = "horizon_days",
) -> None:
    """A forecast reaches no further ahead than the history reaches back: beyond that every
    model, not only the backtested ones, extrapolates a season or a trend it never saw twice,
    and its band would be narrow only because nothing measured how wrong it gets."""
    start = history.index.min() if start is None else start
    end = history.index.max() if end is None else end
    if len(stamps) == 0:
        return
    last = pd.DatetimeIndex(stamps).max()
    reach = (end.normalize() - start.normalize()).days + 1  # calendar days the history covers
    ahead = (last.normalize() - end.normalize()).days
    if ahead > reach:
        raise InputError(
            "further ahead than the history reaches back",
            option=option,
            expected=f"times at most {reach} days after {end:%Y-%m-%d} (the history covers {reach} days from "
            f"{start:%Y-%m-%d}), or a longer history",
            found=f"{last:%Y-%m-%d} ({ahead} days ahead)",
        )


def check_horizon(model: Forecaster, stamps: pd.DatetimeIndex, option: str = "horizon_days") -> None:
    """The same reach for a stored model, measured on the history it was trained on."""
    first = pd.Timestamp(model.calendar_.first_day)
    check_history_reach(pd.Series(dtype=float), stamps, first, model.history_end_, option)


def closed_warning(calendar: OperatingCalendar, stamps: pd.DatetimeIndex, limit: int = 5) -> str | None:
    closed = stamps[~calendar.is_open(stamps)]
    if len(closed) == 0:
        return None
    shown = ", ".join(t.strftime("%Y-%m-%d %H:%M") for t in closed[:limit])
    more = f" and {len(closed) - limit} more" if len(closed) > limit else ""
    return f"{len(closed)} requested timestamps are outside opening hours and are forecast as closed (0): {shown}{more}"


def forecast_table(
    model: Forecaster,
    stamps: pd.DatetimeIndex,
    granularity: str = "interval",
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """The forecast per requested timestamp, or its totals per day, week or month (handle
    times: their mean weighted by ``weights``, the calls expected in each slot)."""
    if granularity != "interval":
        return period_forecast(model, stamps, granularity, weights)
    out = model.predict(stamps).reset_index()
    return out[OUTPUT_COLUMNS]


PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}
GRANULARITIES = ("interval", "day", "week", "month")  # finest first


def output_granularity(result: IngestResult, asked: str | None) -> str:
    """What a forecast's rows are: as asked, or by default each interval of the data, or the
    week or month of data that were totals per week or month, never finer than those."""
    reported = result.reported_by
    if asked is None:
        return reported or "interval"
    if reported and GRANULARITIES.index(asked) < GRANULARITIES.index(reported):
        raise InputError(
            "finer than the data",
            option="granularity",
            expected=f"{reported}: the data are totals per {reported}",
            found=asked,
        )
    return asked


def period_forecast(
    model: Forecaster, stamps: pd.DatetimeIndex, granularity: str, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Totals per day, week (Monday to Sunday) or month, for plans made by the week or month.

    A period's interval is neither the sum of its slots' intervals nor their sum in
    quadrature: a level that is off is off all month, while a slot's or a day's own noise
    averages out; the model's holdouts tell the two apart (``period_count_variance``). Handle
    times are averaged over the period's open slots, their spread likewise. Periods the
    forecast covers only in part say so in ``complete``."""
    stamps = pd.DatetimeIndex(stamps)
    period = stamps.to_period(PERIODS[granularity])
    out = grouped_totals(model, stamps, period, weights)
    days = pd.DataFrame({"period": period, "day": stamps.normalize()}).groupby("period", sort=True)["day"]
    out["open_days"] = days.nunique().to_numpy()
    out["complete"] = covers_open_days(model.calendar_, pd.PeriodIndex(days.size().index), out["open_days"])
    return out


def covers_open_days(calendar: OperatingCalendar, periods: pd.PeriodIndex, open_days) -> np.ndarray:
    """Whether the forecast holds every day each period opens (by the centre's weekly hours),
    not every calendar day: a Monday-to-Friday centre's week is whole on its Friday. The
    forecast's days are all after the history, so a period begun before it counts as partial."""
    start = periods.start_time.to_numpy().astype("datetime64[D]")
    end = periods.end_time.normalize().to_numpy().astype("datetime64[D]") + np.timedelta64(1, "D")
    opens = np.busday_count(start, end, weekmask=open_weekmask(calendar))
    return np.asarray(open_days) >= opens


def grouped_totals(
    model: Forecaster, stamps: pd.DatetimeIndex, keys, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """Forecast and bands of the totals of ``stamps`` grouped by ``keys`` (periods, or the
    longer intervals a model's slots make up): counts summed with their errors shared as the
    holdouts measured; handle times averaged, weighted by the calls each slot is expected to
    handle when ``weights`` are given (a day's AHT is not the mean of its slots' AHTs when
    mornings are busy and afternoons long)."""
    stamps = pd.DatetimeIndex(stamps)
    slots = model.predict(stamps)
    rate_sd = model.rate_sd(stamps)
    frame = pd.DataFrame({"period": keys, "mean": slots["forecast"].to_numpy(), "sd": rate_sd})
    frame["day"] = stamps.normalize()
    counts = model.distribution == "negbin"
    if not counts and weights is not None:
        w = pd.Series(np.asarray(weights, float), index=frame.index)
        total = w.groupby(frame["period"]).transform("sum")
        size = frame.groupby("period")["mean"].transform("size")
        w = np.where(total > 0, w / total.where(total > 0, 1.0), 1.0 / size)  # no calls: a plain mean
        frame["mean"], frame["sd"] = frame["mean"] * w, frame["sd"] * w
        grouped = frame.groupby("period", sort=True)
        mean, sd = grouped["mean"].sum(), grouped["sd"].sum()
    else:
        grouped = frame.groupby("period", sort=True)
        mean = grouped["mean"].sum() if counts else grouped["mean"].mean()
        sd = grouped["sd"].mean()
    if counts:
        extra = (period_count_variance(frame, *model.error_sharing()) - mean).clip(lower=0.0)
        phi = np.where(mean > 0, extra / mean.where(mean > 0, 1.0) ** 2, 0.0)
    starts = mean.index.start_time if isinstance(mean.index, pd.PeriodIndex) else pd.DatetimeIndex(mean.index)
    out = pd.DataFrame({"timestamp": starts, "forecast": mean.to_numpy()})
    for level in LEVELS:
        if counts:
            lo, hi = interval_bounds(mean.to_numpy(), level, "negbin", phi)
        else:
            ratio = np.where(mean > 0, sd / mean.where(mean > 0, 1.0), 0.0)
            lo, hi = interval_bounds(mean.to_numpy(), level, "normal", ratio)
        out[f"lo{level}"] = np.minimum(lo, out["forecast"])
        out[f"hi{level}"] = np.maximum(hi, out["forecast"])
    return out


def period_count_variance(frame: pd.DataFrame, slot_noise: float, day_noise: float) -> pd.Series:
    """Variance of each period's total (``frame``: period, day, mean μ and rate sd s per
    slot). Each slot's spread φ = (s/μ)² is split into its own noise (up to ``slot_noise``),
    its day's (up to ``day_noise``) and the rest, shared across the period's days; the total's
    variance is Σμ (Poisson) + Σ own·μ² + Σ_days (Σ_day √day·μ)² + (Σ √rest·μ)²."""
    mu = frame["mean"].to_numpy(float)
    phi = np.where(mu > 0, (frame["sd"].to_numpy(float) / np.maximum(mu, 1e-12)) ** 2, 0.0)
    own = np.minimum(slot_noise, phi)
    day = np.minimum(day_noise, phi - own)
    rest = phi - own - day
    parts = frame.assign(own=own * mu**2, day_sd=np.sqrt(day) * mu, rest_sd=np.sqrt(rest) * mu)
    per_day = parts.groupby(["period", "day"], sort=True)["day_sd"].sum()
    grouped = parts.groupby("period", sort=True)
    return (
        grouped["mean"].sum()
        + grouped["own"].sum()
        + (per_day**2).groupby(level="period").sum()
        + grouped["rest_sd"].sum() ** 2
    )


EACH_QUEUE = "each"


def forecast_from_periods(
    result: IngestResult, field: str, queue: str, model: str, horizon_days: int, granularity: str
) -> tuple[pd.DataFrame, list[Selection], str | None]:
    """Weekly or monthly totals forecast per period by the period models (one observation a
    period), for the horizon's days rounded up to whole periods."""
    from forecasting.period_models import forecast_periods

    unit = result.reported_by
    if model != "auto":
        raise InputError(
            f"totals per {unit} are forecast by the period models",
            option="model",
            expected="auto (seasonal naive, recent mean, Holt-Winters, log trend with season, chosen by backtest)",
            found=model,
        )
    if granularity != unit:
        raise InputError(
            "not the data's period",
            option="granularity",
            expected=f"{unit}: the data are totals per {unit}",
            found=granularity,
        )
    freq = result.period if unit == "week" else "M"
    periods = int(np.ceil(horizon_days / (7 if unit == "week" else 365.25 / 12)))
    queues = sorted(map(str, result.intervals["queue"].unique())) if queue == EACH_QUEUE else [queue]
    tables, selections = [], []
    for q in queues:
        days = forecast_series(result, field, q)
        grouped = days.groupby(days.index.to_period(freq))
        totals = grouped.sum() if field == "arrivals" else grouped.mean()
        done = forecast_periods(totals, unit, periods, counts=field == "arrivals")
        table = done.table
        if queue == EACH_QUEUE:
            table.insert(1, "queue", q)
        tables.append(table)
        selections.append(Selection(f"{done.name} (per {unit})", None, None, done.leaderboard))  # type: ignore[arg-type]
    return pd.concat(tables, ignore_index=True), selections, None


def champion_selection(
    store: Store,
    registered_name: str,
    version: ModelVersion | None = None,
    data: ModelContract | None = None,
    key: dict | None = None,
    purpose: str = "forecast",
) -> Selection:
    """The stored model, checked against the data it will forecast (``data``) before use."""
    if data is None:
        forecaster, model_name, version = store.load_forecaster(registered_name, version=version)
        fit = None
    else:
        forecaster, model_name, version, fit = load_checked(
            store, registered_name, data, version, purpose, key
        )
    return Selection(
        f"{model_name} ({registered_name} version {version.version})", forecaster, None, None, fit
    )


@dataclass
class PanelChampion:
    """A registered panel of per-queue forecasters, checked against the data it will forecast."""

    name: str
    model: ForecasterPanel
    version: ModelVersion
    fit: Fit | None

    def selection(self, queue: str) -> Selection:
        label = f"{self.model.names[queue]} ({self.name} version {self.version.version})"
        return Selection(label, self.model.forecasters[queue], None, None, self.fit)


def champion_panel(
    store: Store, result: IngestResult, field: str, registered_name: str | None
) -> PanelChampion | None:
    """The panel every queue is forecast from: the one ``registered_name`` names, else the
    champion registered as ``capplan-<file>-<field>-each``. None when no panel is there: each
    queue then uses its own champion (``capplan-<file>-<field>-<queue>``). A name that is not a
    panel is refused: one series' model cannot forecast every queue."""
    name = registered_name or store.model_name(result.source, field, EACH_QUEUE)
    found = store.model_version(name)
    recorded = stored_contract(store, found) if found is not None else None
    if found is None or (recorded is not None and recorded.queue not in (None, EACH_QUEUE)):
        if registered_name is None:
            return None
        stem = Path(str(result.source)).stem
        raise InputError(
            "one registered model cannot forecast every queue",
            option="registered_model",
            expected=f"a panel trained with <<queue>> {EACH_QUEUE} (capplan-{stem}-{field}-{EACH_QUEUE}), or no "
            f"name: each queue then uses that panel, else its own champion (capplan-{stem}-{field}-<queue>)",
            found=registered_name,
        )
    model, _, version, fit = load_checked(store, name, data_contract(result, field, EACH_QUEUE), found)
    if not is_panel(model):
        raise InputError(
            "one registered model cannot forecast every queue",
            option="registered_model",
            expected=f"a panel trained with <<queue>> {EACH_QUEUE}",
            found=name,
        )
    return PanelChampion(name, model, version, fit)


def expand_to_slots(stamps: pd.DatetimeIndex, fit: Fit) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """The model's slots inside each of the data's intervals, and the interval each belongs to."""
    stamps = pd.DatetimeIndex(stamps)
    offsets = pd.to_timedelta(np.arange(fit.slots) * fit.model_interval.value, unit="ns")
    slots = pd.DatetimeIndex((stamps.to_numpy()[:, None] + offsets.to_numpy()[None, :]).ravel())
    return slots, pd.DatetimeIndex(np.repeat(stamps.to_numpy(), fit.slots))


def converted_forecast_table(
    model: Forecaster, stamps: pd.DatetimeIndex, fit: Fit, granularity: str = "interval"
) -> pd.DataFrame:
    """A finer model's forecast at the data's longer intervals: each interval is the total of
    the model's open slots inside it (the mean, for handle times), its band from the slots'
    shared and own errors as for period totals, never the slot's value at the interval start."""
    slots, owner = expand_to_slots(stamps, fit)
    open_ = model.calendar_.is_open(slots)
    slots, owner = slots[open_], owner[open_]
    if granularity != "interval":
        return period_forecast(model, slots, granularity)
    if len(slots) == 0:
        return pd.DataFrame(0.0, index=range(len(stamps)), columns=OUTPUT_COLUMNS).assign(timestamp=stamps)
    table = grouped_totals(model, slots, owner).set_index("timestamp")
    table = table.reindex(pd.DatetimeIndex(stamps), fill_value=0.0).rename_axis("timestamp").reset_index()
    return table[OUTPUT_COLUMNS]


def make_forecast(
    result: IngestResult,
    field: str = "arrivals",
    queue: str | None = None,
    model: str = "auto",
    horizon_days: int = 5,
    at: pd.DatetimeIndex | None = None,
    select_origins: int = 5,
    registered_name: str | None = None,
    progress: bool = True,
    n_jobs: int = 1,
    store: Store | None = None,
    clean: bool = True,
    special_days: SpecialDays | None = None,
    granularity: str | None = None,
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, list[Selection], str | None]:
    """Forecast one series (a queue, or all queues together) or, with ``queue='each'``, every
    queue separately, each with its own model; returns the table, the selections and a warning
    naming requested timestamps outside opening hours. ``scheduler``: fit the queues on a Dask
    cluster (:func:`forecasting.panel.run_per_queue`), with the same results as here. The
    champion of every queue is its forecaster in the registered panel (:func:`champion_panel`),
    else, with no panel, each queue's own registered champion."""
    granularity = output_granularity(result, granularity)
    if at is not None:
        check_requested_times(at, result.intervals["interval_start"].max())
    if result.period:
        return forecast_from_periods(result, field, queue, model, horizon_days, granularity)
    queues = sorted(map(str, result.intervals["queue"].unique())) if queue == EACH_QUEUE else [queue]
    if model == "champion" and store is None:
        raise InputError(
            "no MLflow store to take the champion from",
            expected="a store (<<store>> or MLFLOW_TRACKING_URI)",
        )
    panel = (
        champion_panel(store, result, field, registered_name)
        if model == "champion" and queue == EACH_QUEUE
        else None
    )
    tables, selections, notes = [], [], []
    champion_done: list[str] = []  # the queues forecast from stored champions, in order
    stale = None
    data_end = pd.Timestamp(result.intervals["interval_start"].max())
    at_option = "at" if at is not None else "horizon_days"
    inputs = {}
    failed: dict[str, str] = {}  # queues whose data no model can take: named, the others go on
    split = None
    if queue == EACH_QUEUE:  # the table split once
        split = queue_series(result, field, failed if model != "champion" or panel is not None else None)
    for q in queues:
        if split is not None and q not in split:
            continue
        history = split[q] if split is not None else forecast_series(result, field, q)
        # after the data, not after its last usable day: a stopped feed's last weeks are left
        # out of the series, and forecasting them would put the plan in the past
        start = max(history.index.max(), data_end)
        stamps = at if at is not None else horizon_timestamps(result.calendar, start, horizon_days)
        weights = call_weights(result, q, stamps) if field == "aht" and granularity != "interval" else None
        if model == "champion":
            if panel is not None and q not in panel.model.forecasters:
                failed[q] = (
                    f"queue {q}: the panel {panel.name} has no model of it (retrain the panel on this data to add it)"
                )
                continue
            selection = (
                panel.selection(q)
                if panel is not None
                else champion_selection(
                    store,
                    registered_name or store.model_name(result.source, field, q),
                    data=data_contract(result, field, q),
                )
            )
            check_horizon(selection.model, stamps, at_option)
            check_hours(selection.model, history, selection.fit, selection.name)
            if selection.model.history_end_ < history.index.max():
                stale = (
                    f"the champion was trained on data up to {selection.model.history_end_:%Y-%m-%d %H:%M}; the input runs "
                    f"to {history.index.max():%Y-%m-%d %H:%M}: retrain to use the newer data"
                )
            if selection.fit is not None and selection.fit.converts:
                notes.append(selection.fit.note())
            tables.append(_queue_table(selection, stamps, granularity, weights, field))
            selections.append(selection)
            champion_done.append(q)
            continue
        names = candidate_names(field, None) if model == "auto" else None
        chosen = names or parse_models(None)
        recalled = recalled_choice(
            store.choice_cache if store is not None else None,
            choice_key(history, chosen, clean, special_days),
            horizon_days,
        )
        settings = (
            model,
            names,
            horizon_days,
            select_origins,
            clean,
            special_days,
            recalled,
            granularity,
            field,
        )
        inputs[q] = (history, result.calendar, stamps, weights, at_option, settings)
    done = queues
    cells = cells_of(store) if store is not None and scheduler is None else None
    if inputs and queue != EACH_QUEUE:  # one series, here: with the store's caches, progress and processes
        table, selection = forecast_queue(*inputs[queue], progress=progress, n_jobs=n_jobs, cells=cells)
        tables.append(table)
        selections.append(selection)
    elif inputs or failed:  # a task a queue: here, or on the cluster's workers with the same inputs
        task = (
            forecast_queue
            if scheduler is not None
            else partial(forecast_queue, progress=progress, n_jobs=n_jobs, cells=cells)
        )
        # no cluster started for nothing: a panel's queues are forecast here, only its misses are left
        outcome = run_per_queue(task, inputs, scheduler if inputs else None, what="forecast")
        outcome.failures.update(failed)
        outcome.total += len(failed) + len(champion_done)
        for table, selection in outcome.results.values():
            tables.append(table)
            selections.append(selection)
        done = [*champion_done, *outcome.results]
        if outcome.failures:
            error = PanelError("forecast", outcome)
            error.partial = (
                pd.concat(_with_queues(tables, done, queue), ignore_index=True) if tables else None
            )
            raise error
    tables = _with_queues(tables, done, queue)
    if notes:
        log.info("%s", notes[0])
    warnings = [w for w in (closed_warning(result.calendar, at) if at is not None else None, stale) if w]
    return pd.concat(tables, ignore_index=True), selections, "; ".join(warnings) or None


def _with_queues(tables: list[pd.DataFrame], queues: list, queue: str | None) -> list[pd.DataFrame]:
    """Each queue's table with its name in a ``queue`` column when every queue is forecast."""
    if queue != EACH_QUEUE:
        return tables
    out = []
    for q, table in zip(queues, tables, strict=True):
        table = table.copy()
        table.insert(1, "queue", q)
        out.append(table)
    return out


def forecast_queue(
    history: pd.Series,
    calendar: OperatingCalendar,
    stamps: pd.DatetimeIndex,
    weights: np.ndarray | None,
    at_option: str,
    settings: tuple,
    progress: bool = False,
    n_jobs: int = 1,
    cells: BacktestCells | None = None,
) -> tuple[pd.DataFrame, Selection]:
    """One queue's model chosen, fitted and forecast at ``stamps``: a pure function of its
    inputs, run here or on a Dask worker (:mod:`forecasting.panel`) with the same result."""
    model, names, horizon_days, select_origins, clean, special_days, recalled, granularity, field = settings
    selection = select_and_fit(
        history,
        calendar,
        model,
        names,
        horizon_days,
        select_origins,
        progress,
        n_jobs,
        clean,
        special_days,
        cells=cells,
        recalled=recalled,
    )
    check_history_reach(history, stamps, option=at_option)
    return _queue_table(selection, stamps, granularity, weights, field), selection


def _queue_table(selection: Selection, stamps, granularity: str, weights, field: str) -> pd.DataFrame:
    if selection.fit is not None and selection.fit.converts:
        if field == "aht":
            raise InputError(
                "handle times of longer intervals need the calls of each of the model's slots to weigh them",
                option="model",
                expected=f"data at the model's {interval_minutes(selection.fit.model_interval)}-minute slots "
                "for its handle times (or an AHT model trained on this data)",
                found=f"{interval_minutes(selection.fit.data_interval)}-minute intervals",
            )
        return converted_forecast_table(selection.model, stamps, selection.fit, granularity)
    return forecast_table(selection.model, stamps, granularity, weights)
