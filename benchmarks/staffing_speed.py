"""Staffing speed: required agents (Erlang C, 80/20, occupancy ≤ 85 %) for 1,000,000 intervals
of varied load, ours on the numpy path and the numba kernel beside pyworkforce's ErlangC on a
sample, with their answers compared; and the simulation's calls per second on an M/M/14+M
queue (one replication) beside ciw on the same model, plus the week with shifts and 20
replications beside SimPy.

pyworkforce, ciw and simpy are installed for this benchmark only (``make bench`` does it):

    .venv/bin/pip install pyworkforce ciw simpy && .venv/bin/python benchmarks/staffing_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from scenarios.staffing import requirements, simulation
from scenarios.staffing.erlang import erlang_a_metrics
from scenarios.staffing.requirements import StaffingTargets, required_agents, scheduled_agents
from scenarios.staffing.simulation import Distribution, simulate

NUMPY, NUMBA = 10**15, 0  # size thresholds that force one path or the other


def use_path(size: int) -> None:
    """Force the numpy path (NUMPY) or the kernels (NUMBA) for every input size."""
    requirements.KERNEL_MIN_INTERVALS = requirements.KERNEL_MIN_INTERVALS_LOADED = size
    simulation.KERNEL_MIN_CALLS = simulation.KERNEL_MIN_CALLS_LOADED = size


def timed(fn, repeat: int = 1):
    """(result, median seconds over ``repeat`` runs)."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def required_agents_benchmark(intervals: int, sample: int) -> None:
    rng = np.random.default_rng(42)
    volume = rng.uniform(
        1, 1500, intervals
    ).round()  # contacts per 30 min: 1 to 1,500 (load up to ~375 Erlangs)
    aht = rng.uniform(60, 600, intervals).round()
    targets = StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=0.85)

    def solve():
        return required_agents(volume, aht, 1800, targets)

    use_path(NUMPY)
    ours, numpy_seconds = timed(solve)
    use_path(NUMBA)
    started = time.perf_counter()
    required_agents(volume[:10], aht[:10], 1800, targets)  # import numba, load (or compile) the kernel
    first = time.perf_counter() - started
    kernel, kernel_seconds = timed(solve, repeat=3)
    same = int((kernel == ours).sum())
    rows = [
        ("capplan, numpy path (vectorized)", intervals, numpy_seconds, ""),
        ("capplan, numba kernel", intervals, kernel_seconds, f"{same:,}/{intervals:,} identical to numpy"),
    ]
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError:
        print("pyworkforce is not installed: pip install pyworkforce to compare")
        ErlangC = None
    if ErlangC is not None:
        pick = rng.choice(intervals, sample, replace=False)
        started = time.perf_counter()
        theirs = np.array(
            [
                ErlangC(
                    transactions=volume[i], aht=aht[i] / 60, asa=20 / 60, interval=30, shrinkage=0.3
                ).required_positions(service_level=0.8, max_occupancy=0.85)["raw_positions"]
                for i in pick
            ]
        )
        seconds = time.perf_counter() - started
        rows.append(
            (
                "pyworkforce ErlangC (per case)",
                sample,
                seconds,
                f"{int((theirs == ours[pick]).sum()):,}/{sample:,} identical",
            )
        )
    print("\n| solver | intervals | seconds | µs per interval | answers |")
    print("|---|---:|---:|---:|---|")
    for name, n, seconds, note in rows:
        print(f"| {name} | {n:,} | {seconds:.3f} | {seconds / n * 1e6:.3f} | {note} |")
    scheduled = scheduled_agents(ours, 0.3)
    print(
        f"\nkernel: {numpy_seconds / kernel_seconds:.1f}x the numpy path"
        + (
            f", {rows[2][2] / rows[2][1] / (kernel_seconds / intervals):,.0f}x pyworkforce"
            if len(rows) > 2
            else ""
        )
        + f"; first call in this process (import numba, load or compile) {first:.2f} s;"
        f" peak {ours.max()} agents, {scheduled.max()} scheduled"
    )


def mmc_benchmark(numpy_intervals: int, kernel_intervals: int, ciw_intervals: int) -> None:
    """M/M/14+M, 100 calls per 30 min, AHT 180 s, mean patience 300 s, one replication."""
    handle, patience = Distribution("exponential", 180), Distribution("exponential", 300)

    def ours(n: int):
        return simulate(np.full(n, 100.0), np.full(n, 14), 1800, handle, patience, 20, replications=1, seed=1)

    rows = []
    use_path(NUMPY)
    result, seconds = timed(lambda: ours(numpy_intervals))
    rows.append(("capplan simulate, numpy path", result, seconds))
    use_path(NUMBA)
    ours(2)  # import numba, load (or compile) the kernels
    result, seconds = timed(lambda: ours(kernel_intervals), repeat=3)
    rows.append(("capplan simulate, numba kernel", result, seconds))
    a = erlang_a_metrics(100, 180, 1800, 14, 20, 300)
    print(
        "\n| simulator (M/M/14+M, one replication) | calls | seconds | calls per second | SL 20 s | abandoned |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, r, secs in rows:
        w = r.per_replication
        n = w["arrivals"][0]
        sl = float(np.nansum(w["service_level"][0] * n) / n.sum())
        ab = float(np.nansum(w["abandon_rate"][0] * n) / n.sum())
        print(
            f"| {name} | {r.calls_simulated:,} | {secs:.3f} | {r.calls_simulated / secs:,.0f} | {sl:.4f} | {ab:.4f} |"
        )
    try:
        import ciw
    except ImportError:
        print("ciw is not installed: pip install ciw to compare")
        ciw = None
    if ciw is not None:
        calls, secs, sl, ab = _ciw_mmc(ciw, ciw_intervals)
        print(
            f"| ciw {ciw.__version__}, same model | {calls:,} | {secs:.3f} | {calls / secs:,.0f} | {sl:.4f} | {ab:.4f} |"
        )
    print(f"| Erlang A formulas | | | | {float(a['service_level']):.4f} | {float(a['abandon_rate']):.4f} |")


def _ciw_mmc(ciw, intervals: int):
    """ciw's M/M/14+M over ``intervals`` half hours: (calls, seconds, SL 20 s, abandoned share)."""
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=100 / 1800)],
        service_distributions=[ciw.dists.Exponential(rate=1 / 180)],
        number_of_servers=[14],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / 300)],
    )
    ciw.seed(1)
    started = time.perf_counter()
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(intervals * 1800)
    records = sim.get_all_records()
    seconds = time.perf_counter() - started
    served = [r for r in records if r.record_type == "service"]
    reneged = [r for r in records if r.record_type == "renege"]
    calls = len(served) + len(reneged)
    in_target = sum(r.waiting_time <= 20 for r in served)
    return calls, seconds, in_target / calls, len(reneged) / calls


def week_benchmark() -> None:
    """A week of 30-minute intervals with shifts, lognormal handle times, 20 replications."""
    day = np.r_[np.zeros(14), np.sin(np.linspace(0.2, np.pi - 0.2, 28)) * 90 + 20, np.zeros(6)]  # 07:00–21:00
    volume = np.tile(day * 2000 / day.sum(), 7)
    agents = required_agents(volume, 240, 1800, StaffingTargets(service_level=0.8, target_seconds=20))
    handle, patience = Distribution("lognormal", 240, 0.8), Distribution("exponential", 300)

    def ours():
        return simulate(volume, agents, 1800, handle, patience, target_seconds=20, replications=20, seed=1)

    rows = []
    use_path(NUMPY)
    numpy_result, seconds = timed(ours)
    rows.append(
        ("capplan simulate, numpy path (20 replications together)", numpy_result.calls_simulated, seconds)
    )
    use_path(NUMBA)
    kernel_result, seconds = timed(ours, repeat=3)
    rows.append(("capplan simulate, numba kernel (20 replications)", kernel_result.calls_simulated, seconds))
    same = all(
        np.array_equal(numpy_result.per_replication[k], kernel_result.per_replication[k], equal_nan=True)
        for k in numpy_result.per_replication
    )
    try:
        import simpy
    except ImportError:
        simpy = None
        print("simpy is not installed: pip install simpy to compare")
    if simpy is not None:
        reps = 2
        started = time.perf_counter()
        calls = sum(_simpy_week(simpy, volume, agents, handle, patience, seed) for seed in range(reps))
        rows.append((f"SimPy, same model ({reps} replications)", calls, time.perf_counter() - started))
    print("\n| simulator (week with shifts) | calls | seconds | calls per second |")
    print("|---|---:|---:|---:|")
    for name, calls, seconds in rows:
        print(f"| {name} | {calls:,} | {seconds:.3f} | {calls / seconds:,.0f} |")
    sl = np.nanmean(kernel_result.mean["service_level"][volume > 0])
    print(
        f"\nweek of {len(volume)} intervals, {kernel_result.calls_simulated / 20:,.0f} calls per replication,"
        f" 20 replications; mean SL {sl:.3f}; numba and numpy results identical: {same}"
    )


def _simpy_week(simpy, volume, agents, handle, patience, seed: int) -> int:
    """The same queue in SimPy: Poisson arrivals per interval, FCFS, reneging, shifts."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    pool = simpy.PriorityResource(env, capacity=int(agents.max()))
    blocked = []  # off-duty slots are held by 'shift' requests with top priority
    counted = [0]

    def shifts():
        for n in agents:
            want_off = int(agents.max()) - int(n)
            while len(blocked) < want_off:
                req = pool.request(priority=-1)
                blocked.append(req)
            while len(blocked) > want_off:
                pool.release(blocked.pop())
            yield env.timeout(1800)

    def call(h, p):
        with pool.request(priority=0) as req:
            result = yield req | env.timeout(p)
            if req in result:
                yield env.timeout(h)

    def arrivals():
        for i, v in enumerate(volume):
            n = rng.poisson(v)
            times = np.sort(rng.uniform(0, 1800, n)) + i * 1800
            for t, h, p in zip(times, handle.sample(rng, n), patience.sample(rng, n), strict=False):
                yield env.timeout(max(t - env.now, 0))
                env.process(call(h, p))
                counted[0] += 1
        return

    env.process(shifts())
    env.process(arrivals())
    env.run()
    return counted[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000, help="intervals also solved by pyworkforce")
    parser.add_argument(
        "--sim-intervals", type=int, default=20_000, help="half hours simulated by the kernel"
    )
    args = parser.parse_args()
    required_agents_benchmark(args.intervals, args.sample)
    mmc_benchmark(numpy_intervals=100, kernel_intervals=args.sim_intervals, ciw_intervals=100)
    week_benchmark()


if __name__ == "__main__":
    main()
