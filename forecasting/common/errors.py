"""The one exception type for bad user input.

Bugs raise ordinary exceptions; anything a user can fix by changing a file or a setting raises
``InputError``, which the CLI prints as one line and the app shows with ``st.error``.

The core does not know whether a setting was a command-line option or a widget: it names
settings (``option="sep"``; ``<<sep>>`` inside a text) and each front end renders them in its
own words with :meth:`InputError.render` (the CLI as ``--sep``, the app as its widget's label).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

SETTINGS = {  # each setting in plain words: how an error says it when no front end names it
    "input": "the input file",
    "format": "the input format",
    "sep": "the field delimiter",
    "encoding": "the text encoding",
    "interval": "the interval",
    "time_col": "the timestamp column",
    "value_col": "the value column",
    "queue_col": "the queue column",
    "mapping": "the mapping file",
    "reject_bad_rows": "rejecting bad rows",
    "field": "the field to forecast",
    "queue": "the queue",
    "model": "the model",
    "models": "the candidate models",
    "registered_model": "the registered model name",
    "store": "the MLflow store",
    "train_until": "the end of the calibration period",
    "granularity": "the granularity",
    "holidays": "the holiday calendar",
    "special_days": "the special days file",
}
TOKEN = re.compile(r"<<(\w+)>>")


def cli_option(setting: str) -> str:
    """A setting as the command line spells it: ``--reject-bad-rows``."""
    return "--" + setting.replace("_", "-")


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
        option: str | None = None,
        expected: str | None = None,
        found: object = None,
        rejected: object = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        self.key = key  # a key in a YAML file, where a table would have a column
        self.option = option  # a setting (see SETTINGS), where a file would have a column
        self.expected = expected
        self.found = found
        self.detail = message
        self.rejected = rejected  # the RowLedger, when rows were rejected before the failure
        super().__init__(self.render())

    def render(self, name_of: Callable[[str], str] | None = None) -> str:
        """The one-line message, each setting named by ``name_of`` (else in plain words)."""

        def setting(name: str) -> str:
            return (name_of(name) if name_of else None) or SETTINGS.get(name, name.replace("_", " "))

        def words(text: str) -> str:
            return TOKEN.sub(lambda m: setting(m[1]), text)

        return self._format(setting, words)

    def as_keys(self, prefix: str) -> InputError:
        """The same error where its settings came from keys of a file (``data.queue`` of a
        scenario, say), not from options: a scenario file has no ``--queue``."""
        if self.option is None and not TOKEN.search(f"{self.detail} {self.expected or ''}"):
            return self

        def words(text: str | None) -> str | None:
            return None if text is None else TOKEN.sub(lambda m: f"{prefix}.{m[1]}", text)

        error = InputError(
            words(self.detail),
            path=self.path,
            row=self.row,
            column=self.column,
            key=f"{prefix}.{self.option}" if self.option else self.key,
            expected=words(self.expected),
            found=self.found,
            rejected=self.rejected,
        )
        return error

    def _format(self, setting: Callable[[str], str], words: Callable[[str], str]) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        if self.option is not None:
            where.append(setting(self.option))
        text = words(self.detail)
        if self.expected is not None:
            text += f": expected {words(self.expected)}"
            if self.found is not None:
                text += f", found {_short(self.found)!r}"
        return (": ".join([", ".join(where), text]) if where else text).replace("\n", " ")


def _short(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
