"""``capplan schedule``: a week of shifts from a scenario (its ``schedule:`` section, with the
service the schedule delivers) or from a requirements table (a scenario's intervals.csv, say)
and a file of shift templates."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("capplan")
SCHEDULES = "schedules"  # MLflow experiment of schedules made alone


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser(
        "schedule",
        help="a week of shifts: from a scenario with a schedule: section, or a requirements table and --templates",
    )
    c.add_argument("source", help="a scenario (file or name), or a CSV of intervals with required agents")
    c.add_argument(
        "--templates", type=Path, help="with a CSV: a YAML file with a schedule: section (shift templates)"
    )
    c.add_argument(
        "--column",
        default="scheduled_agents",
        help="with a CSV: the column of agents to schedule (default scheduled_agents; summed over queues)",
    )
    c.add_argument(
        "--out",
        type=Path,
        default=Path("out/schedule"),
        help="folder for the schedule's tables (default out/schedule; the scenario's or file's name below it)",
    )
    c.add_argument("--no-track", action="store_true", help="do not record the schedule in MLflow")
    c.set_defaults(handler=schedule_command)


def schedule_command(args: argparse.Namespace) -> int:
    from capplan.errors import InputError

    source = Path(args.source)
    if source.suffix.lower() in (".csv", ".tsv", ".parquet"):
        return _from_table(args, source)
    if args.templates is not None:
        raise InputError(
            "--templates is for a requirements table",
            option="templates",
            expected="a scenario's own schedule: section (leave --templates out), or a CSV source",
        )
    return _from_scenario(args)


def _from_scenario(args: argparse.Namespace) -> int:
    from capplan.errors import InputError
    from capplan.files import OutputFolder, check_output_folder, one_note
    from capplan.scenarios import (
        SCHEDULE_OUTPUTS,
        load_scenario,
        log_schedule,
        run_scenario,
        write_schedule_tables,
    )

    scenario, path = load_scenario(args.source)
    if scenario.schedule is None:
        raise InputError(
            "the scenario has no schedule section",
            path=path,
            key="schedule",
            expected="a schedule: section with templates (see README, 'Shift schedules'), or a CSV and --templates",
        )
    folder = args.out / scenario.name
    command = f"schedule {scenario.name}"
    check_output_folder(folder, command=command, writes=SCHEDULE_OUTPUTS)
    try:
        result = run_scenario(scenario, path, store=args.store, analysis=False)
    except InputError as exc:
        if exc.key and exc.path is None:
            exc.path = str(path)
        raise
    with one_note():
        with OutputFolder(folder, command, outputs=SCHEDULE_OUTPUTS) as out:
            write_schedule_tables(result.schedule, out.draft)
        run_id = None if args.no_track else log_schedule(args.store, result, path.read_text())
    for note in result.schedule.notes:
        log.warning("warning: %s", note)
    print(describe_schedule(scenario.name, result.schedule))
    print(f"  tables in {folder}" + (f"; MLflow run {run_id} (experiment '{SCHEDULES}')" if run_id else ""))
    return 0


def _from_table(args: argparse.Namespace, source: Path) -> int:
    import pandas as pd

    from capplan.errors import InputError
    from capplan.files import OutputFolder, check_output_folder, read_yaml_mapping, validate_mapping
    from capplan.history import interval_minutes
    from capplan.planning import rules_of, solve, week_requirement
    from capplan.scenarios import ScheduleSpec

    if args.templates is None:
        raise InputError(
            "shift templates needed", option="templates", expected="a YAML file with a schedule: section"
        )
    raw = read_yaml_mapping(args.templates, "templates file")
    if "schedule" not in raw:
        raise InputError(
            "no schedule section",
            path=args.templates,
            key="schedule",
            expected="a schedule: mapping with templates (as in a scenario)",
        )
    spec = validate_mapping(raw["schedule"], ScheduleSpec, args.templates)
    if not source.is_file():
        raise InputError("requirements file not found", path=source, expected="a CSV of intervals")
    table = (
        pd.read_parquet(source)
        if source.suffix.lower() == ".parquet"
        else pd.read_csv(source, sep=None, engine="python")
    )
    for column in ("interval_start", args.column):
        if column not in table:
            raise InputError(
                "column missing",
                path=source,
                column=column,
                expected=f"columns interval_start and {args.column} (a scenario's intervals.csv has both)",
            )
    stamps = pd.to_datetime(table["interval_start"], errors="coerce")
    agents = pd.to_numeric(table[args.column], errors="coerce")
    bad = stamps.isna() | agents.isna() | (agents < 0)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InputError(
            "not a time and a number of agents",
            path=source,
            row=row + 2,
            column=args.column,
            expected="an interval start and agents >= 0 on every row",
            found=f"{table['interval_start'].iloc[row]!r}, {table[args.column].iloc[row]!r}",
        )
    per_interval = agents.groupby(stamps).sum()
    steps = per_interval.index.to_series().diff().dropna()
    interval = steps.min() if len(steps) else pd.Timedelta(minutes=30)
    if interval not in (pd.Timedelta(minutes=m) for m in (15, 30, 60)):
        raise InputError(
            "intervals a schedule cannot use",
            path=source,
            column="interval_start",
            expected="15, 30 or 60-minute intervals",
            found=f"{interval_minutes(interval):g}-minute intervals",
        )
    required = week_requirement(
        per_interval.index, per_interval.to_numpy(), interval, min_on_duty=spec.min_on_duty
    )
    minutes = int(interval / pd.Timedelta(minutes=1))
    try:
        schedule = solve(required, rules_of(spec, minutes), spec)
    except InputError as exc:
        exc.path = str(args.templates)
        raise
    folder = args.out / source.stem
    names = ("schedule_shifts.csv", "schedule_patterns.csv", "schedule_coverage.csv")
    check_output_folder(folder, command=f"schedule {source.name}", writes=names)
    with OutputFolder(folder, f"schedule {source.name}", outputs=names) as out:
        for frame, name in zip((schedule.shifts, schedule.patterns, schedule.coverage), names, strict=True):
            frame.to_csv(out.path(name), index=False)
    for note in schedule.notes:
        log.warning("warning: %s", note)
    s = schedule.summary
    print(
        f"{source.name}: {int(s['agents'])} agents, {s['paid_hours']:,.0f} paid hours a week, "
        f"{s['over_agent_hours']:,.1f} agent-hours beyond the requirement, {int(s['short_intervals'])} intervals short"
    )
    print(f"  tables in {folder}")
    return 0


def describe_schedule(name: str, result) -> str:
    from capplan.words import format_value, label

    s = result.summary
    keys = (
        "schedule_agents",
        "schedule_paid_hours",
        "schedule_cost",
        "schedule_over_agent_hours",
        "schedule_service_level",
        "schedule_asa_seconds",
        "schedule_understaffed_intervals",
    )
    lines = [f"{name}: " + " · ".join(f"{label(k)} {format_value(k, s[k])}" for k in keys if k in s)]
    patterns = result.schedule.patterns
    for t, group in patterns.groupby("template", sort=False):
        off = ", ".join(f"{row.agents} off {row.days_off}" for row in group.itertuples())
        lines.append(f"  {t}: {int(group['agents'].sum())} agents ({off})")
    return "\n".join(lines)
