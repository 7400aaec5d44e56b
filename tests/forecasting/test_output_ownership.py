"""A run replaces and removes only its own files (issue 24): a failed run leaves the last good
outputs as they were, commands share a folder, a user's files and anything a hand-written
marker names are never deleted, and outputs get the mode a plain ``open()`` gives under the
umask (``mkstemp`` made them 0600)."""

import hashlib
import json
import os
import re
import stat

import pytest

from forecasting.common.errors import InputError
from forecasting.common.output_files import MARKER, OutputFolder, atomic_write, check_output_folder

A = ("a.csv", "b.csv", "c.csv")


def snapshot(folder):
    """Every file under ``folder`` (and beside it) with its contents' hash."""
    return {
        str(p.relative_to(folder.parent)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.parent.rglob("*"))
        if p.is_file()
    }


def run(folder, command, files, status="complete", outputs=A):
    with OutputFolder(folder, command, status=status, outputs=outputs) as out:
        for name, text in files.items():
            out.path(name).write_text(text)


def test_two_commands_share_a_folder_and_each_replaces_only_its_own(tmp_path):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "ingest a", "b.csv": "ingest b"})
    run(out, "kpis", {"c.csv": "kpis c"})
    assert (out / "a.csv").read_text() == "ingest a" and (out / "b.csv").read_text() == "ingest b"
    run(out, "ingest", {"a.csv": "ingest a2"})  # its own b.csv not written again: removed
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "c.csv", MARKER]
    assert (out / "c.csv").read_text() == "kpis c"
    runs = json.loads((out / MARKER).read_text())["runs"]
    assert sorted(runs) == ["ingest", "kpis"]
    assert list(runs["ingest"]["files"]) == ["a.csv"] and list(runs["kpis"]["files"]) == ["c.csv"]


def test_a_file_of_another_command_is_never_replaced(tmp_path):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "ingest a"})
    before = snapshot(out)
    with pytest.raises(InputError, match=r"holds the a\.csv that `ingest` wrote"):
        run(out, "kpis", {"a.csv": "kpis a", "c.csv": "kpis c"})
    assert snapshot(out) == before  # nothing of the refused run, nothing lost
    with pytest.raises(InputError, match="`ingest` wrote"):
        check_output_folder(out, command="kpis", writes=["a.csv"])  # said before any work
    run(out, "kpis", {"a.csv": "ingest a"})  # the very same contents: nothing is lost
    assert (out / "a.csv").read_text() == "ingest a"


@pytest.mark.parametrize("how", ["the user's own", "changed since"])
def test_a_file_not_provably_ours_is_kept_and_refused(tmp_path, how):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "ingest a", "b.csv": "ingest b"})
    if how == "the user's own":
        (out / "c.csv").write_text("the user's c")
    else:
        (out / "a.csv").write_text("edited by the planner")
    name = "c.csv" if how == "the user's own" else "a.csv"
    before = snapshot(out)
    with pytest.raises(InputError, match=f"holds {re.escape(name)}, which capplan did not write") as err:
        run(out, "ingest", {"a.csv": "2", "c.csv": "2"})
    assert "\n" not in str(err.value)
    assert snapshot(out) == before
    with pytest.raises(InputError, match="capplan did not write"):
        check_output_folder(out, command="ingest", writes=["a.csv", "c.csv"])


def test_a_single_file_output_never_replaces_a_commands_file(tmp_path):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "ingest a"})
    with pytest.raises(InputError, match="`ingest` wrote"):
        atomic_write(out / "a.csv", lambda p: p.write_text("a forecast"))
    assert (out / "a.csv").read_text() == "ingest a"
    atomic_write(out / "mine.csv", lambda p: p.write_text("1"))
    atomic_write(out / "mine.csv", lambda p: p.write_text("2"))  # a file the user names: theirs to replace
    assert (out / "mine.csv").read_text() == "2"


def test_a_changed_file_is_not_removed_as_the_previous_runs(tmp_path):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "1", "b.csv": "1"})
    (out / "b.csv").write_text("the planner's notes now")
    run(out, "ingest", {"a.csv": "2"})
    assert (out / "b.csv").read_text() == "the planner's notes now"


def test_a_user_file_survives_every_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for text in ("1", "2"):
        run(out, "ingest", {"a.csv": text, "b.csv": text})
        run(out, "kpis", {"c.csv": text})
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("form", ["format 2", "format 1", "names only"])
def test_a_hand_written_marker_deletes_nothing(tmp_path, form):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "x").write_text("outside")
    (out / "sub").mkdir()
    (out / "sub" / "y.csv").write_text("nested")
    for name in ("notes.txt", "b.csv", "c.csv"):
        (out / name).write_text(f"the user's {name}")
    listed = ["notes.txt", "b.csv", "c.csv", "../x", str(tmp_path / "x"), "sub/y.csv", "sub", ".", ""]
    fake = {"bytes": 1, "sha256": "0" * 64}
    if form == "format 2":
        runs = {"ingest": {"status": "complete", "files": {n: fake for n in listed}}}
        marker = {"format": 2, "command": "ingest", "files": listed, "runs": runs}
    elif form == "format 1":
        marker = {"command": "ingest", "status": "complete", "files": listed}
    else:
        marker = listed
    (out / MARKER).write_text(json.dumps(marker))
    before = {k: v for k, v in snapshot(out).items() if not k.endswith(MARKER)}
    run(out, "ingest", {"a.csv": "ours"})
    after = snapshot(out)
    assert all(after.get(k) == v for k, v in before.items())  # every file kept, unchanged
    assert (out / "a.csv").read_text() == "ours"


def test_a_marker_naming_paths_outside_is_not_a_way_out(tmp_path):
    """Even a marker whose fingerprints match (someone copied them) cannot make a run remove a
    file outside the folder or of a name the command does not write."""
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "x.csv").write_text("outside")
    (out / "notes.txt").write_text("mine")
    files = {}
    for name, path in (("../x.csv", tmp_path / "x.csv"), ("notes.txt", out / "notes.txt")):
        data = path.read_bytes()
        files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    runs = {"ingest": {"status": "complete", "files": files}}
    (out / MARKER).write_text(json.dumps({"format": 2, "runs": runs}))
    run(out, "ingest", {"a.csv": "ours"})
    assert (tmp_path / "x.csv").read_text() == "outside" and (out / "notes.txt").read_text() == "mine"


def test_a_failed_run_leaves_the_last_complete_one_whole(tmp_path):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "good a", "b.csv": "good b"})
    before = {k: v for k, v in snapshot(out).items() if not k.endswith(MARKER)}
    with OutputFolder(out, "ingest", status="failed", outputs=A) as folder:
        assert not folder.can_take("b.csv")  # the complete run's
        assert folder.can_take("c.csv")
        folder.path("c.csv").write_text("failed rows")
    after = snapshot(out)
    assert all(after[k] == v for k, v in before.items())
    assert (out / "c.csv").read_text() == "failed rows"
    with pytest.raises(InputError, match="`ingest` wrote"):  # the complete run's: never the failed one's
        run(out, "ingest", {"a.csv": "failed again"}, status="failed")
    assert (out / "a.csv").read_text() == "good a"
    run(out, "ingest", {"a.csv": "next good"})  # a complete run supersedes both
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", MARKER]


def test_a_run_broken_while_moving_its_files_in_leaves_a_folder_the_next_run_can_take(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run(out, "ingest", {"a.csv": "1", "b.csv": "1"})
    real, moved = os.replace, []

    def breaks_on_the_second_table(src, dst):
        if str(src).endswith(".csv") and ".capplan-partial-" in str(src):
            moved.append(dst)
            if len(moved) == 2:
                raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", breaks_on_the_second_table)
    with pytest.raises(InputError, match="No space left"):
        run(out, "ingest", {"a.csv": "2", "b.csv": "2"})
    monkeypatch.setattr(os, "replace", real)
    assert (out / "a.csv").read_text() == "2" and (out / "b.csv").read_text() == "1"  # half moved
    run(out, "ingest", {"a.csv": "3"})  # both contents are known as ours: replaced, removed
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", MARKER]


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_have_the_mode_open_gives_under_the_umask(tmp_path, umask):
    single = atomic_write(tmp_path / "one" / "table.csv", lambda p: p.write_text("x\n"))
    run(tmp_path / "out", "ingest", {"a.csv": "1"})
    assert mode(single) == 0o666 & ~umask
    assert mode(tmp_path / "out" / "a.csv") == 0o666 & ~umask
    assert mode(tmp_path / "out" / MARKER) == 0o666 & ~umask
    assert mode(tmp_path / "out") == 0o777 & ~umask


def test_a_staging_folder_is_made_as_mkdir_makes_folders(tmp_path, umask):
    with OutputFolder(tmp_path / "out", "ingest", outputs=A) as out:
        assert mode(out.draft) == 0o777 & ~umask
        out.path("a.csv").write_text("1")
