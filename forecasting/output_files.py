"""Output files a planner opens, written whole or not at all.

A command killed halfway (or failing on its third table) must not leave a truncated
``intervals.parquet``, nor the previous run's files looking like this run's. So a single file
is written under a temporary name and renamed into place (a rename is atomic), and a
command's folder of outputs is written into a staging folder inside it and moved in only at
the end, followed by ``capplan_run.json``: the marker saying which command wrote which files,
when, and whether it completed. The previous run's files that this run did not write again
are removed then (only those the previous marker lists: a user's own files stay). A failed
or killed run leaves the folder as it was; its staging folder is removed by the next run.

Paths that cannot be written (a file where a folder is expected, ``/dev/full``, a read-only
place, a full disk) are user errors naming the option, not tracebacks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from forecasting.errors import InputError

MARKER = "capplan_run.json"
STAGING_PREFIX = ".capplan-partial-"


def cannot_write(path: Path, exc: OSError | None, expected: str, option: str = "out") -> InputError:
    reason = f" ({exc.strerror or exc})" if exc is not None else ""
    return InputError(f"cannot write there{reason}", option=option, expected=expected, found=str(path))


FILE_EXPECTED = "a file name in a folder you can write to, e.g. out/table.csv"
FOLDER_EXPECTED = "a folder you can write to (it is made if missing)"


def check_output_file(target: str | Path, option: str = "out") -> Path:
    """Refuse, before any work, a file output that cannot be written: a folder, a device such
    as /dev/full (a rename would replace it), a path through a file, a read-only folder."""
    target = Path(target)
    if target.is_dir():
        raise InputError("that is a folder", option=option, expected=FILE_EXPECTED, found=str(target))
    if target.exists() and not target.is_file():
        raise InputError("not a regular file", option=option, expected=FILE_EXPECTED, found=str(target))
    _check_parent(target.parent, FILE_EXPECTED, option, shown=target)
    return target


def check_output_folder(folder: str | Path, option: str = "out") -> Path:
    """Refuse, before any work, an output folder that is a file or cannot be made or written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("not a folder", option=option, expected=FOLDER_EXPECTED, found=str(folder))
    _check_parent(folder, FOLDER_EXPECTED, option)
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


def atomic_write(target: str | Path, write: Callable[[Path], object], option: str = "out") -> Path:
    """``write(path)`` to a temporary file beside ``target``, then rename it into place, so a
    reader sees the old file or the whole new one, never a part."""
    target = check_output_file(target, option)
    expected = FILE_EXPECTED
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=f".partial{target.suffix}"
        )  # the suffix kept: writers choose their format by it (.xlsx)
        os.close(handle)
    except OSError as exc:
        raise cannot_write(target, exc, expected, option) from None
    try:
        write(Path(partial))
        os.replace(partial, target)
    except OSError as exc:
        Path(partial).unlink(missing_ok=True)
        raise cannot_write(target, exc, expected, option) from None
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


class OutputFolder:
    """A command's output folder: write each file to ``path(name)``; on leaving the ``with``
    block normally the files are moved in and the marker written (``status`` 'complete', or
    'failed' for the rows a failed ingest still reports); on an exception nothing changes."""

    def __init__(self, folder: str | Path, command: str, option: str = "out", status: str = "complete"):
        self.folder, self.command, self.option, self.status = Path(folder), command, option, status
        self.staging: Path | None = None

    def __enter__(self) -> OutputFolder:
        expected = FOLDER_EXPECTED
        check_output_folder(self.folder, self.option)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _remove_abandoned_staging(self.folder)
            self.staging = Path(tempfile.mkdtemp(dir=self.folder, prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
        except OSError as exc:
            raise cannot_write(self.folder, exc, expected, self.option) from None
        return self

    @property
    def draft(self) -> Path:
        """The folder being written now: its files reach ``folder`` at the end."""
        assert self.staging is not None, "use OutputFolder in a with block"
        return self.staging

    def path(self, name: str) -> Path:
        """Where to write output ``name`` now (it reaches the folder at the end)."""
        return self.draft / name

    def __exit__(self, exc_type, exc, tb) -> bool:
        staging, self.staging = self.staging, None
        if exc_type is not None:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError):  # a full disk while writing a table
                raise cannot_write(self.folder, exc, "a folder with room to write") from None
            return False
        try:
            self._publish(staging)
        except OSError as exc:
            raise cannot_write(self.folder, exc, "a folder you can write to") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return False

    def _publish(self, staging: Path) -> None:
        files = sorted(p.name for p in staging.iterdir())
        marker = self.folder / MARKER
        previous = written_files(self.folder)
        marker.unlink(missing_ok=True)  # while files move, the folder is not a finished run
        for name in files:
            os.replace(staging / name, self.folder / name)
        for name in set(previous) - set(files) - {MARKER}:
            (self.folder / name).unlink(missing_ok=True)  # the previous run's, not written again
        record = {
            "command": self.command,
            "status": self.status,
            "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "files": files,
        }
        atomic_write(marker, lambda p: p.write_text(json.dumps(record, indent=2) + "\n"), self.option)


def written_files(folder: Path) -> list[str]:
    """The files the last finished run wrote into ``folder`` (its marker's list), or []."""
    try:
        record = json.loads((Path(folder) / MARKER).read_text())
        return [str(name) for name in record.get("files", []) if "/" not in str(name)]
    except (OSError, ValueError, AttributeError):
        return []


def _remove_abandoned_staging(folder: Path) -> None:
    """Staging folders of runs that were killed (their process is gone)."""
    for staging in folder.glob(f"{STAGING_PREFIX}*"):
        pid = staging.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
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
