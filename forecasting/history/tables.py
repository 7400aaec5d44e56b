"""Reading raw CSV / TSV / Parquet exports into string tables, with errors a planner can act on.

Everything is read as text first (``dtype=str``) so that a bad cell is reported with its row and
column instead of silently becoming NaN; parsing into numbers and times happens in the
normalizers, which know what each column should hold.
"""

from __future__ import annotations

import codecs
import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError

log = logging.getLogger(__name__)
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
FIRST_DATA_LINE = 2  # the header is line 1, as in a spreadsheet


@dataclass(frozen=True)
class RawTable:
    """A file's rows as read, before any interpretation.

    ``frame`` has the file's own columns; ``line`` gives each row's line number in the file
    (quoted line breaks included) so rejections and errors point where the planner will look.
    """

    path: Path
    frame: pd.DataFrame
    delimiter: str | None  # None for Parquet
    lines: np.ndarray | None = None  # physical line of each row; None: row position + first_row
    first_row: int = FIRST_DATA_LINE  # number shown for the first data row (1 for Parquet)
    notes: tuple[str, ...] = ()  # what reading it assumed (an encoding guessed), for the warnings

    @property
    def line(self) -> pd.Series:
        numbers = self.lines if self.lines is not None else np.arange(len(self.frame)) + self.first_row
        return pd.Series(numbers, index=self.frame.index)

    def row_number(self, position: int) -> int:
        return int(self.line.iloc[position])

    @property
    def blank_rows(self) -> np.ndarray:
        """Rows with no content in any column (blank lines in a text file)."""
        # column by column over the rows still blank: usually the first column settles all but
        # the blank lines, so a file 50,000 columns wide is not scanned cell by cell
        candidates = np.ones(len(self.frame), bool)
        for position in range(self.frame.shape[1]):
            rows = np.flatnonzero(candidates)
            if not len(rows):
                break
            values = self.frame.iloc[rows, position]
            empty = (values.isna() | values.astype(str).str.strip().eq("")).to_numpy()
            candidates[rows[~empty]] = False
        return candidates

    def require(self, columns: list[str], what: str = "column") -> None:
        """Fail on the first missing column, hinting at a wrong delimiter when that is the cause."""
        missing = [c for c in columns if c not in self.frame.columns]
        if not missing:
            return
        hint = self._delimiter_hint(missing)
        if hint:
            raise InputError(
                f"wrong delimiter: the header looks {_name(hint)}-separated (set <<sep>> to {hint!r} if that is intended)",
                path=self.path,
                row=1,
                expected=f"columns separated by {_name(self.delimiter)}",
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
            if candidate == self.delimiter or candidate not in header:
                continue
            fields = [f.strip() for f in header.split(candidate)]
            if len(self.frame.columns) == 1 or all(m in fields for m in missing):
                return candidate
        return None


def default_delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","


def normalize_delimiter(sep: str | None) -> str | None:
    """Accept 'tab', '\\t' and friends; refuse multi-character separators clearly."""
    if sep is None:
        return None
    sep = DELIMITER_ALIASES.get(sep.lower(), sep)
    if len(sep) != 1:
        raise InputError(
            "bad delimiter",
            option="sep",
            expected="one character, or tab / comma / semicolon / pipe",
            found=sep,
        )
    return sep


def read_table(path: str | Path, sep: str | None = None, encoding: str | None = None) -> RawTable:
    """Read a CSV/TSV (as text) or Parquet file, or raise ``InputError`` saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path, expected="an existing CSV, TSV or Parquet file")
    if path.is_dir():
        raise InputError("is a folder", path=path, expected="a CSV, TSV or Parquet file")
    if path.stat().st_size == 0:
        raise InputError("empty file", path=path, expected="a header row and at least one data row")
    kind = _binary_kind(path)
    if path.suffix.lower() in {".parquet", ".pq"} or kind == "parquet":
        return _read_parquet(path)  # a Parquet file is read as one whatever its name
    if kind is not None:
        raise InputError(f"{kind[0]}, not a text table", path=path, expected=kind[1])
    delimiter = normalize_delimiter(sep) or default_delimiter(path)
    given = encoding is not None
    encoding, notes = (_known_encoding(encoding), ()) if given else _sniff_encoding(path)
    try:
        _check_size_and_lines(path)
        try:
            lines = _scan(path, delimiter, encoding)
        except UnicodeDecodeError as exc:
            if given or encoding != "utf-8-sig":
                raise _decode_error(path, encoding, exc) from None
            encoding, notes = _single_byte(path, exc)  # not UTF-8: a Windows or Latin-1 export
            lines = _scan(path, delimiter, encoding)
        frame = _read_delimited(path, delimiter, encoding)
    except OSError as exc:  # no permission, a device, a file removed while read
        raise InputError(
            f"cannot read it ({exc.strerror or exc})", path=path, expected="a readable file"
        ) from None
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    for note in notes:
        log.info("%s: %s", path, note)
    if frame.empty:
        raise InputError("empty file", path=path, row=2, expected="at least one data row after the header")
    return RawTable(
        path=path,
        frame=frame,
        delimiter=delimiter,
        lines=lines[: len(frame)] if len(lines) >= len(frame) else None,
        notes=notes,
    )


BINARY_KINDS = {  # the first bytes of files people send instead of a CSV
    b"\x1f\x8b": ("a gzip-compressed file", "a CSV, TSV or Parquet file: unpack it first (gunzip)"),
    b"PK\x03\x04": (
        "a zip archive or Excel workbook",
        "a CSV, TSV or Parquet file: unzip it, or save the sheet as CSV",
    ),
    b"\xd0\xcf\x11\xe0": ("an old Excel workbook", "a CSV, TSV or Parquet file: save the sheet as CSV"),
    b"BZh": ("a bzip2-compressed file", "a CSV, TSV or Parquet file: unpack it first"),
    b"\xfd7zXZ": ("an xz-compressed file", "a CSV, TSV or Parquet file: unpack it first"),
    b"%PDF": ("a PDF document", "a CSV, TSV or Parquet file"),
}


def _binary_kind(path: Path):
    """'parquet', (what it is, what to do) for another binary format, or None for text."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return None  # said when it is read
    if head.startswith(b"PAR1"):
        return "parquet"
    return next((kind for magic, kind in BINARY_KINDS.items() if head.startswith(magic)), None)


MAX_LINE_BYTES = 1 << 20  # no row of a contact log or report is a megabyte long
MEMORY_PER_FILE_BYTE = 3  # what reading a text table takes, per byte of the file (measured ~2)


def _check_size_and_lines(path: Path, chunk: int = 1 << 24) -> None:
    """Refuse, before reading it into memory, a file whose rows are not lines (a 2 GB file with
    no line break would be read whole as one line) or that this machine's memory cannot hold."""
    size = path.stat().st_size
    available = _available_memory()
    if available and size * MEMORY_PER_FILE_BYTE > available:
        raise InputError(
            "file too large for this machine's memory",
            path=path,
            expected=f"a file under {available / MEMORY_PER_FILE_BYTE / 1e9:.1f} GB here (split it, e.g. by month)",
            found=f"{size / 1e9:.1f} GB",
        )
    since_break, offset = 0, 0
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            breaks = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            gaps = np.diff(np.r_[-1, breaks]) - 1 if len(breaks) else np.array([], dtype=int)
            longest = max(since_break + (gaps[0] if len(gaps) else len(block)), int(gaps[1:].max(initial=0)))
            if longest > MAX_LINE_BYTES:
                raise InputError(
                    "a line is too long",
                    path=path,
                    expected=f"rows on lines of at most {MAX_LINE_BYTES >> 20} MB (is it a CSV file?)",
                    found=f"over {MAX_LINE_BYTES >> 20} MB without a line break after byte {offset}",
                )
            since_break = len(block) - 1 - breaks[-1] if len(breaks) else since_break + len(block)
            offset += len(block)


def _available_memory() -> int | None:
    """Memory the system can give without swapping (Linux's MemAvailable: free memory and
    page cache), or None where it cannot be known (no check then)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _known_encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise InputError(
            "unknown text encoding",
            option="encoding",
            expected="an encoding such as utf-8, latin-1, cp1252 or utf-16",
            found=name,
        ) from None
    return name


SNIFF_BYTES = 1 << 16
BOMS = (  # longest first: UTF-32 LE's mark starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),  # Excel's "Unicode text" export
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# where the NUL bytes of mostly-ASCII text fall, by byte position modulo 4, for each encoding
NUL_PATTERNS = {
    "utf-32-le": (False, True, True, True),
    "utf-32-be": (True, True, True, False),
    "utf-16-le": (False, True, False, True),
    "utf-16-be": (True, False, True, False),
}


def _sniff_encoding(path: Path) -> tuple[str, tuple[str, ...]]:
    """The encoding a byte-order mark names; else UTF-16/32 without one, told by where its
    NUL bytes fall (a CSV is mostly ASCII: every other byte of UTF-16 is NUL); else UTF-8,
    which ``read_table`` leaves for cp1252 or Latin-1 if the file does not decode. With the
    note to warn with when it was a guess."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for bom, name in BOMS:
        if head.startswith(bom):
            return name, ()
    if b"\x00" not in head:
        return "utf-8-sig", ()
    usable = head[: len(head) // 4 * 4] or b"\x00" * 4  # a few bytes: no pattern to see
    nul = np.frombuffer(usable, dtype=np.uint8).reshape(-1, 4) == 0
    share = nul.mean(axis=0)
    for name, pattern in NUL_PATTERNS.items():
        mask = np.array(pattern)
        if share[mask].min() > 0.5 and share[~mask].max() < 0.05:
            label = name.upper().replace("-LE", " LE").replace("-BE", " BE")
            return name, (
                f"read as {label}: the file has no byte-order mark, its NUL bytes say so "
                "(saving it as UTF-8 avoids the guess)",
            )
    raise InputError(
        "NUL bytes in a text file",
        path=path,
        expected="text in UTF-8; if it is UTF-16 without a byte-order mark, save it as UTF-8 "
        "or set <<encoding>> (utf-16-le or utf-16-be)",
        found=f"{int(nul.sum()):,} NUL bytes in its first {len(usable):,}",
    )


def _single_byte(path: Path, exc: UnicodeDecodeError) -> tuple[str, tuple[str, ...]]:
    """cp1252 (Windows' Western European, Excel's 'CSV' on most PCs) when every byte of the
    file is one of its characters, else Latin-1, which has all 256; said in a note, as a
    guess it is (a file in another code page reads with wrong accents)."""
    name = "cp1252"
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            try:
                block.decode("cp1252")
            except UnicodeDecodeError:
                name = "latin-1"
                break
    return name, (
        f"not UTF-8 (a byte {exc.object[exc.start]:#x}): read as {name}; if accented letters look "
        "wrong, name the file's encoding (the encoding setting) or save it as UTF-8",
    )


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise InputError(
            "unreadable Parquet file", path=path, expected="a valid Parquet file", found=exc
        ) from None
    if frame.empty:
        raise InputError("empty file", path=path, expected="at least one row")
    return RawTable(path=path, frame=frame.reset_index(drop=True), delimiter=None, first_row=1)


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> InputError:
    return InputError(
        f"not {encoding.replace('-sig', '').upper()} text (byte {exc.object[exc.start]:#x} at offset {exc.start})",
        path=path,
        expected="a UTF-8 file; save it as 'CSV UTF-8' or set <<encoding>> to latin-1 (or cp1252)",
    )


def _scan(path: Path, delimiter: str, encoding: str) -> np.ndarray:
    """Check the header and every row's field count (blank lines aside) with the csv module;
    return each data row's physical line number, which differs from its position after quoted
    line breaks."""
    lengths, ends = [], []
    try:
        with path.open(newline="", encoding=encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = [c.strip() for c in next(reader, [])]
            for row in reader:
                lengths.append(len(row))
                ends.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(
            "malformed file", path=path, expected=f"{_name(delimiter)}-separated text", found=exc
        ) from None
    seen: set[str] = set()
    dup = next((c for c in header if c in seen or seen.add(c)), None)  # linear: headers can be wide
    if dup is not None:
        raise InputError(
            "duplicate column name", path=path, row=1, column=dup, expected="each column name once"
        )
    counts, ends_arr = np.asarray(lengths, dtype=int), np.asarray(ends, dtype=int)
    starts = np.r_[2, ends_arr[:-1] + 1] if len(ends_arr) else np.asarray([], dtype=int)
    bad = np.flatnonzero((counts != len(header)) & (counts != 0))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            "wrong number of fields",
            path=path,
            row=int(starts[i]),
            expected=f"{len(header)} fields separated by {_name(delimiter)} (as in the header)",
            found=f"{counts[i]} fields",
        )
    return starts


def _read_delimited(path: Path, delimiter: str, encoding: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding=encoding,
            engine="c",
            index_col=False,
        )
    except pd.errors.EmptyDataError:
        raise InputError("empty file", path=path, expected="a header row and at least one data row") from None
    except pd.errors.ParserError as exc:  # _scan passed, so this is something subtler (quoting)
        raise InputError(
            "malformed file", path=path, expected=f"{_name(delimiter)}-separated text", found=exc
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    last = len(frame)  # a trailing blank line is formatting, not data
    while last > 0 and frame.iloc[last - 1].eq("").all():
        last -= 1
    return frame.iloc[:last]


def _name(delimiter: str | None) -> str:
    return DELIMITER_NAMES.get(delimiter or "", repr(delimiter))
