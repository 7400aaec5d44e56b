"""A store used by several processes at once: its first use, its first champion, runs whose
process died. Real processes on a real SQLite store, as two planners would run them."""

import signal
import subprocess
import sys
import threading
import time

import pytest
from mlflow import MlflowClient

from forecasting.store import CHALLENGER, CHAMPION, Store, StoreError
from tests.conftest import BANK_CALLS

CAPPLAN = [sys.executable, "-m", "capplan.cli", "-q"]
HOLD_A_RUN = """
import sys, time
from forecasting.store import Store
with Store.at(sys.argv[1]).start_run("forecasting", sys.argv[2]) as run:
    print(run.run_id, flush=True)
    time.sleep(300)
"""


def test_two_first_trainings_on_a_new_store_both_succeed_and_one_is_champion(tmp_path):
    folder = tmp_path / "store"  # nothing there yet: both processes create the schema at once
    args = ["--time-col", "DateTime", "--value-col", "Calls", "--registered-model", "calls"]
    args += ["--models", "weekday_mean", "--origins", "2", "--jobs", "1"]
    command = [*CAPPLAN, "--store", str(folder), "train", "--input", str(BANK_CALLS), *args]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0 and "Traceback" not in err, err
    said = [out for out, _ in outputs]
    assert sum("is the first champion" in out for out in said) == 1, said
    assert sum("registered as challenger" in out for out in said) == 1, said
    store = Store.at(folder)
    champion, challenger = store.model_version("calls", CHAMPION), store.model_version("calls", CHALLENGER)
    assert {champion.version, challenger.version} == {1, 2} and champion.version == 1


def _hold_a_run(folder, name: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_RUN, str(folder), name], stdout=subprocess.PIPE, text=True
    )
    run_id = proc.stdout.readline().strip()
    assert run_id, "the process did not start its run"
    return proc, run_id


def test_runs_of_dead_processes_are_marked_killed_on_the_next_open_live_ones_stay(tmp_path):
    folder = tmp_path / "store"
    killed, killed_id = _hold_a_run(folder, "killed with SIGKILL")
    alive, alive_id = _hold_a_run(folder, "still running")
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)  # reaped: its pid is gone
        raw = MlflowClient(Store.at(folder).tracking_uri)  # reads without capplan's clean-up
        assert raw.get_run(killed_id).info.status == "RUNNING"  # as MLflow alone leaves it

        Store.at(folder).runs("forecasting")  # this process's first use of the store
        assert raw.get_run(killed_id).info.status == "KILLED"
        assert raw.get_run(alive_id).info.status == "RUNNING"  # its process is still there
        tags = raw.get_run(alive_id).data.tags
        assert tags["capplan.pid"] == str(alive.pid) and tags["capplan.host"]
    finally:
        alive.kill()
        alive.wait(timeout=30)


def test_a_run_stopped_with_sigterm_is_marked_killed_by_its_own_process(tmp_path):
    folder = tmp_path / "store"
    proc, run_id = _hold_a_run(folder, "stopped with SIGTERM")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    # read with MLflow's own client: no capplan process has opened the store since
    assert MlflowClient(Store.at(folder).tracking_uri).get_run(run_id).info.status == "KILLED"


def test_the_store_lock_nests_in_a_thread_and_excludes_other_threads(tmp_path):
    store = Store.at(tmp_path / "store")
    with store.lock(), store.lock(timeout_seconds=1):  # a locked block may take it again
        found: list[BaseException] = []

        def other() -> None:
            try:
                with store.lock(timeout_seconds=0.3):
                    pass
            except StoreError as exc:
                found.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(found) == 1 and "busy" in str(found[0])
    started = time.monotonic()
    with store.lock(timeout_seconds=1):  # released by both blocks
        assert time.monotonic() - started < 1


def test_the_store_lock_excludes_another_process(tmp_path):
    store = Store.at(tmp_path / "store")
    code = "import sys, time\nfrom forecasting.store import Store\nwith Store.at(sys.argv[1]).lock():\n"
    code += "    print('held', flush=True)\n    time.sleep(300)\n"
    proc = subprocess.Popen([sys.executable, "-c", code, str(store.home)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match="busy"), store.lock(timeout_seconds=0.5):
            pass
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with store.lock(timeout_seconds=5):  # free again once the other process is gone
        pass


def test_a_process_on_another_host_is_not_judged_from_here(tmp_path):
    """A shared store on a network disk: a run of another machine's process stays RUNNING."""
    folder = tmp_path / "store"
    store = Store.at(folder)
    with store.start_run("forecasting", "elsewhere") as run:
        run_id = run.run_id
    raw = MlflowClient(store.tracking_uri)
    raw.set_tag(run_id, "capplan.host", "another-machine")
    raw.set_tag(run_id, "capplan.pid", "999999999")  # no such pid here
    raw.update_run(run_id, "RUNNING")
    subprocess.run(
        [sys.executable, "-c", f"from forecasting.store import Store; Store.at({str(folder)!r}).runs('x')"],
        check=True,
        timeout=120,
    )
    assert raw.get_run(run_id).info.status == "RUNNING"


def test_only_the_process_that_made_the_database_says_it_created_it(tmp_path):
    store = Store.at(tmp_path / "store")
    store.runs("forecasting")  # reading a store that is not there creates nothing
    assert not store.created_by_this_process() and not store.exists()
    with store.start_run("forecasting", "first"):
        pass
    assert store.created_by_this_process() and store.exists()
    code = (
        "import sys\nfrom forecasting.store import Store\ns = Store.at(sys.argv[1])\ns.runs('forecasting')\n"
    )
    code += "print(s.created_by_this_process())"
    done = subprocess.run(
        [sys.executable, "-c", code, str(store.home)], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"
