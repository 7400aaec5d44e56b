"""Values valid one by one but unlikely in a per-contact log: handle times of 0, real-time
waits of days, contacts neither answered nor abandoned. They are kept, but each kind is warned
with its count and first row (summary.json's warnings) and counted in the ledger; before, such
a log passed without a word and its AHT, ASA or service level were silently off."""

import json
from pathlib import Path

import pytest

from forecasting.history.ingest import IngestOptions, ingest

HEADER = "contact_id,channel,arrival_time,answer_time,end_time,abandoned"
CLEAN = [
    "c1,voice,2024-01-08 09:00:00,2024-01-08 09:00:30,2024-01-08 09:05:00,0",
    "c2,voice,2024-01-08 09:01:00,2024-01-08 09:01:10,2024-01-08 09:04:00,0",
    "c3,voice,2024-01-08 09:02:00,,2024-01-08 09:03:00,1",
    "c4,chat,2024-01-08 09:03:00,2024-01-08 09:03:40,2024-01-08 09:09:00,0",
]
ZERO = "z{i},voice,2024-01-08 10:0{i}:00,2024-01-08 10:0{i}:20,2024-01-08 10:0{i}:20,0"
LONG_WAIT = "w{i},chat,2024-01-08 11:0{i}:00,2024-01-18 11:0{i}:00,2024-01-18 11:1{i}:00,0"
NEITHER = "n{i},voice,2024-01-08 12:0{i}:00,,,0"
LONG_HANDLE = "h{i},voice,2024-01-08 13:0{i}:00,2024-01-08 13:0{i}:10,2024-01-10 13:0{i}:10,0"


def _log(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    ("template", "kind", "fragment"),
    [
        (ZERO, "handle time 0", "handle time of 0 s"),
        (LONG_WAIT, "real-time wait over a day", "waited over a day (longest 10.0 days)"),
        (NEITHER, "neither answered nor abandoned", "neither answered"),
        (LONG_HANDLE, "real-time handle time over a day", "handle time over a day"),
    ],
)
@pytest.mark.parametrize("count", [1, 3])
def test_each_oddity_is_warned_with_its_count_and_first_row(
    tmp_path, run_cli, template, kind, fragment, count
):
    odd = [template.format(i=i) for i in range(count)]
    path = _log(tmp_path, [*CLEAN, *odd])
    result = ingest(path)
    assert result.ledger.noted == {kind: count}
    assert result.ledger.counts()["rows_used"] == len(CLEAN) + count  # kept, not dropped
    code, out, err = run_cli("ingest", path, "--out", tmp_path / "out")
    assert code == 0, err
    warnings = json.loads((tmp_path / "out" / "summary.json").read_text())["warnings"]
    said = [w for w in warnings if fragment in w]
    assert len(said) == 1 and said[0].split()[0] == str(count), warnings
    assert f"(first at row {len(CLEAN) + 2})" in said[0]
    assert fragment in out


def test_a_clean_log_is_not_warned(tmp_path):
    """The warnings are not said of every log: a plain one has none."""
    result = ingest(_log(tmp_path, CLEAN))
    assert result.ledger.noted == {} and result.ledger.warnings == []


def test_handle_times_all_zero_are_named_as_such(tmp_path):
    rows = [ZERO.format(i=i) for i in range(4)]
    result = ingest(_log(tmp_path, rows))
    assert result.ledger.noted == {"handle time 0": 4}
    assert any(
        w.startswith("all 4 handled contacts have a handle time of 0 s") for w in result.ledger.warnings
    )


def test_days_of_waiting_are_not_odd_for_email(tmp_path):
    """An email waits days for its answer: only real-time channels are held to a day."""
    rows = [LONG_WAIT.format(i=i).replace(",chat,", ",email,") for i in range(2)]
    result = ingest(_log(tmp_path, [*CLEAN, *rows]))
    assert result.ledger.noted == {}


def test_an_open_ticket_is_not_odd(tmp_path):
    """A ticket export's open tickets are neither resolved nor abandoned: still waiting."""
    path = tmp_path / "tickets.csv"
    path.write_text(
        "id,created,status\nT1,2024-01-08 09:00,Resolved\nT2,2024-01-08 09:30,Open\n"
        "T3,2024-01-08 10:00,Resolved\n"
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n  contact_id: id\n  arrival_time: created\n"
        "  status: {column: status, resolved: [Resolved], open: [Open]}\n"
    )
    result = ingest(path, IngestOptions(mapping=mapping))
    assert "neither answered nor abandoned" not in result.ledger.noted


def test_bank_log_zero_handle_times_are_warned_and_counted(tmp_path):
    """The anonymous-bank preset goes through the same oddity checks as mapped logs, and the
    counts reach summary.json (served calls with ser_time 0, counted independently here)."""
    import pandas as pd

    from forecasting.history.ingest import write_outputs
    from tests.conftest import BANK_LOG

    raw = pd.read_csv(BANK_LOG, sep="\t", dtype=str)
    served = raw["outcome"].str.strip().eq("AGENT") & raw["server"].str.strip().ne("NO_SERVER")
    zero = int((served & raw["ser_time"].str.strip().eq("0")).sum())
    result = ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min"))
    write_outputs(result, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert zero > 0 and summary["warned_by_reason"]["handle time 0"] == zero
    assert any(f"{zero} of" in w and "handle time of 0 s" in w for w in summary["warnings"])
