"""Files a single-file command writes beside its ``--out`` under names the user never typed
(issue 24): ``staff --out X.csv`` also writes ``X_fte.csv``, ``validate-staffing --out R.csv``
also ``R_summary.csv`` and ``R.png``. Such a file replaces only the command's own unchanged
output (the folder's capplan_run.json proves it); the user's file, or one edited since, is
refused in one line before the work and kept byte for byte."""

import pytest

from forecasting.common.output_files import MARKER
from tests.conftest import BANK_LOG

BATCH = "interval_start,calls,aht\n2024-01-01 08:00,100,180\n2024-01-01 08:30,120,180\n"


@pytest.fixture
def batch(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(BATCH)
    return path


def staff(run_cli, batch, *out):
    return run_cli("staff", "--input", batch, "--service-level", "0.8", *out)


def refused(result, name):
    code, _, err = result
    return code == 2 and err.count("\n") == 1 and name in err and "kept" in err


def test_staff_keeps_the_users_fte_file(run_cli, tmp_path, batch):
    mine = tmp_path / "X_fte.csv"
    mine.write_bytes(b"my own FTE plan\r\n")
    result = staff(run_cli, batch, "--out", tmp_path / "X.csv")
    assert refused(result, "X_fte.csv"), result
    assert mine.read_bytes() == b"my own FTE plan\r\n"
    assert not (tmp_path / "X.csv").exists()  # refused before anything was written


def test_staff_runs_again_over_its_own_outputs_and_not_over_an_edited_one(run_cli, tmp_path, batch):
    out = tmp_path / "X.csv"
    for _ in range(2):
        code, said, err = staff(run_cli, batch, "--out", out)
        assert code == 0, err
        assert "X_fte.csv" in said
    assert (tmp_path / MARKER).is_file()
    fte = tmp_path / "X_fte.csv"
    fte.write_text(fte.read_text() + "my note\n")
    edited = fte.read_bytes()
    assert refused(staff(run_cli, batch, "--out", out), "X_fte.csv")
    assert fte.read_bytes() == edited
    out.write_text("the table, edited\n")  # the file --out names is the user's to replace
    fte.unlink()
    assert staff(run_cli, batch, "--out", out)[0] == 0


def test_staff_without_out_keeps_a_users_file_of_the_derived_name(run_cli, tmp_path, batch):
    assert staff(run_cli, batch)[0] == 0
    assert staff(run_cli, batch)[0] == 0  # its own outputs: replaced
    derived = tmp_path / "in_staffing.csv"
    derived.write_text("mine\n")
    assert refused(staff(run_cli, batch), "in_staffing.csv")
    assert derived.read_text() == "mine\n"


def test_staff_never_writes_its_fte_table_over_its_input(run_cli, tmp_path):
    source = tmp_path / "X_fte.csv"
    source.write_text(BATCH)
    assert refused(staff(run_cli, source, "--out", tmp_path / "X.csv"), "X_fte.csv")
    assert source.read_text() == BATCH


def validate(run_cli, log, out, train_until="1999-02-02"):
    return run_cli(
        "validate-staffing",
        "--log",
        log,
        "--format",
        "anonymous-bank",
        "--train-until",
        train_until,
        "--replications",
        "1",
        "--out",
        out,
    )


@pytest.mark.parametrize("name", ["R_summary.csv", "R.png"])
def test_validate_staffing_keeps_the_users_companions(run_cli, tmp_path, name):
    mine = tmp_path / name
    mine.write_bytes(b"\x89 mine, not capplan's")
    assert refused(validate(run_cli, BANK_LOG, tmp_path / "R.csv"), name)
    assert mine.read_bytes() == b"\x89 mine, not capplan's"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # refused before the work


def test_validate_staffing_out_cannot_be_its_own_picture(run_cli, tmp_path):
    code, _, err = validate(run_cli, BANK_LOG, tmp_path / "R.png")
    assert code == 2 and err.count("\n") == 1 and "--out" in err, err
    assert not any(tmp_path.iterdir())


@pytest.fixture
def small_log(tmp_path):
    """The bank log's first three days: enough to calibrate, quick to run twice."""
    lines = BANK_LOG.read_text().splitlines(keepends=True)
    path = tmp_path / "log.tsv"
    path.write_text(lines[0] + "".join(line for line in lines[1:] if line.split("\t")[5] <= "990203"))
    return path


def test_validate_staffing_runs_again_over_its_own_outputs(run_cli, tmp_path, small_log):
    out = tmp_path / "R.csv"
    for _ in range(2):
        code, _, err = validate(run_cli, small_log, out)
        assert code == 0, err
    picture = tmp_path / "R.png"
    picture.write_bytes(picture.read_bytes() + b"edited")
    edited = picture.read_bytes()
    assert refused(validate(run_cli, small_log, out), "R.png")
    assert picture.read_bytes() == edited


def test_validate_staffing_keeps_the_users_survey_check(run_cli, tmp_path):
    """REPORT_csat.csv is written only for a log with CSAT: refused once the log is read."""
    from tests.scenarios.service.test_satisfaction import _log_file

    log = _log_file(tmp_path / "contacts.csv")
    mine = tmp_path / "REPORT_csat.csv"
    mine.write_text("my CSAT notes\n")
    code, _, err = run_cli(
        "validate-staffing",
        "--log",
        log,
        "--format",
        "log",
        "--train-until",
        "2024-03-17",
        "--interval",
        "60min",
        "--out",
        tmp_path / "REPORT.csv",
    )
    assert refused((code, "", err), "REPORT_csat.csv"), err
    assert mine.read_text() == "my CSAT notes\n"
    assert not (tmp_path / "REPORT.csv").exists()
