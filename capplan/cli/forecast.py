"""``capplan backtest``, ``forecast``, ``train`` and ``retrain``: the forecasting commands.

Each handler parses options, calls the forecasting package and prints or saves the result."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.cli.history import (
    add_ingest_arguments,
    ingest_for,
    outputs_of,
    writes,
)
from capplan.cli.options import MAX_HORIZON_DAYS, MAX_ORIGINS, jobs_count, positive_int, up_to
from capplan.errors import InputError

if TYPE_CHECKING:
    from capplan.history import IngestResult


def register(subparsers: argparse._SubParsersAction) -> None:
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
    add_scheduler_argument(b)
    b.set_defaults(handler=run_backtest_command)

    def complete_models() -> None:
        from capplan.forecasts import MODELS

        models.help = "comma-separated model names (default: all): " + ", ".join(MODELS)

    b.later(complete_models)

    f = subparsers.add_parser("forecast", help="forecast volume or AHT with prediction intervals")
    add_ingest_arguments(f)
    add_series_arguments(f)
    f.add_argument("--at", type=Path, help="CSV whose first column lists the timestamps to forecast")
    add_scheduler_argument(f)
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
        add_scheduler_argument(t)
        t.set_defaults(handler=run_training_command, retrain=name == "retrain")


def add_scheduler_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scheduler",
        metavar="WHERE",
        help="with --queue each: run the queues on Dask workers: 'local' (a cluster of this machine's cores) or "
        "a scheduler's address (tcp://host:8786); default CAPPLAN_DASK_SCHEDULER, else this process",
    )


def scheduler_of(args: argparse.Namespace) -> str | None:
    """The Dask scheduler the command uses, refused where there is one series to run."""
    from capplan.forecasts import scheduler_from

    if args.queue != "each" and args.scheduler is None:  # CAPPLAN_DASK_SCHEDULER is for many queues only
        return None
    scheduler = scheduler_from(args.scheduler)
    if scheduler is not None and args.queue != "each":
        raise InputError(
            "a scheduler spreads queues over workers",
            option="scheduler",
            expected="--queue each (one series runs in this process)",
            found=args.scheduler,
        )
    return scheduler


def add_series_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--field", choices=("arrivals", "aht"), default="arrivals", help="what to forecast (default arrivals)"
    )
    p.add_argument(
        "--queue",
        help="one queue (default: all queues together), or 'each': every queue with its own model "
        "(train, retrain: registered as one panel model, capplan-<input>-<field>-each)",
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
    from capplan.history import SpecialDays, read_special_days

    dates = read_special_days(args.special_days) if args.special_days else ()
    days = SpecialDays(args.holidays, dates)
    return days or None


def load_series(args: argparse.Namespace):
    from capplan.forecasts import forecast_series, require_clean

    result = ingest_for(args, None)
    require_clean(result)
    warn_anomalies(result, args.field, args.queue)
    return result, forecast_series(result, args.field, args.queue)


def warn_anomalies(result: IngestResult, field: str, queue: str | None) -> None:
    """What is unusual in the series about to be forecast: said before any model learns from it."""
    import logging

    import pandas as pd

    from capplan.history import MIN_DAYS_AFTER_SHIFT, in_words
    from capplan.history import summary as anomaly_counts

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

    from capplan.files import OutputFolder, check_output_folder, write_csv
    from capplan.forecasts import (
        backtest_and_choose,
        candidate_names,
        cells_of,
        choice_key,
        explain_choice,
        remember_choice,
    )

    special_days = special_days_of(args)  # a bad calendar is said before the file is read
    scheduler = scheduler_of(args)
    if args.out:
        check_output_folder(args.out, command="backtest", writes=writes("backtest"))
    if args.queue == "each":
        return _backtest_each_queue(args, special_days, scheduler)
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


def _backtest_each_queue(args: argparse.Namespace, special_days, scheduler: str | None) -> int:
    """Every queue backtested on its own (on Dask workers with a scheduler); each queue's choice
    remembered for its forecast; the tables with a queue column."""
    import pandas as pd

    from capplan.files import OutputFolder, write_csv
    from capplan.forecasts import (
        backtest_queues,
        candidate_names,
        cells_of,
        require_clean,
    )

    result = ingest_for(args, None)
    require_clean(result)
    warn_anomalies(result, args.field, None)
    names = candidate_names(args.field, args.models)
    clean = not args.keep_raw
    outcome = backtest_queues(
        result,
        args.field,
        names,
        args.horizon_days,
        args.origins,
        args.step_days,
        clean=clean,
        special_days=special_days,
        scheduler=scheduler,
        cells=cells_of(args.store),
        n_jobs=args.jobs,
        choices=args.store.choice_cache,
    )
    rows, tables = [], {"leaderboard": [], "by_horizon": [], "backtest_forecasts": []}
    for queue, choice in outcome.results.items():
        best = choice.leaderboard.set_index("model").loc[choice.name]
        rows.append({"queue": queue, "chosen": choice.name, "mase": best["mase"], "wape": best["wape"]})
        for key, table in (
            ("leaderboard", choice.leaderboard),
            ("by_horizon", choice.backtest.by_horizon()),
            ("backtest_forecasts", choice.backtest.forecasts),
        ):
            tables[key].append(table.assign(queue=queue)[["queue", *table.columns]])
    if rows:
        print(f"backtest of {len(rows)} queues, horizon {args.horizon_days} open days:")
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out and rows:
        with OutputFolder(args.out, "backtest", outputs=outputs_of("backtest")) as folder:
            for key, parts in tables.items():
                write_csv(
                    pd.concat(parts, ignore_index=True),
                    folder.path(f"{key}.csv"),
                    index=False,
                    float_format="%.6g",
                )
        print(f"wrote {args.out / 'leaderboard.csv'} (one board per queue)")
    outcome.complete("backtest")
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

    from capplan.files import FileOutputs, write_csv
    from capplan.forecasts import (
        PanelError,
        make_forecast,
        output_granularity,
        read_timestamps,
        require_clean,
    )

    special_days = special_days_of(args)
    scheduler = scheduler_of(args)
    outputs = FileOutputs("forecast", args.out)
    partial_path = args.out.with_name(f"{args.out.stem}_partial.csv")
    if args.queue == "each":
        outputs.expect(partial_path)  # the queues done, should others fail
    board_path = args.out.with_name(f"{args.out.stem}_leaderboard.csv")
    if args.model == "auto":
        outputs.expect(board_path)  # auto's whole leaderboard, beside the forecast
    result = ingest_for(args, None)
    require_clean(result)
    warn_anomalies(result, args.field, args.queue)
    at = read_timestamps(args.at, interval=result.interval) if args.at else None
    try:
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
            scheduler=scheduler,
        )
    except PanelError as exc:  # the queues done kept apart from the forecast asked for
        if exc.partial is not None:
            done = exc.partial
            outputs.write(partial_path, lambda p: write_csv(done, p, index=False, float_format="%.4f"))
            print(f"the {done['queue'].nunique()} queues done are in {partial_path}; {args.out} not written")
        raise
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


def run_training_command(args: argparse.Namespace) -> int:
    import capplan

    special_days = special_days_of(args)
    if args.registered_model and not re.fullmatch(r"[A-Za-z0-9_.\-]+", args.registered_model):
        raise InputError(  # before the backtest, not after it
            "not a model name MLflow takes",
            option="registered_model",
            expected="letters, digits, '-', '_' and '.' only",
            found=args.registered_model,
        )
    scheduler = scheduler_of(args)
    if args.queue == "each":  # every queue's series is split by the training itself
        from capplan.forecasts import require_clean

        result = ingest_for(args, None)
        require_clean(result)
        warn_anomalies(result, args.field, None)
    else:
        result, _ = load_series(args)
    common = dict(
        field=args.field,
        queue=args.queue,
        models=args.models.split(",") if args.models else None,
        horizon_days=args.horizon_days,
        origins=args.origins,
        registered_model=args.registered_model,
        special_days=special_days,
        clean=not args.keep_raw,
        jobs=args.jobs,
        progress=not args.quiet,
        **({"scheduler": scheduler} if args.queue == "each" else {}),
    )
    if args.retrain:
        outcome = capplan.retrain(args.store, result, eval_origins=args.eval_origins, **common)
    else:
        outcome = capplan.train(args.store, result, promote=args.promote, **common)
    if args.queue == "each":
        print(format_queues(outcome.queues))
    else:
        print(format_board(outcome.leaderboard, top=8))
    print(outcome.decision)
    print(
        f"MLflow run {outcome.run_id} in {args.store}; model {outcome.registered_name} version {outcome.version}"
    )
    return 0


def format_queues(table, top: int = 20) -> str:
    """A panel's queues (chosen model and backtest scores), the first ``top`` of them; all are
    in the run's queues.csv."""
    cols = [
        c
        for c in ("queue", "model", "mase", "wape", "coverage80", "challenger_mase", "champion_mase")
        if c in table
    ]
    shown = table[cols].head(top).to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
    more = f"\n({top} of {len(table)} queues; all in the run's queues.csv)" if len(table) > top else ""
    return shown + more
