"""A service model fitted on a centre's log, as the staffing search uses it: planned agents
in, the service they give out, in Erlang's place (``scenarios.staffing`` takes any such
function). Planned agents are agents on the phones, so they stand for the agents *present*
of the log; the calibrated model counts α of them, the learned one corrects that further.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.contacts import Contacts
from scenarios.service.models import LearnedModel, QueueingModel
from scenarios.service.table import service_table
from scenarios.service.validation import Validation, choose_presence_gap, out_of_time_folds, validate_staffing

HELD_OUT_DAYS = 7  # the last week of the log is predicted from the days before it, for the record
MIN_DAYS_TO_VALIDATE = 10  # fewer days: fitted on all, validated out of time on the training days only
KINDS = {"calibrated": "present", "learned": "learned"}  # a scenario's model -> validation's name


@dataclass
class ServiceFunction:
    """``(volume, aht, interval_seconds, agents, target_seconds, asa) -> metrics`` of a fitted
    model, shaped like ``erlang_a_metrics``'s."""

    model: QueueingModel | LearnedModel

    def __call__(self, volume, aht, interval_seconds, agents, target_seconds, asa: bool = True) -> dict:
        volume, aht, agents = np.broadcast_arrays(*(np.asarray(a, float) for a in (volume, aht, agents)))
        base = self.model.base if isinstance(self.model, LearnedModel) else self.model
        table = pd.DataFrame({"arrivals": volume.ravel(), "aht": aht.ravel(), base.agents: agents.ravel()})
        m = self.model.metrics(table, float(np.asarray(interval_seconds).flat[0]), float(target_seconds), asa)
        load = m["load"]
        with np.errstate(divide="ignore", invalid="ignore"):
            occupancy = np.clip(load * (1 - m["abandon_rate"]) / table[base.agents].to_numpy(), 0.0, 1.0)
        out = {
            key: np.asarray(m[key], float)
            for key in ("load", "p_wait", "service_level", "asa_seconds", "abandon_rate")
        }
        out["occupancy"] = np.where(np.isfinite(occupancy), occupancy, 0.0)
        out["overloaded"] = np.zeros(len(table), bool)
        no_calls = table["arrivals"].to_numpy() <= 0
        for key, value in (
            ("service_level", 1.0),
            ("asa_seconds", 0.0),
            ("abandon_rate", 0.0),
            ("p_wait", 0.0),
        ):
            out[key] = np.where(no_calls, value, out[key])
        return {key: value.reshape(volume.shape) for key, value in out.items()}


@dataclass
class FittedService:
    """What a scenario records of its fitted service model."""

    kind: str  # calibrated or learned
    function: ServiceFunction
    presence_gap: float
    availability: float
    patience_seconds: float
    validation: pd.DataFrame | None  # validate-staffing's summary on the log's last week

    def load_warning(self, queue: str, load) -> str | None:
        """Says where the learnt correction does not apply: intervals far busier than the log's."""
        model = self.function.model
        if not isinstance(model, LearnedModel):
            return None
        strange = ~model.familiar(load)
        if not strange.any():
            return None
        return (
            f"queue {queue}: {strange.sum():,} of {len(strange):,} intervals carry more load than the log "
            f"the learned service model was fitted on (up to {model.max_load_:,.1f} Erlangs): they are "
            "staffed on the calibrated Erlang A alone"
        )

    def metrics(self, queue: str) -> dict[str, float]:
        """Flat MLflow metrics of the fit and, when validated, its held-out errors."""
        out = {
            f"service.{queue}.availability": self.availability,
            f"service.{queue}.patience_seconds": self.patience_seconds,
            f"service.{queue}.presence_gap_seconds": self.presence_gap,
        }
        if self.validation is not None:
            row = self.validation.set_index("model").loc[KINDS[self.kind]]
            for metric in ("abandon_rate", "asa", "sl"):
                out[f"service.{queue}.validation_{metric}_mae"] = float(row[f"{metric}_mae"])
        return out


def fit_service(
    contacts: Contacts, length: pd.Timedelta, target_seconds: float, kind: str, validate: bool = True
) -> FittedService:
    """The ``kind`` model fitted on every day of the log (the presence gap picked out of time),
    and validate-staffing's summary with the last week held out when the log is long enough
    (and ``validate``: a second opinion beside another model's plan needs no check, which costs
    most of the time)."""
    if not contacts.has("agent_id", "answer_time", "wait_seconds", "handle_seconds"):
        raise InputError(
            f"model {kind} needs a call log with agents",
            column="agent_id",
            expected="agent, answer time, wait and handle time per call (e.g. format anonymous-bank)",
        )
    table = service_table(contacts, length, target_seconds)
    if table.empty:
        raise InputError(
            f"model {kind} needs served calls with agents",
            column="agent_id",
            expected="intervals with arrivals, served calls and agents",
        )
    seconds = length.total_seconds()
    gap = choose_presence_gap(table, out_of_time_folds(table), contacts, seconds, target_seconds)
    base = QueueingModel("erlang-a", seconds, target_seconds, agents=f"present_{gap:g}", calibrate=True)
    model = base if kind == "calibrated" else LearnedModel(base)
    model.fit(table, contacts)
    check = last_week_check(contacts, length, target_seconds) if validate else None
    validation = None if check is None else check.summary
    return FittedService(kind, ServiceFunction(model), gap, base.availability_, base.patience_, validation)


def last_week_check(contacts: Contacts, length: pd.Timedelta, target_seconds: float) -> Validation | None:
    """validate-staffing with the log's last week held out (None when the log is too short):
    how well each service model, fitted on the days before, predicts that week."""
    days = np.sort(contacts.frame["arrival_time"].dt.normalize().unique())
    if len(days) < MIN_DAYS_TO_VALIDATE:
        return None
    train_until = pd.Timestamp(days[-HELD_OUT_DAYS - 1])
    return validate_staffing(contacts, length, train_until, target_seconds, replications=3)
