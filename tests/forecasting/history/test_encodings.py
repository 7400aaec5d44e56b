"""Text encodings are detected or named: UTF-16/32 without a byte-order mark by where its NUL
bytes fall, UTF-8 with a mark, and a file that is not UTF-8 read as cp1252 (or Latin-1) with a
warning; a file that cannot be told gets one line saying what it looks like. Before, UTF-16
without a mark got 'wrong number of fields' on a row past the end."""

import json

import pytest

from forecasting.history.ingest import ingest

TEXT = (
    "contact_id,queue,arrival_time,answer_time,end_time,handle_seconds,abandoned\n"
    "c1,Größe,2024-01-08 09:00:00,2024-01-08 09:00:30,2024-01-08 09:05:00,270,0\n"
    "c2,sales,2024-01-08 09:01:00,2024-01-08 09:01:10,2024-01-08 09:04:00,170,0\n"
    "c3,sales,2024-01-08 09:02:00,,2024-01-08 09:03:00,,1\n"
)


@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        ("utf-16-le", "UTF-16 LE"),
        ("utf-16-be", "UTF-16 BE"),
        ("utf-32-le", "UTF-32 LE"),
        ("utf-32-be", "UTF-32 BE"),
        ("utf-16", None),  # with its mark: no guess to warn of
        ("utf-8-sig", None),
        ("utf-8", None),
    ],
)
def test_unicode_with_or_without_a_mark_is_read_as_written(tmp_path, run_cli, encoding, said):
    path = tmp_path / "log.csv"
    path.write_bytes(TEXT.encode(encoding))
    result = ingest(path)
    assert result.ledger.counts()["rows_used"] == 3
    assert set(result.contacts.frame["queue"]) == {"Größe", "sales"}
    guesses = [w for w in result.ledger.warnings if "byte-order mark" in w]
    assert guesses == ([] if said is None else [guesses[0]]) and (said is None or said in guesses[0])
    code, _, err = run_cli("ingest", path, "--out", tmp_path / "out")
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows_used"] == 3 and summary["queues"] == ["Größe", "sales"]


@pytest.mark.parametrize(
    ("name", "encoding", "read_as"),
    [("Café €", "cp1252", "cp1252"), ("Caf\x81 é", "latin-1", "latin-1")],  # 0x81 is no cp1252 character
)
def test_a_file_that_is_not_utf8_is_read_as_a_single_byte_encoding_and_said(
    tmp_path, name, encoding, read_as
):
    path = tmp_path / "log.csv"
    path.write_bytes(TEXT.replace("Größe", name).encode(encoding))
    result = ingest(path)
    assert name in set(result.contacts.frame["queue"])
    assert any(f"read as {read_as}" in w and "not UTF-8" in w for w in result.ledger.warnings)


def test_an_encoding_given_is_trusted_and_its_failure_named(tmp_path, run_cli):
    path = tmp_path / "log.csv"
    path.write_bytes(TEXT.replace("Größe", "Café").encode("cp1252"))
    code, _, err = run_cli("ingest", path, "--encoding", "utf-8", "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "not UTF-8" in err and "Traceback" not in err


def test_nul_bytes_that_are_no_unicode_are_one_line_naming_utf16(tmp_path, run_cli):
    path = tmp_path / "log.csv"
    path.write_bytes(TEXT.encode("utf-8") + b"\x00\x00\x00garbage\x00\n" * 3)
    code, _, err = run_cli("ingest", path, "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and "NUL" in err and "UTF-16" in err and "UTF-8" in err


def test_a_staffing_batch_in_utf16_without_a_mark_is_read(tmp_path, run_cli):
    """One reader for every table: a batch for ``staff`` too."""
    path = tmp_path / "batch.csv"
    path.write_bytes("interval_start,calls,aht\n2024-01-08 08:00,100,180\n".encode("utf-16-le"))
    code, _, err = run_cli("staff", "--input", path, "--service-level", "0.8", "--out", tmp_path / "s.csv")
    assert code == 0, err
