"""``capplan targets``: a manager's answer for a scenario and a headcount, in sentences, with
the FTE each target costs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from forecasting.csv_safety import write_csv
from forecasting.output_files import atomic_write, check_output_file
from scenarios.cli.options import number
from scenarios.vocabulary import format_value, label


def register(subparsers: argparse._SubParsersAction) -> None:
    t = subparsers.add_parser(
        "targets",
        help="what a headcount gives and what a target costs, in sentences (a scenario's targets and forecast)",
    )
    t.add_argument("scenario", help="a scenario file, or the name of one in experiments/scenarios")
    t.add_argument(
        "--headcount",
        type=number("headcount"),
        help="FTE the centre has (default: the scenario's own supply)",
    )
    t.add_argument(
        "--days-share",
        type=number("days_share"),
        help="share of days the target should be met on (default: the scenario's, 0.8)",
    )
    t.add_argument("--out", type=Path, help="write the FTE-against-target table here (.csv)")
    t.set_defaults(handler=targets_command)


def targets_command(args: argparse.Namespace) -> int:
    from scenarios.answers import manager_answer, with_headcount
    from scenarios.runner import run_scenario
    from scenarios.spec import load_scenario

    if args.out:
        check_output_file(args.out)
    scenario, path = load_scenario(args.scenario)
    scenario = with_headcount(scenario, args.headcount)
    if args.days_share is not None:
        scenario = scenario.model_copy(
            update={"risk": scenario.risk.model_copy(update={"days_share": args.days_share})}
        )
    result = run_scenario(scenario, path, store=args.store)
    for sentence in manager_answer(result):
        print(sentence)
    best = result.achievable
    if best.get("service_level") is not None:
        print(
            f"{label('achievable_service_level')}: {format_value('achievable_service_level', best['service_level'])}"
        )
    curve = result.curve
    if len(curve):
        shown = pd.DataFrame(
            {
                "target": [
                    format_value(k, v)
                    if k != "service_level"
                    else f"{v:.0%} in {scenario.targets.target_seconds:g} s"
                    for k, v in zip(curve["target"], curve["value"], strict=True)
                ],
                "kind": curve["target"].map(lambda k: label(k, with_side=False)),
                "FTE": curve["fte"].map(lambda v: format_value("fte_total", v)),
                "cost": curve["cost"].map(lambda v: format_value("total_cost", v)),
                "peak agents": curve["peak_agents"].map(lambda v: format_value("peak_agents", v)),
            }
        )
        print("\nFTE each target costs (staffed to the forecast, each target alone):")
        print(shown.to_string(index=False))
    if args.out:
        atomic_write(args.out, lambda p: write_csv(curve, p, index=False, float_format="%.6g"))
        print(f"wrote {args.out}")
    return 0
