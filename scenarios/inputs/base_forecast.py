"""The forecast a scenario starts from: the registered champion (or a named model), at the
planning interval, with its uncertainty as a standard deviation per interval.

Forecasts are cached beside the store under everything they depend on (the store, the model
version's run, the history's content and the request), so rerunning or varying a scenario never
refits or reloads a model, the same scenario always gets the same numbers, and a changed input
or another store never reuses an old forecast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar
from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, IngestResult, ingest
from forecasting.history.intervals import interval_minutes, parse_interval
from forecasting.history.targets import DEFAULT_TARGET_SECONDS
from forecasting.history.tickets import waiting_for_response
from forecasting.intraday_profile import (
    RECENT_WEEKS,
    TYPICAL_WARNING,
    IntradayProfile,
    from_ingest,
    read_profile,
    typical_profile,
)
from forecasting.model_contract import Fit, check_fits, check_hours, data_contract, stored_contract
from forecasting.special_days import SpecialDays
from forecasting.store import CHAMPION, ModelVersion, Store
from forecasting.store.forecast_cache import digest, series_digest
from scenarios.inputs.bundled import BUNDLED_ROOT
from scenarios.inputs.spec import EACH_QUEUE, DataSpec, ForecastSpec, HistorySpec

if TYPE_CHECKING:  # forecast_job loads when a forecast is made, not when a scenario is read
    from forecasting.forecast_job import PanelChampion

log = logging.getLogger(__name__)
DAY = pd.Timedelta(days=1)
FORECAST_KEYS = ("horizon_days", "model", "registered_model")  # options that are forecast.* keys here
MODEL_KEY = {"key": "forecast.model"}  # where a scenario names the model its forecast comes from


@dataclass(frozen=True)
class BaseForecast:
    table: pd.DataFrame  # interval_start, volume, volume_sd, aht (NaN when the data has none)
    interval: pd.Timedelta  # planning interval
    calendar: OperatingCalendar  # of the history, at its own interval
    model: str  # what made it, e.g. "topdown-ets (capplan-bank_calls-arrivals version 3)"
    history_end: pd.Timestamp
    warning: str | None = None
    # a ticket export's open tickets waiting for a first response at its end (ages, seconds):
    # deferred-work staffing starts from them
    waiting: pd.Series | None = None
    exported_at: pd.Timestamp | None = None


def resolve_path(text: str, relative_to: Path | None = None) -> Path:
    """A data path as written in a scenario: absolute, or relative to the scenario file's
    folder, the current folder or capplan's bundled files (the first that exists; a bundled
    scenario looks among the bundled files before the current folder)."""
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    bundled = relative_to is not None and relative_to.resolve().is_relative_to(BUNDLED_ROOT.resolve())
    others = [BUNDLED_ROOT, Path.cwd()] if bundled else [Path.cwd(), BUNDLED_ROOT]
    for base in ([relative_to] if relative_to else []) + others:
        if (base / path).exists():
            return base / path
    return (relative_to or Path.cwd()) / path


def ingest_options(
    data: HistorySpec,
    interval: str | None,
    target_seconds: float = DEFAULT_TARGET_SECONDS,
    relative_to: Path | None = None,
) -> IngestOptions:
    return IngestOptions(
        format=data.format,
        time_col=data.time_col,
        value_cols=tuple([data.value_col] if isinstance(data.value_col, str) else data.value_col or ()),
        queue_col=data.queue_col,
        mapping=resolve_path(data.mapping, relative_to) if data.mapping else None,
        interval=interval if data.format != "intervals" else None,
        target_seconds=target_seconds,
        timezone=data.timezone,
    )


@lru_cache(maxsize=8)
def _ingest_cached(path: str, mtime_ns: int, size: int, options: IngestOptions) -> IngestResult:
    return ingest(path, options)


def load_history(
    data: HistorySpec,
    interval: str,
    relative_to: Path | None = None,
    target_seconds: float = DEFAULT_TARGET_SECONDS,
    key: str = "data.input",
    weekly: bool = False,
) -> IngestResult:
    """Ingest the scenario's data (once per process and file version); weekly totals only
    where asked for (``weekly``: a base forecast spreads them by an intraday profile)."""
    from forecasting.forecast_job import require_clean

    path = resolve_path(data.input, relative_to)
    if not path.is_file():
        raise InputError(
            "data file not found", path=path, key=key, expected="a history file (CSV, TSV or Parquet)"
        )
    stat = path.stat()
    try:
        result = _ingest_cached(
            str(path),
            stat.st_mtime_ns,
            stat.st_size,
            ingest_options(data, interval, target_seconds, relative_to),
        )
    except InputError as exc:  # its settings are the keys beside data.input here
        raise exc.as_keys(key.rpartition(".")[0]) from None
    require_clean(result)
    if result.period and not (weekly and result.reported_by == "week"):
        raise InputError(
            f"totals per {result.reported_by} cannot be staffed",
            path=path,
            key=key,
            expected="intraday, daily or weekly history for a scenario (monthly totals can be "
            "forecast with `capplan forecast`)",
        )
    return result


def aggregate(
    native: pd.DataFrame, step: pd.Timedelta, interval: pd.Timedelta, correlation: float
) -> pd.DataFrame:
    """Sum native slots into planning intervals; standard deviations add with the given
    correlation between the slots' errors: var = (1 − ρ)·Σσ² + ρ·(Σσ)². ``coverage`` is the
    share of the interval the open slots fill (below 1 where opening hours end mid-interval)."""
    key = native["timestamp"].dt.floor(interval)
    g = native.assign(var=native["sd"] ** 2).groupby(key)
    mean, sd_sum, var_sum, slots = g["forecast"].sum(), g["sd"].sum(), g["var"].sum(), g["forecast"].size()
    sd = np.sqrt((1 - correlation) * var_sum + correlation * sd_sum**2)
    return pd.DataFrame(
        {
            "interval_start": mean.index,
            "volume": mean.to_numpy(),
            "volume_sd": sd.to_numpy(),
            "coverage": np.minimum(slots.to_numpy() * (step / interval), 1.0),
        }
    )


def champion_name(
    store: Store, data: DataSpec, forecast: ForecastSpec, relative_to: Path | None = None
) -> str:
    """The registered model a scenario's champion forecast comes from."""
    return forecast.registered_model or store.model_name(
        resolve_path(data.input, relative_to), "arrivals", data.queue
    )


def champion_version(
    store: Store, data: DataSpec, forecast: ForecastSpec, relative_to: Path | None = None
) -> ModelVersion | None:
    """The champion behind a scenario's forecast (None without one): a new champion means a new forecast."""
    return store.model_version(champion_name(store, data, forecast, relative_to), CHAMPION)


def _forecast_key(
    store: Store | None,
    forecast: ForecastSpec,
    data: DataSpec,
    history: pd.Series,
    interval: pd.Timedelta,
    champion: ModelVersion | None,
) -> str:
    """Everything the native forecast depends on: what is forecast (the history's content, how it
    was read), by which model (the champion's store, registry and run, or the model name) and how far."""
    parts = {
        "history": series_digest(history),
        # the native forecast is the same whatever spreads it to intervals
        "data": data.model_dump(mode="json", exclude={"intraday_profile", "intraday_history"}),
        "interval": str(interval),
        "model": forecast.model,
        "horizon_days": forecast.horizon_days,
        "keep_raw": forecast.keep_raw,
        "holidays": forecast.holidays,
        "table": 5,  # what an entry holds (2: the model's own rate_sd; 3: its calendar; 4: bands calibrated by the backtest; 5: bands from the backtest's errors)
    }
    if champion is not None and store is not None:
        parts |= {
            "store": store.tracking_uri,
            "registry": store.registry_uri,
            "registered": champion.name,
            "version": champion.version,
            "run_id": champion.run_id,
        }
    return digest(parts)


def native_forecast(
    result: IngestResult,
    forecast: ForecastSpec,
    data: DataSpec,
    source: Path,
    store: Store | None,
    plan_interval: pd.Timedelta | None = None,
    given: PanelChampion | None = None,
) -> tuple[pd.DataFrame, str, pd.Timestamp, OperatingCalendar, str | None]:
    """Forecast table (timestamp, forecast, lo80, hi80, …) at the model's own interval, cached
    beside the store (no store: computed every time). ``plan_interval`` is what the forecast is
    asked for (default the scenario's planning interval; a daily history's: a day, spread later).
    ``given``: the champion is this queue's (``data.queue``) forecaster of a registered panel,
    loaded once for every queue (:func:`forecasting.forecast_job.champion_panel`)."""
    from forecasting.forecast_job import (
        champion_selection,
        check_horizon,
        forecast_table,
        horizon_timestamps,
        make_forecast,
    )
    from forecasting.series import forecast_series

    try:
        history = forecast_series(result, "arrivals", data.queue)
    except InputError as exc:
        raise exc.as_keys("data") from None
    champion = None
    if given is not None:
        champion = given.version
    elif forecast.model == "champion":
        name = forecast.registered_model or (
            store.model_name(source, "arrivals", data.queue) if store else ""
        )
        champion = store.model_version(name, CHAMPION) if store is not None else None
        if champion is None:
            where = f" in {store}" if store is not None else " (no MLflow store given)"
            raise InputError(
                f"no champion model registered under '{name}'{where}",
                key="forecast.model",
                expected=f"a model trained first on {data.input} (train it, or run the demo), or forecast.model: auto",
            )
    contract = None
    if champion is not None:  # checked before any cached number is reused, and again on loading
        contract = replace(
            data_contract(result, "arrivals", EACH_QUEUE if given is not None else data.queue),
            interval=plan_interval or parse_interval(forecast.interval),
        )
        recorded = stored_contract(store, champion)
        if recorded is not None:
            label = f"{champion.name} version {champion.version}"
            check_fits(recorded, contract, label, purpose="plan", key=MODEL_KEY)
    cache = store.forecast_cache if store is not None else None
    key = _forecast_key(store, forecast, data, history, result.interval, champion)  # data names the queue
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        table, meta = cached
        model, end = str(meta["model"]), pd.Timestamp(meta["history_end"])
        calendar = OperatingCalendar.from_dict(meta["calendar"])  # the model's own, as on the first run
    else:
        log.info("forecasting %s (%s, %d open days)", history.name, forecast.model, forecast.horizon_days)
        if given is not None:  # the queue's own forecaster of the panel (its contract checked above)
            selection = given.selection(data.queue)
        elif champion is not None:  # it forecasts from where its training data ended
            selection = champion_selection(
                store, champion.name, champion, contract, MODEL_KEY, purpose="plan"
            )  # the version the key names
        if champion is not None:
            end, calendar = selection.model.history_end_, selection.model.calendar_
            fit = Fit(calendar.interval, result.interval)
            check_hours(
                selection.model, history, fit, f"{champion.name} version {champion.version}", MODEL_KEY
            )
            stamps = horizon_timestamps(calendar, end, forecast.horizon_days)
            try:
                check_horizon(selection.model, stamps)
            except InputError as exc:
                raise exc.as_keys("forecast") from None
            table = forecast_table(selection.model, stamps)
            table["rate_sd"] = selection.model.rate_sd(pd.DatetimeIndex(table["timestamp"]))
        else:
            try:
                table, selections, _ = make_forecast(
                    result,
                    "arrivals",
                    data.queue,
                    forecast.model,
                    forecast.horizon_days,
                    progress=False,
                    clean=not forecast.keep_raw,
                    special_days=SpecialDays(forecast.holidays) if forecast.holidays else None,
                )
            except InputError as exc:  # the scenario's forecast keys, not the command line's options
                raise (exc.as_keys("forecast") if exc.option in FORECAST_KEYS else exc) from None
            selection = selections[0]
            table["rate_sd"] = selection.model.rate_sd(pd.DatetimeIndex(table["timestamp"]))
            end, calendar = history.index.max(), result.calendar
        model = selection.name
        if cache is not None:
            cache.put(key, table, {"model": model, "history_end": str(end), "calendar": calendar.to_dict()})
    if end < history.index.max():
        warning = (
            f"the forecast model was trained on data up to {end:%Y-%m-%d %H:%M}; the data runs to "
            f"{history.index.max():%Y-%m-%d %H:%M}: retrain to use it"
        )
    else:
        warning = None
    data_end = pd.Timestamp(result.intervals["interval_start"].max())
    late = [d for d in result.calendar.missing_days if d > history.index.max().date()]
    if late and champion is None:
        warning = (
            f"the data runs to {data_end:%Y-%m-%d} but has no usable open days after "
            f"{history.index.max():%Y-%m-%d} (a stopped feed or missing days: `capplan ingest` lists them); "
            "the forecast starts after the data's end"
        )
    return table, model, end, calendar, warning


def base_forecast(
    data: DataSpec,
    forecast: ForecastSpec,
    correlation: float,
    relative_to: Path | None = None,
    store: Store | None = None,
    given: PanelChampion | None = None,
) -> BaseForecast:
    """Forecast volume (mean and the sd of its rate) and AHT per planning interval over the
    horizon (``given``: the queue's forecaster of a champion panel, instead of its own champion)."""
    from forecasting.models.aht import AhtProfile
    from forecasting.series import forecast_series

    interval = parse_interval(forecast.interval)
    result = load_history(data, forecast.interval, relative_to, weekly=True)
    if result.interval >= DAY:  # a daily report: forecast by day, spread to the planning interval
        return spread_base_forecast(result, data, forecast, interval, relative_to, store, given)
    if result.interval > interval:
        raise InputError(
            "planning interval shorter than the data's",
            key="forecast.interval",
            expected=f"{interval_minutes(result.interval)} minutes or longer (the data's interval)",
            found=forecast.interval,
        )
    source = resolve_path(data.input, relative_to)
    native, model, end, calendar, warning = native_forecast(
        result, forecast, data, source, store, given=given
    )
    if calendar.interval > interval:
        raise InputError(
            "planning interval shorter than the forecast's",
            key="forecast.interval",
            expected=f"{interval_minutes(calendar.interval)} minutes or longer (the model forecasts at that interval)",
            found=forecast.interval,
        )
    native = native.assign(timestamp=pd.to_datetime(native["timestamp"]), sd=native["rate_sd"])
    table = aggregate(native, calendar.interval, interval, correlation)
    aht = np.full(len(table), np.nan)
    if "aht" in result.intervals and result.intervals["aht"].notna().any():
        history = forecast_series(result, "aht", data.queue)
        profile = AhtProfile().fit(history, result.calendar)
        native_aht = profile.predict(pd.DatetimeIndex(native["timestamp"])).reset_index()
        weights = native["forecast"].to_numpy() + 1e-9
        num = (
            pd.Series(native_aht["forecast"].to_numpy() * weights)
            .groupby(native["timestamp"].dt.floor(interval).to_numpy())
            .sum()
        )
        den = pd.Series(weights).groupby(native["timestamp"].dt.floor(interval).to_numpy()).sum()
        aht = (num / den).reindex(table["interval_start"]).to_numpy()
    table["aht"] = aht
    waiting, exported_at = None, None
    if result.contacts is not None and result.contacts.tickets:
        waiting, exported_at = waiting_for_response(result.contacts, data.queue), result.contacts.as_of
    return BaseForecast(table, interval, calendar, model, end, warning, waiting, exported_at)


def spread_base_forecast(
    result: IngestResult,
    data: DataSpec,
    forecast: ForecastSpec,
    interval: pd.Timedelta,
    relative_to: Path | None = None,
    store: Store | None = None,
    given: PanelChampion | None = None,
) -> BaseForecast:
    """A daily history's base forecast: forecast by day (the models fit daily data as it is),
    then each day's volume and its uncertainty spread to the planning interval by the intraday
    profile (``intraday_profile_for``), totals kept exactly; a day's AHT holds in each of its
    intervals."""
    from forecasting.models.aht import AhtProfile
    from forecasting.series import forecast_series

    profile, notes = intraday_profile_for(data, forecast, relative_to)  # its mistakes before the work
    profile = profile.at(interval, key={"key": "forecast.interval"})
    source = resolve_path(data.input, relative_to)
    named = (
        "intraday_profile"
        if data.intraday_profile
        else "intraday_history"
        if data.intraday_history
        else "input"
    )
    where = {"key": f"data.{named}"}  # a weekday the profile has no hours for is its mistake
    if result.period:  # weekly totals: forecast per week, spread to days by the weekday mix
        weeks, model, end, calendar, warning = weekly_forecast(result, forecast, data)
        spread, mix_note = profile.spread_weeks(
            pd.DatetimeIndex(weeks["timestamp"]),
            weeks["forecast"].to_numpy(float),
            weeks["sd"].to_numpy(float),
            where=where,
        )
        first = np.sort(spread["timestamp"].dt.normalize().unique())[: forecast.horizon_days]
        spread = spread[spread["timestamp"].dt.normalize().isin(first)]  # the horizon's open days
        days = pd.DatetimeIndex(first)
        notes = [*notes, mix_note] if mix_note else notes
        open_days = {d for d in profile.open_weekdays if profile.weekday_mix()[0][d] > 0}
    else:
        native, model, end, calendar, warning = native_forecast(
            result, forecast, data, source, store, plan_interval=result.interval, given=given
        )
        if calendar.interval < DAY:  # a champion of intraday slots would be summed, then spread again
            raise InputError(
                f"the model {model} forecasts {interval_minutes(calendar.interval)}-minute slots; "
                f"{data.input} holds daily totals",
                **MODEL_KEY,
                expected="a model trained on this daily data (capplan train on it), forecast.model: auto, "
                "or the intraday data itself as data.input",
            )
        days = pd.DatetimeIndex(pd.to_datetime(native["timestamp"])).normalize()
        spread = profile.spread_days(
            days, native["forecast"].to_numpy(float), native["rate_sd"].to_numpy(float), where=where
        )
        open_days = set(calendar.hours) if calendar.hours else set(profile.open_weekdays)
    table = pd.DataFrame(
        {
            "interval_start": pd.DatetimeIndex(spread["timestamp"]),
            "volume": spread["volume"].to_numpy(),
            "volume_sd": spread["sd"].to_numpy(),
            "coverage": spread["coverage"].to_numpy(),
        }
    )
    day_aht = np.full(len(days), np.nan)
    if "aht" in result.intervals and result.intervals["aht"].notna().any():
        history = forecast_series(result, "aht", data.queue)
        day_aht = AhtProfile().fit(history, result.calendar).predict(days)["forecast"].to_numpy(float)
    at = pd.Index(days).get_indexer(table["interval_start"].dt.normalize())
    table["aht"] = day_aht[at]
    hours = {d: h for d, h in profile.hours().items() if d in open_days}
    calendar = OperatingCalendar(
        interval, hours, calendar.first_day, calendar.last_day, calendar.missing_days
    )
    said = "; ".join(w for w in (warning, *notes) if w) or None
    waiting, exported_at = None, None
    if result.contacts is not None and result.contacts.tickets:
        waiting, exported_at = waiting_for_response(result.contacts, data.queue), result.contacts.as_of
    label = f"{model}, by {'week' if result.period else 'day'}, spread by {profile.source}"
    return BaseForecast(table, interval, calendar, label, end, said, waiting, exported_at)


def weekly_forecast(
    result: IngestResult, forecast: ForecastSpec, data: DataSpec
) -> tuple[pd.DataFrame, str, pd.Timestamp, OperatingCalendar, str | None]:
    """Weekly totals forecast per week by the period models (one observation a week): a table
    of week starts, forecast and its sd (from the 80 % band), the model, the data's end."""
    from scipy import stats

    from forecasting.forecast_job import make_forecast
    from forecasting.series import forecast_series

    named = forecast.model != "auto" and (
        forecast.model != "champion" or "model" in forecast.model_fields_set
    )
    if named:  # a champion or a named model of intervals cannot forecast weekly totals
        raise InputError(
            "weekly totals are forecast by the period models",
            key="forecast.model",
            expected="auto (or leave it out): seasonal naive, recent mean, Holt-Winters or a log trend "
            "with season, chosen by backtest",
            found=forecast.model,
        )
    try:
        table, selections, warning = make_forecast(
            result, "arrivals", data.queue, "auto", forecast.horizon_days, progress=False
        )
    except InputError as exc:
        raise (exc.as_keys("forecast") if exc.option in FORECAST_KEYS else exc.as_keys("data")) from None
    z = stats.norm.ppf(0.9)
    table = table.assign(
        timestamp=pd.to_datetime(table["timestamp"]),
        sd=(table["hi80"].to_numpy(float) - table["lo80"].to_numpy(float)) / (2 * z),
    )
    end = forecast_series(result, "arrivals", data.queue).index.max()
    return table, selections[0].name, end, result.calendar, warning


def intraday_profile_for(
    data: DataSpec, forecast: ForecastSpec, relative_to: Path | None = None
) -> tuple[IntradayProfile, list[str]]:
    """The shape a daily history is spread by, and what to say about it: the scenario's profile
    file (``data.intraday_profile``), the profile of an intraday history of the same queue
    (``data.intraday_history``), else capplan's typical day, with a warning that it is generic."""
    if data.intraday_profile is not None:
        path = resolve_path(data.intraday_profile, relative_to)
        if not path.is_file():
            raise InputError(
                "intraday profile not found",
                path=path,
                key="data.intraday_profile",
                expected="a CSV with columns weekday, time, share (or time and one column per weekday)",
            )
        profile = read_profile(path)
        return profile, list(profile.notes)
    if data.intraday_history is not None:
        spec = data.intraday_history
        key = "data.intraday_history.input"
        result = load_history(spec, forecast.interval, relative_to, key=key)
        if result.interval >= DAY:
            raise InputError(
                "the intraday history is not intraday",
                path=resolve_path(spec.input, relative_to),
                key=key,
                expected="an interval report or log of the same queue with intervals within the day",
                found=f"intervals of {interval_minutes(result.interval)} minutes",
            )
        try:
            profile = from_ingest(
                result,
                spec.queue,
                source=f"the intraday history {Path(spec.input).name} (its last {RECENT_WEEKS} weeks)",
            )
        except InputError as exc:
            raise exc.as_keys("data.intraday_history") from None
        return profile, []
    return typical_profile(), [TYPICAL_WARNING]
