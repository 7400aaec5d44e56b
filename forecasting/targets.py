"""KPI targets: defaults from DOMAIN.md, overridable per file and per queue."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from forecasting.errors import InputError

KPI_NAMES = (
    "arrivals", "handled", "abandoned", "aht", "asa", "service_level", "abandon_rate",
    "first_response_mean_s", "first_response_p90_s", "resolution_mean_s", "resolution_p90_s",
    "csat", "csat_mean", "nps", "ces", "fcr", "repeat_rate", "contacts_per_issue", "contacts_per_agent",
)  # fmt: skip
KpiName = Literal[KPI_NAMES]  # type: ignore[valid-type]


class Target(BaseModel):
    """A bound on one KPI: met when min <= value <= max."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> "Target":
        if self.min is None and self.max is None:
            raise ValueError("give min or max")
        return self

    def met(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def text(self) -> str:
        parts = ([f">= {self.min:g}"] if self.min is not None else []) + ([f"<= {self.max:g}"] if self.max is not None else [])
        return " and ".join(parts)


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: dict[KpiName, Target] = {}
    queues: dict[str, dict[KpiName, Target]] = {}

    def for_queue(self, queue: str) -> dict[str, Target]:
        return {**self.targets, **self.queues.get(queue, {})}


def load_targets(path: str | Path | None = None) -> Targets:
    """Read a targets YAML; without a path, the packaged defaults (DOMAIN.md's table)."""
    if path is None:
        text = resources.files("forecasting").joinpath("default_targets.yaml").read_text()
        return Targets.model_validate(yaml.safe_load(text))
    path = Path(path)
    if not path.exists():
        raise InputError("targets file not found", path=path, expected="a YAML targets file")
    try:
        return Targets.model_validate(yaml.safe_load(path.read_text()) or {})
    except yaml.YAMLError:
        raise InputError("invalid YAML", path=path, expected="a valid YAML targets file") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "literal_error":
            expected = "a KPI name: " + ", ".join(KPI_NAMES)
        elif err["type"] == "extra_forbidden":
            expected = "only the keys targets, queues, and min/max inside a target"
        else:
            expected = err["msg"]
        raise InputError("bad target", path=path, column=key, expected=expected, found=err.get("input")) from None
