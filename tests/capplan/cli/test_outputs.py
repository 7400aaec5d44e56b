"""Where outputs go: a place that cannot take them is refused before any work, in one line
naming ``--out``, with exit 2 and nothing written; a killed ``scenario run`` leaves no
truncated table behind (before: tracebacks for a file, /dev/full or a folder given as
``--out``; a truncated intervals.parquet after SIGKILL; ``compare --out x.json`` wrote CSV)."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from forecasting.common.output_files import MARKER
from tests.conftest import BANK_CALLS, FAST

INTERVALS = (BANK_CALLS, "--time-col", "DateTime", "--value-col", "Calls")
COMMANDS = {  # command line before --out, and whether --out is a folder
    "ingest": (("ingest", *INTERVALS), True),
    "kpis": (("kpis", *INTERVALS), True),
    "backtest": (("backtest", *INTERVALS, "--models", "weekday_mean", "--origins", "2"), True),
    "forecast": (("forecast", *INTERVALS, "--model", "weekday_mean"), False),
    "staff": (("staff", "--input", "BATCH", "--service-level", "0.8"), False),
    "compare": (("scenario", "compare", "baseline"), False),
}


@pytest.fixture
def places(tmp_path):
    (tmp_path / "a_file.csv").write_text("mine\n")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "batch.csv").write_text("interval_start,calls,aht\n2024-01-01 08:00,100,180\n")
    return tmp_path


def _bad_outs(folder_wanted: bool, tmp):
    under_a_file = tmp / "a_file.csv" / ("sub" if folder_wanted else "x.csv")
    if folder_wanted:
        return {"a file": tmp / "a_file.csv", "a device": "/dev/full", "under a file": under_a_file}
    return {"a folder": tmp / "a_folder", "a device": "/dev/full", "under a file": under_a_file}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", ["first", "second", "third"])
def test_an_out_that_cannot_be_written_is_refused_first(run_cli, places, command, kind):
    args, folder_wanted = COMMANDS[command]
    args = [places / "batch.csv" if a == "BATCH" else a for a in args]
    bad = dict(enumerate(_bad_outs(folder_wanted, places).values()))[["first", "second", "third"].index(kind)]
    before = sorted(p.name for p in places.rglob("*"))
    started = time.monotonic()
    code, _, err = run_cli(*args, "--out", bad)
    assert code == 2 and err.count("\n") == 1, err
    assert "--out" in err and "Traceback" not in err
    assert sorted(p.name for p in places.rglob("*")) == before  # nothing written anywhere
    assert (places / "a_file.csv").read_text() == "mine\n"
    assert time.monotonic() - started < 20  # refused before the work (a backtest takes longer)


@pytest.mark.parametrize("suffix", [".json", ".parquet", ".csv"])
def test_compare_writes_the_format_its_name_asks_for(
    run_cli, tmp_path, write_scenario, tracking_store, suffix
):
    write_scenario("fast", FAST)
    code, _, err = run_cli("scenario", "run", tmp_path / "fast.yaml", "--out", tmp_path / "runs")
    assert code == 0, err
    target = tmp_path / f"comparison{suffix}"
    code, _, err = run_cli("scenario", "compare", "fast", "--out", target)
    assert code == 0, err
    if suffix == ".json":
        rows = json.loads(target.read_text())
        assert isinstance(rows, list) and "fast" in json.dumps(rows)
    elif suffix == ".parquet":
        assert len(pd.read_parquet(target)) >= 1
    else:
        assert target.read_text().count("\n") >= 2


def test_compare_refuses_a_format_it_cannot_write(run_cli, tmp_path):
    code, _, err = run_cli("scenario", "compare", "baseline", "--out", tmp_path / "table.pdf")
    assert code == 2 and ".csv, .xlsx, .parquet, .json" in err and not (tmp_path / "table.pdf").exists()


def _scenario_run(tmp_path, out, track: bool = False):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'kill.db'}"}
    command = [sys.executable, "-m", "capplan.cli", "-q", "scenario", "run", str(tmp_path / "fast.yaml")]
    command += ["--out", str(out)] + ([] if track else ["--no-track"])
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE)


def _complete_or_untouched(folder):
    """The folder holds a finished run (marker listing every file, tables readable) or
    nothing of this run at all: never a part of one."""
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []
    if not files:
        return "untouched"
    record = json.loads((folder / MARKER).read_text())
    assert sorted([*record["files"], MARKER]) == files
    assert len(pd.read_parquet(folder / "intervals.parquet")) > 0
    return "complete"


def _kill_when(process, out, drafting: bool, seconds: float) -> bool:
    """SIGKILL ``process`` once its draft folder holds a file (``drafting``) or after
    ``seconds``; returns whether it was killed while drafting."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        staging = list((out / "fast").glob(".capplan-partial-*/*")) if (out / "fast").exists() else []
        if drafting and staging:
            break
        time.sleep(0.001)
    caught = process.poll() is None and drafting and bool(staging)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return caught


@pytest.mark.slow
def test_a_killed_scenario_run_leaves_no_truncated_table(tmp_path, write_scenario):
    write_scenario("fast", FAST)
    out = tmp_path / "runs"
    early = _scenario_run(tmp_path, out)
    assert not _kill_when(early, out, drafting=False, seconds=1.0)
    assert _complete_or_untouched(out / "fast") == "untouched"
    caught = _kill_when(_scenario_run(tmp_path, out), out, drafting=True, seconds=300)
    assert caught  # killed with its tables half written
    assert _complete_or_untouched(out / "fast") == "untouched"
    assert list((out / "fast").glob(".capplan-partial-*"))  # the draft it left
    finished = _scenario_run(tmp_path, out)
    assert finished.wait(timeout=300) == 0, finished.stderr.read()
    assert _complete_or_untouched(out / "fast") == "complete"
    assert not list((out / "fast").glob(".capplan-partial-*"))  # the killed run's draft is gone
    _kill_when(_scenario_run(tmp_path, out), out, drafting=True, seconds=300)
    assert _complete_or_untouched(out / "fast") == "complete"  # the finished run still whole


@pytest.mark.slow
def test_a_run_killed_while_recording_leaves_the_store_with_the_last_finished_run(tmp_path, write_scenario):
    """Killed after its tables are in place, while MLflow records it: the store still opens,
    lists and compares, and what it reports is the last run that finished, not half of the
    killed one."""
    from forecasting.store import SCENARIOS, Store

    write_scenario("fast", FAST)
    out = tmp_path / "runs"
    finished = _scenario_run(tmp_path, out, track=True)
    assert finished.wait(timeout=300) == 0, finished.stderr.read()
    store = Store.open(f"sqlite:///{tmp_path / 'kill.db'}")
    first = store.latest_run(SCENARIOS, tags={"scenario": "fast"})
    write_scenario("fast", {**FAST, "demand": {"growth_pct": 50}})
    marker = out / "fast" / MARKER
    before = marker.stat().st_mtime_ns
    process = _scenario_run(tmp_path, out, track=True)
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if marker.exists() and marker.stat().st_mtime_ns != before:
            break  # its tables are in: it is recording the run now
        time.sleep(0.001)
    recording = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert recording  # killed while MLflow recorded it
    assert _complete_or_untouched(out / "fast") == "complete"
    latest = Store.open(f"sqlite:///{tmp_path / 'kill.db'}").latest_run(SCENARIOS, tags={"scenario": "fast"})
    assert latest is not None and latest.run_id == first.run_id  # the killed run is not 'the latest'
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'kill.db'}"}
    for args in (["scenario", "list"], ["scenario", "compare", "fast"]):
        done = subprocess.run(
            [sys.executable, "-m", "capplan.cli", "-q", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


def test_two_scenarios_with_one_name_are_refused_before_either_runs(run_cli, tmp_path, write_scenario):
    """The second overwrote the first's tables and became 'its' latest run."""
    first = write_scenario("one", {**FAST, "name": "same"})
    second = write_scenario("two", {**FAST, "name": "same", "demand": {"growth_pct": 50}})
    code, _, err = run_cli("scenario", "run", first, second, "--no-track", "--out", tmp_path / "runs")
    assert code == 2 and "two scenarios with one name" in err and not (tmp_path / "runs" / "same").exists()


def test_a_scenario_without_a_cost_per_hour_says_no_cost(run_cli, tmp_path, write_scenario, monkeypatch):
    """No cost per agent hour given: neither "cost 0" nor "0 less per week", but the FTE."""
    from tests.conftest import FAST

    monkeypatch.chdir(tmp_path)
    scenario = write_scenario(
        "free", {**FAST, "name": "free", "supply": {"shrinkage": 0.3, "headcount": 500}}
    )
    code, out, err = run_cli("scenario", "run", scenario, "--no-track")
    assert code == 0, err
    assert "cost" not in out and "per week" not in out
    assert "FTE fewer)" in out
