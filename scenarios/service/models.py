"""Service models: from an interval's arrivals, AHT and agents to its abandonment, ASA and
service level. Each is fitted on the days of a log and predicts other days (sklearn-like
``fit(table, contacts)`` / ``predict(table)``), so the out-of-time check treats them alike.

- ``erlang-c`` / ``erlang-a``: the textbook formulas on the agents seen (Erlang A with the
  callers' mean patience from the log).
- ``calibrated``: Erlang A on the agents seen × the availability α that reproduces the
  training days' abandonment and service level; ``calibrated-by-hour``: one α per hour of
  day, shrunk towards the overall one where an hour has few intervals.
- ``present``: Erlang A on the agents *present* (their spans between calls, see
  ``presence``) × α.
- ``learned``: gradient boosting from a queueing model's prediction and the agents per
  Erlang of load to what happened, monotone in both, so more agents never predict worse service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from forecasting.history.contacts import Contacts
from scenarios.staffing.calibration import fit_availability, patience_from_abandonment
from scenarios.staffing.erlang import erlang_a_metrics, erlang_c_metrics

METRICS = ("abandon_rate", "asa_seconds", "service_level")
OBSERVED = {"abandon_rate": "abandon_rate", "asa_seconds": "asa", "service_level": "service_level"}
HOUR_SHRINK_INTERVALS = 10  # an hour's own α weighs as much as the overall α after this many intervals
PATIENCE_PRIOR_CALLS = 200  # an hour's own patience weighs as much as the overall one after this many calls
LOAD_STRETCH = 1.25  # the learnt correction holds up to this × the busiest training interval's load


def patience_of(contacts: Contacts) -> float:
    f = contacts.frame
    return patience_from_abandonment(
        f["wait_seconds"].fillna(0).to_numpy(float), f["abandoned"].to_numpy(bool)
    )


def patience_by_hour(contacts: Contacts) -> dict[float, float]:
    """Mean patience per hour of day of arrival, θ̂ = P(Ab)/E[W] from the hour's totals with
    ``PATIENCE_PRIOR_CALLS`` callers' worth of the overall totals added: evening callers may
    hang up sooner than morning ones, but a quiet hour's few abandonments say little."""
    f = contacts.frame
    wait = f["wait_seconds"].fillna(0).to_numpy(float)
    abandoned = f["abandoned"].to_numpy(bool)
    hour = f["arrival_time"].dt.hour.to_numpy()
    waits = np.bincount(hour, weights=wait, minlength=24)
    hung_up = np.bincount(hour, weights=abandoned.astype(float), minlength=24)
    calls = np.bincount(hour, minlength=24)
    prior_wait, prior_ab = PATIENCE_PRIOR_CALLS * wait.mean(), PATIENCE_PRIOR_CALLS * abandoned.mean()
    out = {}
    for h in np.flatnonzero(calls):
        ab = hung_up[h] + prior_ab
        out[float(h)] = float((waits[h] + prior_wait) / ab) if ab > 0 else float("inf")
    return out


@dataclass
class QueueingModel:
    """Erlang C or A on an agents column, optionally scaled by a fitted availability α."""

    kind: str  # "erlang-c" or "erlang-a"
    interval_seconds: float
    target_seconds: float
    agents: str = "agents_seen"  # the table's column of agents
    calibrate: bool = False
    by_hour: bool = False
    patience_by_hour: bool = False  # callers' patience per hour of day (shrunk towards the overall)
    availability_: float = field(default=1.0, init=False)
    by_hour_: dict = field(default_factory=dict, init=False)
    patience_: float = field(default=float("inf"), init=False)
    patience_hours_: dict = field(default_factory=dict, init=False)

    def fit(self, table: pd.DataFrame, contacts: Contacts) -> QueueingModel:
        self.patience_ = patience_of(contacts)
        if self.patience_by_hour:
            self.patience_hours_ = patience_by_hour(contacts)
        if self.calibrate:
            self.availability_ = self._alpha(table)
            if self.by_hour:
                hours = np.floor(table["hour"])
                self.by_hour_ = {}
                for hour, part in table.groupby(hours):
                    weight = len(part) / (len(part) + HOUR_SHRINK_INTERVALS)
                    self.by_hour_[hour] = weight * self._alpha(part) + (1 - weight) * self.availability_
        return self

    def _alpha(self, part: pd.DataFrame) -> float:
        return fit_availability(
            part["arrivals"],
            part["aht"],
            part[self.agents],
            part["abandon_rate"],
            part["service_level"],
            self.interval_seconds,
            self.target_seconds,
            self.patience(part),
        )

    def patience(self, table: pd.DataFrame):
        """Mean patience per row: the hour of day's when fitted by hour, else the overall one."""
        if not self.patience_hours_ or "hour" not in table:
            return self.patience_
        return np.floor(table["hour"]).map(self.patience_hours_).fillna(self.patience_).to_numpy(float)

    def modelled_agents(self, table: pd.DataFrame) -> np.ndarray:
        alpha = np.full(len(table), self.availability_)
        if self.by_hour_:
            alpha = np.floor(table["hour"]).map(self.by_hour_).fillna(self.availability_).to_numpy(float)
        return np.maximum(table[self.agents].to_numpy(float) * alpha, 1e-3)

    def metrics(
        self,
        table: pd.DataFrame,
        interval_seconds: float | None = None,
        target_seconds: float | None = None,
        asa: bool = True,
    ) -> dict[str, np.ndarray]:
        """Every metric the formula gives (load, occupancy, …) and ``agents_modelled``, for
        the table's intervals, at another interval length or threshold when given (without
        Erlang A's ASA quadrature when ``asa`` is false: the staffing search rarely needs it)."""
        v, h = table["arrivals"].to_numpy(float), table["aht"].to_numpy(float)
        seconds = interval_seconds or self.interval_seconds
        target = self.target_seconds if target_seconds is None else target_seconds
        n = self.modelled_agents(table)
        if self.kind == "erlang-c":
            m = dict(erlang_c_metrics(v, h, seconds, n, target))
        else:
            m = dict(erlang_a_metrics(v, h, seconds, n, target, self.patience(table), served_asa=asa))
        m["asa_seconds"] = np.where(np.isfinite(m["asa_seconds"]), m["asa_seconds"], np.nan)
        m["agents_modelled"] = n
        return m

    def predict(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        m = self.metrics(table)
        return {k: np.asarray(m[k], float) for k in (*METRICS, "agents_modelled")}


@dataclass
class LearnedModel:
    """What happened, learnt from a queueing model's prediction and the modelled agents per
    Erlang of offered load (both monotone: more agents, better service), one gradient-boosted
    regressor per metric, weighted by arrivals. Small trees and few leaves: a week of hours is
    a few hundred rows."""

    base: QueueingModel
    seed: int = 0
    edges_: dict = field(
        default_factory=dict, init=False
    )  # metric -> (best base value, most agents per load) seen
    max_load_: float = field(default=float("inf"), init=False)  # Erlangs of the busiest training interval

    def fit(self, table: pd.DataFrame, contacts: Contacts) -> LearnedModel:
        from sklearn.ensemble import HistGradientBoostingRegressor

        self.base.fit(table, contacts)
        base = self.base.predict(table)
        weight = table["arrivals"].to_numpy(float)
        self.max_load_ = float(np.nanmax(self._load(table, {})))
        self.models_ = {}
        for metric in METRICS:
            X = self._features(table, base, metric)
            y = table[OBSERVED[metric]].to_numpy(float)
            ok = np.isfinite(y) & np.isfinite(X).all(axis=1)
            better_with_agents = -1 if metric != "service_level" else 1
            model = HistGradientBoostingRegressor(
                max_iter=150,
                learning_rate=0.05,
                max_depth=2,
                min_samples_leaf=15,
                l2_regularization=1.0,
                monotonic_cst=[1, better_with_agents],
                random_state=self.seed,
            )
            self.models_[metric] = (
                model.fit(X[ok], y[ok], sample_weight=weight[ok]) if ok.sum() >= 20 else None
            )
            if ok.any():
                best = X[ok, 0].max() if metric == "service_level" else X[ok, 0].min()
                self.edges_[metric] = (best, X[ok, 1].max())
        return self

    def _load(self, table: pd.DataFrame, base: dict) -> np.ndarray:
        load = base.get("load")
        if load is None:
            load = (
                table["arrivals"].to_numpy(float) * table["aht"].to_numpy(float) / self.base.interval_seconds
            )
        return np.asarray(load, float)

    def familiar(self, load) -> np.ndarray:
        """Intervals whose offered load (Erlangs) is like the history's: the correction was
        learnt on a centre of that size and says nothing of a much busier one, where queueing's
        economies of scale change the service; those get the base model."""
        return np.asarray(load, float) <= LOAD_STRETCH * self.max_load_

    def _features(self, table: pd.DataFrame, base: dict, metric: str) -> np.ndarray:
        load = self._load(table, base)
        per_load = base["agents_modelled"] / np.maximum(load, 1e-6)
        return np.column_stack([base[metric], np.minimum(per_load, 50.0)])

    def predict(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        m = self.metrics(table)
        return {k: np.asarray(m[k], float) for k in (*METRICS, "agents_modelled")}

    def metrics(
        self,
        table: pd.DataFrame,
        interval_seconds: float | None = None,
        target_seconds: float | None = None,
        asa: bool = True,
    ) -> dict[str, np.ndarray]:
        """The base model's metrics with abandonment, ASA and service level learnt.

        Trees are flat beyond the data they saw: with more agents than any training interval
        had, the learnt service would stop improving and a high target would never be met. So
        beyond the training range the better of the learnt and the base model's value is
        taken: still monotone in agents (both are, and the range is left for good), and any
        target is reached as the base model's service goes to perfect. Intervals much busier
        than any in the history get the base model (see :meth:`familiar`)."""
        base = self.base.metrics(table, interval_seconds, target_seconds, asa)
        out = dict(base)
        for metric in METRICS:
            model = self.models_.get(metric)
            if model is None or (metric == "asa_seconds" and not asa):
                out[metric] = base[metric]
                continue
            X = self._features(table, base, metric)
            known = np.isfinite(X).all(axis=1)
            predicted = np.full(len(table), np.nan)
            if known.any():
                # one thread: the staffing search calls this hundreds of times on a few hundred
                # rows, where OpenMP's start-up per tree costs a hundred times the work
                with threadpool_limits(limits=1, user_api="openmp"):
                    predicted[known] = model.predict(X[known])
            out[metric] = np.where(known, predicted, base[metric])
            best, most_per_load = self.edges_[metric]
            higher_is_better = metric == "service_level"
            with np.errstate(invalid="ignore"):
                beyond = (X[:, 1] > most_per_load) | (X[:, 0] > best if higher_is_better else X[:, 0] < best)
            better = np.fmax if higher_is_better else np.fmin
            out[metric] = np.where(beyond, better(out[metric], base[metric]), out[metric])
            out[metric] = np.where(self.familiar(self._load(table, base)), out[metric], base[metric])
        out["abandon_rate"] = np.clip(out["abandon_rate"], 0.0, 1.0)
        out["service_level"] = np.clip(out["service_level"], 0.0, 1.0)
        out["asa_seconds"] = np.clip(out["asa_seconds"], 0.0, None)
        return out
