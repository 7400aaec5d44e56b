"""The one exception type for bad user input.

Bugs raise ordinary exceptions; anything a user can fix by changing a file or an option raises
``InputError``, which the CLI prints as one line and the app shows with ``st.error``.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input, described so a planner can find and fix it: file, row, column, expectation."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
        expected: str | None = None,
        found: object = None,
        rejected: object = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        self.key = key  # a key in a YAML file, where a table would have a column
        self.expected = expected
        self.found = found
        self.detail = message
        self.rejected = rejected  # the RowLedger, when rows were rejected before the failure
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        text = self.detail
        if self.expected is not None:
            text += f": expected {self.expected}"
            if self.found is not None:
                text += f", found {_short(self.found)!r}"
        return (": ".join([", ".join(where), text]) if where else text).replace("\n", " ")


def _short(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
