"""The forecasting package's subcommands of ``capplan``: ingest, kpis.

Each handler parses options, calls one package function and prints or saves the result.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.cli.options import MAX_HORIZON_DAYS, MAX_ORIGINS, jobs_count, number, positive_int, text, up_to
from forecasting.common.errors import InputError

if TYPE_CHECKING:
    from forecasting.history.ingest import IngestOptions, IngestResult

# the files each command writes in its --out folder (forecasting.common.output_files: it replaces or
# removes no other; ingest's are forecasting.history.ingest's OUTPUTS), and those a failed run
# writes instead (beside a complete run's, never over: ingest's FAILED_REJECTED)
WRITES = {
    "kpis": ("kpis.csv", "kpis_summary.json"),  # not summary.json: ingest's, in a folder they share
    "backtest": ("leaderboard.csv", "by_horizon.csv", "backtest_forecasts.csv"),
}


def writes(command: str) -> tuple[str, ...]:
    if command == "ingest":
        from forecasting.history.ingest import OUTPUTS

        return OUTPUTS
    return WRITES[command]


def outputs_of(command: str) -> tuple[str, ...]:
    from forecasting.history.ingest import FAILED_REJECTED

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
        from forecasting.history.ingest import FORMATS
        from forecasting.history.targets import DEFAULT_TARGET_SECONDS

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
    from forecasting.history.ingest import ingest

    try:
        return ingest(input_path(args), ingest_options(args))
    except InputError as exc:
        if exc.rejected is not None and out is not None:  # marked as a failed run's
            write_failed_rejected(exc, args.command, out)
        raise


def write_failed_rejected(exc: InputError, command: str, out: Path) -> None:
    """A failed run's rejected rows, in its own file; the error's one line says where (and how
    many cells were neutralised as formulas, not in a line of its own)."""
    from forecasting.common.csv_safety import one_note, write_csv
    from forecasting.common.output_files import OutputFolder
    from forecasting.history.ingest import FAILED_REJECTED

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
    from forecasting.common.input_rules import check_value
    from forecasting.history.ingest import IngestOptions

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

    b = subparsers.add_parser(
        "backtest", help="rolling-origin backtest of forecasting models; prints the leaderboard"
    )
    add_ingest_arguments(b)
    add_series_arguments(b)
    models = b.add_argument("--models")
    b.add_argument(
        "--origins", type=up_to(MAX_ORIGINS), default=10, help="number of forecast origins (default 10)"
    )
    b.add_argument(
        "--step-days",
        type=positive_int,
        help="days between origins (default: 1 for horizons up to 14 days, 7 up to 92, 28 beyond)",
    )
    b.add_argument(
        "--out", type=Path, help="folder for leaderboard.csv, by_horizon.csv, backtest_forecasts.csv"
    )
    b.set_defaults(handler=run_backtest_command)

    def complete_models() -> None:
        from forecasting.catalog import MODELS

        models.help = "comma-separated model names (default: all): " + ", ".join(MODELS)

    b.later(complete_models)

    f = subparsers.add_parser("forecast", help="forecast volume or AHT with prediction intervals")
    add_ingest_arguments(f)
    add_series_arguments(f)
    f.add_argument("--at", type=Path, help="CSV whose first column lists the timestamps to forecast")
    f.add_argument(
        "--model",
        default="auto",
        help="auto (default: the combination of the most of the best models within 10 %% of the best backtest MASE), champion (the registered model), a model name, or a+b",
    )
    f.add_argument(
        "--registered-model",
        help="with --model champion: MLflow registered model name (default: capplan-<input>-<field>)",
    )
    f.add_argument(
        "--select-origins",
        type=up_to(MAX_ORIGINS),
        default=5,
        help="backtest origins auto chooses by (default 5)",
    )
    f.add_argument(
        "--granularity",
        choices=("interval", "day", "week", "month"),
        default=None,
        help="rows of the output: each interval of the data (default; for weekly or monthly data "
        "their week or month), or totals per day, week (Monday to Sunday, or the data's own weeks) "
        "or month, with intervals for the totals",
    )
    f.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output CSV: timestamp,forecast,lo80,hi80,lo95,hi95 (with --granularity: per period, "
        "with its open days)",
    )
    f.set_defaults(handler=run_forecast_command)

    for name, helptext in (
        ("train", "backtest, choose, fit and register the champion model in MLflow"),
        ("retrain", "train a challenger on new data; promote it only if it beats the champion"),
    ):
        t = subparsers.add_parser(name, help=helptext)
        add_ingest_arguments(t)
        add_series_arguments(t)
        t.add_argument("--models", help="comma-separated candidate models (default: all)")
        t.add_argument(
            "--origins",
            type=up_to(MAX_ORIGINS),
            default=10,
            help="backtest origins for choosing the model (default 10)",
        )
        t.add_argument(
            "--registered-model",
            help="MLflow registered model name (default: capplan-<input>-<field>[-<queue>])",
        )
        if name == "retrain":
            t.add_argument(
                "--eval-origins",
                type=up_to(MAX_ORIGINS),
                default=5,
                help="recent origins champion and challenger are compared on",
            )
        else:
            t.add_argument(
                "--promote", action="store_true", help="make the new model champion even if one exists"
            )
        t.set_defaults(handler=run_training_command, retrain=name == "retrain")


def add_series_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--field", choices=("arrivals", "aht"), default="arrivals", help="what to forecast (default arrivals)"
    )
    p.add_argument(
        "--queue",
        help="one queue (default: all queues together); forecast: 'each' forecasts every queue with its own model",
    )
    p.add_argument(
        "--horizon-days", type=up_to(MAX_HORIZON_DAYS), default=5, help="open days ahead (default 5)"
    )
    p.add_argument(
        "--jobs",
        type=jobs_count,
        default=-1,
        help="parallel processes for backtests (default -1: every core)",
    )
    p.add_argument(
        "--keep-raw",
        action="store_true",
        help="fit models on the history as it is (default: mended of the anomalies ingest reports)",
    )
    p.add_argument(
        "--holidays",
        metavar="COUNTRY",
        help="public holidays whose effect the calendar and Prophet models learn and forecast: a country "
        "code such as US, GB, DE, or with a region, US-CA",
    )
    p.add_argument(
        "--special-days",
        type=Path,
        metavar="CSV",
        help="your own special days: a CSV of date[,name] rows (a sale, a launch), past and future; "
        "days with the same name share one effect",
    )


def special_days_of(args: argparse.Namespace):
    """The holidays and special days the options name (None when neither is given)."""
    from forecasting.special_days import SpecialDays, read_special_days

    dates = read_special_days(args.special_days) if args.special_days else ()
    days = SpecialDays(args.holidays, dates)
    return days or None


def load_series(args: argparse.Namespace):
    from forecasting.forecast_job import require_clean
    from forecasting.series import forecast_series

    result = ingest_for(args, None)
    require_clean(result)
    warn_anomalies(result, args.field, args.queue)
    return result, forecast_series(result, args.field, args.queue)


def warn_anomalies(result: IngestResult, field: str, queue: str | None) -> None:
    """What is unusual in the series about to be forecast: said before any model learns from it."""
    import logging

    import pandas as pd

    from forecasting.history.anomalies import MIN_DAYS_AFTER_SHIFT, in_words
    from forecasting.history.anomalies import summary as anomaly_counts

    a = result.anomalies
    a = a[
        (a["field"] == field)
        & ((a["kind"] == "gap") | (a["queue"] == (queue or "all")) | (queue in (None, "all", "each")))
    ]
    gaps = len(result.gaps)
    if len(a) or gaps:
        said = [in_words(anomaly_counts(a))] if len(a) else []
        said += [f"{gaps} missing open intervals"] if gaps else []
        shifts = a[a["kind"] == "level_shift"]
        days = pd.DatetimeIndex(result.intervals["interval_start"]).normalize().unique()
        scaled = bool(len(shifts)) and (days >= shifts["start"].iloc[-1]).sum() >= MIN_DAYS_AFTER_SHIFT
        mended = "outliers and special days at their usual values, a stopped feed left out" + (
            ", older days scaled to the level after the lasting shift" if scaled else ""
        )
        logging.getLogger("capplan").warning(
            "warning: the history has %s (`capplan ingest` lists them in anomalies.csv and gaps.csv); "
            "models learn from it mended (%s) unless --keep-raw%s",
            ", ".join(said),
            mended,
            "" if scaled or not len(shifts) else f"; {shifts['detail'].iloc[-1]}",
        )


def run_backtest_command(args: argparse.Namespace) -> int:
    import logging

    from forecasting.catalog import explain_choice
    from forecasting.common.csv_safety import write_csv
    from forecasting.common.output_files import OutputFolder, check_output_folder
    from forecasting.forecast_job import backtest_and_choose, candidate_names, choice_key, remember_choice
    from forecasting.store.backtest_cells import cells_of

    special_days = special_days_of(args)  # a bad calendar is said before the file is read
    if args.out:
        check_output_folder(args.out, command="backtest", writes=writes("backtest"))
    _, history = load_series(args)
    names = candidate_names(args.field, args.models)
    choice = backtest_and_choose(
        history,
        names,
        args.horizon_days,
        args.origins,
        args.step_days,
        not args.quiet,
        args.jobs,
        clean=not args.keep_raw,
        special_days=special_days,
        cells=cells_of(args.store),
    )
    remember_choice(
        args.store.choice_cache,
        choice_key(history, names, not args.keep_raw, special_days),
        choice,
        args.horizon_days,
    )
    board, backtest = choice.leaderboard, choice.backtest
    print(
        f"backtest of {history.name}: {backtest.forecasts['origin'].nunique()} origins, horizon {args.horizon_days} open days"
    )
    print(format_board(board))
    print(explain_choice(board, choice.name))
    off = calibration_warnings(board)
    chosen = [line for line in off if line.startswith(f"{choice.name}: ")]
    for line in chosen:
        logging.getLogger("capplan").warning("warning: %s", line)
    if len(off) > len(chosen):
        print(
            f"{len(off) - len(chosen)} other entries' bands or bias were off in the backtest: see the calibration column"
        )
    print(format_by_horizon(backtest.by_horizon(), board))
    if args.out:
        with OutputFolder(args.out, "backtest", outputs=outputs_of("backtest")) as folder:
            write_csv(board, folder.path("leaderboard.csv"), index=False, float_format="%.6g")
            write_csv(backtest.by_horizon(), folder.path("by_horizon.csv"), index=False, float_format="%.6g")
            write_csv(
                backtest.forecasts, folder.path("backtest_forecasts.csv"), index=False, float_format="%.6g"
            )
        print(f"wrote {args.out / 'leaderboard.csv'}")
    return 0


def format_by_horizon(by_horizon, board, top: int = 3) -> str:
    """MASE and 80 % coverage per horizon day of the best single models: are the bands honest
    further ahead as well as tomorrow?"""
    best = [m for m in board["model"] if m in set(by_horizon["model"])][:top]
    part = by_horizon[by_horizon["model"].isin(best)]
    if part.empty or "coverage80" not in part:
        return ""
    table = part.pivot_table(index="horizon_day", columns="model", values=["mase", "coverage80"], sort=False)
    table = table.reindex(columns=best, level=1)
    return "by horizon day (MASE, coverage of the 80 % interval):\n" + table.to_string(
        float_format=lambda v: f"{v:.3f}"
    )


def format_board(board, top: int | None = None, where: str | None = None) -> str:
    """The leaderboard as a table; cut to its ``top`` rows with a line saying so, and where the
    whole board was written (``where``: a file this run wrote, or None)."""
    left_out = board[board["left_out"].notna()] if "left_out" in board else board.iloc[:0]
    scored = board.drop(index=left_out.index)
    shown = scored if top is None else scored.head(top)
    rest = f"; all in {where}" if where else ""
    note = f"\n(top {len(shown)} of {len(board)} models{rest})" if len(shown) < len(board) else ""
    if len(left_out):  # their MASE rests on the newest origins alone: not comparable, not shown
        note += (
            "\nleft out after the newest origins, far behind the best there (successive halving): "
            + ", ".join(left_out["model"])
        )
    return _board_table(shown) + note


def calibration_warnings(board) -> list[str]:
    """One line per entry of the board whose backtest bands or bias were off, best first."""
    if board is None or "calibration" not in board:
        return []
    off = board[board["calibration"].fillna("ok") != "ok"]
    return [f"{row.model}: {row.calibration}" for row in off.itertuples()]


def _board_table(board) -> str:
    cols = [
        "rank",
        "model",
        "mase",
        "mase_median",
        "wape",
        "mae",
        "rmse",
        "bias",
        "coverage80",
        "coverage95",
        "seconds",
    ]
    return board[[c for c in cols if c in board]].to_string(
        index=False, float_format=lambda v: f"{v:.3f}", na_rep=""
    )


def run_forecast_command(args: argparse.Namespace) -> int:
    import logging

    from forecasting.common.csv_safety import write_csv
    from forecasting.common.output_files import FileOutputs
    from forecasting.forecast_job import make_forecast, output_granularity, read_timestamps, require_clean

    special_days = special_days_of(args)
    outputs = FileOutputs("forecast", args.out)
    board_path = args.out.with_name(f"{args.out.stem}_leaderboard.csv")
    if args.model == "auto":
        outputs.expect(board_path)  # auto's whole leaderboard, beside the forecast
    result = ingest_for(args, None)
    require_clean(result)
    warn_anomalies(result, args.field, args.queue)
    at = read_timestamps(args.at, interval=result.interval) if args.at else None
    table, selections, warning = make_forecast(
        result,
        args.field,
        args.queue,
        args.model,
        args.horizon_days,
        at,
        args.select_origins,
        args.registered_model,
        progress=not args.quiet,
        clean=not args.keep_raw,
        n_jobs=args.jobs,
        store=args.store,
        special_days=special_days,
        granularity=args.granularity,
    )
    log = logging.getLogger("capplan")
    if warning:
        log.warning("warning: %s", warning)
    outputs.write(
        args.out,
        lambda path: write_csv(
            table, path, index=False, date_format="%Y-%m-%d %H:%M:%S", float_format="%.4f"
        ),
    )
    for selection in selections:
        board = selection.leaderboard
        if board is not None and len(selections) == 1:
            where = None
            if board_path in outputs.companions:
                outputs.write(
                    board_path, lambda p, b=board: write_csv(b, p, index=False, float_format="%.6g")
                )
                where = str(board_path)
            print(format_board(board, top=5, where=where))
        if selection.why and len(selections) == 1:
            print(selection.why)
        if selection.calibration:
            log.warning("warning: %s", selection.calibration)
    models = ", ".join(sorted({s.name for s in selections}))
    total = (
        f"total forecast {table['forecast'].sum():,.0f}"
        if args.field == "arrivals"
        else f"mean AHT {table.loc[table['forecast'] > 0, 'forecast'].mean():,.0f} s"
    )
    rows = {"interval": "intervals", "day": "days", "week": "weeks", "month": "months"}
    print(
        f"model {models}: {len(table):,} {rows[output_granularity(result, args.granularity)]} from {table['timestamp'].min()} to {table['timestamp'].max()}; "
        f"{total}; wrote {args.out}"
    )
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    from forecasting.common.output_files import check_output_folder
    from forecasting.history.ingest import write_outputs

    check_output_folder(args.out, command="ingest", writes=writes("ingest"))  # before the work
    result = ingest_for(args, args.out)
    paths = write_outputs(result, args.out)
    print_ingest_summary(result)
    print(f"wrote {paths['intervals']}, {paths['summary']}, {paths['rejected']}, {paths['anomalies']}")
    return 0


def print_ingest_summary(result: IngestResult) -> None:
    from forecasting.history.anomalies import in_words

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
    from forecasting.common.csv_safety import write_csv
    from forecasting.common.jsonable import dumps
    from forecasting.common.output_files import (
        OutputFolder,
        atomic_write,
        check_output_file,
        check_output_folder,
    )
    from forecasting.history.kpi_review import FINER, flag_notes, print_kpi_report, review_markdown
    from forecasting.history.kpis import kpi_report
    from forecasting.history.targets import load_targets

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


def run_training_command(args: argparse.Namespace) -> int:
    from forecasting.forecast_job import candidate_names
    from forecasting.model_contract import data_contract
    from forecasting.training import retrain, train

    special_days = special_days_of(args)
    if args.registered_model and not re.fullmatch(r"[A-Za-z0-9_.\-]+", args.registered_model):
        raise InputError(  # before the backtest, not after it
            "not a model name MLflow takes",
            option="registered_model",
            expected="letters, digits, '-', '_' and '.' only",
            found=args.registered_model,
        )
    result, history = load_series(args)
    path = input_path(args)
    name = args.registered_model or args.store.model_name(path, args.field, args.queue)
    names = candidate_names(args.field, args.models)
    common = dict(
        contract=data_contract(result, args.field, args.queue, source=path.name),
        horizon_days=args.horizon_days,
        n_origins=args.origins,
        progress=not args.quiet,
        n_jobs=args.jobs,
        clean=not args.keep_raw,
        special_days=special_days,
    )
    if args.retrain:
        outcome = retrain(
            args.store,
            history,
            result.calendar,
            str(path),
            name,
            names,
            eval_origins=args.eval_origins,
            **common,
        )
    else:
        outcome = train(
            args.store, history, result.calendar, str(path), name, names, force=args.promote, **common
        )
    print(format_board(outcome.leaderboard, top=8))
    print(outcome.decision)
    print(f"MLflow run {outcome.run_id} in {args.store}; model {name} version {outcome.version}")
    return 0
