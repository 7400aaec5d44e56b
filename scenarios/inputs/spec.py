"""Scenario files: a named what-if on demand, targets and supply, as validated YAML.

A scenario may ``extends:`` another (a file name in the same folder, with or without
``.yaml``): the parent's keys are merged under the child's, mappings key by key, lists and
values replaced whole. Validation is strict (unknown keys are errors naming the allowed ones),
so a typo never silently turns into "no change".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from forecasting.common.errors import InputError
from forecasting.common.input_rules import RULES, number_text
from forecasting.history.config import ConfigModel, read_yaml_mapping, validate_mapping
from forecasting.history.targets import DEFAULT_TARGET_SECONDS
from scenarios.inputs.bundled import scenario_dir
from scenarios.service.staffing_plan import DEFAULT_HOURS_PER_FTE

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def ruled(rule: str) -> BeforeValidator:
    """The command line's rule for this kind of number (``forecasting.common.input_rules``), so a
    scenario key refuses what ``capplan staff`` refuses, in the same words (checked before
    the type, so ``.inf`` gets the rule's words rather than 'a finite number')."""

    def check(value):
        try:  # YAML reads 1e9 (no dot) as text; the model would take it as a number
            number = (
                None
                if isinstance(value, bool)
                else number_text(value)
                if isinstance(value, str)
                else float(value)
            )
        except (TypeError, ValueError, OverflowError):
            number = None  # not a number at all: the type check says so
        if number is not None and RULES[rule].broken([number]).any():
            raise ValueError(RULES[rule].expected)
        return value

    return BeforeValidator(check)


def _timestamp(value: str | None) -> str | None:
    """A local date or date-time: planning happens in the center's local time."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        stamp = pd.Timestamp(text) if text[:1].isdigit() else None  # not 'today', 'now'
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or stamp.tz is not None:
        raise ValueError("a local date or date-time such as 2003-06-02 or 2003-06-02 09:00 (no time zone)")
    return text


def _name(value: str) -> str:
    """Names become MLflow tags, parameter keys and folder names: keep them plain."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\- ]*", value or "") or ".." in value:
        raise ValueError("a name of letters, digits, spaces, '_', '-' and '.'")
    return value


def _hours(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        start, end = (pd.Timedelta(f"{part.strip()}:00") for part in str(value).split("-"))
    except ValueError:
        raise ValueError("hours of the day such as 09:00-12:30") from None
    if not pd.Timedelta(0) <= start < end <= pd.Timedelta(days=1):
        raise ValueError("hours of the day such as 09:00-12:30, start before end") from None
    return str(value)


Share = Annotated[float, ruled("share")]
Shrinkage = Annotated[float, ruled("shrinkage")]
Seconds = Annotated[float, ruled("positive_seconds")]


def _text(value):
    """YAML reads 2003-06-02 as a date: take dates and times as the text they were written as."""
    return (
        value.isoformat(sep=" ")
        if isinstance(value, dt.datetime)
        else value.isoformat()
        if isinstance(value, dt.date)
        else value
    )


When = Annotated[str | None, BeforeValidator(_text), AfterValidator(_timestamp)]
Hours = Annotated[str | None, AfterValidator(_hours)]
Weekday = Literal[WEEKDAYS]  # type: ignore[valid-type]
Channel = Literal["voice", "chat", "email"]
FITTED_SERVICE_MODELS = ("calibrated", "learned")  # fitted on the centre's own log
SERVICE_MODELS = ("erlang-c", "erlang-a", *FITTED_SERVICE_MODELS)


class Strict(ConfigModel, BaseModel):  # BaseModel named for ruff: it knows pydantic models by their bases
    # .inf / .nan and booleans are never a number here (ConfigModel): a handle time of .inf
    # would hang the staffing search, service_level: true was a target of 100 %
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class Window(Strict):
    """Where a change applies: dates (``end`` inclusive when a date), weekdays, hours, queues."""

    start: When = None
    end: When = None
    weekdays: list[Weekday] | None = None
    hours: Hours = None
    queues: list[str] | None = None

    @field_validator("weekdays", mode="before")
    @classmethod
    def _lower(cls, value):
        return [str(v).lower() for v in value] if isinstance(value, list) else value

    @field_validator("weekdays", "queues")
    @classmethod
    def _not_empty(cls, value):  # [] read as 'every day / every queue': say so with null instead
        if value is not None and not value:
            raise ValueError("at least one name (leave the key out, or null, for all)")
        return value

    @model_validator(mode="after")
    def _end_after_start(self):
        start, end = getattr(self, "start", None), getattr(self, "end", None)
        if start is not None and end is not None:
            stop = pd.Timestamp(end) + (
                pd.Timedelta(days=1) if len(str(end).strip()) <= 10 else pd.Timedelta(0)
            )
            if stop <= pd.Timestamp(start):
                raise ValueError(f"an end after the start (end {end} is before start {start})")
        return self


EACH_QUEUE = "each"  # data.queue: every queue of the data planned on its own (scenarios.each_queue)


class HistorySpec(Strict):
    """A history file and how to read it (paths relative to the scenario file or project folder)."""

    input: str
    format: Literal["intervals", "anonymous-bank", "log"] = "intervals"
    time_col: str | None = None
    # the value column; or a list: one column per queue, or COLUMN=FIELD (calls=arrivals, handle=aht)
    value_col: str | list[str] | None = None
    queue_col: str | None = None  # an interval report's column naming each row's queue
    mapping: str | None = None
    queue: str | None = (
        None  # forecast one queue of the data (default: all together; each: every queue on its own)
    )
    timezone: str | None = None  # the centre's zone, for times written with UTC offsets or in UTC

    @model_validator(mode="after")
    def _columns_for_interval_reports(self) -> HistorySpec:
        if self.format == "intervals" and not (self.time_col and self.value_col):
            raise ValueError("time_col and value_col for an interval report (format: intervals)")
        if self.format != "intervals" and (self.time_col or self.value_col or self.queue_col):
            raise ValueError(
                f"no time_col / value_col / queue_col for format {self.format} (they are for format: intervals)"
            )
        return self


class DataSpec(HistorySpec):
    """The history the forecast is made from. A daily (or weekly) history is spread to the
    planning interval by an intraday profile: a profile file (``intraday_profile``), or one made
    from an intraday history of the same queue (``intraday_history``); without either, capplan's
    bundled typical day, with a warning."""

    intraday_profile: str | None = None  # CSV: weekday, time, share (or time + a column per weekday)
    intraday_history: HistorySpec | None = None  # an interval report or log of the same queue

    @model_validator(mode="after")
    def _one_profile(self) -> DataSpec:
        if self.intraday_profile is not None and self.intraday_history is not None:
            raise ValueError("intraday_profile or intraday_history, not both (one shape of the day)")
        return self


LONG_INTERVALS = ("day", "daily", "week", "weekly", "month", "monthly")  # a data interval, not a planning one


class ForecastSpec(Strict):
    model: str = "champion"  # champion (the registered model), auto, or a model name
    registered_model: str | None = None  # default: capplan-<input>-arrivals
    horizon_days: int = Field(10, ge=1, le=120)
    interval: Literal["15min", "30min", "60min"] = "30min"  # planning interval
    staff_to: str | float = "mean"  # or a quantile of the forecast, e.g. 0.8
    keep_raw: bool = False  # auto or a named model: fit on the history as it is, not mended of anomalies
    holidays: str | None = (
        None  # auto or a named model: a country's holidays to learn and forecast (US, DE-BY)
    )

    @field_validator("interval", mode="before")
    @classmethod
    def _intervals_within_the_day(cls, value):
        """A day or week is the data's interval, not a planning one: say how daily data is planned."""
        text = value.strip().lower() if isinstance(value, str) else ""
        try:
            length = pd.Timedelta(text) if text else None
        except ValueError:
            length = None
        if text in LONG_INTERVALS or (length is not None and length >= pd.Timedelta(hours=2)):
            raise ValueError(
                "15min, 30min or 60min: staffing needs intervals within the day. A daily or "
                "weekly history is spread to them by data.intraday_profile (a CSV of weekday, "
                "time, share) or data.intraday_history (an intraday report of the same queue); "
                "without either, by a typical day, with a warning"
            )
        return value

    @field_validator("holidays")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        from forecasting.common.errors import InputError
        from forecasting.special_days import SpecialDays

        try:
            SpecialDays(value)
        except InputError as exc:
            raise ValueError(f"{exc.expected}, not {value!r}") from None
        return value

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        from forecasting.catalog import COMBINE_SEP, MODELS

        if value in ("champion", "auto") or all(part in MODELS for part in value.split(COMBINE_SEP)):
            return value
        raise ValueError("champion, auto, or one of " + ", ".join(MODELS) + " (or several joined by '+')")

    @field_validator("staff_to", mode="before")  # before the union: its errors name 'str' and 'float'
    @classmethod
    def _mean_or_quantile(cls, value):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if value == "mean" or (number and 0.5 <= value <= 0.975):
            return value
        raise ValueError("'mean' or a quantile of the forecast between 0.5 and 0.975, e.g. 0.8")


class QueueSpec(Strict):
    channel: Channel = "voice"
    share: Share = 1.0  # of the forecast volume
    aht_seconds: Annotated[float, ruled("aht")] | None = None  # needed when the data has no handle times
    # the service model (also spelt service_model): Erlang C or A, or one fitted on the centre's
    # log (data or evidence): calibrated Erlang A on the agents present, or the learned correction
    model: Literal[SERVICE_MODELS] = "erlang-c"  # type: ignore[valid-type]
    patience_seconds: Annotated[float, ruled("patience")] | None = None  # Erlang A
    concurrency: Annotated[int, ruled("concurrency")] | None = None  # chat
    # email: work waiting when the horizon starts; auto: the queue's share of the tickets
    # waiting for a first response at the end of the data (a ticket export), else none
    starting_backlog: Literal["auto"] | float = "auto"

    @field_validator("starting_backlog", mode="before")
    @classmethod
    def _auto_or_count(cls, value):
        if value == "auto":
            return value
        try:
            count = number_text(value) if isinstance(value, str) else float(value)
        except (TypeError, ValueError, OverflowError):
            count = float("nan")
        if isinstance(value, bool) or not 0 <= count <= 1e7:
            raise ValueError("auto, or a number of items waiting from 0 to 10,000,000")
        return count

    @model_validator(mode="before")
    @classmethod
    def _service_model_spelling(cls, data):
        """``service_model`` is ``model``; it wins over an inherited ``model`` (a scenario that
        extends one with ``model: erlang-a`` and says ``service_model: learned`` means learned)."""
        if isinstance(data, dict) and "service_model" in data:
            data = {k: v for k, v in data.items() if k != "service_model"} | {"model": data["service_model"]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> QueueSpec:
        if self.model == "erlang-a" and self.patience_seconds is None:
            raise ValueError("patience_seconds with model erlang-a")
        if self.model in FITTED_SERVICE_MODELS and self.channel != "voice":
            raise ValueError(f"model {self.model} for voice queues only (it is fitted on a call log)")
        if self.concurrency is not None and self.channel != "chat":
            raise ValueError("concurrency only for channel chat")
        if self.starting_backlog != "auto" and self.channel != "email":
            raise ValueError("starting_backlog only for channel email (deferred work)")
        return self


class Multiplier(Window):
    factor: float = Field(ge=0, le=100)


class Event(Window):
    """A one-off lift: ``step`` holds it for ``duration_hours``, ``spike`` rises to it and falls
    back linearly over ``duration_hours``, ``decay`` jumps to it and halves every ``half_life_hours``."""

    name: str = "event"
    start: Annotated[str, BeforeValidator(_text), AfterValidator(_timestamp)]
    shape: Literal["step", "spike", "decay"] = "decay"
    lift: float = Field(gt=-1, le=100)  # 0.5: +50 % at the peak
    duration_hours: Annotated[float, ruled("response_hours")] = 24.0
    half_life_hours: Annotated[float, ruled("response_hours")] = 4.0


class Shift(Window):
    """Move a share of one queue's volume to another (channel shift, routing change)."""

    from_queue: str = Field(alias="from")
    to_queue: str = Field(alias="to")
    share: Share

    @model_validator(mode="after")
    def _two_queues(self) -> Shift:
        if self.from_queue == self.to_queue:
            raise ValueError(f"a shift between two queues (from and to are both '{self.from_queue}')")
        return self


class AhtChange(Window):
    seconds: float = Field(0.0, ge=-86_400, le=86_400)
    percent: float = Field(0.0, gt=-100, le=10_000)


class DemandSpec(Strict):
    growth_pct: float = Field(0.0, gt=-100, le=10_000)
    multipliers: list[Multiplier] = []
    events: list[Event] = []
    shifts: list[Shift] = []
    aht_changes: list[AhtChange] = []


class ServiceTargets(Strict):
    service_level: Share | None = None
    target_seconds: Seconds = DEFAULT_TARGET_SECONDS
    asa_seconds: Seconds | None = None
    abandon_rate: Share | None = None
    max_occupancy: Annotated[float, ruled("occupancy")] | None = None
    response_hours: Annotated[float, ruled("response_hours")] | None = None  # deferred work (email)
    response_share: Share = 1.0


class TargetsSpec(ServiceTargets):
    service_level: Share | None = 0.8
    queues: dict[str, ServiceTargets] = {}

    def for_queue(self, queue: str) -> ServiceTargets:
        base = self.model_dump(exclude={"queues"})
        own = self.queues[queue].model_dump(exclude_unset=True) if queue in self.queues else {}
        return ServiceTargets(**{**base, **own})


class ShrinkagePeriod(Window):
    shrinkage: Shrinkage


class Supply(Strict):
    shrinkage: Shrinkage = 0.3
    shrinkage_periods: list[ShrinkagePeriod] = []
    hours_per_fte: Annotated[float, ruled("hours_per_fte")] = DEFAULT_HOURS_PER_FTE  # paid hours per week
    cost_per_agent_hour: Annotated[float, ruled("cost_per_hour")] = 0.0
    headcount: Annotated[float, Field(gt=0), ruled("agents")] | None = None  # FTE on the payroll
    budget: Annotated[float, ruled("budget")] | None = None  # over the horizon, in the cost's currency
    available_agents: float | str | None = None  # agents scheduled per interval, or a CSV file

    @field_validator("available_agents", mode="before")
    @classmethod
    def _agents(cls, value):
        expected = (
            "a number of agents >= 0 (no quotes), or a CSV file with columns interval_start[, queue], agents"
        )
        if isinstance(value, bool) or (
            isinstance(value, (int, float)) and RULES["agents"].broken([value]).any()
        ):
            raise ValueError(expected)
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return value
            raise ValueError(expected)
        return value

    @model_validator(mode="after")
    def _budget_has_a_cost(self) -> Supply:
        if self.budget is not None and self.cost_per_agent_hour <= 0:
            raise ValueError("cost_per_agent_hour above 0 with a budget")
        return self


class RiskSpec(Strict):
    simulations: int = Field(500, ge=20, le=20000)
    seed: int = Field(0, ge=0, le=2**32 - 1)  # numpy takes no negative seed
    correlation: Share = 0.5  # of forecast errors within a day
    days_share: Annotated[float, Field(gt=0, lt=1)] = 0.8  # "to meet the target on 80 % of days: N FTE"


class EvidenceSpec(Strict):
    """History whose KPI report shows which targets have been attainable."""

    input: str
    format: Literal["intervals", "anonymous-bank", "log"] = "anonymous-bank"
    mapping: str | None = None
    period: Literal["day", "week", "month"] = "week"


class TenureCohort(Strict):
    """People on the team when the plan starts who joined together."""

    heads: int = Field(ge=0, le=1_000_000)
    tenure_weeks: int = Field(520, ge=0, le=5200)  # weeks employed at the plan's start
    fte_per_head: float = Field(1.0, gt=0, le=1.5)  # 0.5: half-time


class AttritionBand(Strict):
    """Monthly attrition from a tenure on: new hires leave faster."""

    after_weeks: int = Field(0, ge=0, le=5200)  # tenure weeks completed before this rate applies
    monthly: Annotated[float, Field(ge=0, lt=1)]  # 0.03: 3 % of the team leave each month


class TransferSpec(Strict):
    week: int = Field(ge=1, le=78)
    fte: float = Field(ge=-100_000, le=100_000)  # in (+) or out (−), experienced


class HiringSpec(Strict):
    """When classes may start and how big they may be."""

    lead_weeks: int = Field(2, ge=0, le=78)  # recruiting lead time: no class in the first lead_weeks weeks
    every_weeks: int = Field(4, ge=1, le=78)  # a class may start every this many weeks after the lead time
    start_weeks: list[Annotated[int, Field(ge=1, le=78)]] | None = None  # or exactly these weeks
    max_class: int = Field(15, ge=1, le=10_000)
    min_class: int = Field(1, ge=1, le=10_000)
    training_capacity: int | None = Field(None, ge=1, le=100_000)  # trainees in training at once

    @model_validator(mode="after")
    def _sizes(self) -> HiringSpec:
        if self.min_class > self.max_class:
            raise ValueError(f"min_class ({self.min_class}) at most max_class ({self.max_class})")
        return self


class CapacityCosts(Strict):
    """In the currency of supply.cost_per_agent_hour; ``per_fte_week`` defaults to that cost
    times supply.hours_per_fte (else 1: the plan then counts paid FTE-weeks)."""

    per_hire: float = Field(0.0, ge=0, le=1e9)  # recruiting, onboarding
    per_class: float = Field(0.0, ge=0, le=1e9)  # trainer, room
    per_fte_week: float | None = Field(None, gt=0, le=1e9)
    overtime_per_fte_week: float | None = Field(None, ge=0, le=1e9)  # default 1.5 x pay
    outsourcing_per_fte_week: float | None = Field(None, ge=0, le=1e9)  # default 1.3 x pay
    surplus_per_fte_week: float = Field(0.0, ge=0, le=1e9)  # beyond pay


class CapacitySpec(Strict):
    """The long-term plan: the FTE the forecast needs week by week against the team's, and the
    hiring classes that close the gap at least cost."""

    weeks: int = Field(78, ge=4, le=78)
    percentile: Annotated[float, Field(ge=0.5, le=0.99)] = 0.8  # cover the requirement at this quantile
    growth_pct_per_year: float = Field(0.0, gt=-100, le=1000)  # on top of the forecast
    aht_change_pct: float = Field(0.0, gt=-100, le=1000)
    shrinkage_by_month: dict[Annotated[int, Field(ge=1, le=12)], Shrinkage] = {}  # else supply.shrinkage
    team: list[TenureCohort] = Field(min_length=1)
    attrition: list[AttritionBand] = [AttritionBand(monthly=0.03)]
    training_weeks: int = Field(4, ge=0, le=52)
    ramp: list[Annotated[float, Field(ge=0, le=1)]] = [0.5, 0.5, 0.75, 0.75]  # productivity after training
    hire_fte: float = Field(1.0, gt=0, le=1.5)
    transfers: list[TransferSpec] = []
    hiring: HiringSpec = HiringSpec()
    overtime_max_share: Annotated[float, Field(ge=0, le=0.5)] = 0.0  # of the productive FTE
    outsourcing_max_fte: float = Field(0.0, ge=0, le=1e6)
    costs: CapacityCosts = CapacityCosts()
    simulations: int = Field(1000, ge=100, le=20_000)
    seed: int = Field(0, ge=0, le=2**32 - 1)

    @field_validator("attrition", mode="before")
    @classmethod
    def _one_rate(cls, value):
        """``attrition: 0.03`` is one rate for every tenure."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [{"after_weeks": 0, "monthly": value}]
        return value

    @field_validator("attrition")
    @classmethod
    def _bands(cls, value: list[AttritionBand]) -> list[AttritionBand]:
        starts = [b.after_weeks for b in value]
        if not value or starts[0] != 0 or any(b <= a for a, b in pairwise(starts)):
            raise ValueError("tenure bands whose after_weeks start at 0 and rise (e.g. 0, then 13)")
        return value


class BreakSpec(Strict):
    minutes: int = Field(ge=5, le=240)
    after_hours: tuple[Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]]  # window
    paid: bool = False

    @model_validator(mode="after")
    def _window(self) -> BreakSpec:
        if self.after_hours[0] > self.after_hours[1]:
            raise ValueError(f"after_hours as [earliest, latest] (got {list(self.after_hours)})")
        return self


class ShiftTemplateSpec(Strict):
    """A kind of shift: ``start_window: 06:30-12:30`` is when it may start."""

    name: Annotated[str, AfterValidator(_name)]
    hours: float = Field(gt=0, le=16)  # start to end, breaks included
    start_window: Hours
    start_step_minutes: int = Field(30, ge=5, le=720)
    breaks: list[BreakSpec] = []
    days_per_week: int = Field(5, ge=1, le=7)
    consecutive_days_off: bool = True
    part_time: bool = False
    cost_per_hour: float | None = Field(None, ge=0, le=1e6)  # default supply.cost_per_agent_hour (else 1)
    max_agents: int | None = Field(None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _breaks_inside(self) -> ShiftTemplateSpec:
        if self.start_window is None:
            raise ValueError("start_window: the hours a shift may start, e.g. 06:30-12:30")
        for b in self.breaks:
            if b.after_hours[1] * 60 + b.minutes > self.hours * 60:
                raise ValueError(
                    f"breaks inside the shift: a {b.minutes}-minute break {b.after_hours[1]:g} h after the start ends after its {self.hours:g} h"
                )
        return self


class ScheduleSpec(Strict):
    """The week's shifts: templates, and limits on the whole schedule."""

    templates: list[ShiftTemplateSpec] = Field(min_length=1)
    max_part_time_share: Share | None = None
    max_agents: int | None = Field(None, ge=1, le=1_000_000)  # a headcount cap: least shortfall instead
    min_on_duty: int = Field(0, ge=0, le=100_000)  # agents at least, whenever the centre is open
    max_on_duty: int | None = Field(None, ge=1, le=1_000_000)  # seats
    time_limit_seconds: float = Field(60, gt=0, le=3600)

    @field_validator("templates")
    @classmethod
    def _names(cls, value: list[ShiftTemplateSpec]) -> list[ShiftTemplateSpec]:
        names = [t.name for t in value]
        if len(set(names)) != len(names):
            raise ValueError(f"a name of its own for each template (given: {', '.join(names)})")
        return value


class Scenario(Strict):
    name: Annotated[str, AfterValidator(_name)]
    description: str = ""
    extends: str | None = None
    baseline: str | None = None  # the scenario compared against (default: the one extended)
    data: DataSpec
    forecast: ForecastSpec = ForecastSpec()
    queues: dict[str, QueueSpec] = {"voice": QueueSpec()}
    demand: DemandSpec = DemandSpec()
    targets: TargetsSpec = TargetsSpec()
    supply: Supply = Supply()
    risk: RiskSpec = RiskSpec()
    evidence: EvidenceSpec | None = None
    capacity: CapacitySpec | None = None  # the long-term hiring plan (capplan capacity)
    schedule: ScheduleSpec | None = None  # the week's shifts (capplan schedule)

    @field_validator("queues", mode="before")
    @classmethod
    def _queue_names_are_text(cls, value):
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("queues")
    @classmethod
    def _plain_queue_names(cls, value):
        for name in value:
            _name(name)
        return value

    @model_validator(mode="after")
    def _own_name(self) -> Scenario:
        if self.extends_name is not None and self.name == self.extends_name:
            raise ValueError(
                f"a name of its own: '{self.name}' is the scenario it extends (runs are found by name)"
            )
        return self

    @model_validator(mode="after")
    def _queues_known(self) -> Scenario:
        if not self.queues:
            raise ValueError("at least one queue")
        total = sum(q.share for q in self.queues.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"queue shares adding up to 1 (they add up to {total:g})")
        known = set(self.queues)
        windows = [
            *self.demand.multipliers,
            *self.demand.events,
            *self.demand.aht_changes,
            *self.supply.shrinkage_periods,
        ]
        named = [q for w in windows for q in (w.queues or [])]
        named += [q for s in self.demand.shifts for q in (s.from_queue, s.to_queue, *(s.queues or []))]
        named += list(self.targets.queues)
        unknown = sorted(set(named) - known)
        if unknown:
            raise ValueError(
                f"queue names among those under 'queues' ({', '.join(sorted(known))}); unknown: {', '.join(unknown)}"
            )
        for q, spec in self.queues.items():
            t = self.targets.for_queue(q)
            if spec.channel == "email" and t.response_hours is None:
                raise ValueError(f"targets.queues.{q}.response_hours for email queue '{q}'")
            if spec.channel != "email" and all(
                v is None for v in (t.service_level, t.asa_seconds, t.abandon_rate, t.max_occupancy)
            ):
                raise ValueError(
                    f"a target for queue '{q}' (service_level, asa_seconds, abandon_rate or max_occupancy)"
                )
        return self

    @property
    def baseline_name(self) -> str | None:
        """The scenario compared against: ``baseline``, else the one extended (by its name)."""
        if self.baseline == self.name:
            return None
        return self.baseline or self.extends_name

    @property
    def extends_name(self) -> str | None:
        return Path(self.extends).stem if self.extends else None

    def flat_params(self) -> dict[str, str]:
        """Every setting as ``section.key`` → text, for MLflow parameters."""
        return {k: v for k, v in _flatten(self.model_dump(by_alias=True, exclude={"description"})).items()}


def _flatten(value, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    text = json.dumps(value, default=str) if isinstance(value, list) else str(value)
    return {prefix.rstrip("."): text}


def merge(parent: dict, child: dict) -> dict:
    """Child over parent: mappings merged key by key, anything else replaced."""
    out = dict(parent)
    for key, value in child.items():
        out[key] = (
            merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def find_scenario_file(folder: Path, name) -> Path | None:
    """The scenario file called ``name`` in ``folder``, with or without .yaml / .yml."""
    candidates = [folder / str(name), folder / f"{name}.yaml", folder / f"{name}.yml"]
    return next((c for c in candidates if c.is_file()), None)


def scenario_path(name_or_path: str | Path, folder: Path | None = None) -> Path:
    """A file path as given, or a scenario name looked up in the scenarios folder."""
    folder = folder or scenario_dir()
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    found = find_scenario_file(folder, path.name)
    if found is not None:
        return found
    if path.suffix in (".yaml", ".yml"):
        raise InputError("scenario file not found", path=path, expected="a YAML scenario file")
    known = ", ".join(p.stem for p in sorted(folder.glob("*.yaml"))) or "none"
    raise InputError(
        "no such scenario",
        key=str(name_or_path),
        expected=f"a scenario file or one of the names in {folder}: {known}",
    )


def raw_scenario(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The file's mapping with everything it extends merged underneath; ``baseline`` defaults
    to the name of the scenario extended."""
    data = read_yaml_mapping(path, "scenario file")
    data.setdefault("name", path.stem)
    parent_name = data.get("extends")
    if parent_name is None:
        return data
    parent = find_scenario_file(path.parent, parent_name)
    if parent is None:
        known = ", ".join(p.stem for p in scenario_files(path.parent)) or "none"
        raise InputError(
            "the scenario it extends is not there",
            path=path,
            key="extends",
            found=parent_name,
            expected=f"the name of a scenario file in the same folder: {known}",
        )
    if parent.resolve() in seen or parent.resolve() == path.resolve():
        raise InputError(
            "scenarios extend each other in a circle",
            path=path,
            key="extends",
            found=parent_name,
            expected="a chain of scenarios that ends in one without 'extends'",
        )
    base = raw_scenario(parent, (*seen, path.resolve()))
    data.setdefault("baseline", base.get("name"))
    for key in ("name", "baseline", "description"):
        base.pop(key, None)
    return merge(base, data)


def load_scenario(name_or_path: str | Path) -> tuple[Scenario, Path]:
    """Validated scenario (with what it extends) and the file it came from. A mistake in a
    scenario it extends is reported in that file, not in this one."""
    path = scenario_path(name_or_path)
    raw = raw_scenario(path)
    try:
        return validate_mapping(raw, Scenario, path), path
    except InputError:
        parent_name = read_yaml_mapping(path, "scenario file").get("extends")
        parent = find_scenario_file(path.parent, parent_name) if parent_name else None
        if parent is not None:
            load_scenario(parent)  # raises the parent's own error, if it has one
        raise


def scenario_files(folder: Path | None = None) -> list[Path]:
    folder = folder or scenario_dir()
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
