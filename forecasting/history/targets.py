"""KPI targets: defaults from DOMAIN.md, overridable per file and per queue."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from forecasting.history.config import load_yaml

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
    "abandon_rate",
    "first_response_mean_s",
    "first_response_p90_s",
    "resolution_mean_s",
    "resolution_p90_s",
    "csat",
    "csat_mean",
    "nps",
    "ces",
    "fcr",
    "repeat_rate",
    "contacts_per_issue",
    "contacts_per_agent",
)
KpiName = Literal[KPI_NAMES]  # type: ignore[valid-type]


class Target(BaseModel):
    """A bound on one KPI: met when min <= value <= max."""

    model_config = ConfigDict(extra="forbid", frozen=True)
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


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: dict[KpiName, Target] = {}
    queues: dict[str, dict[KpiName, Target]] = {}

    @field_validator("queues", mode="before")
    @classmethod
    def _queue_names_are_text(cls, value):  # YAML reads a queue called 1 as a number
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    def for_queue(self, queue: str) -> dict[str, Target]:
        return {**self.targets, **self.queues.get(queue, {})}


def load_targets(path: str | Path | None = None) -> Targets:
    """Read a targets YAML; without a path, the packaged defaults (DOMAIN.md's table)."""
    if path is None:
        text = resources.files("forecasting.history").joinpath("default_targets.yaml").read_text()
        return Targets.model_validate(yaml.safe_load(text))
    return load_yaml(path, Targets, "targets file", "a KPI name: " + ", ".join(KPI_NAMES))
