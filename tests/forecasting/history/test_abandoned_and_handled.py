"""A contact marked abandoned is never answered: a log row that also gives it an answer time
was rejected, but one with a handle time above 0 was counted as abandoned and its handle time
silently dropped (57 rows of a probe, no word). Both are now rejected with their reason and
counted, whichever way the handle time reaches the log (a column of its own or answer/end)."""

from __future__ import annotations

from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.ledger import REJECTED

CLEAN = [
    "c1,voice,2024-01-08 09:00:00,300,0",
    "c2,voice,2024-01-08 09:01:00,200,0",
    "c3,voice,2024-01-08 09:02:00,,1",  # abandoned: no handle time
    "c4,voice,2024-01-08 09:03:00,0,1",  # abandoned with a handle time of 0: what many systems write
]


def _ingest(tmp_path, rows: list[str]):
    path = tmp_path / "log.csv"
    path.write_text("\n".join(["id,channel,arrived,handle,abandoned", *rows]) + "\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns:\n  contact_id: id\n  channel: channel\n  arrival_time: arrived\n"
        "  handle_seconds: handle\n  abandoned: abandoned\n"
    )
    return ingest(path, IngestOptions(mapping=mapping))


def test_abandoned_with_a_handle_time_is_rejected_like_abandoned_with_an_answer_time(tmp_path):
    odd = [f"h{i},voice,2024-01-08 10:0{i}:00,240,1" for i in range(3)]
    result = _ingest(tmp_path, [*CLEAN, *odd])
    counts = result.ledger.counts()
    assert counts["rows_rejected"] == 3 and counts["rows_used"] == len(CLEAN)
    assert result.ledger.reasons(REJECTED) == {"abandoned but has a handle time": 3}
    rejected = result.ledger.rejected_rows()
    assert list(rejected["row"]) == [len(CLEAN) + 2, len(CLEAN) + 3, len(CLEAN) + 4]
    assert set(rejected["column"]) == {"abandoned"}


def test_a_clean_log_with_abandoned_handle_times_of_zero_keeps_every_row(tmp_path):
    result = _ingest(tmp_path, CLEAN)
    assert result.ledger.counts()["rows_rejected"] == 0
    assert int(result.contacts.frame["abandoned"].sum()) == 2
