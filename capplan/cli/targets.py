"""``capplan targets``: a manager's answer for a scenario and a headcount, in sentences, with
the FTE each target costs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.cli.options import number
from capplan.errors import InputError
from capplan.words import format_value, label

if TYPE_CHECKING:
    import pandas as pd


def register(subparsers: argparse._SubParsersAction) -> None:
    t = subparsers.add_parser(
        "targets",
        help="what a headcount gives and what a target costs, in sentences (a scenario's targets and forecast)",
    )
    t.add_argument("scenario", help="a scenario file, or the name of one in experiments/scenarios")
    supply = t.add_mutually_exclusive_group()
    supply.add_argument(
        "--headcount",
        type=number("headcount"),
        help="FTE the centre has (default: the scenario's own supply)",
    )
    supply.add_argument(
        "--agents",
        type=number("agents"),
        help="agents on the phones in each open interval (productive, after shrinkage), instead of "
        "--headcount: taken as the FTE that keep them there (÷ (1 − shrinkage) × open hours ÷ hours per FTE)",
    )
    t.add_argument(
        "--days-share",
        type=number("days_share"),
        help="share of days the target should be met on (default: the scenario's, 0.8)",
    )
    t.add_argument("--out", type=Path, help="write the FTE-against-target table here (.csv)")
    t.set_defaults(handler=targets_command)


def targets_command(args: argparse.Namespace) -> int:
    from capplan.files import atomic_write, check_output_file, write_csv
    from capplan.scenarios import curve_words, load_scenario, manager_answer, run_scenario, with_headcount

    if args.out:
        check_output_file(args.out)
    if args.agents is not None and args.agents <= 0:
        raise InputError(
            "no agents", option="agents", expected="a number of agents above 0", found=str(args.agents)
        )
    scenario, path = load_scenario(args.scenario)
    scenario = with_headcount(scenario, args.headcount)
    if args.days_share is not None:
        scenario = scenario.model_copy(
            update={"risk": scenario.risk.model_copy(update={"days_share": args.days_share})}
        )
    result = run_scenario(scenario, path, store=args.store, agents_on_phones=args.agents)
    for sentence in manager_answer(result):
        print(sentence)
    best = result.achievable
    if best.get("service_level") is not None:
        print(
            f"{label('achievable_service_level')}: {format_value('achievable_service_level', best['service_level'])}"
        )
    curve = result.curve
    if len(curve):
        print(f"\nFTE each target costs ({curve_words(result.scenario)}):")
        print(curve_table(curve, result.scenario.targets.target_seconds).to_string(index=False))
    if args.out:
        atomic_write(args.out, lambda p: write_csv(curve, p, index=False, float_format="%.6g"))
        print(f"wrote {args.out}")
    return 0


def curve_table(curve: pd.DataFrame, target_seconds: float) -> pd.DataFrame:
    """The curve as printed: each target in its words, the plan's row marked."""
    import pandas as pd

    return pd.DataFrame(
        {
            "target": [
                format_value(k, v) if k != "service_level" else f"{v:.0%} in {target_seconds:g} s"
                for k, v in zip(curve["target"], curve["value"], strict=True)
            ],
            "kind": curve["target"].map(lambda k: label(k, with_side=False)),
            "FTE": curve["fte"].map(lambda v: format_value("fte_total", v)),
            "cost": curve["cost"].map(lambda v: format_value("total_cost", v)),
            "peak agents": curve["peak_agents"].map(lambda v: format_value("peak_agents", v)),
            "": ["← the plan" if plan else "" for plan in curve["plan"]],
        }
    )
