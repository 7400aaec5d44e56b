"""Many queues: backtest, forecast and staffing of every queue (``capplan.plan_queues``) in one
process and on a Dask LocalCluster, seconds per queue, the scaling, and a projection for a
32-worker cluster from the measured per-queue times (written, not run).

The queues are generated from the bundled 60 days of bank calls: the mean calls of each
weekday and 15-minute slot, scaled to a level of the queue's own (0.1x to 3x) with Poisson
noise, so the queues differ as real skills do. One long Parquet report (timestamp, queue,
calls) is ingested as a user's would be.

    .venv/bin/python benchmarks/scale_out.py                 # 1,000 queues, 2 workers
    .venv/bin/python benchmarks/scale_out.py --queues 100
    .venv/bin/python benchmarks/scale_out.py --queues 0 --scenario-queues 100   # scenarios only

``--scenario-queues N`` also runs a what-if over the first N queues (``data.queue: each``: volume
+10 %, 80/20, risk and target curve per queue) in one process and on the LocalCluster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

import capplan

ROOT = Path(__file__).resolve().parents[1]
BANK_CALLS = ROOT / "data" / "bank_calls_2003-03-03_2003-05-28.csv"
MODELS = ["weekday_mean", "seasonal_naive_week", "ets_topdown"]
HORIZON_DAYS = 5
PROJECTED_WORKERS = 32
DASK_TASK_OVERHEAD = 0.001  # seconds of scheduler work per task: Dask's docs say about 1 ms (best practices)


def generate(path: Path, queues: int, seed: int = 2026) -> int:
    calls = pd.read_csv(BANK_CALLS, parse_dates=["DateTime"]).set_index("DateTime")["Calls"]
    quarter = calls.resample("15min").sum()
    quarter = quarter[quarter.index.normalize().isin(calls.index.normalize())]
    shape = quarter.groupby([quarter.index.day_of_week, quarter.index.time]).mean()
    stamps = quarter.index  # the bank's own 60 days of 15-minute slots
    keys = pd.MultiIndex.from_arrays([stamps.day_of_week, stamps.time])
    mean = shape.reindex(keys).to_numpy()
    open_ = mean > 0
    rng = np.random.default_rng(seed)
    levels = rng.uniform(0.1, 3.0, queues)
    counts = rng.poisson(np.outer(levels, mean[open_]))
    frame = pd.DataFrame(
        {
            "timestamp": np.tile(stamps[open_].to_numpy(), queues),
            "queue": np.repeat([f"skill_{i:04d}" for i in range(queues)], open_.sum()),
            "calls": counts.ravel(),
        }
    )
    frame.to_parquet(path, index=False)
    return len(frame)


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    out = run()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--scenario-queues", type=int, default=0, help="also run a scenario over this many queues"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="capplan-scale-"))
    if args.scenario_queues:
        scenario_benchmark(folder, args.scenario_queues, args.workers)
    if args.queues:
        plan_benchmark(folder, args.queues, args.workers)


def scenario_benchmark(folder: Path, queues: int, workers: int) -> None:
    """A scenario over every queue: in one process and on a LocalCluster, the same numbers."""
    import yaml

    path = folder / "scenario_queues.parquet"
    generate(path, queues)
    spec = folder / "every-queue.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "every-queue",
                "data": {
                    "input": str(path),
                    "format": "intervals",
                    "time_col": "timestamp",
                    "value_col": "calls",
                    "queue_col": "queue",
                    "queue": "each",
                },
                "forecast": {"model": "ets_topdown", "horizon_days": HORIZON_DAYS, "interval": "30min"},
                "queues": {
                    "voice": {
                        "channel": "voice",
                        "aht_seconds": 240,
                        "model": "erlang-a",
                        "patience_seconds": 180,
                    }
                },
                "demand": {"growth_pct": 10},
                "targets": {"service_level": 0.8, "target_seconds": 20},
            }
        )
    )
    alone_s, alone = timed(lambda: capplan.run_scenario(spec))
    cluster_s, cluster = timed(lambda: capplan.run_scenario(spec, scheduler="local"))
    identical = alone.intervals.equals(cluster.intervals) and alone.summary == cluster.summary
    print(
        f"scenario over {queues:,} queues (ets_topdown forecast, +10 %, Erlang A at 80/20, risk and "
        f"target curve per queue); {os.cpu_count()} cores"
    )
    table = [
        ["1 process", f"{alone_s:.1f}", f"{alone_s / queues:.3f}", "1.00"],
        [
            f"LocalCluster, {workers} workers",
            f"{cluster_s:.1f}",
            f"{cluster_s / queues:.3f}",
            f"{alone_s / cluster_s:.2f}",
        ],
    ]
    print(tabulate(table, headers=["run", "seconds", "seconds per queue", "speed-up"], tablefmt="github"))
    print(
        f"identical results on the cluster: {'yes' if identical else 'NO'}; FTE of all queues "
        f"{alone.summary['fte_total']:,.1f}, service level {alone.summary['service_level']:.1%}"
    )


def plan_benchmark(folder: Path, queues: int, workers: int) -> None:
    """Backtest, forecast and staffing of every queue (``capplan.plan_queues``)."""
    path = folder / "queues.parquet"
    rows = generate(path, queues)
    ingest_s, history = timed(
        lambda: capplan.ingest(path, time_col="timestamp", value_col="calls", queue_col="queue")
    )
    common = dict(aht_seconds=240, models=MODELS, horizon_days=HORIZON_DAYS)
    alone_s, alone = timed(lambda: capplan.plan_queues(history, **common))
    cluster_s, cluster = timed(
        lambda: capplan.plan_queues(history, **common, scheduler="local", workers=workers)
    )
    identical = alone.table.equals(cluster.table) and not alone.failures and not cluster.failures
    n = queues
    per_queue = alone_s / n
    projected = n * per_queue / PROJECTED_WORKERS + n * DASK_TASK_OVERHEAD
    table = [
        ["1 process", f"{alone_s:.1f}", f"{alone_s / n:.3f}", "1.00"],
        [
            f"LocalCluster, {workers} workers",
            f"{cluster_s:.1f}",
            f"{cluster_s / n:.3f}",
            f"{alone_s / cluster_s:.2f}",
        ],
        [
            f"{PROJECTED_WORKERS} workers (projected)",
            f"{projected:.1f}",
            f"{projected / n:.4f}",
            f"{alone_s / projected:.1f}",
        ],
    ]
    print(
        f"{n:,} queues × 60 days of 15-minute history ({rows:,} rows, ingested in {ingest_s:.1f} s); "
        f"per queue: backtest of {', '.join(MODELS)} and their combinations, the chosen model's "
        f"{HORIZON_DAYS}-day forecast, Erlang C staffing at 80/20; {os.cpu_count()} cores"
    )
    print(tabulate(table, headers=["run", "seconds", "seconds per queue", "speed-up"], tablefmt="github"))
    chosen = alone.table.groupby("queue")["model"].first().value_counts()
    print(
        f"identical results on the cluster: {'yes' if identical else 'NO'}; models chosen: "
        + ", ".join(f"{m} {c}" for m, c in chosen.items())
    )
    print(
        f"projection: {PROJECTED_WORKERS} workers at the measured {per_queue:.3f} s a queue, plus "
        f"{DASK_TASK_OVERHEAD * 1000:.0f} ms of scheduling a task; median interval agents "
        f"{statistics.median(alone.table['agents']):.0f}"
    )


if __name__ == "__main__":
    main()
