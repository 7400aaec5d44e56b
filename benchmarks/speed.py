"""Wall seconds of the commands planners run, before and now, beside the limits of issue 26.

Each command runs end to end as a subprocess (what a planner waits for: interpreter start,
imports, reading, backtest, fit, writing, MLflow), in a fresh temporary folder with its own
MLflow store and forecast cache, so nothing is served from an earlier run. "Before" runs the
same commands from a git worktree of an older commit with the same venv, interleaved with
"now" (the working tree as it is on disk), so both see the same load on the machine.

    .venv/bin/python benchmarks/speed.py                       # before = 4b73b5a (before issue 26)
    .venv/bin/python benchmarks/speed.py --skip-before --only help,forecast5
    .venv/bin/python benchmarks/speed.py --before HEAD~3

Besides the table of commands it prints where the seconds of ``forecast --model auto`` (5-min)
and ``train`` go: seconds per backtest fit of each model (their leaderboards' ``seconds``),
and the phases between the CLI's timestamped log lines.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecasting.stress import StressCase, daily_history, intraday_history

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "data" / "bank_calls_2003-03-03_2003-05-28.csv"
COLUMNS = ["--time-col", "DateTime", "--value-col", "Calls"]
LIMITS = {"help": 0.5, "forecast5": 15, "forecast_daily": 5, "train": 30, "retrain": 60, "demo": 60}
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (.*)$")  # the CLI's progress lines on stderr


@dataclass
class Run:
    """One timed command: its wall seconds, and what it left behind to explain them."""

    seconds: float
    folder: Path
    phases: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, log line)


@dataclass(frozen=True)
class Tree:
    """A source tree to run capplan from: the working tree, or a worktree of an older commit."""

    label: str
    root: Path

    def run(self, args: list[str], folder: Path) -> Run:
        """``python -m capplan.cli args`` from this tree, with the store and cache in ``folder``.
        cwd and PYTHONPATH both point at the tree: ``-m`` imports from cwd first, and the venv's
        editable install would otherwise bring in the working tree's modules."""
        env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_REGISTRY_URI", "PYTHONPATH")}
        env.update(
            MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'mlflow.db'}",
            CAPPLAN_HOME=str(folder),
            PYTHONPATH=str(self.root),
        )
        command = [sys.executable, "-m", "capplan.cli", *args]
        phases = []
        started = time.perf_counter()
        logs = folder / args[0].lstrip("-")  # one pair of logs per step: train's beside retrain's
        with open(f"{logs}.stdout.txt", "wb") as out, open(f"{logs}.stderr.txt", "wb") as err:
            proc = subprocess.Popen(command, cwd=self.root, env=env, stdout=out, stderr=subprocess.PIPE)
            for raw in proc.stderr:  # timestamped on arrival: finer than the lines' own HH:MM:SS
                at = time.perf_counter() - started
                err.write(raw)
                match = LOG_LINE.match(raw.decode(errors="replace").split("\r")[-1].strip())
                if match:
                    phases.append((at, match.group(1)))
            proc.wait()
        seconds = time.perf_counter() - started
        if proc.returncode:
            tail = Path(f"{logs}.stderr.txt").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.label}: {' '.join(args)} failed ({proc.returncode}):\n{tail}")
        return Run(seconds, folder, phases + [(seconds, "(exit)")])

    def check_imports(self) -> str:
        """Where this tree's ``scenarios`` and ``forecasting`` are imported from (must be the tree)."""
        code = "import scenarios, forecasting; print(scenarios.__file__, forecasting.__file__)"
        env = {**os.environ, "PYTHONPATH": str(self.root)}
        found = subprocess.run(
            [sys.executable, "-c", code], cwd=self.root, env=env, capture_output=True, text=True
        )
        paths = found.stdout.split()
        if not paths or not all(Path(p).is_relative_to(self.root) for p in paths):
            raise RuntimeError(f"{self.label} imports {found.stdout or found.stderr}, not {self.root}")
        return " ".join(paths)


def before_tree(ref: str) -> Tree:
    """A detached worktree of ``ref`` in /tmp (reused if there), its bytecode compiled once so the
    first command timed from it does not pay for compiling."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, check=True, capture_output=True, text=True
    )
    path = Path(f"/tmp/capplan-before-{commit.stdout.strip()}")
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, check=True)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "forecasting", "scenarios"], cwd=path, check=True
    )
    return Tree(f"before ({commit.stdout.strip()})", path)


def write_inputs(folder: Path) -> dict[str, Path]:
    """Generated series the bundled files do not cover: three years of daily totals, and seven
    months of 5-minute slots with its first six months apart (retrain needs a champion first)."""
    daily, _ = daily_history(StressCase("plain"), days=1100, seed=0)
    slots, _ = intraday_history(StressCase("plain"), days=213, interval="5min", seed=0)
    six_months = slots[slots.index < slots.index[0].normalize() + pd.Timedelta(days=182)]
    paths = {
        "daily": folder / "daily_3y.csv",
        "seven": folder / "slots_7m.csv",
        "six": folder / "slots_6m.csv",
    }
    for name, series in (("daily", daily), ("seven", slots), ("six", six_months)):
        series.rename_axis("DateTime").rename("Calls").to_csv(paths[name])
    return paths


def commands(inputs: dict[str, Path]) -> dict[str, tuple[str, list[list[str]]]]:
    """Per benchmark name: (what it is, its commands; all but the last set up, untimed in the table).
    ``{out}`` is the run's own folder."""
    model = ["--registered-model", "speed-retrain"]  # the 6-month and 7-month files share one model
    return {
        "help": ("capplan --help (best of 3)", [["--help"]]),
        "forecast5": (
            "forecast --model auto, bundled 5-min file (60 days)",
            [["forecast", str(BANK), *COLUMNS, "--model", "auto", "--out", "{out}/f5"]],
        ),
        "forecast_daily": (
            "forecast --model auto, generated 3 years daily",
            [["forecast", str(inputs["daily"]), *COLUMNS, "--model", "auto", "--out", "{out}/fd"]],
        ),
        "train": ("train, bundled 5-min file", [["train", str(BANK), *COLUMNS]]),
        "retrain": (
            "retrain, generated 7 months 5-min (after train on 6)",
            [
                ["train", str(inputs["six"]), *COLUMNS, *model],
                ["retrain", str(inputs["seven"]), *COLUMNS, *model],
            ],
        ),
        "demo": ("demo (README's main job)", [["demo", "--out", "{out}/demo"]]),
    }


def time_command(
    tree: Tree, steps: list[list[str]], scratch: Path, repeats: int = 1
) -> tuple[Run, float | None]:
    """The last step's best run of ``repeats``, each repeat in a fresh folder; and the seconds of the
    setup steps before it (None when there are none)."""
    best, setup = None, None
    for _ in range(repeats):
        folder = Path(tempfile.mkdtemp(dir=scratch))
        filled = [[a.replace("{out}", str(folder)) for a in step] for step in steps]
        setup_runs = [tree.run(step, folder) for step in filled[:-1]]
        run = tree.run(filled[-1], folder)
        if best is None or run.seconds < best.seconds:
            best, setup = run, sum(r.seconds for r in setup_runs) if setup_runs else None
    return best, setup


def fit_seconds(runs: dict[tuple[str, str], Run]) -> pd.DataFrame:
    """Seconds per backtest fit of each single model (combinations have none), from the leaderboard
    ``forecast`` writes beside --out and the one ``train`` logs to MLflow, one column per run."""
    columns = {}
    for (name, label), run in runs.items():
        boards = sorted(
            run.folder.glob("f5_leaderboard.csv" if name == "forecast5" else "mlartifacts/**/leaderboard.csv")
        )
        if boards:
            board = pd.read_csv(boards[0]).dropna(subset=["seconds"])
            columns[f"{name} {label}"] = board.set_index("model")["seconds"]
    return (
        pd.DataFrame(columns).sort_values(list(columns)[-1], ascending=False) if columns else pd.DataFrame()
    )


def phases(run: Run) -> pd.DataFrame:
    """The seconds between the CLI's timestamped log lines: each line's phase lasts until the next."""
    rows = [(0.0, "(start: interpreter, imports, reading)")] + run.phases
    return pd.DataFrame(
        [
            {"at s": at, "phase s": rows[i + 1][0] - at, "from the line": text[:90]}
            for i, (at, text) in enumerate(rows[:-1])
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="4b73b5a", help="commit to compare with (default 4b73b5a)")
    parser.add_argument("--skip-before", action="store_true", help="time the working tree only")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(LIMITS)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(LIMITS)
    unknown = set(names) - set(LIMITS)
    if unknown:
        parser.error(f"unknown names {sorted(unknown)}; choose from {', '.join(LIMITS)}")
    trees = [] if args.skip_before else [before_tree(args.before)]
    trees.append(Tree("now", ROOT))
    for tree in trees:
        print(f"{tree.label}: imports {tree.check_imports()}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="capplan-speed-"))
    plan = commands(write_inputs(scratch))
    rows, runs = [], {}
    for name in names:
        what, steps = plan[name]
        row = {"command": what}
        for tree in trees:
            print(f"running {name} ({tree.label}): capplan {' '.join(steps[-1])}", flush=True)
            try:
                run, setup = time_command(tree, steps, scratch, repeats=3 if name == "help" else 1)
            except RuntimeError as failed:  # say, an option the old tree lacks: a blank cell
                print(f"  {failed}", flush=True)
                continue
            runs[name, tree.label] = run
            row[f"{tree.label} s"] = run.seconds
            if setup is not None:
                row[f"{tree.label} setup s"] = setup
            print(
                f"  {run.seconds:.2f} s" + (f" (setup {setup:.1f} s)" if setup is not None else ""),
                flush=True,
            )
        row["limit s"] = LIMITS[name]
        now = row.get(f"{trees[-1].label} s")
        row["within"] = "" if now is None else "yes" if now <= LIMITS[name] else "NO"
        rows.append(row)
    print(f"\nWall seconds per command (scratch folder {scratch})\n")
    table = pd.DataFrame(rows)  # a setup column (retrain's) is blank in the other rows, not "nan"
    print(
        table.astype(object)
        .where(table.notna(), None)
        .to_markdown(index=False, floatfmt=".2f", missingval="")
    )
    board = fit_seconds({k: v for k, v in runs.items() if k[0] in ("forecast5", "train")})
    if not board.empty:
        print("\nSeconds per backtest fit by model (from the leaderboards)\n")
        print(board.to_markdown(floatfmt=".2f"))
    for (name, label), run in runs.items():
        if name in ("forecast5", "train"):
            print(
                f"\nPhases of {name}, {label} (seconds from the start; each log line's phase lasts until the next)\n"
            )
            print(phases(run).to_markdown(index=False, floatfmt=".1f"))


if __name__ == "__main__":
    main()
