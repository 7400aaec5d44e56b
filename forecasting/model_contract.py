"""What a stored model was trained on, and whether it may forecast the data in hand.

A champion trained on 30-minute slots forecasts 30-minute volumes: asked for an hourly export
of the same series, its values written at hourly timestamps are half the volume, with exit 0.
So every registered version carries its contract (the series, the queue and the set of queues
it was made of, the slot length, the units, the opening hours and the file it came from) and
every command that puts a stored model on data (``forecast``, ``scenario run``, ``train`` over
an existing champion, ``retrain``) checks it here, in one place: the same slots, or longer
intervals the model's slots add up to exactly (converted), or one line naming what differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.intervals import interval_minutes

TAG_PREFIX = "capplan.contract."
UNITS = {"arrivals": "contacts per interval", "aht": "seconds per handled contact"}


@dataclass(frozen=True)
class ModelContract:
    """The series a model forecasts; fields a model older than contracts cannot tell are None."""

    series: str  # arrivals | aht
    interval: pd.Timedelta  # the slot length the model forecasts
    queue: str | None = None  # 'all' (the queues summed) or one queue
    queues: tuple[str, ...] | None = None  # the queues of the data it was trained on
    source: str | None = None  # the history file's name
    hours: str | None = None  # opening hours per weekday, as the ingest summary says them

    @property
    def units(self) -> str:
        return UNITS.get(self.series, "")

    def to_tags(self) -> dict[str, str]:
        """Model-version tags (MLflow's registry shows them beside the version; the store
        prefixes them with ``capplan.contract.``)."""
        values = {
            "series": self.series,
            "interval_minutes": str(interval_minutes(self.interval)),
            "units": self.units,
            "queue": self.queue,
            "queues": None if self.queues is None else "\n".join(self.queues),
            "source": self.source,
            "hours": self.hours,
        }
        return {k: v[:5000] for k, v in values.items() if v is not None}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> ModelContract | None:
        """The contract recorded with a version (tags with or without their prefix), or None
        for a version registered before contracts."""
        got = {k.removeprefix(TAG_PREFIX): v for k, v in tags.items()}
        if "series" not in got or "interval_minutes" not in got:
            return None
        queues = got.get("queues")
        return cls(
            series=got["series"],
            interval=pd.Timedelta(minutes=int(got["interval_minutes"])),
            queue=got.get("queue"),
            queues=None if queues is None else tuple(q for q in queues.split("\n") if q),
            source=got.get("source"),
            hours=got.get("hours"),
        )

    @classmethod
    def of_forecaster(cls, forecaster) -> ModelContract:
        """What a fitted model itself tells (versions registered before contracts): its slot
        length, and counts or handle times by its error distribution."""
        series = "aht" if getattr(forecaster, "distribution", "negbin") == "normal" else "arrivals"
        return cls(series=series, interval=forecaster.calendar_.interval)

    def describe(self) -> str:
        who = "all queues" if self.queue in (None, "all") else f"queue '{self.queue}'"
        return f"{self.series} of {who} per {_length(self.interval)}"


def data_contract(result, field: str, queue: str | None, source: str | None = None) -> ModelContract:
    """The contract a model trained on (or asked to forecast) this ingested history would have."""
    combined = getattr(result, "combined_queues", None)  # summed at ingest: still the file's queues
    queues = combined or tuple(sorted(map(str, result.intervals["queue"].unique())))
    calendar = result.calendar
    hours = "; ".join(f"{day} {text}" for day, text in calendar.describe_hours().items())
    return ModelContract(
        series=field,
        interval=result.interval,
        queue="all" if queue in (None, "all") else str(queue),
        queues=queues,
        source=source if source is not None else getattr(result, "source", None) and _name(result.source),
        hours=hours,
    )


@dataclass(frozen=True)
class Fit:
    """How a model's slots map onto the data's intervals: ``slots`` model slots make one data
    interval (1: the same; more: the model's slots are summed, or averaged for handle times)."""

    model_interval: pd.Timedelta
    data_interval: pd.Timedelta

    @property
    def slots(self) -> int:
        return int(self.data_interval // self.model_interval)

    @property
    def converts(self) -> bool:
        return self.slots > 1

    def note(self) -> str | None:
        if not self.converts:
            return None
        return (
            f"the model forecasts {_length(self.model_interval)} slots; the data's intervals are "
            f"{_length(self.data_interval)}: each is the total of {self.slots} model slots"
        )


def check_fits(
    model: ModelContract, data: ModelContract, name: str, purpose: str = "forecast", key: dict | None = None
) -> Fit:
    """Whether the model ``name`` may be used on data with contract ``data``, and how.

    ``purpose`` 'forecast' converts a finer model to the data's longer intervals ('plan' to a
    scenario's longer planning interval); 'retrain'
    and 'train' compare or replace the model on this data, so the series must be the same
    in every respect (no conversion). Raises one line naming what differs."""
    where = key or {"option": "model"}
    fix = _fix(purpose)

    def refuse(what: str, found: str, expected: str) -> InputError:
        return InputError(f"the model {name} {what}", expected=f"{expected} ({fix})", found=found, **where)

    if model.series != data.series:
        raise refuse(f"forecasts {model.series}", f"asked for {data.series}", f"a model of {data.series}")
    if model.queue is not None and model.queue != data.queue:
        asked, trained = _queue_words(data.queue), _queue_words(model.queue)
        raise refuse(f"was trained on {trained}", asked, f"a model of {asked}")
    same_queues = model.queues is None or data.queues is None or set(model.queues) == set(data.queues)
    if model.queue == "all" and not same_queues:
        added = sorted(set(data.queues) - set(model.queues))
        gone = sorted(set(model.queues) - set(data.queues))
        differs = [
            f"queues it never saw: {_list(added)}" if added else "",
            f"without its queues {_list(gone)}" if gone else "",
        ]
        raise refuse(
            f"was trained on the total of queues {_list(model.queues)}",
            "data with " + "; ".join(d for d in differs if d),
            "data with the same queues",
        )
    step, wanted = model.interval, data.interval
    exact = wanted >= step and wanted % step == pd.Timedelta(0)
    converts = purpose in ("forecast", "plan")
    if wanted != step and (not converts or not exact):
        what = "a planning interval of" if purpose == "plan" else "data at"
        expected = f"{what} {_length(step)} intervals" + (" or a multiple of them" if converts else "")
        shown = (
            f"a planning interval of {_length(wanted)}"
            if purpose == "plan"
            else f"{_length(wanted)} intervals"
        )
        raise refuse(f"forecasts {_length(step)} slots", shown, expected)
    return Fit(step, wanted)


def _queue_words(queue: str) -> str:
    if queue == "all":
        return "all queues together"
    return "every queue, each with its own model" if queue == "each" else f"queue '{queue}'"


def _fix(purpose: str) -> str:
    if purpose in ("forecast", "plan"):
        return "train a model on this data, or name another with <<registered_model>>"
    return "train under another name (<<registered_model>>), or give data like the model's"


def _length(step: pd.Timedelta) -> str:
    minutes = interval_minutes(step)
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "1-day" if days == 1 else f"{days}-day"
    if minutes % 60 == 0:
        return f"{minutes // 60}-hour" if minutes > 60 else "1-hour"
    return f"{minutes}-minute"


def _list(names) -> str:
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _name(source) -> str:
    from pathlib import Path

    return Path(str(source)).name


def stored_contract(store, version, forecaster=None) -> ModelContract | None:
    """The contract registered with ``version``; for a version registered before contracts,
    what its fitted model tells (None when neither is at hand yet)."""
    reader = getattr(store, "model_contract", None)
    recorded = ModelContract.from_tags(reader(version)) if reader is not None else None
    if recorded is not None:
        return recorded
    return ModelContract.of_forecaster(forecaster) if forecaster is not None else None


def load_checked(
    store, name: str, data: ModelContract, version=None, purpose: str = "forecast", key: dict | None = None
):
    """The model ``name`` (its champion, or ``version``) checked against the data it is about to
    be used on, before any number is made: (forecaster, model name, version, fit). The recorded
    contract is checked before the model's files are loaded; an older version's after."""
    found = version or store.model_version(name)
    label = f"{name} version {found.version}" if found is not None else name
    contract = stored_contract(store, found) if found is not None else None
    if contract is not None:
        check_fits(contract, data, label, purpose, key)
    forecaster, model_name, version = store.load_forecaster(name, version=found)
    contract = contract or ModelContract.of_forecaster(forecaster)
    return forecaster, model_name, version, check_fits(contract, data, label, purpose, key)


CLOSED_SHARE = 0.02  # of the data's recent volume at times the model is closed: more is not stray


def check_hours(forecaster, history: pd.Series, fit: Fit, name: str, key: dict | None = None) -> None:
    """Refuse a stored model for data that is open when the model's centre was closed (longer
    hours, weekends, another time zone): it would forecast 0 there, and a plan would staff no
    one. Judged on the data's last four weeks, by the share of contacts (of intervals, for
    handle times) in intervals holding none of the model's open slots, so a stray call at the
    edge of the day is not a reason."""
    recent = history[history.index > history.index.max() - pd.Timedelta(days=28)]
    if recent.empty:
        return
    stamps = pd.DatetimeIndex(recent.index)
    if fit.data_interval < fit.model_interval:  # finer data (a scenario plans at the model's slots)
        covered = forecaster.calendar_.is_open(stamps.floor(fit.model_interval))
    elif fit.converts:
        offsets = np.arange(fit.slots) * fit.model_interval.value
        slots = pd.DatetimeIndex((stamps.asi8[:, None] + offsets[None, :]).ravel())
        covered = forecaster.calendar_.is_open(slots).reshape(len(stamps), fit.slots).any(axis=1)
    else:
        covered = forecaster.calendar_.is_open(stamps)
    counts = recent.name != "aht"
    weights = recent.to_numpy(float) if counts else np.ones(len(recent))
    total = weights.sum()
    share = weights[~covered].sum() / total if total > 0 else 0.0
    if share <= CLOSED_SHARE:
        return
    what = "of its contacts" if counts else "of its intervals"
    raise InputError(
        f"the model {name} was trained on a centre closed at times this data is open ({share:.0%} {what} "
        f"in the last four weeks): {_closed_times(stamps[~covered], fit.data_interval)}",
        expected="data within the model's opening hours (train a model on this data, or check the time zone)",
        **(key or {"option": "model"}),
    )


def _closed_times(stamps: pd.DatetimeIndex, step: pd.Timedelta, shown: int = 3) -> str:
    """'Saturday 08:00-18:00, Monday 06:00-08:00 and 2 more': the first and last such interval
    of each weekday."""
    from forecasting.calendar import WEEKDAYS

    frame = pd.DataFrame({"day": stamps.day_of_week, "at": stamps - stamps.normalize()}).drop_duplicates()
    parts = []
    for day, group in frame.groupby("day", sort=True):
        at = np.sort(group["at"].to_numpy())
        breaks = np.flatnonzero(np.diff(at) > step.to_timedelta64()) + 1  # runs of adjacent intervals
        runs = [
            f"{_hhmm(pd.Timedelta(r[0]))}-{_hhmm(pd.Timedelta(r[-1]) + step)}" for r in np.split(at, breaks)
        ]
        parts.append(f"{WEEKDAYS[day]} {' and '.join(runs)}")
    more = f" and {len(parts) - shown} more" if len(parts) > shown else ""
    return ", ".join(parts[:shown]) + more


def _hhmm(offset: pd.Timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
