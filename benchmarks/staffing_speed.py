"""Staffing speed: required agents (Erlang C, 80/20) for 1,000,000 intervals of varied load,
ours beside pyworkforce's ErlangC on a sample, with their answers compared.

pyworkforce is installed for this benchmark only (``make bench`` does it):

    .venv/bin/pip install pyworkforce && .venv/bin/python benchmarks/staffing_speed.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scenarios.staffing.requirements import Targets, required_agents, scheduled_agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000, help="intervals also solved by pyworkforce")
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    volume = rng.uniform(1, 1500, args.intervals).round()  # contacts per 30 min: 1 to 1,500 (load up to ~375 Erlangs)
    aht = rng.uniform(60, 600, args.intervals).round()
    targets = Targets(service_level=0.8, target_seconds=20, max_occupancy=0.85)

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
        theirs = np.array([
            ErlangC(transactions=volume[i], aht=aht[i] / 60, asa=20 / 60, interval=30, shrinkage=0.3)
            .required_positions(service_level=0.8, max_occupancy=0.85)["raw_positions"]
            for i in pick
        ])  # fmt: skip
        theirs_seconds = time.perf_counter() - started
        same = int((theirs == ours[pick]).sum())
        rows.append(("pyworkforce ErlangC (per case)", args.sample, theirs_seconds, theirs_seconds / args.sample,
                     f"{same}/{args.sample} identical"))  # fmt: skip
    print("\n| solver | intervals | seconds | seconds per interval | answers |")
    print("|---|---:|---:|---:|---|")
    for name, n, seconds, per, note in rows:
        print(f"| {name} | {n:,} | {seconds:.2f} | {per:.2e} | {note} |")
    if len(rows) > 1:
        print(f"\nper interval, capplan is {rows[1][3] / rows[0][3]:,.0f}x faster; peak {ours.max()} agents, {scheduled.max()} scheduled")


if __name__ == "__main__":
    main()
