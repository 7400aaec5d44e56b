"""Ingest speed: 1,000,000 generated contact-log rows through ``capplan ingest``'s code path.

Prints a table of seconds per stage (generation excluded) beside a plain ``pandas.read_csv`` of
the same file, the floor any validating reader has to stand on.

    .venv/bin/python benchmarks/ingest_speed.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.history.ingest import IngestOptions, ingest, write_outputs


def generate_log(path: Path, rows: int, seed: int = 1) -> None:
    """A realistic call log: Poisson-ish arrivals over 90 days, lognormal handle times, some defects."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    arrival = pd.Series(start + pd.to_timedelta(np.sort(rng.uniform(0, 90 * 86400, rows)).round(), unit="s"))
    wait = rng.exponential(30, rows).round()
    handle = rng.lognormal(5.2, 0.6, rows).round()
    abandoned = rng.random(rows) < 0.06
    answer = (arrival + pd.to_timedelta(wait, unit="s")).where(~abandoned)
    end = answer + pd.to_timedelta(handle, unit="s")
    frame = pd.DataFrame(
        {
            "contact_id": np.char.add("C", np.arange(rows).astype(str)),
            "queue": rng.choice(["sales", "service", "billing"], rows),
            "arrival_time": arrival.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "answer_time": answer.dt.strftime("%Y-%m-%d %H:%M:%S").fillna(""),
            "end_time": end.dt.strftime("%Y-%m-%d %H:%M:%S").fillna(""),
            "handle_seconds": np.where(abandoned, np.nan, handle),
            "abandoned": abandoned.astype(int),
            "customer_id": rng.integers(1, rows // 3, rows),
            "agent_id": rng.integers(1, 400, rows),
            "csat": np.where(rng.random(rows) < 0.2, rng.integers(1, 6, rows), 0),
        }
    )
    frame["csat"] = frame["csat"].replace(0, np.nan).astype("Int64")
    bad = rng.choice(rows, rows // 10_000, replace=False)  # 0.01 % rows with a defect to report
    frame.loc[bad, "handle_seconds"] = -1
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        t0 = time.perf_counter()
        generate_log(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )

        t0 = time.perf_counter()
        pd.read_csv(path, dtype=str, keep_default_na=False)
        plain = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = ingest(path, IngestOptions(interval="15min"))
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_outputs(result, Path(folder) / "out")
        written = time.perf_counter() - t0
        c = result.ledger.counts()
        assert c["rows_read"] == c["rows_used"] + c["rows_rejected"] + c["rows_ignored"] == args.rows

    print()
    print("| step | rows | seconds | rows/s |")
    print("|---|---:|---:|---:|")
    print(
        f"| pandas.read_csv only (no validation; floor) | {args.rows:,} | {plain:.2f} | {args.rows / plain:,.0f} |"
    )
    print(
        f"| capplan ingest: read, validate, normalize, 15-min intervals, calendar | {args.rows:,} | {ours:.2f} | {args.rows / ours:,.0f} |"
    )
    print(
        f"| capplan ingest: write intervals.csv, summary.json, rejected.csv | {args.rows:,} | {written:.2f} | |"
    )
    print(
        f"| **total ingest** | {args.rows:,} | **{ours + written:.2f}** | {args.rows / (ours + written):,.0f} |"
    )
    print(
        f"\nrows used {c['rows_used']:,}, rejected {c['rows_rejected']:,}, ignored {c['rows_ignored']:,}; target: under 30 s on 2 cores"
    )


if __name__ == "__main__":
    main()
