"""Calibrating the queueing model to a center's own history.

Three things differ between textbook Erlang and a real center: callers' patience (estimated
from who abandoned after how long), handle times (lognormal, not exponential), and how many of
the agents seen in the log were really taking calls (breaks, back-office work and after-call
tasks make the agents *seen* overstate capacity). Pure numpy/scipy: the caller brings arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.staffing.erlang import erlang_a_metrics
from scenarios.staffing.simulation import Distribution

AVAILABILITY_GRID = np.round(np.arange(0.30, 1.0001, 0.01), 2)


@dataclass(frozen=True)
class Calibration:
    patience_seconds: float  # 1 / θ̂, θ̂ = P(Ab) / E[W]
    patience_km_seconds: float  # Kaplan–Meier mean patience (served waits censored), restricted
    handle: Distribution  # lognormal fitted to handle times
    availability: float  # share of the agents seen that the model should count


def patience_from_abandonment(wait: np.ndarray, abandoned: np.ndarray) -> float:
    """Mean patience 1/θ̂ with θ̂ = P(Ab) / E[W] (E[W] over all callers who queued or not):
    exact under Erlang A, and robust because it needs only totals."""
    wait = np.asarray(wait, float)
    abandoned = np.asarray(abandoned, bool)
    p_ab = abandoned.mean()
    mean_wait = wait.mean()
    if p_ab <= 0:
        return float("inf")
    return float(mean_wait / p_ab)


def patience_kaplan_meier(wait: np.ndarray, abandoned: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Survival of patience, treating a served caller's wait as a censored patience.

    Returns event times, survival after each, and the mean restricted to the longest wait
    observed (the tail beyond it is unknown, so the mean is a lower bound).
    """
    wait = np.asarray(wait, float)
    event = np.asarray(abandoned, bool)
    order = np.argsort(wait, kind="stable")
    w, e = wait[order], event[order]
    times, first = np.unique(w, return_index=True)
    deaths = np.add.reduceat(e.astype(int), first)
    at_risk = len(w) - first
    survival = np.cumprod(1.0 - deaths / at_risk)
    steps = np.diff(np.r_[0.0, times])
    restricted_mean = float(np.sum(steps * np.r_[1.0, survival[:-1]]))
    return times, survival, restricted_mean


def fit_lognormal(handle: np.ndarray) -> Distribution:
    """Lognormal with the sample's mean and coefficient of variation."""
    handle = np.asarray(handle, float)
    handle = handle[np.isfinite(handle) & (handle > 0)]
    mean = float(handle.mean())
    return Distribution("lognormal", mean, float(handle.std() / mean))


def fit_availability(
    volume,
    aht,
    agents_seen,
    observed_abandon,
    observed_sl,
    interval_seconds: float,
    target_seconds: float,
    patience: float,
) -> float:
    """The share α of seen agents for which Erlang A best reproduces the observed abandonment
    and service level (arrival-weighted squared error), over a grid from 0.30 to 1.00."""
    volume, aht, agents_seen, observed_abandon, observed_sl = (
        np.asarray(a, float) for a in (volume, aht, agents_seen, observed_abandon, observed_sl)
    )
    shape = (len(AVAILABILITY_GRID), len(volume))
    agents = AVAILABILITY_GRID[:, None] * np.asarray(agents_seen, float)[None, :]
    m = erlang_a_metrics(
        np.broadcast_to(volume, shape),
        np.broadcast_to(aht, shape),
        interval_seconds,
        agents,
        target_seconds,
        patience,
        served_asa=False,
    )
    err = (m["abandon_rate"] - observed_abandon[None, :]) ** 2 + (
        m["service_level"] - observed_sl[None, :]
    ) ** 2
    loss = np.nansum(err * volume[None, :], axis=1)
    return float(AVAILABILITY_GRID[int(np.argmin(loss))])
