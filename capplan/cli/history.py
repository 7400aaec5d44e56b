"""``capplan ingest`` and ``capplan kpis``: a history file read, validated and accounted for,
and its service KPIs against targets; with the reading options every command that reads a
history file shares (:func:`add_ingest_arguments`, :func:`ingest_for`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.cli.options import number, text
from capplan.errors import InputError

if TYPE_CHECKING:
    from capplan.history import IngestOptions, IngestResult

# the files each command writes in its --out folder (forecasting.common.output_files: it replaces or
# removes no other; ingest's are forecasting.history.ingest's OUTPUTS), and those a failed run
# writes instead (beside a complete run's, never over: ingest's FAILED_REJECTED)
WRITES = {
    "kpis": ("kpis.csv", "kpis_summary.json"),  # not summary.json: ingest's, in a folder they share
    "backtest": ("leaderboard.csv", "by_horizon.csv", "backtest_forecasts.csv"),
}


def writes(command: str) -> tuple[str, ...]:
    if command == "ingest":
        from capplan.history import OUTPUTS

        return OUTPUTS
    return WRITES[command]


def outputs_of(command: str) -> tuple[str, ...]:
    from capplan.history import FAILED_REJECTED

    return (*writes(command), "rejected.csv", FAILED_REJECTED)


def add_ingest_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads a history file."""
    p.add_argument(
        "input", type=Path, nargs="?", help="CSV, TSV or Parquet file: a contact log or an interval report"
    )
    p.add_argument("--input", dest="input_option", type=Path, metavar="FILE", help="the same, as an option")
    formats = p.add_argument(
        "--format",
        help="log (default), anonymous-bank, or intervals (implied by --time-col)",
    )
    p.add_argument("--time-col", help="interval reports: the timestamp column")
    p.add_argument(
        "--value-col",
        action="append",
        default=[],
        metavar="COL[=FIELD]",
        help="interval reports: a value column; FIELD is arrivals (default), handled, abandoned, "
        "answered_in_target, aht, asa or service_level. Repeat for more columns; several plain "
        "columns are read as one queue each",
    )
    p.add_argument("--queue-col", help="interval reports in long format: the queue column")
    p.add_argument("--mapping", type=Path, help="contact logs: YAML mapping of columns and time format")
    p.add_argument(
        "--interval",
        type=text("an interval length such as 15min"),
        help="5min, 15min, 30min, 60min or day (default: the data's own, or 30min for logs)",
    )
    target_seconds = p.add_argument("--target-seconds", type=number("positive_seconds"))
    p.add_argument(
        "--sep",
        help="field delimiter: a character, or tab / comma / semicolon / pipe (default: tab for .tsv, comma otherwise)",
    )
    p.add_argument(
        "--encoding",
        type=text("a text encoding such as utf-8, cp1252 or utf-16"),
        help="text encoding, e.g. utf-8, cp1252, utf-16-le (default: detected: a byte-order mark, UTF-16 "
        "or UTF-32 without one, UTF-8, else cp1252 or Latin-1, said in the warnings)",
    )
    p.add_argument(
        "--reject-bad-rows",
        action="store_true",
        help="reject rows with unparsable or out-of-order times instead of stopping",
    )
    p.add_argument("--combine-queues", action="store_true", help="one table for all queues together")
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        type=text("a time zone such as Europe/Berlin"),
        help="the centre's time zone (e.g. Europe/Berlin): times with UTC offsets, or in UTC, are "
        "counted on its local clock (default: the clock the times were written in)",
    )
    p.add_argument(
        "--sl-denominator",
        choices=["arrivals", "handled"],
        default="arrivals",
        help="what a report's service-level column is a share of: all arrivals (default) or handled "
        "contacts, as many ACD exports measure it (needs a handled column; re-based on arrivals, and said so)",
    )

    def complete() -> None:
        from capplan.history import DEFAULT_TARGET_SECONDS, FORMATS

        formats.choices = FORMATS
        target_seconds.default = DEFAULT_TARGET_SECONDS
        target_seconds.help = f"service level threshold T in seconds (default {DEFAULT_TARGET_SECONDS:g})"

    p.later(complete)


def input_path(args: argparse.Namespace) -> Path:
    if args.input_option and args.input:
        raise InputError(
            "two input files",
            column="--input",
            expected="the file either as an argument or with --input, not both",
        )
    path = args.input_option or args.input
    if path is None:
        raise InputError(
            "no input file",
            column="--input",
            expected="a CSV, TSV or Parquet file (as an argument or with --input)",
        )
    return path


def ingest_for(args: argparse.Namespace, out: Path | None) -> IngestResult:
    """Ingest; if it fails after rows were rejected, still write rejected.csv so they can be fixed,
    but never over the last complete run's outputs: beside them, as rejected_failed.csv."""
    from capplan.history import ingest

    try:
        return ingest(input_path(args), ingest_options(args))
    except InputError as exc:
        if exc.rejected is not None and out is not None:  # marked as a failed run's
            write_failed_rejected(exc, args.command, out)
        raise


def write_failed_rejected(exc: InputError, command: str, out: Path) -> None:
    """A failed run's rejected rows, in its own file; the error's one line says where (and how
    many cells were neutralised as formulas, not in a line of its own)."""
    from capplan.files import OutputFolder, one_note, write_csv
    from capplan.history import FAILED_REJECTED

    name, written = "rejected.csv", True
    with one_note() as note:
        note.said = True
        try:
            with OutputFolder(out, command, status="failed", outputs=outputs_of(command)) as folder:
                name = name if folder.can_take(name) else FAILED_REJECTED
                write_csv(exc.rejected.rejected_rows(), folder.path(name), index=False)
        except InputError as refused:  # a file there that capplan did not write: kept
            written, name = False, refused.path or str(out)
    if not written:
        where = f"the rejected rows were not written: {name} is not capplan's to replace"
    elif name == "rejected.csv":
        where = "all in rejected.csv"
    else:
        where = f"the rejected rows are in {Path(out) / name}; the last complete {command} there is kept as it was"
    if written and note.cells:
        cells = f"{note.cells:,} text cell" + ("s" if note.cells > 1 else "")
        where += f"; {cells} a spreadsheet would run as formulas prefixed with '"
    exc.detail = exc.detail.replace(" (all in rejected.csv)", "") + f" ({where})"


def ingest_options(args: argparse.Namespace) -> IngestOptions:
    from capplan.errors import check_value
    from capplan.history import IngestOptions

    check_value(args.target_seconds, "positive_seconds", option="target_seconds")
    return IngestOptions(
        format=args.format,
        time_col=args.time_col,
        value_cols=tuple(args.value_col),
        queue_col=args.queue_col,
        mapping=args.mapping,
        interval=args.interval,
        target_seconds=args.target_seconds,
        sep=args.sep,
        encoding=args.encoding,
        strict=not args.reject_bad_rows,
        combine_queues=args.combine_queues,
        timezone=args.timezone,
        sl_denominator=args.sl_denominator,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ingest", help="validate a history file and write the tidy interval table")
    add_ingest_arguments(p)
    p.add_argument(
        "--out", type=Path, required=True, help="output folder for intervals.csv, summary.json, rejected.csv"
    )
    p.set_defaults(handler=run_ingest)

    k = subparsers.add_parser("kpis", help="KPIs per day/week/month/quarter against targets")
    add_ingest_arguments(k)
    k.add_argument(
        "--period",
        choices=("day", "week", "month", "quarter", "all"),
        default="all",
        help="default: all four",
    )
    k.add_argument(
        "--targets",
        type=Path,
        help="YAML targets file: KPI bounds and ticket SLAs by channel and priority (default: the targets in DOMAIN.md)",
    )
    k.add_argument(
        "--by",
        choices=("queue", "channel", "priority", "team", "category"),
        default="queue",
        help="group the KPIs (kpis.csv, the grid, the review) by queue (default) or by a contact log's "
        "mapped channel, priority, team or category column",
    )
    k.add_argument("--out", type=Path, required=True, help="output folder for kpis.csv")
    k.add_argument(
        "--report",
        type=Path,
        help="also write a review (Markdown) of the latest --period (quarter when all): each KPI against "
        "target per queue, trends, largest misses, backlog and age",
    )
    k.set_defaults(handler=run_kpis)


def run_ingest(args: argparse.Namespace) -> int:
    from capplan.files import check_output_folder
    from capplan.history import write_outputs

    check_output_folder(args.out, command="ingest", writes=writes("ingest"))  # before the work
    result = ingest_for(args, args.out)
    paths = write_outputs(result, args.out)
    print_ingest_summary(result)
    print(f"wrote {paths['intervals']}, {paths['summary']}, {paths['rejected']}, {paths['anomalies']}")
    return 0


def print_ingest_summary(result: IngestResult) -> None:
    from capplan.history import in_words

    s = result.summary()
    print(
        f"{s['input']} ({s['format']}): {s['rows_read']:,} rows read = {s['rows_used']:,} used "
        f"+ {s['rows_rejected']:,} rejected + {s['rows_ignored']:,} ignored"
    )
    for title, key in (("rejected", "rejected_by_reason"), ("ignored", "ignored_by_reason")):
        for reason, n in s[key].items():
            print(f"  {title}: {n:,} {reason}")
    for w in s["warnings"]:
        print(f"  warning: {w}")
    totals = ", ".join(f"{k} {v:,}" for k, v in s["totals"].items())
    print(f"{s['intervals']:,} intervals of {s['interval']} for queues {', '.join(s['queues'])}; {totals}")
    if s["tickets"]:
        t = s["tickets"]
        print(
            f"tickets: {t['resolved']:,} resolved, {t['open']:,} open at {t['exported_at']} "
            f"({t['waiting_for_first_response']:,} of them waiting for a first response)"
        )
    if s["reported_by"]:
        print(
            f"totals per {s['reported_by']}: spread evenly over their days for the models; "
            f"forecasts are given per {s['reported_by']}"
        )
    cal = s["calendar"]
    print(f"opening hours (inferred from {cal['interval_minutes']}-minute slots):")
    for day, hours in cal["hours"].items():
        slots = cal["slots"][day]
        print(f"  {day:<9} {hours}" + (f"  ({slots})" if hours != "closed" else ""))
    print(f"missing open days: {result.calendar.describe_missing()}")
    if s["gaps"]:
        print(f"gaps: {s['gaps']:,} open intervals missing on days with data (see gaps.csv)")
    if s["anomalies"]:
        print(f"anomalies: {in_words(s['anomalies'])} (see anomalies.csv)")
        for row in result.anomalies[result.anomalies["kind"] != "gap"].head(5).itertuples():
            print(
                f"  {row.kind.replace('_', ' ')} {row.queue}/{row.field} {row.start:%Y-%m-%d %H:%M}: {row.detail}"
            )


def run_kpis(args: argparse.Namespace) -> int:
    from capplan.files import (
        OutputFolder,
        atomic_write,
        check_output_file,
        check_output_folder,
        dumps,
        write_csv,
    )
    from capplan.history import FINER, flag_notes, kpi_report, load_targets, print_kpi_report, review_markdown

    check_output_folder(args.out, command="kpis", writes=writes("kpis"))
    if args.report:
        check_output_file(args.report, option="report")
    targets = load_targets(args.targets)  # a bad targets file is said before the data is read
    result = ingest_for(args, args.out)
    periods = ("day", "week", "month", "quarter") if args.period == "all" else (args.period,)
    review_period = "quarter" if args.period == "all" else args.period
    finer = FINER[review_period]
    extra = (finer,) if args.report and finer and finer not in periods else ()
    report = kpi_report(result, targets, periods + extra, by=args.by)
    for warning in result.summary()["warnings"] + flag_notes(report) + targets.unbounded_slas():
        print(f"warning: {warning}")
    shown = report[report["period"].isin(periods)]
    with OutputFolder(args.out, "kpis", outputs=outputs_of("kpis")) as folder:
        write_csv(shown, folder.path("kpis.csv"), index=False, float_format="%.6g")
        folder.path("kpis_summary.json").write_text(dumps(result.summary(), indent=2, default=str) + "\n")
    print_kpi_report(shown)
    print(f"wrote {args.out / 'kpis.csv'}")
    if args.report:
        targets_from = f"`{args.targets}`" if args.targets else "the defaults (DOMAIN.md's table)"
        text = review_markdown(report, review_period, str(input_path(args)), targets_from)
        atomic_write(args.report, lambda path: path.write_text(text, encoding="utf-8"), option="report")
        print(f"wrote {args.report} (review by {review_period})")
    return 0
