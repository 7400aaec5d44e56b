"""Reading raw CSV / TSV / Parquet exports into string tables, with errors a planner can act on.

Everything is read as text first (``dtype=str``) so that a bad cell is reported with its row and
column instead of silently becoming NaN; parsing into numbers and times happens in the
normalizers, which know what each column should hold.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.errors import InputError

DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
FIRST_DATA_LINE = 2  # the header is line 1, as in a spreadsheet


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any interpretation.

    ``frame`` has the file's own columns; ``line`` gives each row's line number in the file so
    that rejections and errors point where the planner will look.
    """

    path: Path
    frame: pd.DataFrame
    delimiter: str | None  # None for Parquet
    first_row: int = FIRST_DATA_LINE  # number shown for the first data row (1 for Parquet)

    @property
    def line(self) -> pd.Series:
        return pd.Series(self.frame.index.to_numpy() + self.first_row, index=self.frame.index)

    def require(self, columns: list[str], what: str = "column") -> None:
        """Fail on the first missing column, hinting at a wrong delimiter when that is the cause."""
        missing = [c for c in columns if c not in self.frame.columns]
        if not missing:
            return
        hint = self._delimiter_hint(missing)
        if hint:
            raise InputError(
                "wrong delimiter",
                path=self.path,
                row=1,
                expected=f"columns separated by {_name(self.delimiter)}",
                found=f"a header separated by {_name(hint)}; pass --sep {hint!r} if that is intended",
            )
        raise InputError(
            f"missing {what}",
            path=self.path,
            row=1,
            column=missing[0],
            expected="a column with that name in the header",
            found=", ".join(map(str, self.frame.columns)),
        )

    def _delimiter_hint(self, missing: list[str]) -> str | None:
        if self.delimiter is None:
            return None
        header = self.delimiter.join(map(str, self.frame.columns))
        for candidate in DELIMITER_NAMES:
            if candidate != self.delimiter and candidate in header:
                fields = [f.strip() for f in header.split(candidate)]
                if len(fields) > len(self.frame.columns) and all(m in fields for m in missing):
                    return candidate
        if len(self.frame.columns) == 1:
            for candidate in DELIMITER_NAMES:
                if candidate != self.delimiter and candidate in header:
                    return candidate
        return None


def default_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","


def read_table(path: str | Path, sep: str | None = None) -> RawTable:
    """Read a CSV/TSV (as text) or Parquet file, or raise ``InputError`` saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path, expected="an existing CSV, TSV or Parquet file")
    if path.is_dir():
        raise InputError("is a folder", path=path, expected="a CSV, TSV or Parquet file")
    if path.stat().st_size == 0:
        raise InputError("empty file", path=path, expected="a header row and at least one data row")
    if path.suffix.lower() in {".parquet", ".pq"}:
        return _read_parquet(path)
    delimiter = sep or default_delimiter(path)
    frame = _read_delimited(path, delimiter)
    if frame.empty:
        raise InputError("empty file", path=path, row=2, expected="at least one data row after the header")
    return RawTable(path=path, frame=frame, delimiter=delimiter)


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise InputError("unreadable Parquet file", path=path, expected="a valid Parquet file", found=exc) from None
    if frame.empty:
        raise InputError("empty file", path=path, expected="at least one row")
    return RawTable(path=path, frame=frame.reset_index(drop=True), delimiter=None, first_row=1)


def _read_delimited(path: Path, delimiter: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops cells) when the first data row is longer than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
            index_col=False,
        )
    except pd.errors.EmptyDataError:
        raise InputError("empty file", path=path, expected="a header row and at least one data row") from None
    except pd.errors.ParserError as exc:
        raise _ragged_row_error(path, delimiter, exc) from None
    except pd.errors.ParserWarning:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header, first = (next(csv.reader(handle, delimiter=delimiter)) for _ in range(2))
        raise _ragged_row_error(path, delimiter, f"Expected {len(header)} fields in line 2, saw {len(first)}") from None
    except UnicodeDecodeError as exc:
        raise InputError("not a text file", path=path, expected="UTF-8 text", found=exc.reason) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    blank = frame.eq("").all(axis=1) | frame.isna().all(axis=1)
    short = (frame.isna().any(axis=1) & ~blank).to_numpy()
    if short.any():
        first = int(short.nonzero()[0][0])
        fields = int(frame.iloc[first].notna().sum())
        raise InputError(
            "wrong number of fields",
            path=path,
            row=first + FIRST_DATA_LINE,
            expected=f"{frame.shape[1]} fields separated by {_name(delimiter)} (as in the header)",
            found=f"{fields} fields",
        )
    # A trailing blank line is formatting, not data; blank lines inside are kept so line numbers hold.
    last = len(frame)
    while last > 0 and blank.iloc[last - 1]:
        last -= 1
    return frame.iloc[:last].fillna("")


def _ragged_row_error(path: Path, delimiter: str, exc: Exception) -> InputError:
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return InputError(
            "wrong number of fields",
            path=path,
            row=line,
            expected=f"{expected} fields separated by {_name(delimiter)} (as in the header)",
            found=f"{saw} fields",
        )
    return InputError("malformed file", path=path, expected=f"{_name(delimiter)}-separated text", found=exc)


def _name(delimiter: str | None) -> str:
    return DELIMITER_NAMES.get(delimiter or "", repr(delimiter))
