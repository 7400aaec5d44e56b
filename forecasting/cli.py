"""The forecasting package's subcommands of ``capplan``: ingest, kpis.

Each handler parses options, calls one package function and prints or saves the result.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from forecasting.ingest import FORMATS, IngestOptions, IngestResult, ingest, write_outputs


def add_ingest_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads a history file."""
    p.add_argument("input", type=Path, help="CSV, TSV or Parquet file: a contact log or an interval report")
    p.add_argument("--format", choices=FORMATS, help="log (default), anonymous-bank, or intervals (implied by --time-col)")
    p.add_argument("--time-col", help="interval reports: the timestamp column")
    p.add_argument(
        "--value-col", action="append", default=[], metavar="COL[=FIELD]",
        help="interval reports: a value column; FIELD is arrivals (default), handled, abandoned, "
        "answered_in_target, aht, asa or service_level. Repeat for more columns; several plain "
        "columns are read as one queue each",
    )  # fmt: skip
    p.add_argument("--queue-col", help="interval reports in long format: the queue column")
    p.add_argument("--mapping", type=Path, help="contact logs: YAML mapping of columns and time format")
    p.add_argument("--interval", help="5min, 15min, 30min, 60min or day (default: the data's own, or 30min for logs)")
    p.add_argument("--target-seconds", type=float, default=20.0, help="service level threshold T in seconds (default 20)")
    p.add_argument("--sep", help="field delimiter (default: tab for .tsv, comma otherwise)")
    p.add_argument("--reject-bad-rows", action="store_true", help="reject rows with unparsable or out-of-order times instead of stopping")
    p.add_argument("--combine-queues", action="store_true", help="one table for all queues together")


def ingest_options(args: argparse.Namespace) -> IngestOptions:
    return IngestOptions(
        format=args.format,
        time_col=args.time_col,
        value_cols=tuple(args.value_col),
        queue_col=args.queue_col,
        mapping=args.mapping,
        interval=args.interval,
        target_seconds=args.target_seconds,
        sep=args.sep,
        strict=not args.reject_bad_rows,
        combine_queues=args.combine_queues,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ingest", help="validate a history file and write the tidy interval table")
    add_ingest_arguments(p)
    p.add_argument("--out", type=Path, required=True, help="output folder for intervals.csv, summary.json, rejected.csv")
    p.set_defaults(handler=run_ingest)

    k = subparsers.add_parser("kpis", help="KPIs per day/week/month/quarter against targets")
    add_ingest_arguments(k)
    k.add_argument("--period", choices=("day", "week", "month", "quarter", "all"), default="all", help="default: all four")
    k.add_argument("--targets", type=Path, help="YAML targets file (default: the targets in DOMAIN.md)")
    k.add_argument("--out", type=Path, required=True, help="output folder for kpis.csv")
    k.set_defaults(handler=run_kpis)


def run_ingest(args: argparse.Namespace) -> int:
    result = ingest(args.input, ingest_options(args))
    paths = write_outputs(result, args.out)
    print_ingest_summary(result)
    print(f"wrote {paths['intervals']}, {paths['summary']}, {paths['rejected']}")
    return 0


def print_ingest_summary(result: IngestResult) -> None:
    s = result.summary()
    print(f"{s['input']} ({s['format']}): {s['rows_read']:,} rows read = {s['rows_used']:,} used "
          f"+ {s['rows_rejected']:,} rejected + {s['rows_ignored']:,} ignored")  # fmt: skip
    for title, key in (("rejected", "rejected_by_reason"), ("ignored", "ignored_by_reason")):
        for reason, n in s[key].items():
            print(f"  {title}: {n:,} {reason}")
    for w in s["warnings"]:
        print(f"  warning: {w}")
    totals = ", ".join(f"{k} {v:,}" for k, v in s["totals"].items())
    print(f"{s['intervals']:,} intervals of {s['interval']} for queues {', '.join(s['queues'])}; {totals}")
    cal = s["calendar"]
    print(f"opening hours (inferred from {cal['interval_minutes']}-minute slots):")
    for day, hours in cal["hours"].items():
        slots = cal["slots"][day]
        print(f"  {day:<9} {hours}" + (f"  ({slots})" if hours != "closed" else ""))
    missing = cal["missing_days"]
    print(f"missing open days: {len(missing)}" + (f" ({', '.join(missing)})" if missing else ""))
    if s["gaps"]:
        print(f"gaps: {s['gaps']:,} open intervals missing on days with data (see gaps.csv)")


def run_kpis(args: argparse.Namespace) -> int:
    from forecasting.kpis import kpi_report, print_kpi_report
    from forecasting.targets import load_targets

    result = ingest(args.input, ingest_options(args))
    targets = load_targets(args.targets)
    periods = ("day", "week", "month", "quarter") if args.period == "all" else (args.period,)
    report = kpi_report(result, targets, periods)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "kpis.csv"
    report.to_csv(path, index=False, float_format="%.6g")
    print_kpi_report(report)
    (args.out / "summary.json").write_text(json.dumps(result.summary(), indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return 0
