"""Every kind of malformed file: one line naming file, row and column; non-zero exit; no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BANK_LOG

LOG_HEADER = "contact_id,queue,arrival_time,answer_time,end_time,handle_seconds,abandoned"
LOG_ROWS = [
    "c1,sales,2024-01-08 09:00:00,2024-01-08 09:00:30,2024-01-08 09:05:00,270,0",
    "c2,sales,2024-01-08 09:01:00,2024-01-08 09:01:10,2024-01-08 09:04:00,170,0",
    "c3,support,2024-01-08 09:02:00,,2024-01-08 09:03:00,,1",
]


def log_file(tmp_path: Path, lines: list[str], name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


CASES = {
    # kind: (file lines, extra args, expected fragments of the one-line error)
    "wrong delimiter": (
        [LOG_HEADER.replace(",", ";"), *(r.replace(",", ";") for r in LOG_ROWS)],
        [],
        ["row 1", "wrong delimiter", "comma", "semicolon"],
    ),
    "missing column": (
        [LOG_HEADER.replace("arrival_time", "created"), *LOG_ROWS],
        [],
        ["row 1", "column 'arrival_time'", "missing required column"],
    ),
    "unparsable time": (
        [LOG_HEADER, LOG_ROWS[0], LOG_ROWS[1].replace("2024-01-08 09:01:00", "yesterday"), LOG_ROWS[2]],
        [],
        ["row 3", "column 'arrival_time'", "unparsable time", "'yesterday'"],
    ),
    "end before start": (
        [LOG_HEADER, LOG_ROWS[0], LOG_ROWS[1], LOG_ROWS[2].replace("09:03:00", "08:03:00")],
        [],
        ["row 4", "column 'end_time'", "end before start"],
    ),
    "mixed time zones": (
        [
            LOG_HEADER,
            LOG_ROWS[0].replace("09:00:00,", "09:00:00+01:00,", 1),
            LOG_ROWS[1].replace("09:01:00,", "09:01:00+05:30,", 1),
        ],
        [],
        ["row 3", "column 'arrival_time'", "mixed time zones", "+01:00"],
    ),
    "naive and zoned times mixed": (
        [LOG_HEADER, LOG_ROWS[0].replace("09:00:00,", "09:00:00Z,", 1), LOG_ROWS[1]],
        [],
        ["row 3", "mixed time zones"],
    ),
    "empty file": ([], [], ["empty file"]),
    "header only": ([LOG_HEADER], [], ["empty file", "row 2"]),
    "ragged row": (
        [LOG_HEADER, LOG_ROWS[0] + ",extra,fields", LOG_ROWS[1]],
        [],
        ["row 2", "wrong number of fields"],
    ),
    "answer before arrival": (
        [LOG_HEADER, LOG_ROWS[0].replace("2024-01-08 09:00:30", "2024-01-08 08:00:30")],
        [],
        ["row 2", "column 'answer_time'", "answer before arrival"],
    ),
    "interval report with unparsable time": (
        ["time,calls", "2024-01-08 09:00,3", "2024-01-08 9h15,4"],
        ["--time-col", "time", "--value-col", "calls"],
        ["row 3", "column 'time'", "unparsable time"],
    ),
    "interval report missing value column": (
        ["time,calls", "2024-01-08 09:00,3"],
        ["--time-col", "time", "--value-col", "volume"],
        ["row 1", "column 'volume'"],
    ),
    "year 0001": (
        [LOG_HEADER, LOG_ROWS[0].replace("2024-01-08 09:00:00", "0001-01-08 09:00:00", 1), LOG_ROWS[1]],
        [],
        ["row 2", "column 'arrival_time'", "year out of range", "1900 to 2199"],
    ),
    "year 9999 in a report": (
        ["time,calls", "9999-12-31 09:00,3", "2024-01-08 09:15,4"],
        ["--time-col", "time", "--value-col", "calls"],
        ["row 2", "column 'time'", "year out of range"],
    ),
    "a year typed wrong": (
        ["time,calls", *(f"2024-01-{d:02d} 09:00,3" for d in range(1, 29)), "2042-01-29 09:00,4"],
        ["--time-col", "time", "--value-col", "calls"],
        ["row 30", "column 'time'", "far from the rest of the data", "2024-01-01 to 2024-01-28"],
    ),
    "no line breaks": (
        ["time,calls," + "9" * 1_100_000],
        ["--time-col", "time", "--value-col", "calls"],
        ["a line is too long", "without a line break"],
    ),
    "handled twice the arrivals": (
        ["time,calls,handled", *(f"2024-01-08 {h:02d}:00,10,20" for h in range(8, 18))],
        ["--time-col", "time", "--value-col", "calls", "--value-col", "handled=handled"],
        ["column 'handled'", "more handled than arrivals", "right column"],
    ),
    "queues at different intervals": (
        [
            "t,q,calls",
            "2024-01-08 08:00,A,5",
            "2024-01-08 08:30,A,5",
            "2024-01-08 09:00,A,5",
            "2024-01-08 08:00,B,5",
            "2024-01-08 08:15,B,5",
            "2024-01-08 08:30,B,5",
        ],
        ["--time-col", "t", "--queue-col", "q", "--value-col", "calls"],
        ["different intervals", "A every 30min, B every 15min"],
    ),
    "every row rejected": (
        ["time,calls", '2024-01-08 08:00,"1,94"', '2024-01-08 08:30,"2,5"'],
        ["--time-col", "time", "--value-col", "calls", "--reject-bad-rows"],
        ["row 2", "column 'calls'", "no usable rows: 2 rejected as 'not a count'", "'1,94'"],
    ),
    "anonymous bank read as comma-separated": (
        BANK_LOG.read_text().replace("\t", ",").splitlines()[:50],
        ["--format", "anonymous-bank", "--sep", ";"],
        ["row 1", "wrong delimiter"],
    ),
}


@pytest.mark.parametrize("kind", CASES)
def test_bad_file_gives_one_line_error(kind, tmp_path, run_cli):
    lines, extra, fragments = CASES[kind]
    path = tmp_path / "input.csv"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    code, _out, err = run_cli("ingest", path, *extra, "--out", tmp_path / "out")
    assert code != 0
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"capplan: error: {path}")
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not (tmp_path / "out" / "intervals.csv").exists()


def test_lenient_mode_rejects_bad_rows_instead(tmp_path, run_cli):
    lines, _, _ = CASES["unparsable time"]
    path = log_file(tmp_path, lines)
    code, _out, err = run_cli("ingest", path, "--reject-bad-rows", "--out", tmp_path / "out")
    assert code == 0, err
    rejected = (tmp_path / "out" / "rejected.csv").read_text().splitlines()
    assert len(rejected) == 2 and rejected[1].startswith("3,arrival_time,unparsable time,yesterday")


def test_input_is_never_modified(tmp_path, run_cli):
    path = log_file(tmp_path, [LOG_HEADER, *LOG_ROWS])
    before = path.read_bytes()
    assert run_cli("ingest", path, "--out", tmp_path / "out")[0] == 0
    assert path.read_bytes() == before


def test_console_script_prints_no_traceback(tmp_path):
    path = log_file(tmp_path, [LOG_HEADER.replace(",", ";")])
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "capplan"), "ingest", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_daylight_saving_offsets_are_one_zone(tmp_path, run_cli):
    lines = [
        "time,calls",
        "2024-03-29T08:00:00+01:00,3",
        "2024-03-29T08:30:00+01:00,4",
        "2024-04-01T08:00:00+02:00,5",
        "2024-04-01T08:30:00+02:00,6",
    ]
    path = log_file(tmp_path, lines)
    code, _out, err = run_cli(
        "ingest", path, "--time-col", "time", "--value-col", "calls", "--out", tmp_path / "o"
    )
    assert code == 0, err
    table = (tmp_path / "o" / "intervals.csv").read_text()
    assert "2024-04-01 08:00:00" in table  # local clock time kept


def test_quoted_line_breaks_keep_physical_row_numbers(tmp_path, run_cli):
    lines = [
        LOG_HEADER,
        LOG_ROWS[0].replace("c1,sales", 'c1,"sales\nteam"'),
        LOG_ROWS[1].replace("09:01:00,", "later,", 1),
    ]
    path = log_file(tmp_path, lines)
    code, _out, err = run_cli("ingest", path, "--out", tmp_path / "o")
    assert code == 2 and "row 4" in err, err


def test_short_row_is_an_error(tmp_path, run_cli):
    path = log_file(tmp_path, [LOG_HEADER, LOG_ROWS[0], "c9,sales,2024-01-08 09:09:00", LOG_ROWS[1]])
    code, _out, err = run_cli("ingest", path, "--out", tmp_path / "o")
    assert code == 2 and "row 3" in err and "wrong number of fields" in err and "3 fields" in err, err


def test_all_rows_rejected_still_writes_rejected_csv(tmp_path, run_cli):
    path = log_file(tmp_path, [LOG_HEADER, ",sales,2024-01-08 09:00:00,,,,0"])
    code, _out, err = run_cli("ingest", path, "--out", tmp_path / "o")
    assert code == 2 and "no usable rows" in err
    assert "missing contact id" in (tmp_path / "o" / "rejected.csv").read_text()


INFINITE = {
    # kind: (file lines, extra args, row, column): a value no count or duration can have
    "infinite handle time": (
        [LOG_HEADER, LOG_ROWS[0], LOG_ROWS[1].replace(",170,", ",inf,"), LOG_ROWS[2]],
        [],
        (3, "handle_seconds"),
    ),
    "handle time overflowing to infinity": (
        [LOG_HEADER, LOG_ROWS[0].replace(",270,", ",1e400,"), LOG_ROWS[1]],
        [],
        (2, "handle_seconds"),
    ),
    "interval report with Infinity": (
        ["time,calls,aht", "2024-01-08 09:00,3,180", "2024-01-08 09:15,4,Infinity", "2024-01-08 09:30,5,170"],
        ["--time-col", "time", "--value-col", "calls", "--value-col", "aht=aht"],
        (3, "aht"),
    ),
}


@pytest.mark.parametrize("kind", INFINITE)
def test_an_infinite_value_is_rejected_with_its_row_never_averaged(kind, tmp_path, run_cli):
    """``inf``, ``Infinity`` or ``1e400`` once made AHT infinite; now the row is rejected
    (counted, listed in rejected.csv with its reason) and no mean sees it."""
    import pandas as pd

    lines, extra, (row, column) = INFINITE[kind]
    path = tmp_path / "input.csv"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli("ingest", path, *extra, "--out", tmp_path / "out")
    assert code == 0 and "infinite" in out, err
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv")
    assert list(rejected["row"]) == [row] and list(rejected["column"]) == [column]
    assert "inf" not in (tmp_path / "out" / "intervals.csv").read_text().lower()


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (["--encoding", "klingon"], ["--encoding", "unknown text encoding", "klingon"]),
        (["--timezone", "Mars/Olympus"], ["--timezone", "unknown time zone"]),
        (["--target-seconds", "inf"], ["--target-seconds", "not a finite number"]),
    ],
)
def test_a_bad_reading_option_is_named(tmp_path, run_cli, extra, fragments):
    path = log_file(tmp_path, [LOG_HEADER, *LOG_ROWS])
    code, _out, err = run_cli("ingest", path, *extra, "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert all(f in err for f in fragments), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("lenient", [False, True])
def test_years_out_of_range_never_crash(tmp_path, run_cli, lenient):
    """Years 0001 and 9999 do not fit pandas' timestamps: they are bad rows, not a crash."""
    good = [f"2024-01-01 {h:02d}:00,7" for h in range(8, 18)]
    path = log_file(tmp_path, ["time,calls", "0001-01-01 08:00,5", "9999-12-31 08:00,5", *good])
    args = ["--time-col", "time", "--value-col", "calls", *(["--reject-bad-rows"] if lenient else [])]
    code, _out, err = run_cli("ingest", path, *args, "--out", tmp_path / "out")
    assert "Traceback" not in err
    if lenient:
        assert code == 0 and (tmp_path / "out" / "rejected.csv").read_text().count("year out of range") == 2
    else:
        assert code == 2 and "row 2" in err


def test_the_same_value_column_twice_is_refused(tmp_path, run_cli):
    """Read twice, its volume doubled without a word."""
    path = log_file(tmp_path, ["time,calls", "2024-01-08 08:00,5", "2024-01-08 08:30,6"])
    code, _, err = run_cli(
        "ingest",
        path,
        "--time-col",
        "time",
        "--value-col",
        "calls",
        "--value-col",
        "calls",
        "--out",
        tmp_path / "out",
    )
    assert code == 2 and "--value-col" in err and "column given twice" in err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x1f\x8b\x08\x00rest", "gzip-compressed"),
        (b"PK\x03\x04rest", "zip archive or Excel workbook"),
    ],
)
def test_a_binary_file_is_named_for_what_it_is(tmp_path, run_cli, content, fragment):
    path = tmp_path / "calls.csv"
    path.write_bytes(content)
    code, _, err = run_cli(
        "ingest", path, "--time-col", "t", "--value-col", "calls", "--out", tmp_path / "out"
    )
    assert code == 2 and fragment in err and "UTF-8" not in err


def test_a_parquet_file_named_csv_is_read_as_parquet(tmp_path, run_cli):
    import pandas as pd

    frame = pd.DataFrame({"t": pd.date_range("2024-01-08 08:00", periods=6, freq="30min"), "calls": range(6)})
    frame.to_parquet(tmp_path / "calls.csv")
    code, _, err = run_cli(
        "ingest", tmp_path / "calls.csv", "--time-col", "t", "--value-col", "calls", "--out", tmp_path / "out"
    )
    assert code == 0, err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "columns:\n  arrival_time: Created\n  arrival_time: Solved\n",
            "row 3: key 'arrival_time' given twice",
        ),
        ("", "empty mapping file"),
        ("# only a comment\n", "empty mapping file"),
    ],
)
def test_a_mapping_file_says_what_is_wrong(tmp_path, run_cli, text, fragment):
    """A key given twice silently took the last value; an empty file was 'no mapping'."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text)
    path = log_file(tmp_path, [LOG_HEADER, *LOG_ROWS])
    code, _, err = run_cli("ingest", path, "--mapping", mapping, "--out", tmp_path / "out")
    assert code == 2 and fragment in err and err.count("\n") == 1
