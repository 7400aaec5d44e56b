"""Outputs are written whole or not at all: a failed or killed command leaves its output
folder as it was, a finished one marks it complete and removes its own previous run's files it
did not write again (never a user's own, nor another command's: see test_output_ownership)."""

import json

import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.common.output_files import MARKER, OutputFolder, atomic_write

OUTPUTS = ("a.csv", "b.csv")


def test_a_finished_folder_is_marked_and_the_previous_runs_leftovers_go(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with OutputFolder(tmp_path, "run", outputs=OUTPUTS) as out:
        out.path("a.csv").write_text("1")
        out.path("b.csv").write_text("2")
    with OutputFolder(tmp_path, "run", outputs=OUTPUTS) as out:
        out.path("a.csv").write_text("3")
    marker = json.loads((tmp_path / MARKER).read_text())
    assert marker["command"] == "run" and marker["status"] == "complete" and marker["files"] == ["a.csv"]
    assert list(marker["runs"]) == ["run"] and list(marker["runs"]["run"]["files"]) == ["a.csv"]
    assert (tmp_path / "a.csv").read_text() == "3"
    assert not (tmp_path / "b.csv").exists()  # the first run's, not written again
    assert (tmp_path / "notes.txt").read_text() == "mine"  # never listed by a marker: kept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MARKER, "a.csv", "notes.txt"])


def test_a_failure_halfway_changes_nothing(tmp_path):
    with OutputFolder(tmp_path, "good") as out:
        out.path("a.csv").write_text("good")
    with pytest.raises(RuntimeError), OutputFolder(tmp_path, "bad") as out:
        out.path("a.csv").write_text("half")
        raise RuntimeError("the third table failed")
    assert (tmp_path / "a.csv").read_text() == "good"
    assert json.loads((tmp_path / MARKER).read_text())["command"] == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MARKER, "a.csv"])  # no staging left


def test_a_killed_runs_staging_is_removed_by_the_next_run(tmp_path):
    abandoned = tmp_path / ".capplan-partial-999999999-x"  # no such process
    abandoned.mkdir()
    (abandoned / "intervals.parquet").write_bytes(b"PAR1 trunc")
    with OutputFolder(tmp_path, "next") as out:
        out.path("a.csv").write_text("1")
    assert not abandoned.exists()


def test_a_single_file_is_replaced_whole(tmp_path):
    target = tmp_path / "t.csv"
    atomic_write(target, lambda p: pd.DataFrame({"x": [1]}).to_csv(p, index=False))

    def fails(path):
        path.write_text("partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="No space left on device"):
        atomic_write(target, fails)
    assert target.read_text() == "x\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


@pytest.mark.parametrize("name", ["book.xlsx", "table.parquet", "table.csv"])
def test_writers_that_choose_by_suffix_still_work(tmp_path, name):
    frame = pd.DataFrame({"x": [1.5, 2.5]})
    writers = {".xlsx": frame.to_excel, ".parquet": frame.to_parquet, ".csv": frame.to_csv}
    target = atomic_write(tmp_path / name, lambda p: writers[p.suffix](p))
    assert target.stat().st_size > 0
