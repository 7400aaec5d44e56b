"""Staffing speed: required agents (Erlang C, 80/20) for 1,000,000 intervals of varied load,
ours beside pyworkforce's ErlangC on a sample, with their answers compared; and the
simulation's calls per second beside SimPy on the same model (a week of 30-minute intervals,
about 2,000 calls a day, lognormal handle times, exponential patience, 20 replications).

pyworkforce and simpy are installed for this benchmark only (``make bench`` does it):

    .venv/bin/pip install pyworkforce simpy && .venv/bin/python benchmarks/staffing_speed.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scenarios.staffing.requirements import StaffingTargets, required_agents, scheduled_agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000, help="intervals also solved by pyworkforce")
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    volume = rng.uniform(
        1, 1500, args.intervals
    ).round()  # contacts per 30 min: 1 to 1,500 (load up to ~375 Erlangs)
    aht = rng.uniform(60, 600, args.intervals).round()
    targets = StaffingTargets(service_level=0.8, target_seconds=20, max_occupancy=0.85)

    started = time.perf_counter()
    ours = required_agents(volume, aht, 1800, targets)
    scheduled = scheduled_agents(ours, 0.3)
    ours_seconds = time.perf_counter() - started

    rows = [("capplan (numpy, vectorized)", args.intervals, ours_seconds, ours_seconds / args.intervals, "")]
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError:
        print("pyworkforce is not installed: pip install pyworkforce to compare")
        ErlangC = None
    if ErlangC is not None:
        pick = rng.choice(args.intervals, args.sample, replace=False)
        started = time.perf_counter()
        theirs = np.array(
            [
                ErlangC(
                    transactions=volume[i], aht=aht[i] / 60, asa=20 / 60, interval=30, shrinkage=0.3
                ).required_positions(service_level=0.8, max_occupancy=0.85)["raw_positions"]
                for i in pick
            ]
        )
        theirs_seconds = time.perf_counter() - started
        same = int((theirs == ours[pick]).sum())
        rows.append(
            (
                "pyworkforce ErlangC (per case)",
                args.sample,
                theirs_seconds,
                theirs_seconds / args.sample,
                f"{same}/{args.sample} identical",
            )
        )
    print("\n| solver | intervals | seconds | seconds per interval | answers |")
    print("|---|---:|---:|---:|---|")
    for name, n, seconds, per, note in rows:
        print(f"| {name} | {n:,} | {seconds:.2f} | {per:.2e} | {note} |")
    if len(rows) > 1:
        print(
            f"\nper interval, capplan is {rows[1][3] / rows[0][3]:,.0f}x faster; peak {ours.max()} agents, {scheduled.max()} scheduled"
        )


def simulation_benchmark() -> None:
    from scenarios.staffing.simulation import Distribution, simulate

    day = np.r_[np.zeros(14), np.sin(np.linspace(0.2, np.pi - 0.2, 28)) * 90 + 20, np.zeros(6)]  # 07:00–21:00
    volume = np.tile(day * 2000 / day.sum(), 7)
    agents = required_agents(volume, 240, 1800, StaffingTargets(service_level=0.8, target_seconds=20))
    handle, patience = Distribution("lognormal", 240, 0.8), Distribution("exponential", 300)
    started = time.perf_counter()
    result = simulate(volume, agents, 1800, handle, patience, target_seconds=20, replications=20, seed=1)
    ours = time.perf_counter() - started
    rows = [("capplan simulate (numpy, all replications together)", result.calls_simulated, ours)]
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
    print("\n| simulator | calls | seconds | calls per second |")
    print("|---|---:|---:|---:|")
    for name, calls, seconds in rows:
        print(f"| {name} | {calls:,} | {seconds:.2f} | {calls / seconds:,.0f} |")
    sl = np.nanmean(result.mean["service_level"][volume > 0])
    print(
        f"\nweek of {len(volume)} intervals, {result.calls_simulated / 20:,.0f} calls per replication, 20 replications; mean SL {sl:.3f}"
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


if __name__ == "__main__":
    main()
    simulation_benchmark()
