"""Reading a staffing table in the core (what ``capplan staff --input`` and any other front end
use): refusals name the file, row and column; daily totals are spread to intervals with their
totals kept; the rows' spacing is the interval."""

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from scenarios.service.staffing_table import read_staffing_table


def write(tmp_path, frame: pd.DataFrame, name: str = "t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_quarter_hour_rows_are_staffed_as_quarter_hours(tmp_path):
    times = pd.date_range("2026-03-02 08:00", periods=8, freq="15min")
    path = write(tmp_path, pd.DataFrame({"interval_start": times, "calls": 30, "aht": 240}))
    table = read_staffing_table(path)
    assert table.interval_seconds == 900 and table.note is None
    assert np.array_equal(table.volume, np.full(8, 30.0)) and list(table.rows.columns) == ["interval_start"]


def test_a_stated_interval_may_not_contradict_the_rows(tmp_path):
    times = pd.date_range("2026-03-02 08:00", periods=4, freq="15min")
    path = write(tmp_path, pd.DataFrame({"interval_start": times, "calls": 30, "aht": 240}))
    with pytest.raises(InputError) as caught:
        read_staffing_table(path, interval="30min")
    assert caught.value.option == "interval" and "15" in str(caught.value)


@pytest.mark.parametrize(
    ("column", "value", "detail"),
    [("calls", "lots", "not a number"), ("aht", "", "missing AHT"), ("calls", "", "missing volume")],
)
def test_a_bad_cell_is_named_by_file_row_and_column(tmp_path, column, value, detail):
    frame = pd.DataFrame({"calls": ["10", "12", "9"], "aht": ["200", "210", "190"]})
    frame.loc[1, column] = value
    path = write(tmp_path, frame)
    with pytest.raises(InputError) as caught:
        read_staffing_table(path)
    error = caught.value
    assert (str(error.path), error.row, error.column) == (str(path), 3, column) and detail in str(error)


def test_a_default_aht_fills_only_the_gaps(tmp_path):
    path = write(tmp_path, pd.DataFrame({"calls": [10, 12], "aht": [200, None]}))
    assert list(read_staffing_table(path, aht_seconds=300).aht) == [200.0, 300.0]


def test_duplicate_intervals_are_refused(tmp_path):
    path = write(tmp_path, pd.DataFrame({"interval_start": ["2026-03-02 08:00"] * 2, "calls": 3, "aht": 200}))
    with pytest.raises(InputError, match="duplicate interval"):
        read_staffing_table(path)


def test_daily_totals_are_spread_to_intervals_keeping_each_days_total(tmp_path):
    days = pd.date_range("2026-03-02", periods=5, freq="D")
    totals = np.array([1200.0, 1100, 1000, 1300, 900])
    path = write(tmp_path, pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "calls": totals, "aht": 300}))
    table = read_staffing_table(path)
    assert table.interval_seconds <= 3600 and table.typical_profile and "5 days spread" in table.note
    per_day = pd.Series(table.volume).groupby(pd.DatetimeIndex(table.rows[table.time_col]).normalize()).sum()
    assert np.allclose(per_day.to_numpy(), totals) and (table.aht == 300).all()


def test_a_day_as_one_interval_is_refused(tmp_path):
    days = pd.date_range("2026-03-02", periods=3, freq="D")
    path = write(tmp_path, pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "calls": 100, "aht": 300}))
    with pytest.raises(InputError) as caught:
        read_staffing_table(path, interval="2D")
    assert caught.value.option == "interval"
