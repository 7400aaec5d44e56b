"""Required agents for service targets, and scheduled agents / FTE after shrinkage.

Every metric is monotone in the number of agents (service level rises; waits, abandonment and
occupancy fall), so the smallest sufficient integer is found by a vectorized galloping and
bisection search over all intervals at once: about log2(range) evaluations, not one per agent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scenarios.staffing.erlang import erlang_a_metrics, erlang_b_metrics, erlang_c_metrics

MODELS = ("erlang-c", "erlang-a", "erlang-b")  # erlang-b: lost-calls (trunks), blocking target only
# a fitted service model in the formulas' place: (volume, aht, interval seconds, agents, target
# seconds) -> the metrics erlang_a_metrics returns; it must be monotone in agents
ServiceFunction = Callable[..., dict]
_EPS = 1e-9
MAX_STEP = 2.0**24  # agents beyond the load: no queue needs this many, a service model that plateaus would
# From this many intervals Erlang C searches run compiled (``kernels.erlang_c_required``, the
# same answers, ~8x faster): below it, importing numba and loading the cached kernel (about
# 0.4 s) costs more than the numpy search takes. See benchmarks/README.md, "Staffing speed".
KERNEL_MIN_INTERVALS = 200_000
KERNEL_MIN_INTERVALS_LOADED = 2_000  # once the kernel is loaded in this process (``kernels.warm_up``)


@dataclass(frozen=True, kw_only=True)
class StaffingTargets:
    """Any combination of targets; None means no such target. The threshold T has no default
    here: the product's defaults live with the product (``forecasting.history.targets``), not in the math."""

    service_level: float | None = None  # share answered within target_seconds
    target_seconds: float
    asa_seconds: float | None = None
    abandon_rate: float | None = None
    max_occupancy: float | None = None
    blocking: float | None = None  # Erlang B: share of contacts blocked (lines / trunks)

    def met(self, m: dict[str, np.ndarray]) -> np.ndarray:
        ok = ~m["overloaded"]
        for missed in self.missed(m).values():
            ok &= ~missed
        return ok

    def missed(self, m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per target (by its name), where the metrics miss it."""
        out = {}
        if self.service_level is not None:
            out["service level"] = m["service_level"] < self.service_level - _EPS
        if self.asa_seconds is not None:
            out["ASA"] = m["asa_seconds"] > self.asa_seconds + _EPS
        if self.abandon_rate is not None:
            out["abandonment"] = m["abandon_rate"] > self.abandon_rate + _EPS
        if self.max_occupancy is not None:
            out["occupancy cap"] = m["occupancy"] > self.max_occupancy + _EPS
        if self.blocking is not None:
            out["blocking"] = m["blocking"] > self.blocking + _EPS
        return out


def service_metrics(
    volume,
    aht,
    interval_seconds,
    agents,
    target_seconds,
    model="erlang-c",
    patience=None,
    asa: bool = True,
    service: ServiceFunction | None = None,
):
    """The service a staffing delivers (the inverse of ``required_agents``); ``service``, when
    given, in the formulas' place."""
    if service is not None:
        return service(volume, aht, interval_seconds, agents, target_seconds, asa)
    if model == "erlang-b":
        return erlang_b_metrics(volume, aht, interval_seconds, agents)
    if model == "erlang-a":
        if patience is None:
            raise ValueError("Erlang A needs a mean patience")
        return erlang_a_metrics(
            volume, aht, interval_seconds, agents, target_seconds, patience, served_asa=asa
        )
    return erlang_c_metrics(volume, aht, interval_seconds, agents, target_seconds)


def required_agents(
    volume,
    aht,
    interval_seconds,
    targets: StaffingTargets,
    model: str = "erlang-c",
    patience=None,
    service: ServiceFunction | None = None,
) -> np.ndarray:
    """Smallest whole number of agents meeting every target, per interval (0 with no contacts);
    against ``service`` (a fitted service model, monotone in agents) when given."""
    arrays = [np.asarray(v, float) for v in (volume, aht, interval_seconds)]
    if patience is not None:
        arrays.append(np.asarray(patience, float))
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    volume, aht, interval_seconds, *rest = (np.broadcast_to(a, shape).ravel() for a in arrays)
    patience_arr = rest[0] if rest else None
    busy = volume > 0
    if not (
        np.isfinite(volume).all() and np.isfinite(aht[busy]).all() and np.isfinite(interval_seconds).all()
    ):
        # a NaN step never reaches the search's limit: refused, not searched for ever
        raise ValueError("volume, AHT and interval must be finite numbers (AHT wherever there are contacts)")
    if volume.size >= _kernel_threshold() and _kernel_fits(targets, model, service):
        agents = _kernel_search(volume, aht, interval_seconds, targets)
        if agents is not None:
            return agents.reshape(shape)
    return _search(volume, aht, interval_seconds, patience_arr, targets, model, service).reshape(shape)


def _kernel_threshold() -> int:
    """Intervals from which the compiled search pays: fewer once the kernel is loaded already."""
    kernels = sys.modules.get("scenarios.staffing.kernels")
    if kernels is not None and kernels.loaded(kernels.erlang_c_required):
        return min(KERNEL_MIN_INTERVALS, KERNEL_MIN_INTERVALS_LOADED)
    return KERNEL_MIN_INTERVALS


def _kernel_fits(targets: StaffingTargets, model: str, service) -> bool:
    """Erlang C with service level, ASA and occupancy targets: what ``kernels.erlang_c_required`` does."""
    return (
        model == "erlang-c"
        and service is None
        and targets.abandon_rate is None
        and targets.blocking is None
        and np.ndim(targets.target_seconds) == 0
    )


def _kernel_search(volume, aht, interval_seconds, targets: StaffingTargets) -> np.ndarray | None:
    """The compiled search (same answers); None where numba cannot be used."""
    try:
        from scenarios.staffing.kernels import FALLBACK, erlang_c_required
    except ImportError:  # numba missing or broken: the numpy search answers the same
        return None
    nan = float("nan")

    def target(value):
        return nan if value is None else float(value)

    out = np.empty(volume.shape, np.int64)
    erlang_c_required(
        np.ascontiguousarray(volume),
        np.ascontiguousarray(aht),
        np.ascontiguousarray(interval_seconds),
        float(targets.target_seconds),
        target(targets.service_level),
        target(targets.asa_seconds),
        target(targets.max_occupancy),
        target(targets.max_occupancy or None),  # the lower bound reads an unset or 0 cap alike
        out,
    )
    left = np.flatnonzero(out == FALLBACK)  # absurd targets or inputs: the numpy path answers (or raises)
    if left.size:
        out[left] = _search(volume[left], aht[left], interval_seconds[left], None, targets, "erlang-c", None)
    return out


def _search(volume, aht, interval_seconds, patience_arr, targets, model, service) -> np.ndarray:
    """The vectorized search over flat arrays: gallop from a lower bound, then bisect."""
    load = volume * aht / interval_seconds
    lower = np.floor(load) if model == "erlang-c" and service is None else np.zeros(load.shape)
    if targets.max_occupancy:
        lower = np.maximum(lower, np.ceil(load / targets.max_occupancy - _EPS) - 1)
    lower = np.maximum(lower, 0)

    def ok(agents: np.ndarray, idx: np.ndarray) -> np.ndarray:
        m = service_metrics(
            volume[idx],
            aht[idx],
            interval_seconds[idx],
            agents,
            targets.target_seconds,
            model,
            None if patience_arr is None else patience_arr[idx],
            asa=targets.asa_seconds is not None,
            service=service,
        )
        return targets.met(m)

    result = np.zeros(load.shape)
    active = np.flatnonzero(volume > 0)
    lo = lower[active]  # largest count known (or assumed) to fall short
    step = np.maximum(np.ceil(np.sqrt(load[active])), 1.0)
    hi = lo + step
    pending = ~ok(hi, active)
    while pending.any():  # gallop: double the step until the targets are met
        if step[pending].max() > MAX_STEP:  # a service model that never gets there
            raise ValueError("targets not reachable with any number of agents under this service model")
        step[pending] *= 2
        hi[pending] = lo[pending] + step[pending]
        pending[pending] = ~ok(hi[pending], active[pending])
    lo_ok = ok(np.maximum(lo, 0), active) & (lo > 0)
    hi = np.where(lo_ok, lo, hi)  # the lower bound itself may already suffice
    while True:  # bisection on (lo, hi]: lo fails, hi meets
        gap = hi - lo > 1
        if not gap.any():
            break
        mid = np.floor((lo + hi) / 2)
        sub = np.flatnonzero(gap)
        meets = ok(mid[sub], active[sub])
        hi[sub[meets]] = mid[sub[meets]]
        lo[sub[~meets]] = mid[sub[~meets]]
    result[active] = hi
    return result.astype(np.int64)


def scheduled_agents(required: np.ndarray, shrinkage) -> np.ndarray:
    """Agents to schedule so that ``required`` remain after shrinkage: ceil(n / (1 − s))."""
    shrinkage = np.asarray(shrinkage, float)
    if np.any((shrinkage < 0) | (shrinkage >= 1)):
        raise ValueError("shrinkage must be in [0, 1)")
    return np.ceil(np.asarray(required, float) / (1.0 - shrinkage) - _EPS).astype(np.int64)


def fte(scheduled: np.ndarray, interval_seconds, hours_per_fte: float) -> np.ndarray:
    """Full-time equivalents: scheduled agent-hours / hours per FTE."""
    return np.asarray(scheduled, float) * np.asarray(interval_seconds, float) / 3600.0 / hours_per_fte
