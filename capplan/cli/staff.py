"""``capplan staff``: required agents and the service they give, for one case or a CSV of intervals."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from capplan.cli.options import factors_for, number, number_list, text
from capplan.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from capplan.files import FileOutputs
    from capplan.staffing import StaffingOptions, StaffingTargets


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("staff", help="required agents (Erlang C / A) for a case or a CSV of intervals")
    p.add_argument("--calls", type=number("calls"), help="contacts offered in the interval")
    p.add_argument("--aht", type=number("aht"), help="average handle time, seconds")
    p.add_argument(
        "--interval",
        type=text("an interval length such as 15min"),
        help="interval length: 15min, 30min, 60min … (default: a batch's own spacing; days and weeks: 30min or the profile's slot when longer)",
    )
    # the targets' names are those of a scenario's `targets:` (the older --target-* spellings still work)
    p.add_argument(
        "--service-level",
        "--target-sl",
        type=number("share"),
        help="service level target as a share, e.g. 0.8",
    )
    target_seconds = p.add_argument("--target-seconds", type=number("seconds"))
    p.add_argument(
        "--asa-seconds", "--target-asa", type=number("positive_seconds"), help="maximum ASA, seconds"
    )
    p.add_argument(
        "--abandon-rate",
        "--target-abandon",
        type=number("share"),
        help="maximum abandonment rate (Erlang A), e.g. 0.05",
    )
    p.add_argument("--max-occupancy", type=number("occupancy"), help="occupancy cap, e.g. 0.85")
    p.add_argument(
        "--blocking",
        "--target-blocking",
        type=number("share"),
        help="Erlang B (lines/trunks): maximum share of contacts blocked",
    )
    p.add_argument("--patience", type=number("patience"), help="mean patience, seconds (implies Erlang A)")
    model = p.add_argument(
        "--model",
        help="erlang-c (default without --patience), erlang-a, or erlang-b (implied by --target-blocking)",
    )
    p.add_argument(
        "--shrinkage",
        type=number("shrinkage"),
        default=0.0,
        help="share of paid time not available, e.g. 0.3",
    )
    p.add_argument(
        "--agents", type=number("agents"), help="evaluate this staffing instead of finding the requirement"
    )
    hours_per_fte = p.add_argument("--hours-per-fte", type=number("hours_per_fte"))
    p.add_argument(
        "--concurrency", type=number("concurrency"), help="chat: contacts an agent handles at once (1–5)"
    )
    p.add_argument(
        "--efficiency",
        type=number_list("efficiency", position_bound=True),
        help="chat: comma-separated efficiency factors for 1..k chats (default 1,1.7,2.5,2.9,3.5), "
        "or one factor for --concurrency k",
    )
    p.add_argument(
        "--response-hours",
        type=number("response_hours"),
        help="deferred work (email/tickets): answer within this many hours",
    )
    p.add_argument(
        "--response-share",
        type=number("share"),
        help=f"deferred work: share to answer in time (default {DEFAULT_RESPONSE_SHARE:g})",
    )
    p.add_argument(
        "--simulate",
        type=number("replications"),
        metavar="N",
        help="batch: also check the plan with N simulation replications",
    )
    p.add_argument(
        "--handle-cv",
        type=number("handle_cv"),
        help=f"simulation (default {DEFAULT_HANDLE_CV:g}): coefficient of variation of handle times (1 = exponential)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--input", type=Path, help="batch: CSV of intervals with columns calls (or arrivals, volume) and aht"
    )
    p.add_argument("--out", type=Path, help="batch: output CSV")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="batch of days or weeks: the shape of the day that spreads them to intervals: a CSV of "
        "weekday, time, share (or time and a column per weekday), or an intraday report of the same "
        "queue (interval_start, calls); default: capplan's bundled typical contact-centre week, with a warning",
    )
    p.set_defaults(handler=run_staff)

    def complete() -> None:
        from capplan.history import DEFAULT_TARGET_SECONDS
        from capplan.staffing import DEFAULT_HOURS_PER_FTE, MODELS

        target_seconds.default = DEFAULT_TARGET_SECONDS
        target_seconds.help = f"service level threshold T, seconds (default {DEFAULT_TARGET_SECONDS:g})"
        model.choices = MODELS
        hours_per_fte.default = DEFAULT_HOURS_PER_FTE
        hours_per_fte.help = f"weekly hours of one FTE (default {DEFAULT_HOURS_PER_FTE:g})"

    p.later(complete)

    v = subparsers.add_parser(
        "validate-staffing", help="calibrate the staffing model on a log and check it on later days"
    )
    v.add_argument("--log", type=Path, required=True, help="per-contact log (CSV/TSV/Parquet)")
    v.add_argument(
        "--format", choices=("log", "anonymous-bank"), default="log", help="log format (default: generic log)"
    )
    v.add_argument("--mapping", type=Path, help="generic logs: YAML column mapping")
    v.add_argument("--sep", help="field delimiter")
    v.add_argument("--timezone", metavar="ZONE", help="the centre's time zone, for times with UTC offsets")
    v.add_argument(
        "--train-until",
        required=True,
        type=text("a date YYYY-MM-DD"),
        help="last day (YYYY-MM-DD) of the calibration period",
    )
    v.add_argument(
        "--interval",
        default="60min",
        type=text("an interval length such as 60min"),
        help="interval length (default 60min)",
    )
    validate_seconds = v.add_argument("--target-seconds", type=number("seconds"))
    v.add_argument(
        "--replications", type=number("replications"), default=10, help="simulation replications (default 10)"
    )
    v.add_argument("--out", type=Path, required=True, help="REPORT.csv: one row per interval and model")
    v.set_defaults(handler=run_validate)

    def complete_validate() -> None:
        from capplan.history import DEFAULT_TARGET_SECONDS

        validate_seconds.default = DEFAULT_TARGET_SECONDS
        validate_seconds.help = f"service level threshold T (default {DEFAULT_TARGET_SECONDS:g})"

    v.later(complete_validate)


# options that only mean something beside another: (option, needs, the other in words)
COMPANIONS = (
    ("handle_cv", "simulate", "<<simulate>> (the simulation is what uses it)"),
    ("simulate", "input", "<<input>> (a batch of intervals: the simulation runs them in sequence)"),
    ("response_share", "response_hours", "<<response_hours>> (deferred work)"),
    ("profile", "input", "<<input>> (a table of days or weeks to spread to intervals)"),
)
DEFAULT_HANDLE_CV = 1.0
DEFAULT_RESPONSE_SHARE = 1.0


def _check_companions(args: argparse.Namespace) -> None:
    """An option given without the one it works with is refused, not silently ignored (each
    value itself was held to its rule by its argparse type, ``capplan.cli.options``)."""
    for option, needs, words in COMPANIONS:
        if getattr(args, option, None) is not None and getattr(args, needs, None) is None:
            raise InputError(f"without <<{needs}>>", option=option, expected=words)


def _targets(args: argparse.Namespace) -> StaffingTargets:
    from capplan.staffing import StaffingTargets

    _check_companions(args)
    targets = StaffingTargets(
        service_level=args.service_level,
        target_seconds=args.target_seconds,
        asa_seconds=args.asa_seconds,
        abandon_rate=args.abandon_rate,
        max_occupancy=args.max_occupancy,
        blocking=args.blocking,
    )
    if (
        args.agents is None
        and args.response_hours is None
        and all(
            v is None
            for v in (
                args.service_level,
                args.asa_seconds,
                args.abandon_rate,
                args.max_occupancy,
                args.blocking,
            )
        )
    ):
        raise InputError(
            "no target",
            option="service_level",
            expected="at least one of --service-level, --asa-seconds, --abandon-rate, --max-occupancy (or --agents)",
        )
    return targets


def _model(args: argparse.Namespace) -> str:
    model = args.model or (
        "erlang-b" if args.blocking is not None else "erlang-a" if args.patience else "erlang-c"
    )
    if model == "erlang-b" and any(
        v is not None for v in (args.service_level, args.asa_seconds, args.abandon_rate)
    ):
        raise InputError(
            "Erlang B has no queue",
            option="blocking",
            expected="no waiting-time or abandonment targets with a blocking target",
        )
    if model == "erlang-a" and not args.patience:
        raise InputError(
            "Erlang A needs patience", option="patience", expected="the mean patience in seconds"
        )
    if args.abandon_rate is not None and model == "erlang-c":
        raise InputError(
            "Erlang C has no abandonment", option="abandon_rate", expected="--patience (Erlang A)"
        )
    return model


def _options(
    args: argparse.Namespace, targets: StaffingTargets, model: str, patience=None, shrinkage=None
) -> StaffingOptions:
    from capplan.staffing import StaffingOptions

    efficiency = factors_for(
        args.efficiency,
        args.concurrency,
        StaffingOptions.__dataclass_fields__["efficiency"].default,
        option="efficiency",
        companion="concurrency",
    )
    return StaffingOptions(
        targets,
        model,
        args.patience if patience is None else patience,
        args.shrinkage if shrinkage is None else shrinkage,
        args.hours_per_fte,
        args.concurrency,
        efficiency,
        args.response_hours,
        DEFAULT_RESPONSE_SHARE if args.response_share is None else args.response_share,
    )


def run_staff(args: argparse.Namespace) -> int:
    from capplan.files import FileOutputs, dumps
    from capplan.history import parse_interval
    from capplan.staffing import DEFAULT_INTERVAL, METRICS, staff_intervals, within_day

    targets, model = _targets(args), _model(args)
    if args.input:  # the files in the way refused before the work (a name not typed: only ours)
        target = args.out or args.input.with_name(args.input.stem + "_staffing.csv")
        return _run_batch(args, targets, model, FileOutputs("staff", target, named=args.out is not None))
    if args.calls is None or args.aht is None:
        raise InputError(
            "missing case", option="calls", expected="--calls and --aht (or --input FILE for a batch)"
        )
    seconds = within_day(parse_interval(args.interval or DEFAULT_INTERVAL), args.interval).total_seconds()
    if args.response_hours is not None:
        raise InputError(
            "deferred work needs a series of intervals",
            option="response_hours",
            expected="--input FILE (backlog carries across intervals)",
        )
    agents = None if args.agents is None else np.array([args.agents])
    row = staff_intervals(
        np.array([args.calls]), np.array([args.aht]), seconds, _options(args, targets, model), agents
    ).iloc[0]
    result = {
        "model": model,
        "agents": int(row["agents"]) if args.agents is None else float(row["agents"]),
        "scheduled_agents": int(row["scheduled_agents"]),
        "load_erlangs": float(row["load"]),
        **{
            k: float(row[k])
            for k in METRICS
            if (model == "erlang-a" or k != "abandon_rate") and not (model == "erlang-b" and k != "occupancy")
        },
        **({"blocking": float(row["blocking"])} if model == "erlang-b" else {}),
        "overloaded": bool(row["overloaded"]),
    }
    if args.json:
        print(dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>17}: {value:.7g}" if isinstance(value, float) else f"{key:>17}: {value}")
    return 0


def _run_batch(args: argparse.Namespace, targets: StaffingTargets, model: str, outputs: FileOutputs) -> int:
    import logging

    import pandas as pd

    from capplan.files import write_csv
    from capplan.staffing import fte_by_period, read_staffing_table, simulated_service, staff_intervals

    table = read_staffing_table(
        args.input, interval=args.interval, aht_seconds=args.aht, profile=args.profile
    )
    for words in table.warnings:
        logging.getLogger("capplan").warning("warning: %s", words)
    target = outputs.main
    fte_path = target.with_name(target.stem + "_fte.csv")
    if table.time_col:  # FTE per day and week beside the table: a name the user did not type
        outputs.expect(fte_path)
    volume, aht, seconds = table.volume, table.aht, table.interval_seconds
    patience = table.per_row.get("patience", args.patience)
    shrinkage = table.per_row.get("shrinkage", args.shrinkage)
    options = _options(args, targets, model, patience, shrinkage)
    agents = None if args.agents is None else np.full(volume.shape, args.agents)
    staffed = staff_intervals(volume, aht, seconds, options, agents)
    parts = [table.rows, pd.DataFrame({"calls": volume, "aht": aht}), staffed]
    if args.simulate:
        if "queue" in table.rows.columns and table.rows["queue"].nunique() > 1:
            raise InputError(
                "one queue at a time",
                option="simulate",
                expected="an input with a single queue (the simulation runs the intervals in sequence)",
            )
        cv = DEFAULT_HANDLE_CV if args.handle_cv is None else args.handle_cv
        parts.append(
            simulated_service(volume, aht, seconds, staffed["agents"].to_numpy(), options, cv, args.simulate)
        )
    out = pd.concat(parts, axis=1)
    fte = (
        fte_by_period(table.rows[table.time_col], staffed, seconds, args.hours_per_fte)
        if table.time_col
        else None
    )
    # everything computed before anything is written; each file whole or not at all
    if fte is not None:
        outputs.write(fte_path, lambda p: write_csv(fte, p, index=False, float_format="%.4g"))
    outputs.write(target, lambda p: write_csv(out, p, index=False, float_format="%.6g"))
    print(_summary(args, table, out, model, fte_path if fte is not None else None) + f"; wrote {target}")
    return 0


def _summary(args: argparse.Namespace, table, out: pd.DataFrame, model: str, fte_path: Path | None) -> str:
    spread = table.note and table.note + (
        ": give the centre's own with --profile FILE" if table.typical_profile else ""
    )
    summary = (spread + "; " if spread else "") + (
        f"{len(out):,} intervals ({'deferred' if args.response_hours else model}): "
        f"peak {int(out['agents'].max())} agents, {int(out['scheduled_agents'].max())} scheduled"
    )
    if "overloaded" in out:
        summary += f"; {int(out['overloaded'].sum())} overloaded"
    if "backlog" in out:
        summary += f"; largest backlog {out['backlog'].max():,.0f}, oldest item {out['oldest_age_hours'].max():.1f} h"
    if fte_path is not None:
        summary += f"; FTE per day and week in {fte_path}"
    return summary


def run_validate(args: argparse.Namespace) -> int:
    import pandas as pd

    from capplan.files import FileOutputs, write_csv
    from capplan.history import IngestOptions, ingest, parse_interval
    from capplan.scenarios import plt, validation_plot
    from capplan.staffing import SURVEYS, validate_satisfaction, validate_staffing

    outputs = FileOutputs("validate-staffing", args.out)
    summary_path = args.out.with_name(args.out.stem + "_summary.csv")
    picture = args.out.with_suffix(".png")
    outputs.expect(summary_path, picture)  # the files beside --out, refused before the work

    try:
        train_until = pd.Timestamp(args.train_until)
    except ValueError:
        raise InputError(
            "bad date", option="train_until", expected="a date YYYY-MM-DD", found=args.train_until
        ) from None
    result = ingest(
        args.log,
        IngestOptions(
            format=args.format,
            mapping=args.mapping,
            sep=args.sep,
            interval=args.interval,
            target_seconds=args.target_seconds,
            timezone=args.timezone,
        ),
    )
    length = parse_interval(args.interval)
    surveys = [s for s in SURVEYS if result.contacts.has(s, "wait_seconds")]
    outputs.expect(*(args.out.with_name(f"{args.out.stem}_{s}.csv") for s in surveys))
    done = validate_staffing(result.contacts, length, train_until, args.target_seconds, args.replications)
    summary, cal = done.summary, done.calibration
    outputs.write(summary_path, lambda p: write_csv(summary, p, index=False, float_format="%.6g"))
    outputs.write(
        args.out,
        lambda p: write_csv(
            done.report, p, index=False, date_format="%Y-%m-%d %H:%M:%S", float_format="%.6g"
        ),
    )
    print(
        f"calibrated on the days up to {train_until:%Y-%m-%d}: mean patience "
        + (
            f"{cal.patience_seconds:.0f} s (Kaplan–Meier {cal.patience_km_seconds:.0f} s)"
            if np.isfinite(cal.patience_seconds)
            else "unbounded (no caller abandoned)"
        )
        + f", handle time lognormal mean {cal.handle.mean:.0f} s "
        f"CV {cal.handle.cv:.2f}, agents available {cal.availability:.0%} of those seen; "
        f"agents present (calls under {done.presence_gap / 60:g} min apart) {done.presence_availability:.0%}"
    )
    print(
        f"errors over {summary['intervals'].iloc[0]} test intervals (arrival-weighted; SL at {args.target_seconds:g} s);"
        " out_of_time_abandon_mae: each of the last training days predicted from the days before it"
    )
    shown = summary.drop(columns="chosen_because")  # said in words below
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    best = summary.set_index("model").loc[done.chosen]
    how = (
        f"cannot choose a model on the training days ({done.undecided}); kept the textbook {done.chosen}"
        if done.undecided
        else f"chosen by out-of-time error on the training days: {done.chosen}"
    )
    print(
        f"{how} (test abandonment MAE {best['abandon_rate_mae']:.3f}, calibrated "
        f"{summary.set_index('model').loc['calibrated', 'abandon_rate_mae']:.3f})"
    )
    figure = validation_plot(done.report, done.chosen)
    outputs.write(picture, lambda p: figure.savefig(p, dpi=110, bbox_inches="tight", format="png"))
    plt.close(figure)
    written = [args.out, summary_path, picture]
    for survey in SURVEYS:
        if survey in surveys:
            try:
                _, check = validate_satisfaction(result.contacts, length, train_until, survey)
            except ValueError as exc:  # too few answers on the training days
                print(f"{survey}: not validated ({exc})")
                continue
            path = args.out.with_name(f"{args.out.stem}_{survey}.csv")
            outputs.write(path, lambda p, c=check: write_csv(c, p, index=False, float_format="%.6g"))
            written.append(path)
            print(
                f"{survey} per interval from the service (P(wait), ASA, abandonment) through the wait-to-{survey} "
                f"curve fitted on the training days, against the training days' {survey}:"
            )
            print(check.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
