"""The first use of a new local store killed while MLflow migrates its schema: the next process
finds no database or a complete one (never a half-migrated one), and a database left half-made
(by an older capplan) is named in one line with its fix, not a raw SQL error."""

import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from forecasting.store import Store, StoreError

FIRST_USE = """
import sys
from forecasting.store import Store
with Store.at(sys.argv[1]).start_run("forecasting", "first use"):
    pass
"""


def _partials(folder) -> list:
    return sorted(folder.glob(".mlflow.db.*"))


@pytest.mark.parametrize(
    ("sig", "delay"),
    [(signal.SIGKILL, 0.0), (signal.SIGKILL, 1.0), (signal.SIGKILL, 3.0), (signal.SIGTERM, 0.5)],
)
def test_a_first_use_killed_while_the_schema_is_made_leaves_a_store_the_next_process_uses(
    tmp_path, sig, delay
):
    folder = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, "-c", FIRST_USE, str(folder)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        # the schema is being made once its file is there (beside the database, or the database)
        while not (_partials(folder) or (folder / "mlflow.db").exists()):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the first use never started making the schema"
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(sig)
    finally:
        proc.wait(timeout=60)
    existed = (folder / "mlflow.db").exists()
    if delay == 0.0:
        assert proc.returncode == -sig
        assert not existed  # killed mid-way: nothing that looks like a store

    store = Store.at(folder)  # the next process on the store
    with store.start_run("forecasting", "after the kill") as run:
        run_id = run.run_id
    assert [r.run_id for r in store.runs("forecasting") if r.run_id == run_id] == [run_id]
    assert store.model_version("calls") is None  # the registry's tables are there too
    assert store.created_by_this_process() == (not existed)
    assert _partials(folder) == []  # the killed process's leftovers are gone


def test_a_half_created_database_is_named_in_one_line_with_its_fix(tmp_path):
    complete = Store.at(tmp_path / "complete")
    with complete.start_run("forecasting", "makes the schema"):
        pass
    folder = tmp_path / "half"
    folder.mkdir()
    shutil.copy(complete.database, folder / "mlflow.db")
    # as a process killed during MLflow's migrations leaves it: some tables, no schema version
    with sqlite3.connect(folder / "mlflow.db") as db:
        db.execute("DROP TABLE spans")
        db.execute("DELETE FROM alembic_version")
    db.close()

    with pytest.raises(StoreError) as caught:
        Store.at(folder).runs("forecasting")
    message = str(caught.value)
    assert "half-created by a process that was killed" in message
    assert f"move {folder / 'mlflow.db'} away and run again" in message
    assert "\n" not in message and "sqlite3" not in message


def test_a_complete_store_is_not_called_half_created(tmp_path):
    store = Store.at(tmp_path / "store")
    with store.start_run("forecasting", "makes the schema"):
        pass
    copy = Store.at(tmp_path / "copy")
    copy.home.mkdir()
    shutil.copy(store.database, copy.database)
    assert copy.runs("forecasting") and not copy.created_by_this_process()
