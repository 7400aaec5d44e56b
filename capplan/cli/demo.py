"""``capplan demo``: the whole planning loop on the bundled bank data, in under a minute.

Ingest and check the history, backtest the candidate models and train the winner (the first
training registers the ``champion``; later ones a challenger, which ``capplan retrain``
judges), then run the baseline and the what-if scenarios in ``experiments/scenarios`` and
print their comparison, read back from MLflow.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from capplan.cli.forecast import format_board
from capplan.cli.history import print_ingest_summary
from capplan.cli.options import MAX_ORIGINS, jobs_count, up_to
from capplan.cli.scenario import describe, format_comparison, run_one, save_table
from capplan.scenarios import BUNDLED_SCENARIOS

if TYPE_CHECKING:
    from capplan.store import Store

log = logging.getLogger("capplan")
DEMO_SCENARIOS = (
    "baseline",
    "campaign_week",
    "product_launch",
    "holiday_shrinkage",
    "chat_shift",
    "staff_to_p80",
    "capacity_growth",  # the long-term hiring plan, 78 weeks
    "shift_schedule",  # the baseline's week in shifts, and the service they deliver
)


def register(subparsers: argparse._SubParsersAction) -> None:
    d = subparsers.add_parser(
        "demo", help="the end-to-end demo on the bundled bank data: train, scenarios, comparison"
    )
    d.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default out/demo)")
    d.add_argument(
        "--origins",
        type=up_to(MAX_ORIGINS),
        default=5,
        help="backtest origins for choosing the model (default 5)",
    )
    d.add_argument(
        "--jobs",
        type=jobs_count,
        default=-1,
        help="parallel processes for the backtest (default: every core)",
    )
    d.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    from capplan.files import check_output_folder

    check_output_folder(args.out)
    return run_demo(args.store, args.out, args.origins, args.jobs, progress=not args.quiet)


def run_demo(store: Store, out: Path, origins: int = 5, n_jobs: int = -1, progress: bool = True) -> int:
    from capplan.forecasts import candidate_names, data_contract, forecast_series, train
    from capplan.history import write_outputs
    from capplan.scenarios import compare_runs, load_history, load_scenario, resolve_path

    started = time.monotonic()
    baseline, path = load_scenario(BUNDLED_SCENARIOS / "baseline.yaml")  # the bundled ones, wherever it runs
    data = baseline.data
    print(f"1/4 ingest {data.input}")
    result = load_history(data, baseline.forecast.interval, path.parent)  # checked: every row must be usable
    write_outputs(result, out / "ingest")
    print_ingest_summary(result)
    print(f"2/4 backtest ({origins} origins) and train: {store}")
    history = forecast_series(result, "arrivals", data.queue)
    source = resolve_path(data.input, path.parent)
    name = baseline.forecast.registered_model or store.model_name(source, "arrivals", data.queue)
    outcome = train(
        store,
        history,
        result.calendar,
        str(source),
        name,
        candidate_names("arrivals", None),
        horizon_days=5,
        n_origins=origins,
        progress=progress,
        n_jobs=n_jobs,
        contract=data_contract(result, "arrivals", data.queue, source=source.name),
    )
    print(format_board(outcome.leaderboard, top=6))
    print(outcome.decision)
    print(f"3/4 scenarios ({len(DEMO_SCENARIOS)}, {_cores(n_jobs)} at a time)")
    for text, warnings in _run_scenarios(store, out / "scenarios", n_jobs):
        for warning in warnings:
            log.warning("warning: %s", warning)
        print("  " + text)
    print("4/4 comparison (read back from MLflow), deltas against the baseline")
    table = compare_runs(store, list(DEMO_SCENARIOS))
    print(format_comparison(table))
    save_table(table, out / "comparison.csv")
    print(
        f"demo done in {time.monotonic() - started:.0f} s; tables in {out}/, comparison in {out / 'comparison.csv'}"
    )
    print(
        f"runs and the champion model are in the MLflow store {store}: `mlflow ui --backend-store-uri {store}` shows them"
    )
    return 0


def _cores(n_jobs: int) -> int:
    cores = os.cpu_count() or 1
    return max(1, min(cores if n_jobs < 0 else n_jobs, cores, len(DEMO_SCENARIOS)))


def _run_scenarios(store: Store, out: Path, n_jobs: int):
    """(its two lines, its warnings) per demo scenario, in order, run ``n_jobs`` at a time in
    processes of their own: the scenarios share nothing but the champion's cached forecast and
    the store, whose writes are locked. A worker's log is its own, so warnings come back."""
    from joblib import Parallel, delayed

    return Parallel(n_jobs=_cores(n_jobs), return_as="generator")(
        delayed(_run_described)(store, BUNDLED_SCENARIOS / f"{name}.yaml", out, os.getpid())
        for name in DEMO_SCENARIOS
    )


def _run_described(store: Store, path: Path, out: Path, parent: int) -> tuple[str, list[str]]:
    elsewhere = os.getpid() != parent
    if elsewhere:  # a worker says nothing itself (the parent logs its warnings once)
        logging.getLogger().addHandler(logging.NullHandler())
    result, run_id = run_one(store, path, out)
    warnings = [f"{result.scenario.name}: {w}" for w in result.warnings] if elsewhere else []
    return describe(result, run_id), warnings
