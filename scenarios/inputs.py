"""Loading a scenario's inputs: the only stage of a scenario run that reads files or the store.

The base forecast (the champion's, from the store and its cache, or a named model's), the
schedule file a supply may name and the history the evidence comes from are read here, so
computing and analysing a scenario are pure and the app can reuse what it has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forecasting.history.ingest import IngestResult
from forecasting.history.tables import RawTable
from forecasting.store import Store
from scenarios.base_forecast import BaseForecast, base_forecast, load_history, resolve_path
from scenarios.spec import DataSpec, Scenario
from scenarios.supply import read_schedule

EVIDENCE_INTERVAL = "60min"  # KPIs per period need no finer grid


@dataclass(frozen=True)
class ScenarioInputs:
    scenario: Scenario
    path: Path | None  # the scenario file: relative paths in it are relative to its folder
    base: BaseForecast
    schedule: RawTable | None  # the supply's schedule file, when it names one


def load_inputs(
    scenario: Scenario, path: Path | None = None, store: Store | None = None, base: BaseForecast | None = None
) -> ScenarioInputs:
    """Everything the staffing needs; ``base`` reuses a forecast already loaded (the app's cache)."""
    folder = path.parent if path else None
    if base is None:
        base = base_forecast(scenario.data, scenario.forecast, scenario.risk.correlation, folder, store)
    agents = scenario.supply.available_agents
    schedule = read_schedule(resolve_path(agents, folder)) if isinstance(agents, str) else None
    return ScenarioInputs(scenario, path, base, schedule)


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
