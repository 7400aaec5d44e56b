"""Which service model a scenario's voice queues are staffed with: the centre's own first.

A queue that names no model (``service_model``) is staffed with the model fitted on the
centre's own call log (calibrated Erlang A on the agents present, with the callers' patience)
whenever the scenario has such a log (its data, else its evidence) with agents, waits and
abandonment enough to fit it; without one, with textbook Erlang C as before. A queue that names
a model gets it. Either way the other model is kept beside the plan for a second opinion:
textbook Erlang A (the log's patience) beside a fitted plan, the fitted model beside a textbook
one, so an answer can say when the two disagree.

This is the load stage's part of the choice (it reads the log); the comparison itself is
computed by :func:`scenarios.analysis.analyse.model_comparison`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from forecasting.common.errors import InputError
from scenarios.inputs.base_forecast import load_history
from scenarios.inputs.load import own_log
from scenarios.inputs.spec import FITTED_SERVICE_MODELS, QueueSpec, Scenario

DEFAULT_FITTED = "calibrated"  # robust at any size of centre; `learned` on request
LOG_FIELDS = ("agent_id", "answer_time", "wait_seconds", "handle_seconds", "abandoned")
MIN_DAYS = 3  # days with calls, at least, to fit a centre's model on
MIN_ABANDONED = 10  # abandoned calls, at least, to read the callers' patience from
FTE_GAP = 0.05  # textbook and fitted "differ" beyond this share of the plan's FTE ...
SERVICE_GAP = 0.05  # ... or this gap in the plan's service level


@dataclass(frozen=True)
class ServiceChoice:
    """What was decided about the voice queues' service models, for the answers."""

    defaulted: tuple[str, ...] = ()  # queues on the fitted model because they named none
    log: str | None = None  # the call log it is fitted on (as the scenario names it)
    other: dict = field(default_factory=dict)  # queue -> FittedService beside a textbook plan
    why_textbook: str | None = None  # why a queue naming no model stays textbook (no fit possible)


def model_asked(queue: QueueSpec) -> bool:
    """Whether the scenario names the queue's model (``auto``, if the spec ever spells the
    default out, asks for none)."""
    return "model" in queue.model_fields_set and queue.model != "auto"


def fittable_log(scenario: Scenario, folder: Path | None) -> tuple[tuple | None, str | None]:
    """The centre's own log (``own_log``'s tuple) when a service model can be fitted on it, or
    None and why not."""
    own = own_log(scenario, folder)
    if own is None:
        return (
            None,
            "no call log with waits and abandonment (data or evidence) to fit the centre's own model on",
        )
    spec, key, where, _ = own
    try:
        history = load_history(
            spec,
            scenario.forecast.interval,
            Path(where) if where else None,
            scenario.targets.target_seconds,
            key=key,
        )
    except InputError:
        return None, f"{spec.input} could not be read at the planning interval to fit a service model on"
    contacts = history.contacts
    if not contacts.has(*LOG_FIELDS):
        missing = ", ".join(f for f in LOG_FIELDS if not contacts.has(f))
        return None, f"{spec.input} has no {missing} to fit the centre's own service model on"
    f = contacts.frame
    days = f["arrival_time"].dt.normalize().nunique()
    abandoned = int(f["abandoned"].sum())
    if days < MIN_DAYS or abandoned < MIN_ABANDONED:
        return None, (
            f"{spec.input} is too short to fit the centre's own service model on ({days} days, {abandoned} "
            f"abandoned calls; at least {MIN_DAYS} days and {MIN_ABANDONED} abandoned calls)"
        )
    return own, None


def choose_service_models(scenario: Scenario, folder: Path | None) -> tuple[Scenario, ServiceChoice]:
    """The scenario with each voice queue that names no model on the fitted one (when the
    centre's log allows), and the choice made, with the fitted model beside queues that asked
    for a textbook one. A queue still naming none (``auto``, should the spec spell the default)
    is textbook Erlang C."""
    voice = {n: q for n, q in scenario.queues.items() if q.channel == "voice"}
    unnamed = [n for n, q in voice.items() if not model_asked(q)]
    if not voice:
        return _textbook(scenario), ServiceChoice()
    own, why = fittable_log(scenario, folder)
    if own is not None:
        try:  # cheap, cached: a log the model cannot be fitted on leaves the queues textbook
            fit = quick_fit(*own, scenario.forecast.interval, scenario.targets.target_seconds)
        except (InputError, ValueError) as exc:  # odd data the user never asked to fit on
            own, why = None, f"{own[0].input}: {getattr(exc, 'detail', exc)}"
    if own is None:
        return _textbook(scenario), ServiceChoice(why_textbook=why if unnamed else None)
    queues = dict(scenario.queues)
    for name in unnamed:
        queues[name] = queues[name].model_copy(update={"model": DEFAULT_FITTED})
    textbook = [n for n, q in voice.items() if n not in unnamed and q.model not in FITTED_SERVICE_MODELS]
    scenario = _textbook(scenario.model_copy(update={"queues": queues}) if unnamed else scenario)
    return scenario, ServiceChoice(tuple(unnamed), str(own[0].input), dict.fromkeys(textbook, fit))


def _textbook(scenario: Scenario) -> Scenario:
    """Queues left on ``auto`` (none today: the spec's default is ``erlang-c``) on Erlang C."""
    auto = [n for n, q in scenario.queues.items() if q.model == "auto"]
    if not auto:
        return scenario
    queues = {
        n: q.model_copy(update={"model": "erlang-c"}) if n in auto else q for n, q in scenario.queues.items()
    }
    return scenario.model_copy(update={"queues": queues})


@lru_cache(maxsize=8)
def quick_fit(spec, key: str, folder: str | None, stamp: tuple, interval: str, target_seconds: float):
    """The default fitted model without its last-week check (a second opinion beside a textbook
    plan), once per log version, interval and threshold."""
    from scenarios.service.fitted import fit_service

    history = load_history(spec, interval, Path(folder) if folder else None, target_seconds, key=key)
    return fit_service(
        history.contacts, pd.Timedelta(interval), target_seconds, DEFAULT_FITTED, validate=False
    )
