"""Loading a scenario's inputs: the only stage of a scenario run that reads files or the store.

The base forecast (the champion's, from the store and its cache, or a named model's), the
schedule file a supply may name and the history the evidence comes from are read here, so
computing and analysing a scenario are pure and the app can reuse what it has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestResult
from forecasting.history.tables import RawTable
from forecasting.store import Store
from scenarios.inputs.base_forecast import BaseForecast, base_forecast, load_history, resolve_path
from scenarios.inputs.spec import FITTED_SERVICE_MODELS, DataSpec, Scenario
from scenarios.service.supply import read_schedule

EVIDENCE_INTERVAL = "60min"  # KPIs per period need no finer grid


@dataclass(frozen=True)
class ScenarioInputs:
    scenario: Scenario
    path: Path | None  # the scenario file: relative paths in it are relative to its folder
    base: BaseForecast
    schedule: RawTable | None  # the supply's schedule file, when it names one
    services: dict = field(default_factory=dict)  # queue -> FittedService, for models fitted on a log
    satisfaction: dict = field(default_factory=dict)  # survey -> FittedSatisfaction, when the log has surveys


def load_inputs(
    scenario: Scenario, path: Path | None = None, store: Store | None = None, base: BaseForecast | None = None
) -> ScenarioInputs:
    """Everything the staffing needs; ``base`` reuses a forecast already loaded (the app's cache)."""
    folder = path.parent if path else None
    if base is None:
        base = base_forecast(scenario.data, scenario.forecast, scenario.risk.correlation, folder, store)
    agents = scenario.supply.available_agents
    schedule = read_schedule(resolve_path(agents, folder)) if isinstance(agents, str) else None
    return ScenarioInputs(
        scenario, path, base, schedule, load_services(scenario, folder), load_satisfaction(scenario, folder)
    )


def load_services(scenario: Scenario, folder: Path | None) -> dict:
    """The service model of each queue whose model is fitted on the centre's own log (the
    scenario's data when it is a call log, else its evidence), fitted once per file version."""
    fitted = {name: q.model for name, q in scenario.queues.items() if q.model in FITTED_SERVICE_MODELS}
    if not fitted:
        return {}
    own = own_log(scenario, folder)
    if own is None:
        first = next(iter(fitted))
        raise InputError(
            f"model {fitted[first]} is fitted on a call log",
            key=f"queues.{first}.model",
            expected="a per-contact log with agents as data.input or evidence.input (format anonymous-bank "
            "or log), or model erlang-a / erlang-c",
        )
    services = {}
    for name, kind in fitted.items():
        try:
            services[name] = _fitted(*own, scenario.forecast.interval, scenario.targets.target_seconds, kind)
        except InputError as exc:
            if exc.key is not None or exc.path is not None:
                raise
            raise InputError(
                exc.detail,
                path=resolve_path(own[0].input, folder),
                column=exc.column,
                key=f"queues.{name}.model",
                expected=exc.expected,
                found=exc.found,
            ) from None
    return services


def load_satisfaction(scenario: Scenario, folder: Path | None) -> dict:
    """Survey → the wait-to-satisfaction model fitted on the centre's own log, for each survey
    (CSAT, NPS) the log has; empty without a log or surveys."""
    if not any(q.channel in ("voice", "chat") for q in scenario.queues.values()):
        return {}
    own = own_log(scenario, folder)
    return (
        {}
        if own is None
        else _satisfaction(*own, scenario.forecast.interval, scenario.targets.target_seconds)
    )


def own_log(scenario: Scenario, folder: Path | None) -> tuple | None:
    """The centre's own per-contact log, as ``(spec, key, folder, version)``: the scenario's
    data when it is a log, else its evidence; None when both are interval reports."""
    candidates = [(scenario.data, "data.input")]
    if scenario.evidence is not None:
        e = scenario.evidence
        candidates.append((DataSpec(input=e.input, format=e.format, mapping=e.mapping), "evidence.input"))
    logs = [(spec, key) for spec, key in candidates if spec.format != "intervals"]
    if not logs:
        return None
    spec, key = logs[0]
    path = resolve_path(spec.input, folder)
    stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path.is_file() else (0, 0)
    return spec, key, str(folder) if folder else None, stamp


@lru_cache(maxsize=8)
def _fitted(
    spec: DataSpec,
    key: str,
    folder: str | None,
    stamp: tuple,
    interval: str,
    target_seconds: float,
    kind: str,
):
    """Fit once per log version, interval, threshold and kind (the app reruns what-ifs)."""
    from scenarios.service.fitted import fit_service

    history = load_history(spec, interval, Path(folder) if folder else None, target_seconds, key=key)
    return fit_service(history.contacts, pd.Timedelta(interval), target_seconds, kind)


def load_service_check(scenario: Scenario, folder: Path | None):
    """How well the service models reproduce the centre's own log's last week (validate-staffing
    on it), or None without a log with agents or with too few days."""
    own = own_log(scenario, folder)
    return (
        None
        if own is None
        else _service_check(*own, scenario.forecast.interval, scenario.targets.target_seconds)
    )


@lru_cache(maxsize=8)
def _service_check(
    spec: DataSpec, key: str, folder: str | None, stamp: tuple, interval: str, target_seconds: float
):
    from scenarios.service.fitted import last_week_check

    history = load_history(spec, interval, Path(folder) if folder else None, target_seconds, key=key)
    if not history.contacts.has("agent_id", "answer_time", "wait_seconds", "handle_seconds"):
        return None
    return last_week_check(history.contacts, pd.Timedelta(interval), target_seconds)


@lru_cache(maxsize=8)
def _satisfaction(
    spec: DataSpec, key: str, folder: str | None, stamp: tuple, interval: str, target_seconds: float
) -> dict:
    """Fit once per log version (the app reruns what-ifs)."""
    from scenarios.service.satisfaction import fit_satisfaction

    history = load_history(spec, interval, Path(folder) if folder else None, target_seconds, key=key)
    return fit_satisfaction(history.contacts, pd.Timedelta(interval))


def load_evidence(scenario: Scenario, path: Path | None = None) -> IngestResult | None:
    """The history whose KPIs show which targets have been attainable (None without one)."""
    e = scenario.evidence
    if e is None:
        return None
    data = DataSpec(input=e.input, format=e.format, mapping=e.mapping)
    folder = path.parent if path else None
    return load_history(
        data, EVIDENCE_INTERVAL, folder, scenario.targets.target_seconds, key="evidence.input"
    )
