"""``capplan capacity SCENARIO``: a scenario's long-term hiring plan alone (its ``capacity:``
section), written as tables and an Excel workbook and recorded in MLflow (experiment 'capacity')."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("capplan")


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser(
        "capacity",
        help="the long-term hiring plan of a scenario with a capacity: section (weeks of FTE, classes, cost, risk)",
    )
    c.add_argument("scenario", help="a scenario file, or the name of one in experiments/scenarios")
    c.add_argument(
        "--out",
        type=Path,
        default=Path("out/capacity"),
        help="folder for the plan's tables and workbook (default out/capacity; the scenario's name below it)",
    )
    c.add_argument("--no-track", action="store_true", help="do not record the plan in MLflow")
    c.set_defaults(handler=capacity_command)


def capacity_command(args: argparse.Namespace) -> int:
    from capplan.errors import InputError
    from capplan.files import OutputFolder, check_output_folder, one_note
    from capplan.planning import run_capacity, spec_of
    from capplan.scenarios import CAPACITY_OUTPUTS, load_scenario, log_capacity, write_capacity_tables

    scenario, path = load_scenario(args.scenario)
    try:
        spec_of(scenario)
    except InputError as exc:
        exc.path = str(path)
        raise
    folder = args.out / scenario.name
    command = f"capacity {scenario.name}"
    outputs = (*CAPACITY_OUTPUTS, "scenario.yaml")
    check_output_folder(folder, command=command, writes=outputs)
    try:
        result = run_capacity(scenario, path, args.store)
    except InputError as exc:
        if exc.key and exc.path is None:
            exc.path = str(path)
        raise
    yaml_text = path.read_text()
    with one_note():
        with OutputFolder(folder, command, outputs=outputs) as out:
            write_capacity_tables(result, out.draft)
            out.path("scenario.yaml").write_text(yaml_text)
        run_id = None if args.no_track else log_capacity(args.store, result, yaml_text)
    for note in result.notes:
        log.warning("warning: %s", note)
    print(describe_capacity(result))
    print(
        f"  tables and workbook in {folder}"
        + (f"; MLflow run {run_id} (experiment 'capacity')" if run_id else "")
    )
    return 0


def describe_capacity(result) -> str:
    """The plan in a few lines: what it needs, what it hires, what it costs, how sure it is."""
    from capplan.words import format_value, label

    s, plan = result.summary, result.plan
    spec = result.inputs.scenario.capacity
    weeks = result.weeks
    p = f"P{round(spec.percentile * 100)}"
    lines = [
        f"{result.inputs.scenario.name}: {spec.weeks} weeks from {weeks['week_start'].iloc[0]:%Y-%m-%d}; "
        f"required FTE ({p}) {weeks.filter(like='required_fte_p').iloc[:, 1].iloc[0]:,.1f} in week 1, "
        f"{s['capacity_peak_required_fte']:,.1f} at the peak; today's team gives "
        f"{weeks['current_team_fte'].iloc[0]:,.1f} falling to {weeks['current_team_fte'].iloc[-1]:,.1f} without hiring",
    ]
    if len(plan.classes):
        classes = ", ".join(
            f"{h} in week {w}" for w, h in zip(plan.classes["start_week"], plan.classes["hires"], strict=True)
        )
        lines.append(f"  hire {plan.hires} in {len(plan.classes)} classes: {classes}")
    else:
        lines.append("  no hiring needed")
    shown = (
        "capacity_cost_total",
        "capacity_cost_hiring",
        "capacity_cost_overtime",
        "capacity_cost_outsourcing",
        "capacity_mean_chance_covered",
        "capacity_min_chance_covered",
        "capacity_weeks_short",
    )
    lines.append("  " + " · ".join(f"{label(k)} {format_value(k, s[k])}" for k in shown if k in s))
    for note in plan.notes:
        lines.append(f"  short: {note}")
    sens = result.sensitivity
    lines.append(
        "  sensitivity (hires): "
        + ", ".join(f"{row.case} {row.hires} ({row.hires_vs_base:+d})" for row in sens.itertuples())
    )
    return "\n".join(lines)
