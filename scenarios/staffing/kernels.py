"""numba kernels for the two hot loops of staffing: the required-agents search under Erlang C,
and the first-come-first-served core of the discrete-event simulation.

Imported only for large inputs (``requirements.required_agents`` and ``simulation.simulate``
decide): importing numba costs about 0.35 s and a first compilation a few seconds, more than a
small input takes on the numpy path. Compiled code is cached (``cache=True``): next to this
file in ``__pycache__``, or, where that folder cannot be written, in numba's per-user cache
(``NUMBA_CACHE_DIR`` overrides both). Where no cache can be written at all the kernels are
compiled in memory, once per process.

Both kernels answer exactly as the numpy versions do:

- ``erlang_c_required`` runs the numpy search step for step (gallop from the same lower bound
  with the same steps, check the bound, bisect), one interval at a time, on the same service
  formulas. Erlang B at whole agent counts comes from the stable recursion
  B(k) = A·B(k−1) / (k + A·B(k−1)) (as 1/B) instead of scipy's incomplete gamma; the two agree
  to about 1e-14, far inside the 1e-9 tolerance of the targets, so an answer could only differ
  where a metric sits within ~1e-13 of a target's edge (never seen on millions of random cases).
- ``fcfs_core`` is the simulation's per-call loop over the numpy path's random draws: same
  seed, same numbers (the float operations are the same, in the same order).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_EPS = 1e-9
FALLBACK = -1  # an interval the kernel leaves to the numpy path (unreachable or absurd targets)
MAX_KERNEL_STEP = 2.0**16  # beyond this gallop step the numpy path answers (or raises) as it always has
MAX_KERNEL_LOAD = 1e6  # Erlangs: beyond, the recursion's ~9√A steps grow long and numpy's gamma answers
DAMPING_SIGMAS = 9.0  # recursion starts 9·√A below the load: its starting error shrinks by e^(−40)


def _jit(**options):
    """``njit`` with a disk cache where one can be written, in memory otherwise."""

    def wrap(fn):
        try:
            return njit(cache=True, nogil=True, error_model="numpy", **options)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return njit(nogil=True, error_model="numpy", **options)(fn)

    return wrap


@_jit()
def _inv_b(k: float, inv_b: float, n: float, inv_load: float) -> float:
    """1/B(n, A) from 1/B(k, A), k <= n: 1/B(j) = 1 + (j/A)·1/B(j−1)."""
    j = k + 1.0
    while j <= n:
        inv_b = 1.0 + inv_b * (j * inv_load)
        j += 1.0
    return inv_b


@_jit()
def _meets(n, inv_b, load, t_over_aht, aht, sl_target, asa_target, occ_target):
    """``StaffingTargets.met`` on ``erlang_c_metrics`` at n agents (NaN target: none), with
    1/B given: P(wait) = n·B / (n − A(1 − B)) = n / (r(n − A) + A) for r = 1/B."""
    if not n > load:  # overloaded: Erlang C has no steady state
        return False
    if occ_target == occ_target and min(load / n, 1.0) > occ_target + _EPS:
        return False
    gap = n - load
    c = min(max(n / (inv_b * gap + load), 0.0), 1.0)
    if sl_target == sl_target and 1.0 - c * math.exp(-gap * t_over_aht) < sl_target - _EPS:
        return False
    return not (asa_target == asa_target and c * aht / gap > asa_target + _EPS)


@_jit()
def _start(load: float, lower: float):
    """Where the recursion to ``lower`` starts: (k0, 1/B at k0). Below A − 9√A it starts from
    B ≥ 1 − k/A, whose error the recursion damps by a factor ≤ Π k/(A+1) ≈ e^(−40) before
    reaching ``lower`` (>= floor(A)); elsewhere from B(0) = 1."""
    k0 = math.floor(load - DAMPING_SIGMAS * math.sqrt(load))
    if k0 > 0 and k0 < lower:
        return k0, 1.0 / (1.0 - k0 / load)
    return 0.0, 1.0


@_jit()
def _lower_bound(v: float, h: float, seconds: float, occ_floor: float):
    """(load, lower bound) as ``required_agents`` computes them; load NaN where the kernel
    cannot answer (no calls: load 0)."""
    if not v > 0:
        return 0.0, 0.0
    load = v * h / seconds
    if not (load > 0 and load <= MAX_KERNEL_LOAD and math.isfinite(h)):
        return math.nan, 0.0
    lower = math.floor(load)
    if occ_floor == occ_floor:
        lower = max(lower, math.ceil(load / occ_floor - _EPS) - 1)
    return load, max(lower, 0.0)


@_jit()
def erlang_c_required(
    volume, aht, interval_seconds, target_seconds, sl_target, asa_target, occ_target, occ_floor, out
):
    """Smallest whole number of agents meeting the targets under Erlang C, per interval.

    ``volume``, ``aht`` and ``interval_seconds`` are 1-D float arrays of one length; a target is
    NaN when not set; ``occ_floor`` is the occupancy cap used for the lower bound (NaN when the
    cap is unset or 0, as ``if targets.max_occupancy`` reads it). ``out`` gets the agents, or
    FALLBACK where the numpy path must answer.

    Four intervals at a time run the long recursion to their lower bounds side by side (four
    independent dependency chains keep the core busy); then each runs numpy's search: gallop
    from the bound with steps ⌈√A⌉·2^m, check the bound itself, bisect. The gallop's recursion
    stores 1/B at every count it passes, so the bisection only looks values up.
    """
    size = volume.shape[0]
    buf = np.empty(int(2 * MAX_KERNEL_STEP) + 2)
    loads = np.empty(4)
    lowers = np.empty(4)
    invs = np.empty(4)
    k = np.empty(4)
    r = np.empty(4)
    stop = np.empty(4)
    inv_loads = np.empty(4)
    for base in range(0, size, 4):
        lanes = min(4, size - base)
        # phase 1: 1/B at the lower bound, four chains interleaved
        k[:] = 0.0
        r[:] = 1.0
        stop[:] = 0.0
        inv_loads[:] = 1.0
        for q in range(lanes):
            i = base + q
            load, lower = _lower_bound(volume[i], aht[i], interval_seconds[i], occ_floor)
            loads[q], lowers[q] = load, lower
            if load > 0:
                k[q], r[q] = _start(load, lower)
                stop[q] = lower
                inv_loads[q] = 1.0 / load
        k0, k1, k2, k3 = k[0] + 1.0, k[1] + 1.0, k[2] + 1.0, k[3] + 1.0
        r0, r1, r2, r3 = r[0], r[1], r[2], r[3]
        s0, s1, s2, s3 = stop[0], stop[1], stop[2], stop[3]
        c0, c1, c2, c3 = inv_loads[0], inv_loads[1], inv_loads[2], inv_loads[3]
        common = min(s0 - k0, s1 - k1, s2 - k2, s3 - k3)
        t = 0.0
        while t <= common:  # all four chains, no branches, then each one's tail
            r0 = 1.0 + r0 * (k0 * c0)
            r1 = 1.0 + r1 * (k1 * c1)
            r2 = 1.0 + r2 * (k2 * c2)
            r3 = 1.0 + r3 * (k3 * c3)
            k0 += 1.0
            k1 += 1.0
            k2 += 1.0
            k3 += 1.0
            t += 1.0
        r0 = _inv_b(k0 - 1.0, r0, s0, c0)
        r1 = _inv_b(k1 - 1.0, r1, s1, c1)
        r2 = _inv_b(k2 - 1.0, r2, s2, c2)
        r3 = _inv_b(k3 - 1.0, r3, s3, c3)
        invs[0], invs[1], invs[2], invs[3] = r0, r1, r2, r3
        # phase 2: numpy's search, one interval at a time
        for q in range(lanes):
            i = base + q
            load = loads[q]
            if not load > 0:
                out[i] = 0 if load == 0 else FALLBACK
                continue
            h = aht[i]
            t_over_aht = target_seconds / h
            inv_load = 1.0 / load
            lo = lowers[q]
            buf[0] = invs[q]  # buf[m] = 1/B(lo + m)
            step = max(math.ceil(math.sqrt(load)), 1.0)
            filled = 0
            fallback = False
            while True:
                while filled < step:
                    buf[filled + 1] = 1.0 + buf[filled] * ((lo + filled + 1.0) * inv_load)
                    filled += 1
                if _meets(lo + step, buf[filled], load, t_over_aht, h, sl_target, asa_target, occ_target):
                    break
                if step > MAX_KERNEL_STEP:
                    fallback = True
                    break
                step *= 2.0
            if fallback:
                out[i] = FALLBACK
                continue
            if lo > 0 and _meets(lo, buf[0], load, t_over_aht, h, sl_target, asa_target, occ_target):
                out[i] = int(lo)
                continue
            low, high = 0, int(step)  # offsets from lo
            while high - low > 1:
                mid = (low + high) // 2
                if _meets(lo + mid, buf[mid], load, t_over_aht, h, sl_target, asa_target, occ_target):
                    high = mid
                else:
                    low = mid
            out[i] = int(lo) + high


@_jit()
def fcfs_core(arrival, n_calls, handle_t, patience_t, agents, next_on_time, interval_seconds, start):
    """The simulation's per-call loop, replication by replication (rows), as ``simulate`` runs
    it for all rows at once: each call, in arrival order, takes the agent slot that can start
    it soonest (the lowest-numbered on a tie) if that is within its patience. ``start`` (filled
    with inf) gets the start of service of every served call.

    Every candidate start is at least the arrival time, and an idle on-duty slot offers exactly
    the arrival time, so the scan stops at the first such slot; a busy slot's interval index is
    kept from when it was set rather than recomputed at every call.
    """
    reps = arrival.shape[0]
    n_int = agents.shape[0]
    slots = next_on_time.shape[0]
    free = np.zeros(slots)
    free_i = np.zeros(slots, np.int64)  # the interval of free[j], as numpy's loop computes it
    for r in range(reps):
        free[:] = 0.0
        free_i[:] = 0
        for k in range(n_calls[r]):
            a = arrival[r, k]
            if not math.isfinite(a):
                continue
            i_a = min(int(a // interval_seconds), n_int - 1)
            best = 0
            s = math.inf
            for j in range(slots):
                f = free[j]
                if f <= a:
                    t = a
                    i = i_a
                else:
                    t = f
                    i = free_i[j]
                cand = t if j < agents[i] else next_on_time[j, i]
                if cand < s:
                    s = cand
                    best = j
                    if s == a:
                        break
            if math.isfinite(s) and s - a <= patience_t[r, k]:
                start[r, k] = s
                f = s + handle_t[r, k]
                free[best] = f
                free_i[best] = min(int(f // interval_seconds), n_int - 1) if math.isfinite(f) else 0


@_jit()
def sort_within_intervals(arrival, counts):
    """Sort each replication's arrivals interval by interval: the same array as sorting the
    whole row (an interval's arrivals never pass the next interval's), in less time."""
    for r in range(arrival.shape[0]):
        lo = 0
        for i in range(counts.shape[1]):
            hi = lo + counts[r, i]
            if hi - lo > 1:
                arrival[r, lo:hi].sort()
            lo = hi


@_jit()
def sorted_ends(starts, ends):
    """``np.sort(ends)`` for calls whose ``starts`` are sorted and ends >= starts: a sweep with
    a heap of the calls in progress (as many as agents), O(n log agents). Sorted floats are
    unique, so this is the very array numpy's sort gives."""
    n = starts.shape[0]
    out = np.empty(n)
    heap = np.empty(n)
    size = 0
    w = 0
    for k in range(n):
        s = starts[k]
        while size > 0 and heap[0] <= s:  # pop every end before this start
            out[w] = heap[0]
            w += 1
            size -= 1
            last = heap[size]
            p = 0
            while True:
                c = 2 * p + 1
                if c >= size:
                    break
                if c + 1 < size and heap[c + 1] < heap[c]:
                    c += 1
                if heap[c] < last:
                    heap[p] = heap[c]
                    p = c
                else:
                    break
            heap[p] = last
        e = ends[k]  # push
        p = size
        size += 1
        while p > 0:
            q = (p - 1) // 2
            if heap[q] > e:
                heap[p] = heap[q]
                p = q
            else:
                break
        heap[p] = e
    rest = np.sort(heap[:size])
    out[w:] = rest
    return out


def loaded(kernel) -> bool:
    """Whether ``kernel`` is compiled (or loaded from the cache) in this process already: then
    even small inputs gain from it (``required_agents`` and ``simulate`` lower their size
    thresholds)."""
    return bool(kernel.signatures)


def warm_up() -> None:
    """Compile (or load from the cache) every kernel now, on tiny inputs: for a long-lived
    process that will staff or simulate many small queues (a Dask worker, say), after which
    those run compiled too."""
    out = np.empty(1, np.int64)
    one = np.ones(1)
    erlang_c_required(one * 100.0, one * 180.0, one * 1800.0, 20.0, 0.8, math.nan, 0.85, 0.85, out)
    arrival = np.array([[10.0, 20.0]])
    start = np.full((1, 2), np.inf)
    counts = np.array([[2]], np.int64)
    sort_within_intervals(arrival, counts)
    fcfs_core(
        arrival,
        np.array([2], np.int64),
        arrival,
        arrival,
        np.ones(1, np.int64),
        np.zeros((1, 1)),
        1800.0,
        start,
    )
    sorted_ends(arrival[0], arrival[0] + 1.0)
