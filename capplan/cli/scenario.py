"""``capplan scenario run|list|compare``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.errors import InputError, cli_option
from capplan.words import format_value, label, readable_comparison

if TYPE_CHECKING:
    import pandas as pd

    from capplan.store import Store

log = logging.getLogger("capplan")


def register(subparsers: argparse._SubParsersAction) -> None:
    s = subparsers.add_parser(
        "scenario", help="run, list and compare what-if scenarios (YAML under experiments/scenarios)"
    )
    sub = s.add_subparsers(dest="scenario_command", required=True, metavar="ACTION")
    r = sub.add_parser("run", help="run scenarios and record them in MLflow (experiment 'scenarios')")
    r.add_argument("scenarios", nargs="+", help="scenario files, or names of files in experiments/scenarios")
    r.add_argument(
        "--out",
        type=Path,
        default=Path("out/scenarios"),
        help="folder for each scenario's tables (default out/scenarios)",
    )
    r.add_argument("--no-track", action="store_true", help="do not record the runs in MLflow")
    r.add_argument(
        "--scheduler",
        metavar="WHERE",
        help="for scenarios over every queue (data.queue: each): plan the queues on Dask workers, 'local' "
        "(a cluster of this machine's cores) or a scheduler's address (tcp://host:8786); default "
        "CAPPLAN_DASK_SCHEDULER, else this process",
    )
    r.set_defaults(handler=run_command)
    ls = sub.add_parser("list", help="scenario files, whether they are valid, and their latest runs")
    ls.set_defaults(handler=list_command)
    c = sub.add_parser("compare", help="side-by-side metrics of scenarios' latest runs, read from MLflow")
    c.add_argument("names", nargs="+", help="scenario names; the first is the baseline unless --baseline")
    c.add_argument("--baseline", help="the scenario deltas are taken against")
    c.add_argument("--out", type=Path, help="save the table (.csv, or .xlsx for Excel)")
    c.set_defaults(handler=compare_command)


def run_one(store: Store, name: str, out: Path | None, track: bool = True, scheduler: str | None = None):
    """Load, run, save and record one scenario; returns (result, run id or None). A scenario
    over every queue of its data runs one task a queue (on ``scheduler``'s workers); should a
    queue fail, the queues done are written to ``<name>_partial`` and nothing is recorded."""
    from capplan.files import check_output_folder, one_note
    from capplan.forecasts import PanelError
    from capplan.scenarios import (
        OUTPUTS,
        is_each_queue,
        load_scenario,
        log_scenario,
        run_each_queue,
        run_scenario,
        write_outputs,
    )

    scenario, path = load_scenario(name)
    yaml_text = path.read_text()
    each = is_each_queue(scenario)
    if out is not None:  # a file in the way is said before the work, not after it
        check_output_folder(out / scenario.name, command=f"scenario run {scenario.name}", writes=OUTPUTS)
        if each:
            check_output_folder(
                out / f"{scenario.name}_partial", command=f"scenario run {scenario.name}", writes=OUTPUTS
            )
    try:
        if each:
            result = run_each_queue(scenario, path, store=store, scheduler=scheduler)
        else:
            result = run_scenario(scenario, path, store=store)
    except PanelError as exc:  # the queues done kept apart, nothing recorded as finished
        if out is not None and exc.partial is not None:
            write_outputs(exc.partial, out / f"{scenario.name}_partial", yaml_text)
            log.warning(
                "the %d queues done are in %s; nothing recorded in MLflow",
                len(exc.outcome.results),
                out / f"{scenario.name}_partial",
            )
        raise
    except InputError as exc:  # a key of this file (its demand, say) found wanting while running
        if exc.key and exc.path is None:
            exc.path = str(path)
        raise
    shown = (
        result.warnings if len(result.warnings) <= WARNINGS_SHOWN + 1 else result.warnings[:WARNINGS_SHOWN]
    )
    for w in shown:
        log.warning("warning: %s: %s", scenario.name, w)
    if len(shown) < len(
        result.warnings
    ):  # a thousand queues' notes: the rest in warnings.txt with the tables
        log.warning(
            "warning: %s: %d more, in warnings.txt with the tables",
            scenario.name,
            len(result.warnings) - len(shown),
        )
    with one_note():  # formula cells in the folder's tables and the run's artifacts: said once
        if out is not None:
            write_outputs(result, out / scenario.name, yaml_text)
        run_id = log_scenario(store, result, yaml_text) if track else None
    return result, run_id


WARNINGS_SHOWN = 10  # printed; all of them are recorded with the run

PLAN_SHOWN = (
    "fte_total",
    "peak_agents",
    "total_cost",
    "service_level",
    "asa_seconds",
    "abandon_rate",
    "csat",
    "nps",
    "answered_in_time",
    "p_meet_target_mean",
)
SUPPLY_SHOWN = (
    "supply_service_level",
    "supply_asa_seconds",
    "supply_abandon_rate",
    "supply_csat",
    "supply_nps",
    "supply_answered_in_time",
    "supply_p_meet_target_mean",
    "understaffed_intervals",
)


def describe(result, run_id: str | None) -> str:
    """The run in two lines, plan then supply, each number with its vocabulary label and format
    (the app and the comparison use the same)."""
    s = result.summary
    costed = result.scenario.supply.cost_per_agent_hour > 0  # no cost per hour given: no "cost 0"
    plan = " · ".join(
        f"{label(k)} {format_value(k, s[k])}" for k in PLAN_SHOWN if k in s and (costed or k != "total_cost")
    )
    lines = [f"{result.scenario.name}: {plan}"]
    supply = [f"{label(k)} {format_value(k, s[k])}" for k in SUPPLY_SHOWN if k in s]
    if supply:
        fte = s.get("achievable_fte_available")
        given = f" ({format_value('fte_total', fte)} FTE)" if fte is not None else ""
        lines.append(f"  supply{given}: " + " · ".join(supply))
    if result.schedule is not None:
        lines.append("  " + schedule_line(result.schedule))
    if result.capacity is not None:
        lines.append("  " + capacity_line(result.capacity))
    if run_id:
        lines.append(f"  MLflow run {run_id}")
    return "\n".join(lines)


def schedule_line(schedule) -> str:
    """The week of shifts in one line: agents, paid hours, and the service they deliver."""
    s = schedule.summary
    keys = (
        "schedule_agents",
        "schedule_paid_hours",
        "schedule_service_level",
        "schedule_understaffed_intervals",
    )
    return "schedule: " + " · ".join(f"{label(k)} {format_value(k, s[k])}" for k in keys if k in s)


def capacity_line(capacity) -> str:
    """The long-term plan in one line: hires, when the first class starts, cost, weeks short."""
    s, plan = capacity.summary, capacity.plan
    hires = (
        f"hire {plan.hires} in {len(plan.classes)} classes (the first in week {int(plan.classes['start_week'].min())})"
        if len(plan.classes)
        else "no hiring needed"
    )
    keys = ("capacity_cost_total", "capacity_weeks_short", "capacity_mean_chance_covered")
    return f"capacity over {int(s['capacity_weeks'])} weeks: {hires} · " + " · ".join(
        f"{label(k)} {format_value(k, s[k])}" for k in keys
    )


def queues_words(result, top: int = 10) -> str:
    """A scenario over every queue: how many, and the queues needing the most FTE."""
    from capplan.scenarios import scenario_queues_summary

    table = scenario_queues_summary(result, top)
    n = len(result.per_queue)
    lines = [f"  {n} queues, each planned on its own; the {min(top, n)} needing the most FTE:"]
    for row in table.itertuples(index=False):
        values = row._asdict()
        shown = " · ".join(f"{label(k)} {format_value(k, v)}" for k, v in values.items() if k != "data_queue")
        lines.append(f"    {values['data_queue']}: {shown}")
    lines.append("  every queue's numbers in queues.csv")
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> int:
    from capplan.files import check_output_folder
    from capplan.forecasts import scheduler_from
    from capplan.scenarios import load_scenario, manager_answer

    check_output_folder(args.out)
    named: dict[str, str] = {}
    for given in args.scenarios:  # every file checked, and no two runs under one name, before any runs
        scenario, path = load_scenario(given)
        if scenario.name in named and named[scenario.name] != str(path.resolve()):
            raise InputError(
                "two scenarios with one name",
                key=scenario.name,
                expected="a name of its own for each scenario run together (its tables and runs are found by name)",
                found=f"{named[scenario.name]} and {path}",
            )
        named[scenario.name] = str(path.resolve())
    scheduler = scheduler_from(args.scheduler)
    for name in args.scenarios:
        result, run_id = run_one(args.store, name, args.out, not args.no_track, scheduler)
        print(describe(result, run_id))
        if result.per_queue is not None:
            print(queues_words(result))
        else:
            for sentence in manager_answer(result):
                print("  " + sentence)
        print(f"  tables in {args.out / result.scenario.name}")
    if not args.no_track:
        print(
            f"runs recorded in {args.store} (experiment 'scenarios'); compare with `capplan scenario compare NAME ...`"
        )
    return 0


def list_command(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from capplan.scenarios import load_scenario, runs_table, scenario_dir, scenario_files

    try:
        runs = runs_table(args.store)
    except InputError as exc:  # the files can still be listed
        log.warning("warning: runs not shown: %s", exc.render(cli_option))
        runs = pd.DataFrame()
    latest = runs.drop_duplicates("scenario").set_index("scenario") if len(runs) else pd.DataFrame()
    rows = []
    for path in scenario_files():
        try:
            scenario, _ = load_scenario(path)
            name, status, text = scenario.name, "ok", scenario.description
            extends = scenario.extends_name or ""
        except InputError as exc:
            name, status, text, extends = path.stem, "invalid", exc.render(cli_option), ""
        run = latest.loc[name] if name in latest.index else None
        rows.append(
            {
                "scenario": name,
                "extends": extends,
                "status": status,
                "last_run": "" if run is None else pd.Timestamp(run["start_time"]).strftime("%Y-%m-%d %H:%M"),
                **{
                    label(k): "" if run is None else format_value(k, run.get(k, np.nan))
                    for k in (
                        "fte_total",
                        "service_level",
                        "achievable_fte_available",
                        "supply_service_level",
                    )
                },
                "description": text,
            }
        )
    if not rows:
        print(f"no scenario files in {scenario_dir()}")
        return 0
    table = pd.DataFrame(rows)
    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        print(table.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.3g}"))
    return 0


def compare_command(args: argparse.Namespace) -> int:
    from capplan.scenarios import NoRunError, compare_runs

    if args.out:
        check_table_name(args.out)
    try:
        table = compare_runs(args.store, args.names, args.baseline)
    except NoRunError as exc:
        raise InputError(
            "no run of this scenario",
            key=exc.scenario,
            expected=f"`capplan scenario run {exc.scenario}` first (runs are read from {args.store}"
            + ("" if args.store.exists() else ", and there is no store there yet: check --store")
            + ")",
        ) from None
    print(format_comparison(table))
    if args.out:
        save_table(table, args.out)
        print(f"wrote {args.out}")
    return 0


def format_comparison(table: pd.DataFrame) -> str:
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.max_colwidth", 60):
        return readable_comparison(table).to_string()


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    from capplan.files import write_csv

    write_csv(table, path, float_format="%.10g")  # millions keep their units


def _write_excel(table: pd.DataFrame, path: Path) -> None:
    from capplan.files import write_excel

    write_excel(table, path, sheet_name="comparison")


def _write_json(table: pd.DataFrame, path: Path) -> None:
    from capplan.files import dumps

    Path(path).write_text(dumps(table.reset_index().to_dict(orient="records"), indent=2, default=str) + "\n")


TABLE_WRITERS = {  # what ``compare --out`` writes, by the file's suffix
    ".csv": _write_csv,
    ".xlsx": _write_excel,
    ".parquet": lambda table, path: table.reset_index().to_parquet(path, index=False),
    ".json": _write_json,
}


def save_table(table: pd.DataFrame, path: Path) -> None:
    """The comparison in the format its name asks for (``x.json`` used to get CSV)."""
    from capplan.files import atomic_write

    writer = TABLE_WRITERS[check_table_name(path).suffix.lower()]
    labelled = table.copy()
    labelled.insert(0, "label", [label(k) for k in table.index])  # the numbers stay numbers to compute with
    atomic_write(path, lambda partial: writer(labelled, partial))


def check_table_name(path: Path) -> Path:
    from capplan.files import check_output_file

    if path.suffix.lower() not in TABLE_WRITERS:
        raise InputError(
            "unknown table format",
            option="out",
            expected="a file name ending in " + ", ".join(TABLE_WRITERS),
            found=str(path),
        )
    return check_output_file(path)
