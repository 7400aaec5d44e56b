"""KPI targets: defaults from DOMAIN.md, overridable per file and per queue."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, field_validator, model_validator

from forecasting.common.errors import InputError
from forecasting.history.config import ConfigModel, load_yaml, load_yaml_text
from forecasting.history.durations import duration_seconds

DEFAULT_TARGET_SECONDS = (
    20.0  # T of the service level (80/20: 80 % answered within 20 s), everywhere a default is needed
)

KPI_NAMES = (
    "arrivals",
    "handled",
    "abandoned",
    "aht",
    "asa",
    "service_level",
    "service_level_of_handled",
    "abandon_rate",
    "first_response_mean_s",
    "first_response_p90_s",
    "first_response_median_s",
    "first_response_in_sla",
    "first_response_sla_agreement",
    "resolution_mean_s",
    "resolution_p90_s",
    "resolution_median_s",
    "resolution_in_sla",
    "resolution_sla_agreement",
    "backlog",
    "backlog_age_median_s",
    "backlog_age_max_s",
    "backlog_over_sla",
    "csat",
    "csat_mean",
    "nps",
    "ces",
    "fcr",
    "repeat_rate",
    "contacts_per_issue",
    "contacts_per_agent",
    "resolved_tickets_per_agent",  # a ticket export's handled per agent (forecasting.history.summarize)
)
KpiName = Literal[KPI_NAMES]  # type: ignore[valid-type]

_SHARE = (0.0, 1.0, "a share from 0 to 1 (e.g. 0.8 for 80 %)")
_SECONDS = (0.0, 10 * 365 * 86_400.0, "seconds from 0 (10 years at most)")
_COUNT = (0.0, 1e9, "a count from 0")
SLA_KINDS = ("first_response", "resolution")
KPI_RANGES = {  # what a bound on each KPI can be: min: 5 for a share is a typo, not a target
    **dict.fromkeys(
        ("arrivals", "handled", "abandoned", "contacts_per_agent", "resolved_tickets_per_agent", "backlog"),
        _COUNT,
    ),
    **dict.fromkeys(
        ("service_level", "service_level_of_handled", "abandon_rate", "csat", "fcr", "repeat_rate"), _SHARE
    ),
    **dict.fromkeys(
        ("first_response_in_sla", "resolution_in_sla", "backlog_over_sla")
        + ("first_response_sla_agreement", "resolution_sla_agreement"),
        _SHARE,
    ),
    **dict.fromkeys(("aht", "asa", "first_response_mean_s", "first_response_p90_s"), _SECONDS),
    **dict.fromkeys(("first_response_median_s", "backlog_age_median_s", "backlog_age_max_s"), _SECONDS),
    **dict.fromkeys(("resolution_mean_s", "resolution_p90_s", "resolution_median_s"), _SECONDS),
    "csat_mean": (0.0, 10.0, "a mean score from 0 to 10 (the survey's scale, e.g. 1-5)"),
    "ces": (0.0, 10.0, "a mean effort score from 0 to 10 (the survey's scale, e.g. 1-7)"),
    "nps": (-100.0, 100.0, "a net promoter score from -100 to 100"),
    "contacts_per_issue": (1.0, 1e3, "contacts per issue from 1"),
}


def _check_ranges(targets: KpiTargets, path) -> KpiTargets:
    """Each KPI's min and max within what that KPI can be, and min not above max."""
    sections = [("targets", targets.targets)] + [(f"queues.{q}", b) for q, b in targets.queues.items()]
    for section, bounds in sections:
        for kpi, target in bounds.items():
            low, high, expected = KPI_RANGES[kpi]
            for side in ("min", "max"):
                value = getattr(target, side)
                if value is not None and not low <= value <= high:
                    raise InputError(
                        "bad value",
                        path=path,
                        key=f"{section}.{kpi}.{side}",
                        expected=expected,
                        found=f"{value:g}",
                    )
            if target.min is not None and target.max is not None and target.min > target.max:
                raise InputError(
                    "min above max",
                    path=path,
                    key=f"{section}.{kpi}",
                    expected="min at most max",
                    found=f"{target.min:g} > {target.max:g}",
                )
    return targets


class Target(ConfigModel):
    """A bound on one KPI: met when min <= value <= max (never a boolean, inf or nan)."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if self.min is None and self.max is None:
            raise ValueError("give min or max")
        return self

    def met(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        ok = np.ones(values.shape, dtype=bool)
        if self.min is not None:
            ok &= values >= self.min
        if self.max is not None:
            ok &= values <= self.max
        return ok

    def text(self) -> str:
        parts = ([f">= {self.min:g}"] if self.min is not None else []) + (
            [f"<= {self.max:g}"] if self.max is not None else []
        )
        return " and ".join(parts)


SlaRule = dict[str, float | dict[str, float]]


class KpiTargets(ConfigModel, BaseModel):  # BaseModel named for ruff (RUF012)
    """KPI bounds, per queue if need be, and the response / resolution SLAs of tickets.

    An SLA is a time per channel, queue or priority (``default`` for the rest), or per
    channel and priority nested: ``first_response: {email: 4h, chat: 60s, default: 1h}``,
    ``resolution: {critical: 4h, email: {high: 8h, default: 24h}, default: 48h}``. A ticket
    takes the most specific: its channel and priority nested, its priority, its channel (or
    queue), that channel's default, the default.
    """

    targets: dict[KpiName, Target] = {}
    queues: dict[str, dict[KpiName, Target]] = {}
    first_response: SlaRule = {}
    resolution: SlaRule = {}

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _durations(cls, value, info):
        if not isinstance(value, dict):
            raise ValueError(
                "a mapping of channel, queue or priority to a time, e.g. {email: 4h, default: 1h}"
            )

        def seconds(key: str, item) -> float:
            try:
                return duration_seconds(item)
            except ValueError as exc:
                raise ValueError(f"{info.field_name}.{key}: {exc}") from None

        rule: dict = {}
        for key, item in value.items():
            if isinstance(item, dict):
                rule[str(key)] = {str(k): seconds(f"{key}.{k}", v) for k, v in item.items()}
            else:
                rule[str(key)] = seconds(str(key), item)
        return rule

    @field_validator("queues", mode="before")
    @classmethod
    def _queue_names_are_text(cls, value):  # YAML reads a queue called 1 as a number
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    def unbounded_slas(self) -> list[str]:
        """Sentences for SLA rules whose share within SLA has no bound: without one, no period
        can be met or missed on it."""
        notes = []
        for kind in SLA_KINDS:
            kpi = f"{kind}_in_sla"
            bounded = kpi in self.targets or any(kpi in bounds for bounds in self.queues.values())
            if getattr(self, kind) and not bounded:
                notes.append(
                    f"{kind} SLAs are given but no bound on {kpi}: add e.g. targets: {{{kpi}: {{min: 0.9}}}} "
                    "to mark periods met or missed"
                )
        return notes

    def for_queue(self, queue: str) -> dict[str, Target]:
        return {**self.targets, **self.queues.get(queue, {})}


def load_targets(path: str | Path | None = None) -> KpiTargets:
    """Read a targets YAML; without a path, the packaged defaults (DOMAIN.md's table)."""
    if path is None:
        text = resources.files("forecasting.history").joinpath("default_targets.yaml").read_text()
        return KpiTargets.model_validate(load_yaml_text(text))
    targets = load_yaml(path, KpiTargets, "targets file", "a KPI name: " + ", ".join(KPI_NAMES))
    return _check_ranges(targets, path)
