"""Probability of meeting the service target per day, by Monte Carlo over the forecast.

Volumes are drawn from the forecast's distribution (normal with the forecast's standard
deviation, truncated at zero) with errors correlated within a day: a common day-level draw
plus an interval-level one, ``z = √ρ·z_day + √(1 − ρ)·z_interval``. Within a day, forecast
errors move together (a busy day is busy all day), and ignoring that would overstate the
chance of meeting a daily target. The staffing is fixed; the service is recomputed for every
draw, all draws of a queue in one vectorized call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.staffing.backlog import backlog_simulation
from scenarios.staffing.chat import chat_service
from scenarios.staffing.requirements import service_metrics


def correlated_normals(days: np.ndarray, simulations: int, correlation: float, seed: int) -> np.ndarray:
    """(simulations × intervals) standard normals, correlated ``correlation`` within each day."""
    rng = np.random.default_rng(seed)
    codes, uniques = pd.factorize(days)
    day_draws = rng.standard_normal((simulations, len(uniques)))
    own = rng.standard_normal((simulations, len(days)))
    return np.sqrt(correlation) * day_draws[:, codes] + np.sqrt(1 - correlation) * own


def daily_success(
    z: np.ndarray,
    days: np.ndarray,
    volume: np.ndarray,
    volume_sd: np.ndarray,
    aht: np.ndarray,
    *,
    agents: np.ndarray,
    interval_seconds: float,
    channel: str,
    targets,
    model: str = "erlang-c",
    patience: float | None = None,
    concurrency: int | None = None,
    open_mask: np.ndarray | None = None,
    service=None,
    starting_backlog: float = 0.0,
) -> pd.DataFrame:
    """Per day: probability that the day's service (arrival-weighted) meets the target, and the
    5th / 50th / 95th percentiles of that service over the draws. ``open_mask`` weighs the
    intervals (0 when closed; below 1 for one only partly open)."""
    open_mask = np.ones(len(volume)) if open_mask is None else np.asarray(open_mask, float)
    draws = np.maximum(volume[None, :] + volume_sd[None, :] * z, 0.0)
    s, n = draws.shape
    if channel == "email":
        target = targets.response_share
        served = np.empty_like(draws)
        for i in range(s):  # a backlog carries across intervals, so each draw is one sequential pass
            sim = backlog_simulation(
                draws[i], aht, agents, interval_seconds, targets.response_hours * 3600, starting_backlog
            )
            served[i] = np.nan_to_num(sim["answered_in_time"], nan=1.0)
    else:
        target = targets.service_level
        busy = np.flatnonzero((volume > 0) & (open_mask > 0))  # only these carry weight
        flat = [np.broadcast_to(np.asarray(a, float), (s, n))[:, busy].ravel() for a in (draws, aht, agents)]
        if channel == "chat":
            m = chat_service(
                flat[0],
                flat[1],
                interval_seconds,
                flat[2],
                targets.target_seconds,
                concurrency,
                model=model,
                patience=patience,
            )
        else:
            m = service_metrics(
                flat[0],
                flat[1],
                interval_seconds,
                flat[2],
                targets.target_seconds,
                model,
                patience,
                asa=False,
                service=service,
            )
        served = np.ones((s, n))
        served[:, busy] = m["service_level"].reshape(s, len(busy))
    codes, uniques = pd.factorize(days)
    weights = draws * open_mask
    onehot = np.zeros((n, len(uniques)))
    onehot[np.arange(n), codes] = 1.0
    num, den = (weights * served) @ onehot, weights @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        daily = np.where(den > 0, num / den, 1.0)
    out = pd.DataFrame({"date": uniques, "target": target})
    out["p_meet_target"] = (daily >= target - 1e-9).mean(axis=0) if target is not None else np.nan
    for q in (5, 50, 95):
        out[f"service_p{q}"] = np.percentile(daily, q, axis=0)
    return out
