"""The forecast a scenario starts from: the registered champion (or a named model), at the
planning interval, with its uncertainty as a standard deviation per interval.

Forecasts are cached on disk (``data/cache/forecasts``) under the model version (or the data
file's hash) and the horizon, so rerunning or varying a scenario never refits or reloads a
model, and the same scenario always gets the same numbers.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.calendar import OperatingCalendar
from forecasting.errors import InputError
from forecasting.ingest import IngestOptions, IngestResult, ingest
from forecasting.intervals import parse_interval
from forecasting.tracking import DATA_DIR, PROJECT_DIR
from scenarios.spec import DataSpec, ForecastSpec

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``data/cache/forecasts`` in the project, or under CAPPLAN_CACHE_DIR when set."""
    return Path(os.environ.get("CAPPLAN_CACHE_DIR") or DATA_DIR / "cache") / "forecasts"
Z80 = float(stats.norm.ppf(0.9))


@dataclass(frozen=True)
class BaseForecast:
    table: pd.DataFrame  # interval_start, volume, volume_sd, aht (NaN when the data has none)
    interval: pd.Timedelta  # planning interval
    calendar: OperatingCalendar  # of the history, at its own interval
    model: str  # what made it, e.g. "topdown-ets (capplan-bank_calls-arrivals version 3)"
    history_end: pd.Timestamp
    warning: str | None = None


def resolve_path(text: str, relative_to: Path | None = None) -> Path:
    """A data path as written in a scenario: absolute, or relative to the scenario file's
    folder, the current folder or the project folder (the first that exists)."""
    path = Path(text)
    if path.is_absolute():
        return path
    for base in ([relative_to] if relative_to else []) + [Path.cwd(), PROJECT_DIR]:
        if (base / path).exists():
            return base / path
    return PROJECT_DIR / path


def ingest_options(data: DataSpec, interval: str | None, target_seconds: float = 20.0) -> IngestOptions:
    return IngestOptions(
        format=data.format, time_col=data.time_col, value_cols=(data.value_col,) if data.value_col else (),
        mapping=data.mapping, interval=interval if data.format != "intervals" else None, target_seconds=target_seconds,
    )  # fmt: skip


@lru_cache(maxsize=8)
def _ingest_cached(path: str, mtime: float, options: IngestOptions) -> IngestResult:
    return ingest(path, options)


def load_history(data: DataSpec, interval: str, relative_to: Path | None = None, target_seconds: float = 20.0,
                 key: str = "data.input") -> IngestResult:  # fmt: skip
    """Ingest the scenario's data (once per process and file version)."""
    from forecasting.forecast_job import require_clean

    path = resolve_path(data.input, relative_to)
    if not path.is_file():
        raise InputError("data file not found", path=path, key=key, expected="a history file (CSV, TSV or Parquet)")
    result = _ingest_cached(str(path), path.stat().st_mtime, ingest_options(data, interval, target_seconds))
    require_clean(result)
    return result


def rate_sd_from_quantiles(table: pd.DataFrame) -> np.ndarray:
    """Standard deviation of the arrival *rate* (in contacts per slot) from the central 80 %
    interval of the counts: the counts' variance less the Poisson variance (≈ the mean), which
    the queueing models add themselves."""
    count_sd = np.maximum((table["hi80"].to_numpy(float) - table["lo80"].to_numpy(float)) / (2 * Z80), 0.0)
    return np.sqrt(np.maximum(count_sd**2 - np.maximum(table["forecast"].to_numpy(float), 0.0), 0.0))


def aggregate(native: pd.DataFrame, step: pd.Timedelta, interval: pd.Timedelta, correlation: float) -> pd.DataFrame:
    """Sum native slots into planning intervals; standard deviations add with the given
    correlation between the slots' errors: var = (1 − ρ)·Σσ² + ρ·(Σσ)². ``coverage`` is the
    share of the interval the open slots fill (below 1 where opening hours end mid-interval)."""
    key = native["timestamp"].dt.floor(interval)
    g = native.assign(var=native["sd"] ** 2).groupby(key)
    mean, sd_sum, var_sum, slots = g["forecast"].sum(), g["sd"].sum(), g["var"].sum(), g["forecast"].size()
    sd = np.sqrt((1 - correlation) * var_sum + correlation * sd_sum**2)
    return pd.DataFrame({"interval_start": mean.index, "volume": mean.to_numpy(), "volume_sd": sd.to_numpy(),
                         "coverage": np.minimum(slots.to_numpy() * (step / interval), 1.0)})  # fmt: skip


def _file_digest(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def champion_name(data: DataSpec, forecast: ForecastSpec, source: Path) -> str:
    """The registered model a scenario's champion forecast comes from."""
    from forecasting.training import registered_name_for

    return forecast.registered_model or registered_name_for(source, "arrivals", data.queue)


def champion_version(data: DataSpec, forecast: ForecastSpec, relative_to: Path | None = None) -> str | None:
    """The champion's version number (None without one): a new champion means a new forecast."""
    from forecasting.registry import CHAMPION, alias_version
    from forecasting.tracking import use_store

    use_store()
    found = alias_version(champion_name(data, forecast, resolve_path(data.input, relative_to)), CHAMPION)
    return found.version if found else None


def native_forecast(result: IngestResult, forecast: ForecastSpec, data: DataSpec, source: Path) -> tuple[pd.DataFrame, str, pd.Timestamp, OperatingCalendar, str | None]:
    """Forecast table (timestamp, forecast, lo80, hi80, …) at the model's own interval, cached."""
    from forecasting.forecast_job import champion_selection, forecast_table, horizon_timestamps, make_forecast
    from forecasting.series import forecast_series

    history = forecast_series(result, "arrivals", data.queue)
    warning = None
    if forecast.model == "champion":
        from forecasting.registry import CHAMPION, alias_version
        from forecasting.tracking import use_store

        use_store()
        name = champion_name(data, forecast, source)
        version = alias_version(name, CHAMPION)
        if version is None:
            raise InputError(
                f"no champion model registered under '{name}'", key="forecast.model",
                expected=f"a model trained first (`capplan train --input {data.input} ...` or `capplan demo`), or forecast.model: auto",
            )  # fmt: skip
        key = f"{name}-v{version.version}-h{forecast.horizon_days}"
    else:  # the data file's content and how it was read (a log is read at the planning interval)
        how = hashlib.sha1(f"{data.model_dump_json()}|{result.interval}".encode()).hexdigest()[:8]
        key = f"{source.stem}-{_file_digest(source)}-{how}-{forecast.model}-h{forecast.horizon_days}"
    path = cache_dir() / f"{key}.parquet"
    if path.is_file():
        table = pd.read_parquet(path)
        meta = pd.read_parquet(path.with_suffix(".meta.parquet")).iloc[0]
        model, end = str(meta["model"]), pd.Timestamp(meta["history_end"])
        calendar = result.calendar
    else:
        log.info("forecasting %s (%s, %d open days)", history.name, forecast.model, forecast.horizon_days)
        if forecast.model == "champion":  # it forecasts from where its training data ended
            selection = champion_selection(name)
            end, calendar = selection.model.history_end_, selection.model.calendar_
            table = forecast_table(selection.model, horizon_timestamps(calendar, end, forecast.horizon_days))
        else:
            table, selections, _ = make_forecast(result, "arrivals", data.queue, forecast.model, forecast.horizon_days, progress=False)
            selection = selections[0]
            end, calendar = history.index.max(), result.calendar
        model = selection.name
        path.parent.mkdir(parents=True, exist_ok=True)  # written then renamed: a reader never sees half a file
        meta = pd.DataFrame({"model": [model], "history_end": [end]})
        for frame, target in ((meta, path.with_suffix(".meta.parquet")), (table, path)):
            partial = target.with_name(f".{target.name}.{os.getpid()}")
            frame.to_parquet(partial, index=False)
            os.replace(partial, target)
    if end < history.index.max():
        warning = f"the forecast model was trained on data up to {end:%Y-%m-%d}; the data runs to {history.index.max():%Y-%m-%d}: retrain to use it"
    return table, model, end, calendar, warning


def base_forecast(data: DataSpec, forecast: ForecastSpec, correlation: float, relative_to: Path | None = None) -> BaseForecast:
    """Forecast volume (mean and the sd of its rate) and AHT per planning interval over the horizon."""
    from forecasting.models.aht import AhtProfile
    from forecasting.series import forecast_series

    interval = parse_interval(forecast.interval)
    result = load_history(data, forecast.interval, relative_to)
    if result.interval > interval:
        raise InputError("planning interval shorter than the data's", key="forecast.interval",
                         expected=f"{int(result.interval.total_seconds() // 60)} minutes or longer (the data's interval)",
                         found=forecast.interval)  # fmt: skip
    source = resolve_path(data.input, relative_to)
    native, model, end, calendar, warning = native_forecast(result, forecast, data, source)
    if calendar.interval > interval:
        raise InputError("planning interval shorter than the forecast's", key="forecast.interval",
                         expected=f"{int(calendar.interval.total_seconds() // 60)} minutes or longer (the model forecasts at that interval)",
                         found=forecast.interval)  # fmt: skip
    native = native.assign(timestamp=pd.to_datetime(native["timestamp"]), sd=rate_sd_from_quantiles(native))
    table = aggregate(native, calendar.interval, interval, correlation)
    aht = np.full(len(table), np.nan)
    if "aht" in result.intervals and result.intervals["aht"].notna().any():
        history = forecast_series(result, "aht", data.queue)
        profile = AhtProfile().fit(history, result.calendar)
        native_aht = profile.predict(pd.DatetimeIndex(native["timestamp"])).reset_index()
        weights = native["forecast"].to_numpy() + 1e-9
        num = pd.Series(native_aht["forecast"].to_numpy() * weights).groupby(native["timestamp"].dt.floor(interval).to_numpy()).sum()
        den = pd.Series(weights).groupby(native["timestamp"].dt.floor(interval).to_numpy()).sum()
        aht = (num / den).reindex(table["interval_start"]).to_numpy()
    table["aht"] = aht
    return BaseForecast(table, interval, calendar, model, end, warning)
