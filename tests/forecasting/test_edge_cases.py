"""Edge cases found in review: each once produced a traceback, a wrong table or a lost row."""

import numpy as np
import pytest

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpis import ALL_QUEUES, kpi_table


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_combine_queues_sums_an_interval_report(tmp_path):
    path = write(tmp_path, "w.csv", ["t,A,B", "2024-01-08 09:00,1,2", "2024-01-08 09:15,3,4"])
    result = ingest(path, IngestOptions(time_col="t", value_cols=("A", "B"), combine_queues=True))
    assert result.intervals["arrivals"].tolist() == [3, 7]
    assert result.intervals["queue"].unique().tolist() == ["all"]


def test_blank_queue_and_a_queue_called_all(tmp_path):
    path = write(
        tmp_path,
        "l.csv",
        [
            "contact_id,queue,arrival_time",
            "1,all,2024-01-08 09:00",
            "2,,2024-01-08 09:10",
            "3,B,2024-01-08 09:20",
        ],
    )
    result = ingest(path, IngestOptions())
    assert sorted(result.intervals["queue"].unique()) == ["B", "all", "unassigned"]
    week = kpi_table(result, "week").set_index("queue")["arrivals"]
    assert week.to_dict() == {"B": 1, "all": 1, "unassigned": 1, ALL_QUEUES: 3}


def test_a_recorded_wait_means_handled_and_blank_fcr_is_unknown(tmp_path):
    path = write(
        tmp_path,
        "l.csv",
        [
            "contact_id,arrival_time,wait_seconds,abandoned,fcr",
            "1,2024-01-08 09:00,10,0,yes",
            "2,2024-01-08 09:01,30,0,",
            "3,2024-01-08 09:02,40,1,",
        ],
    )
    result = ingest(path, IngestOptions())
    table = kpi_table(result, "day").iloc[0]
    assert table["handled"] == 2 and table["abandoned"] == 1
    np.testing.assert_allclose(table["service_level"], 1 / 3)
    np.testing.assert_allclose(table["asa"], 20.0)
    np.testing.assert_allclose(table["fcr"], 1.0)  # one known answer, and it is yes


def test_interval_report_of_aht_only(tmp_path):
    path = write(tmp_path, "a.csv", ["t,aht", "2024-01-08 09:00,100", "2024-01-08 09:30,200"])
    result = ingest(path, IngestOptions(time_col="t", value_cols=("aht=aht",), interval="60min"))
    assert result.intervals["aht"].tolist() == [150.0]


def test_rows_without_any_value_are_rejected(tmp_path):
    path = write(
        tmp_path, "e.csv", ["t,calls", "2024-01-08 09:00,", "2024-01-08 09:15,4", "2024-01-08 09:30,5"]
    )
    result = ingest(path, IngestOptions(time_col="t", value_cols=("calls",)))
    rejected = result.ledger.rejected_rows()
    assert rejected["row"].tolist() == [2] and rejected["reason"].iloc[0] == "no value in any value column"


@pytest.mark.parametrize("sep", ["tab", "\\t", "\t"])
def test_tab_separator_spellings(tmp_path, sep):
    path = write(tmp_path, "t.txt", ["contact_id\tarrival_time", "1\t2024-01-08 09:00"])
    assert ingest(path, IngestOptions(sep=sep)).ledger.counts()["rows_used"] == 1


def test_bad_time_format_is_named(tmp_path):
    path = write(tmp_path, "l.csv", ["contact_id,arrival_time", "1,08/01/2024 09:00"])
    mapping = write(tmp_path, "m.yaml", ['time_format: "%d/%m/%Y %Q"'])
    with pytest.raises(InputError, match="bad time_format"):
        ingest(path, IngestOptions(mapping=mapping))


def test_anonymous_bank_row_without_arrival_is_rejected(tmp_path):
    from tests.conftest import BANK_LOG

    lines = BANK_LOG.read_text().splitlines()[:6]
    fields = lines[2].split("\t")
    fields[7] = "0:00:00"  # vru_exit: "none"
    lines[2] = "\t".join(fields)
    path = write(tmp_path, "b.tsv", lines)
    result = ingest(path, IngestOptions(format="anonymous-bank"))
    counts = result.ledger.counts()
    assert counts["rows_used"] == result.intervals["arrivals"].sum()
    assert "missing arrival time (vru_exit)" in result.ledger.reasons(1)
