"""Interval reports: the bank's 5-minute calls, and small files with each row-level defect."""

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.history.ingest import IngestOptions, ingest
from tests.conftest import BANK_CALLS


@pytest.fixture(scope="module")
def bank():
    return ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))


def test_bank_calls_interval_calendar_and_missing_days(bank):
    raw = pd.read_csv(BANK_CALLS)
    stamps = pd.to_datetime(raw["DateTime"].str.rstrip("Z"))
    assert bank.interval == pd.Timedelta(minutes=5)
    assert bank.intervals["arrivals"].sum() == raw["Calls"].sum()
    assert len(bank.intervals) == len(raw)
    assert bank.ledger.counts()["rows_used"] == len(raw)
    # independent: weekdays with data, first and last slot of each day
    per_day = stamps.groupby(stamps.dt.date).agg(["min", "max", "size"])
    assert (per_day["min"].dt.strftime("%H:%M") == "07:00").all()
    assert (per_day["max"].dt.strftime("%H:%M") == "21:00").all()
    hours = bank.calendar.describe_hours()
    slots = bank.calendar.describe_slots()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        assert slots[day] == "slots starting 07:00 to 21:00 (169 slots)"
        assert hours[day] == "07:00–21:05"
    assert hours["Saturday"] == hours["Sunday"] == "closed"
    weekdays = pd.bdate_range(stamps.min().normalize(), stamps.max().normalize())
    missing = sorted(set(weekdays.date) - set(stamps.dt.date))
    assert list(bank.calendar.missing_days) == missing
    assert [d.isoformat() for d in missing] == ["2003-04-04", "2003-04-07", "2003-05-26"]
    assert bank.gaps.empty


def test_resampling_to_hours_adds_up(bank):
    hourly = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",), interval="60min"))
    raw = pd.read_csv(BANK_CALLS)
    stamps = pd.to_datetime(raw["DateTime"].str.rstrip("Z"))
    expected = raw.groupby(stamps.dt.floor("60min"))["Calls"].sum()
    got = hourly.intervals.set_index("interval_start")["arrivals"]
    np.testing.assert_array_equal(got.loc[expected.index].to_numpy(), expected.to_numpy())


def test_finer_interval_than_data_is_refused():
    with pytest.raises(InputError, match="multiple of the data's own 5min"):
        ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",), interval="1min"))


def write(tmp_path, text, name="series.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = ["2024-01-08 09:00,10", "2024-01-08 09:15,12", "2024-01-08 09:30,9", "2024-01-08 09:45,11"]


def test_row_defects_are_rejected_with_row_numbers(tmp_path):
    lines = [
        "time,calls",
        *GOOD,
        "2024-01-08 09:45,99",  # line 6: duplicate timestamp
        "2024-01-08 10:00,-3",  # line 7: negative
        "2024-01-08 10:15,lots",  # line 8: non-numeric
        "2024-01-08 10:20,4",  # line 9: off the 15-minute grid
        "2024-01-08 10:30,2.5",  # line 10: not a whole count
        "2024-01-08 10:45,7",
    ]
    result = ingest(
        write(tmp_path, "\n".join(lines) + "\n"), IngestOptions(time_col="time", value_cols=("calls",))
    )
    rejected = result.ledger.rejected_rows().set_index("row")
    assert list(rejected.index) == [6, 7, 8, 9, 10]
    assert rejected.loc[6, "reason"] == "duplicate timestamp"
    assert rejected.loc[7, "reason"] == "negative arrivals"
    assert rejected.loc[8, "reason"] == "not a count"
    assert rejected.loc[9, "reason"] == "not on the 15min grid"
    assert rejected.loc[10, "reason"] == "arrivals is not a whole number"
    assert rejected.loc[8, "calls"] == "lots"  # original cells kept
    counts = result.ledger.counts()
    assert counts == {"rows_read": 10, "rows_used": 5, "rows_rejected": 5, "rows_ignored": 0}
    assert result.intervals["arrivals"].sum() == 10 + 12 + 9 + 11 + 7


def test_gaps_within_opening_hours_are_reported(tmp_path):
    days = pd.bdate_range("2024-01-08", periods=10)
    stamps = [d + pd.Timedelta(hours=9) + k * pd.Timedelta(minutes=30) for d in days for k in range(8)]
    frame = pd.DataFrame({"t": stamps, "n": 5})
    gap = stamps[3 * 8 + 4]  # one slot on the fourth day
    frame = frame[frame["t"] != gap]
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    result = ingest(path, IngestOptions(time_col="t", value_cols=("n",)))
    assert list(result.gaps["interval_start"]) == [gap]
    assert result.calendar.describe_hours()["Monday"] == "09:00–13:00"


def test_wide_and_mapped_value_columns(tmp_path):
    text = "t,sales,support,aht\n2024-01-08 09:00,1,2,100\n2024-01-08 09:30,3,4,200\n"
    wide = ingest(write(tmp_path, text), IngestOptions(time_col="t", value_cols=("sales", "support")))
    assert sorted(wide.intervals["queue"].unique()) == ["sales", "support"]
    assert wide.intervals.groupby("queue")["arrivals"].sum().to_dict() == {"sales": 4, "support": 6}
    mapped = ingest(
        write(tmp_path, text), IngestOptions(time_col="t", value_cols=("sales=arrivals", "aht=aht"))
    )
    assert mapped.intervals["aht"].tolist() == [100, 200]


def test_parquet_input(tmp_path):
    frame = pd.DataFrame(
        {"t": pd.date_range("2024-01-08 09:00", periods=6, freq="15min", tz="UTC"), "n": [1, 2, 3, 4, 5, 6]}
    )
    path = tmp_path / "s.parquet"
    frame.to_parquet(path)
    result = ingest(path, IngestOptions(time_col="t", value_cols=("n",)))
    assert result.interval == pd.Timedelta(minutes=15)
    assert result.intervals["arrivals"].sum() == 21


def test_cli_summary_file(run_cli, tmp_path):
    code, out, err = run_cli(
        "ingest", BANK_CALLS, "--time-col", "DateTime", "--value-col", "Calls", "--out", tmp_path
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interval"] == "5min"
    assert summary["calendar"]["missing_days"] == ["2003-04-04", "2003-04-07", "2003-05-26"]
    assert "missing open days: 3" in out
