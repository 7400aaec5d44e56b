"""Discrete-event simulation of a contact queue: time-varying Poisson arrivals and staffing,
general handle-time and patience distributions, first come first served, abandonment.

Calls are processed in arrival order (FCFS means a later call never starts before an earlier
one), each taking the agent slot that can start it soonest; slot j is on duty in interval i
when j < agents[i], finishes a call it has started even past its shift, and starts none while
off duty. All replications advance together: the k-th call of every replication is handled in
one numpy step, so the Python loop runs once per call of the longest replication.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

# From this many calls in the longest replication the per-call loop runs compiled
# (``kernels.fcfs_core``, same numbers): below it, importing numba and loading the cached
# kernel (about 0.4 s) costs more than the numpy loop takes.
KERNEL_MIN_CALLS = 20_000
KERNEL_MIN_CALLS_LOADED = 500  # once the kernel is loaded in this process (``kernels.warm_up``)


@dataclass(frozen=True)
class Distribution:
    """A positive duration distribution in seconds: 'exponential', 'lognormal' (mean and
    coefficient of variation) or 'empirical' (resampled observations). ``mean=inf`` with
    exponential means never (infinite patience)."""

    kind: str = "exponential"
    mean: float = 180.0
    cv: float = 1.0
    values: tuple[float, ...] = ()

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        if self.kind == "exponential":
            return np.full(size, np.inf) if np.isinf(self.mean) else rng.exponential(self.mean, size)
        if self.kind == "lognormal":
            sigma2 = np.log1p(self.cv**2)
            return rng.lognormal(np.log(self.mean) - sigma2 / 2, np.sqrt(sigma2), size)
        if self.kind == "empirical":
            if not self.values:
                raise ValueError("an empirical distribution needs observed values")
            return rng.choice(np.asarray(self.values, float), size)
        raise ValueError(f"unknown distribution {self.kind!r}: exponential, lognormal or empirical")


@dataclass
class SimulationResult:
    """Per-interval means over replications and half-widths of their 95 % confidence intervals."""

    mean: dict[str, np.ndarray]
    half_width: dict[str, np.ndarray]
    replications: int
    calls_simulated: int
    per_replication: dict[str, np.ndarray]  # replication × interval, for pooled summaries


def simulate(
    volume,
    agents,
    interval_seconds: float,
    handle: Distribution,
    patience: Distribution | None,
    target_seconds: float,
    replications: int = 20,
    seed: int = 0,
) -> SimulationResult:
    """Simulate every interval ``replications`` times; seeded, so the same inputs give the same numbers."""
    volume = np.asarray(volume, float)
    agents = np.floor(np.asarray(agents, float)).astype(int)
    n_int = len(volume)
    rng = np.random.default_rng(seed)
    patience = patience or Distribution("exponential", np.inf)

    counts = rng.poisson(np.broadcast_to(volume, (replications, n_int)))
    per_rep = counts.sum(axis=1)
    width = int(per_rep.max()) if per_rep.size else 0
    kernels = _kernels() if width >= _kernel_threshold() else None
    arrival = np.full((replications, width), np.inf)
    for r in range(replications):  # one vectorized draw per replication
        starts = np.repeat(np.arange(n_int) * interval_seconds, counts[r])
        times = starts + rng.uniform(0, interval_seconds, per_rep[r])
        arrival[r, : per_rep[r]] = times if kernels else np.sort(times)
    if kernels:  # the same sorted rows, interval by interval
        kernels.sort_within_intervals(arrival, counts.astype(np.int64))
        for r in range(replications):
            row = arrival[r, : per_rep[r]]
            if np.any(row[1:] < row[:-1]):  # an interval length whose multiples round unevenly
                row.sort()
    handle_t = handle.sample(rng, (replications, width))
    patience_t = patience.sample(rng, (replications, width))

    slots = max(int(agents.max()), 1)
    duty = np.arange(slots)[:, None] < agents[None, :]  # slot × interval
    idx = np.arange(n_int)
    # first on-duty interval at or after i, per slot (n_int if none)
    next_on = np.minimum.accumulate(np.where(duty, idx, n_int)[:, ::-1], axis=1)[:, ::-1]
    next_on_time = np.where(next_on < n_int, next_on * interval_seconds, np.inf)
    start = np.full((replications, width), np.inf)
    if kernels:
        kernels.fcfs_core(
            arrival,
            per_rep.astype(np.int64),
            handle_t,
            patience_t,
            agents.astype(np.int64),
            np.ascontiguousarray(next_on_time, dtype=float),
            float(interval_seconds),
            start,
        )
    else:  # the same loop, the same numbers
        _fcfs_numpy(arrival, handle_t, patience_t, agents, duty, next_on_time, interval_seconds, start)

    metrics = _interval_metrics(
        arrival, start, handle_t, patience_t, agents, interval_seconds, target_seconds, kernels
    )
    t_crit = stats.t.ppf(0.975, max(replications - 1, 1))
    with warnings.catch_warnings():  # an interval nobody staffed or called has no value: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = {k: np.nanmean(v, axis=0) for k, v in metrics.items()}
        half = {
            k: t_crit * np.nanstd(v, axis=0, ddof=1) / np.sqrt(np.sum(~np.isnan(v), axis=0))
            if replications > 1
            else np.full(n_int, np.nan)
            for k, v in metrics.items()
        }
    return SimulationResult(mean, half, replications, int(per_rep.sum()), metrics)


def _kernel_threshold() -> int:
    """Calls (longest replication) from which the compiled loop pays: fewer once it is loaded."""
    kernels = sys.modules.get("scenarios.staffing.kernels")
    if kernels is not None and kernels.loaded(kernels.fcfs_core):
        return min(KERNEL_MIN_CALLS, KERNEL_MIN_CALLS_LOADED)
    return KERNEL_MIN_CALLS


def _kernels():
    """``scenarios.staffing.kernels`` (compiled loops), or None where numba cannot be used."""
    try:
        from scenarios.staffing import kernels
    except ImportError:  # numba missing or broken: the numpy loop answers the same
        return None
    return kernels


def _fcfs_numpy(arrival, handle_t, patience_t, agents, duty, next_on_time, interval_seconds, start) -> None:
    """The per-call loop in numpy: the k-th call of every replication in one step."""
    replications, width = arrival.shape
    n_int = len(agents)
    slots = duty.shape[0]
    free = np.zeros((replications, slots))
    rows = np.arange(replications)
    slot_ids = np.arange(slots)[None, :]
    for k in range(width):
        a = arrival[:, k : k + 1]
        t = np.maximum(a, free)
        i = np.minimum(np.where(np.isfinite(t), t, 0.0) // interval_seconds, n_int - 1).astype(int)
        on = duty[slot_ids, i]  # past the horizon the last interval's staffing answers the queue
        candidate = np.where(on, t, next_on_time[slot_ids, i])
        best = np.argmin(candidate, axis=1)
        s = candidate[rows, best]
        with np.errstate(invalid="ignore"):  # padding: inf − inf
            waits = s - a[:, 0]
        served = np.isfinite(s) & (waits <= patience_t[:, k]) & np.isfinite(a[:, 0])
        start[served, k] = s[served]
        free[rows[served], best[served]] = s[served] + handle_t[served, k]


def _interval_metrics(
    arrival, start, handle_t, patience_t, agents, interval_seconds, target_seconds, kernels=None
) -> dict[str, np.ndarray]:
    """Per replication and arrival interval: service level, ASA, abandonment, occupancy."""
    reps, _ = arrival.shape
    n_int = len(agents)
    real = np.isfinite(arrival)
    served = np.isfinite(start)
    safe_arrival = np.where(real, arrival, 0.0)
    wait = np.where(served, np.where(served, start, 0.0) - safe_arrival, np.nan)
    waited = np.where(
        served, np.nan_to_num(wait), np.minimum(patience_t, 1e18)
    )  # abandoners wait their patience
    interval = np.minimum(safe_arrival // interval_seconds, n_int - 1).astype(int)
    flat = (np.arange(reps)[:, None] * n_int + interval)[real]

    def per_interval(values) -> np.ndarray:
        return np.bincount(flat, weights=values[real], minlength=reps * n_int).reshape(reps, n_int)

    n = per_interval(np.ones_like(arrival))
    in_target = per_interval((served & (wait <= target_seconds)).astype(float))
    abandoned = per_interval((~served).astype(float))
    wait_sum = per_interval(np.nan_to_num(wait))
    n_served = per_interval(served.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "service_level": np.where(n > 0, in_target / n, np.nan),
            "asa_seconds": np.where(n_served > 0, wait_sum / n_served, np.nan),
            "abandon_rate": np.where(n > 0, abandoned / n, np.nan),
            "mean_wait_seconds": np.where(n > 0, per_interval(waited) / n, np.nan),
            "arrivals": n,
        }
    # occupancy: busy agent-seconds in each interval over staffed agent-seconds
    busy = np.zeros((reps, n_int))
    edges = np.arange(n_int + 1) * interval_seconds
    for r in range(reps):
        s = start[r][served[r]]
        e = (start[r] + handle_t[r])[served[r]]
        # FCFS: served calls start in arrival order, so ``s`` is sorted already and the
        # compiled path sorts the ends by a sweep (the same arrays as np.sort's)
        if kernels is not None and not np.any(s[1:] < s[:-1]):
            e = kernels.sorted_ends(s, e)
            if np.any(e[1:] < e[:-1]):  # a negative handle time broke the sweep's premise
                e = np.sort(e)
        else:
            s, e = np.sort(s), np.sort(e)
        busy_until = _busy_until(s, e, edges)
        busy[r] = np.diff(busy_until)
    staffed = agents * interval_seconds
    with np.errstate(invalid="ignore", divide="ignore"):
        out["occupancy"] = np.where(
            staffed > 0, np.minimum(busy / np.where(staffed > 0, staffed, 1), 1.0), np.nan
        )
    return out


def _busy_until(starts: np.ndarray, ends: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Total busy seconds before each time T: Σ over calls of max(0, min(end, T) − start)."""
    cs, ce = np.r_[0.0, np.cumsum(starts)], np.r_[0.0, np.cumsum(ends)]
    n_started = np.searchsorted(starts, times, side="left")
    n_ended = np.searchsorted(ends, times, side="left")
    return ce[n_ended] + times * (n_started - n_ended) - cs[n_started]
