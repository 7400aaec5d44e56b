"""Output files a planner opens, written whole or not at all, and never a file we did not write.

A command killed halfway (or failing on its third table) must not leave a truncated
``intervals.parquet``, nor the previous run's files looking like this run's. So a single file
is written under a temporary name and renamed into place (a rename is atomic), and a
command's folder of outputs is written into a staging folder inside it and moved in only at
the end. A failed or killed run leaves the folder as it was; its staging folder is removed by
the next run.

Several commands may share a folder (``ingest`` then ``kpis``), and a folder may hold the
user's own files. ``capplan_run.json`` records, per command, the files it wrote with their
size and SHA-256. A run replaces a file only if the marker shows that this command wrote it
and it is unchanged since (a file another command wrote with other contents, or one we
cannot prove ours, is refused in one line and kept); it removes only its own previous run's
files that it did not write again, by the same proof and only by names the command can
produce. The marker is never a list of files to delete: a hand-written one proves nothing.

A single-file command (``staff``, ``validate-staffing``) may write companions beside the file
its ``--out`` names (``X_fte.csv`` beside ``X.csv``), names the user never typed:
:class:`FileOutputs` lets such a file replace only the command's own unchanged output, by the
same marker, and records what it wrote there.

Paths that cannot be written (a file where a folder is expected, ``/dev/full``, a read-only
place, a full disk) are user errors naming the option, not tracebacks. Files and folders are
made as a plain ``open()`` or ``mkdir`` would make them (so they honour the umask).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from forecasting.common.csv_safety import one_note
from forecasting.common.errors import InputError, cli_option

MARKER = "capplan_run.json"
STAGING_PREFIX = ".capplan-partial-"
MARKER_LIMIT = 1 << 20  # a marker larger than this is not one we wrote: read as none


def cannot_write(path: Path, exc: OSError | None, expected: str, option: str = "out") -> InputError:
    reason = f" ({exc.strerror or exc})" if exc is not None else ""
    return InputError(f"cannot write there{reason}", option=option, expected=expected, found=str(path))


FILE_EXPECTED = "a file name in a folder you can write to, e.g. out/table.csv"
FOLDER_EXPECTED = "a folder you can write to (it is made if missing)"


def check_output_file(target: str | Path, option: str = "out", command: str | None = None) -> Path:
    """Refuse, before any work, a file output that cannot be written: a folder, a device such
    as /dev/full (a rename would replace it), a path through a file, a read-only folder, or a
    file another command's outputs record (``command``'s own may be replaced)."""
    target = Path(target)
    if target.is_dir():
        raise InputError("that is a folder", option=option, expected=FILE_EXPECTED, found=str(target))
    if target.exists() and not target.is_file():
        raise InputError("not a regular file", option=option, expected=FILE_EXPECTED, found=str(target))
    _check_parent(target.parent, FILE_EXPECTED, option, shown=target)
    if target.name != MARKER and target.is_file():  # a command's output, as its folder's marker proves
        own = _family(command) if command else set()
        runs = _read_runs(target.parent)
        writers = [key for key, run in runs.items() if key not in own and _ours(target, run, target.name)]
        if writers:
            raise InputError(
                f"that is the {target.name} that `{writers[0]}` wrote there (it is kept)",
                option=option,
                expected="another file name, or a folder of its own",
                found=str(target),
            )
    return target


def check_output_folder(
    folder: str | Path, option: str = "out", command: str | None = None, writes: Iterable[str] = ()
) -> Path:
    """Refuse, before any work, an output folder that is a file or cannot be made or written,
    or (given the files a ``command`` ``writes``) one holding a file of those names that is not
    this command's own unchanged output: the user's, another command's, or edited since."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("not a folder", option=option, expected=FOLDER_EXPECTED, found=str(folder))
    _check_parent(folder, FOLDER_EXPECTED, option)
    if command is not None and folder.is_dir():
        runs = _read_runs(folder)
        family = {key: runs.pop(key) for key in _family(command) if key in runs}
        for name in writes:
            path = folder / name
            if os.path.lexists(path) and not any(_ours(path, run, name) for run in family.values()):
                raise _in_the_way(path, name, command, runs, option)
    return folder


def _check_parent(folder: Path, expected: str, option: str, shown: Path | None = None) -> None:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    shown = shown or folder
    if not existing.is_dir():
        raise InputError(
            "a file is in the way", option=option, expected=expected, found=f"{shown} ({existing} is a file)"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            "cannot write there", option=option, expected=expected, found=f"{shown} (no permission)"
        )


def _create_file(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file with a fresh name, made as ``open()`` makes files (mode 0666 less the
    umask; ``mkstemp`` would make it 0600 whatever the umask)."""
    while True:
        path = folder / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return path
        except FileExistsError:
            continue


def _create_folder(folder: Path, prefix: str) -> Path:
    """A new folder with a fresh name, made as ``mkdir`` makes folders (``mkdtemp``: 0700)."""
    while True:
        path = folder / f"{prefix}{secrets.token_hex(4)}"
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:
            continue


def atomic_write(
    target: str | Path, write: Callable[[Path], object], option: str = "out", command: str | None = None
) -> Path:
    """``write(path)`` to a temporary file beside ``target``, then rename it into place, so a
    reader sees the old file or the whole new one, never a part."""
    target = check_output_file(target, option, command)
    expected = FILE_EXPECTED
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # the suffix kept: writers choose their format by it (.xlsx)
        partial = _create_file(target.parent, f".{target.name}.", f".partial{target.suffix}")
    except OSError as exc:
        raise cannot_write(target, exc, expected, option) from None
    try:
        write(partial)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise cannot_write(target, exc, expected, option) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


Fingerprint = dict  # {"bytes": size, "sha256": hex digest} of a file as we wrote it
Run = dict  # {"status": ..., "finished": ..., "files": {name: [Fingerprint, ...]}}


class OutputFolder:
    """A command's output folder: write each file to ``path(name)``; on leaving the ``with``
    block normally the files are moved in and recorded in the marker (``status`` 'complete',
    or 'failed' for the rows a failed ingest still reports); on an exception nothing changes.

    ``outputs``: every name the command can write. Only these may be written, replaced or, as
    the command's previous run's leftovers, removed. A failed run is recorded apart from the
    command's complete one and replaces none of its files (see :meth:`can_take`)."""

    def __init__(
        self,
        folder: str | Path,
        command: str,
        option: str = "out",
        status: str = "complete",
        outputs: Iterable[str] | None = None,
    ):
        self.folder, self.command, self.option, self.status = Path(folder), command, option, status
        self.outputs = None if outputs is None else frozenset(outputs)
        for name in self.outputs or ():
            if not _plain_name(name):
                raise ValueError(f"not a plain file name: {name!r}")
        self.staging: Path | None = None
        self._note = None

    @property
    def key(self) -> str:
        """This run's entry in the marker: the command, or e.g. 'ingest (failed)'."""
        return self.command if self.status == "complete" else f"{self.command} ({self.status})"

    def _family(self) -> set[str]:
        return _family(self.command, self.status)

    def __enter__(self) -> OutputFolder:
        expected = FOLDER_EXPECTED
        check_output_folder(self.folder, self.option)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _remove_abandoned_staging(self.folder)
            self.staging = _create_folder(self.folder, f"{STAGING_PREFIX}{os.getpid()}-")
        except OSError as exc:
            raise cannot_write(self.folder, exc, expected, self.option) from None
        self._note = one_note()
        self._tally = self._note.__enter__()  # the tables' formula cells: said once, when published
        return self

    @property
    def draft(self) -> Path:
        """The folder being written now: its files reach ``folder`` at the end."""
        assert self.staging is not None, "use OutputFolder in a with block"
        return self.staging

    def path(self, name: str) -> Path:
        """Where to write output ``name`` now (it reaches the folder at the end)."""
        self._check_name(name)
        return self.draft / name

    def can_take(self, name: str) -> bool:
        """Whether writing ``name`` replaces nothing but this command's own file (a failed
        ingest asks before writing rejected.csv beside a complete run's)."""
        path = self.folder / name
        if not os.path.lexists(path):
            return True
        runs = _read_runs(self.folder)
        return any(_ours(path, runs[key], name) for key in self._family() if key in runs)

    def _check_name(self, name: str) -> None:
        if not _plain_name(name) or (self.outputs is not None and name not in self.outputs):
            raise ValueError(
                f"{self.command} does not write {name!r} (its outputs: {sorted(self.outputs or ())})"
            )

    def __exit__(self, exc_type, exc, tb) -> bool:
        staging, self.staging = self.staging, None
        note, self._note = self._note, None
        if exc_type is not None:
            shutil.rmtree(staging, ignore_errors=True)
            self._tally.said = True  # nothing was published: nothing to say
            note.__exit__(None, None, None)
            if isinstance(exc, OSError):  # a full disk while writing a table
                raise cannot_write(self.folder, exc, "a folder with room to write") from None
            return False
        try:
            with _folder_lock(self.folder):
                self._publish(staging)
        except OSError as exc:
            self._tally.said = True
            raise cannot_write(self.folder, exc, "a folder you can write to") from None
        except BaseException:
            self._tally.said = True
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            note.__exit__(None, None, None)
        return False

    def _publish(self, staging: Path) -> None:
        staged = sorted(p.name for p in staging.iterdir())
        for name in staged:
            self._check_name(name)
            if not (staging / name).is_file() or (staging / name).is_symlink():
                raise ValueError(f"{self.command} wrote {name!r}, which is not a plain file")
        new = {name: _fingerprint(staging / name) for name in staged}
        runs = _read_runs(self.folder)
        family = {key: runs.pop(key) for key in self._family() if key in runs}
        for name in staged:  # every file in the way proven ours before anything moves
            self._may_replace(self.folder / name, name, new[name], family, runs)
        finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        merged: dict[str, list[Fingerprint]] = {name: [fp] for name, fp in new.items()}
        for run in family.values():
            for name, fps in run["files"].items():
                merged.setdefault(name, []).extend(fps)
        # while files move, this command's entry accepts the old and the new contents alike
        self._write_marker(
            {**runs, self.key: _run("publishing", finished, merged)}, "publishing", staged, finished
        )
        for name in staged:
            os.replace(staging / name, self.folder / name)
        if self.outputs is not None:  # the previous run's files not written again, if still ours
            for run in family.values():
                for name, fps in run["files"].items():
                    path = self.folder / name
                    if name not in new and name in self.outputs and _matches(path, fps):
                        path.unlink(missing_ok=True)
        kept = {key: _existing(self.folder, run) for key, run in runs.items()}
        kept = {key: run for key, run in kept.items() if run["files"]}
        current = {name: [fp] for name, fp in new.items()}
        self._write_marker(
            {**kept, self.key: _run(self.status, finished, current)}, self.status, staged, finished
        )

    def _may_replace(self, path: Path, name: str, fp: Fingerprint, family: dict, others: dict) -> None:
        if not os.path.lexists(path):
            return
        if any(_ours(path, run, name) for run in family.values()):
            return
        writers = [key for key, run in others.items() if _ours(path, run, name)]
        if writers and fp in [f for key in writers for f in others[key]["files"][name]]:
            return  # another command's file with the very same contents: nothing is lost
        raise _in_the_way(path, name, self.command, others, self.option)

    def _write_marker(self, runs: dict, status: str, files: list[str], finished: str) -> None:
        _write_marker(self.folder, self.command, runs, status, files, finished, self.option)


def _write_marker(
    folder: Path, command: str, runs: dict, status: str, files: list[str], finished: str, option: str
) -> None:
    record = {
        "format": 2,
        "command": command,  # the latest run: its command, status, time and files
        "status": status,
        "finished": finished,
        "files": files,
        "runs": {key: _jsonable(run) for key, run in sorted(runs.items())},  # each command's files
    }
    text = json.dumps(record, indent=2) + "\n"
    atomic_write(folder / MARKER, lambda p: p.write_text(text, encoding="utf-8"), option)


class FileOutputs:
    """The files of a single-file command: the one its ``--out`` names and the companions it
    writes beside it under names the user never typed (``X_fte.csv`` beside ``X.csv``).

    The named file is the user's to replace (unless another command's outputs record it: see
    :func:`check_output_file`). A companion, and the main file when its name was derived rather
    than typed (``named=False``), replaces only this command's own unchanged output, as the
    folder's marker proves: the user's file, another command's or one edited since is refused
    in one line and kept. Creating the object checks the main file and :meth:`expect` the
    companions, before the work; :meth:`write` checks again, writes the file whole and records
    its size and SHA-256 in the marker under the command, so the command may run again over
    its own outputs."""

    def __init__(self, command: str, main: str | Path, option: str = "out", named: bool = True):
        self.command, self.option, self.named = command, option, named
        self.main = Path(main)
        self.folder = self.main.parent
        self.companions: list[Path] = []
        self.written: list[str] = []
        self._check(self.main)

    def expect(self, *paths: str | Path) -> None:
        """Refuse now a companion ``path`` in the way (call before the work that fills it)."""
        for path in map(Path, paths):
            if path.parent != self.folder or not path.name:
                raise ValueError(f"a companion of {self.main} must lie beside it: {path}")
            if path.name == self.main.name:
                raise InputError(
                    f"`{self.command}` also writes a file of that very name beside it",
                    option=self.option,
                    expected="another name, e.g. one ending in .csv",
                    found=str(self.main),
                )
            self._check(path)
            if path not in self.companions:
                self.companions.append(path)

    def write(self, path: str | Path, write: Callable[[Path], object]) -> Path:
        """``write(path)`` whole (see :func:`atomic_write`) if nothing but this command's own
        output is in the way, and record the file as this command's."""
        path = Path(path)
        if path != self.main and path not in self.companions:
            raise ValueError(f"{self.command} did not expect to write {path}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise cannot_write(path, exc, FILE_EXPECTED, self.option) from None
        with _folder_lock(self.folder):
            self._check(path)  # again: a file may have appeared during the work
            atomic_write(path, write, self.option, self.command)
            try:
                self._record(path)
            except OSError as exc:
                raise cannot_write(self.folder / MARKER, exc, FILE_EXPECTED, self.option) from None
        return path

    def _check(self, path: Path) -> None:
        if path.name == MARKER:
            raise InputError(
                "that name is where capplan records the files it writes in a folder",
                option=self.option,
                expected="another file name",
                found=str(path),
            )
        check_output_file(path, self.option, self.command)
        marker = self.folder / MARKER
        if os.path.lexists(marker) and not _is_marker(marker):
            raise InputError(
                f"holds a {MARKER} that capplan did not write, where it would record the files "
                f"`{self.command}` writes (it is kept)",
                path=str(marker),
                option=self.option,
                expected="another folder, or that file moved away first",
            )
        if (path == self.main and self.named) or not os.path.lexists(path):
            return
        runs = _read_runs(self.folder)
        family = {key: runs.pop(key) for key in _family(self.command) if key in runs}
        if any(_ours(path, run, path.name) for run in family.values()):
            return
        writers = [key for key, run in runs.items() if _ours(path, run, path.name)]
        whose = (
            f"the one `{writers[0]}` wrote"
            if writers
            else "a file capplan did not write there or one changed since"
        )
        option = cli_option(self.option)
        beside = f"without {option}" if path == self.main else f"beside {self.main.name}"
        name = f"{option} naming another file" if path == self.main else f"another {option} name"
        raise InputError(
            f"`{self.command}` writes {path.name} {beside}, and that is {whose} (it is kept)",
            path=str(path),
            option=self.option,
            expected=f"{name}, or that file moved away first",
        )

    def _record(self, path: Path) -> None:
        runs = _read_runs(self.folder)
        mine = runs.pop(self.command, None)
        files = _existing(self.folder, mine)["files"] if mine else {}
        files[path.name] = [_fingerprint(path)]
        if path.name not in self.written:
            self.written.append(path.name)
        kept = {key: _existing(self.folder, run) for key, run in runs.items()}
        kept = {key: run for key, run in kept.items() if run["files"]}
        finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        runs = {**kept, self.command: _run("complete", finished, files)}
        _write_marker(self.folder, self.command, runs, "complete", self.written, finished, self.option)


def _is_marker(path: Path) -> bool:
    """Whether ``path`` reads as a marker capplan wrote (of this format or the one before)."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MARKER_LIMIT:
            return False
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and ("runs" in record or "command" in record)


def _run(status: str, finished: str, files: dict[str, list[Fingerprint]]) -> Run:
    return {"status": status, "finished": finished, "files": files}


def _jsonable(run: Run) -> dict:
    files = {name: fps[0] if len(fps) == 1 else fps for name, fps in sorted(run["files"].items())}
    return {"status": run["status"], "finished": run["finished"], "files": files}


def _existing(folder: Path, run: Run) -> Run:
    """``run`` without the files that are gone."""
    return {**run, "files": {n: fps for n, fps in run["files"].items() if os.path.lexists(folder / n)}}


def _family(command: str, status: str = "complete") -> set[str]:
    """Marker entries whose files a run may replace or remove: for a complete run, its
    command's complete and failed runs; for a failed run, only the command's failed runs (a
    failure never touches the last complete run's files)."""
    if status == "complete":
        return {command, f"{command} (failed)"}
    return {f"{command} ({status})"}


def _in_the_way(path: Path, name: str, command: str, others: dict[str, Run], option: str) -> InputError:
    """The one line refusing to replace a file that is not this command's own output."""
    writers = [key for key, run in others.items() if _ours(path, run, name)]
    if writers:
        return InputError(
            f"holds the {name} that `{writers[0]}` wrote, which `{command}` would replace (it is kept)",
            path=str(path),
            option=option,
            expected=f"another folder for the outputs of `{command}`",
        )
    return InputError(
        f"holds {name}, which capplan did not write there or which was changed since (it is kept)",
        path=str(path),
        option=option,
        expected="another folder, or that file moved away first",
    )


def _plain_name(name: object) -> bool:
    """A file name directly in the folder: no path, no '..', no hidden or marker file."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= 255
        and not name.startswith(".")
        and not any(c in name for c in "/\\\0:")
        and name != MARKER
    )


def _fingerprint(path: Path) -> Fingerprint:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _matches(path: Path, fps: list[Fingerprint]) -> bool:
    """Whether ``path`` is a plain file (not a link) with one of the recorded contents."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size not in {fp["bytes"] for fp in fps}:
        return False
    try:
        return _fingerprint(path) in fps
    except OSError:
        return False


def _ours(path: Path, run: Run, name: str) -> bool:
    return name in run["files"] and _matches(path, run["files"][name])


def _read_runs(folder: Path) -> dict[str, Run]:
    """Each command's files as the marker records them, every entry checked for shape (a
    damaged or hand-made marker gives fewer entries, never a path outside the folder)."""
    path = Path(folder) / MARKER
    try:
        if not path.is_file() or path.stat().st_size > MARKER_LIMIT:
            return {}
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    runs = record.get("runs") if isinstance(record, dict) else None
    if not isinstance(runs, dict):
        return {}  # none, or a marker of the format before (names only: nothing proven)
    clean: dict[str, Run] = {}
    for key, run in runs.items():
        if not isinstance(key, str) or not isinstance(run, dict) or not isinstance(run.get("files"), dict):
            continue
        files = {}
        for name, fps in run["files"].items():
            fps = fps if isinstance(fps, list) else [fps]
            good = [
                {"bytes": fp["bytes"], "sha256": fp["sha256"]}
                for fp in fps
                if isinstance(fp, dict) and type(fp.get("bytes")) is int and isinstance(fp.get("sha256"), str)
            ]
            if _plain_name(name) and good:
                files[name] = good
        clean[key] = _run(str(run.get("status", "")), str(run.get("finished", "")), files)
    return clean


def written_files(folder: Path, command: str | None = None) -> list[str]:
    """The files the marker in ``folder`` says ``command`` (else any command) wrote, or []."""
    runs = _read_runs(Path(folder))
    keys = [k for k in runs if command is None or k == command or k.startswith(f"{command} (")]
    return sorted({name for key in keys for name in runs[key]["files"]})


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One publisher at a time per folder (two commands finishing together would each read
    the marker and write it without the other's files)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _remove_abandoned_staging(folder: Path) -> None:
    """Staging folders of runs that were killed (their process is gone)."""
    for staging in folder.glob(f"{STAGING_PREFIX}*"):
        pid = staging.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if staging.is_symlink() or not staging.is_dir():
            continue
        if not pid.isdigit() or not _alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
