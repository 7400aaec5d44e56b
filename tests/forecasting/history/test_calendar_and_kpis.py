"""Calendar lookups and KPI roll-ups of interval reports."""

import numpy as np
import pandas as pd

from forecasting.calendar import OperatingCalendar
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.history.kpis import kpi_table
from tests.conftest import BANK_CALLS


def test_is_open_follows_hours_and_round_trips():
    result = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    cal = result.calendar
    stamps = pd.to_datetime(
        ["2003-03-03 06:55", "2003-03-03 07:00", "2003-03-03 21:00", "2003-03-03 21:05", "2003-03-08 12:00"]
    )
    np.testing.assert_array_equal(cal.is_open(stamps), [False, True, True, False, False])
    again = OperatingCalendar.from_dict(cal.to_dict())
    assert again.to_dict() == cal.to_dict()
    every_slot = pd.DatetimeIndex(result.intervals["interval_start"])
    assert cal.is_open(every_slot).all()


def test_weekly_kpis_of_an_interval_report():
    result = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    raw = pd.read_csv(BANK_CALLS)
    stamps = pd.to_datetime(raw["DateTime"].str.rstrip("Z"))
    expected = raw.groupby(stamps.dt.to_period("W-SUN").dt.start_time)["Calls"].sum()
    table = kpi_table(result, "week").set_index("period_start")
    np.testing.assert_array_equal(table.loc[expected.index, "arrivals"], expected)
    # data end on Wednesday 2003-05-28: only that last week is partial
    assert table.index[table["partial"]].tolist() == [pd.Timestamp("2003-05-26")]


def test_interval_report_with_aht_rolls_up_weighted(tmp_path):
    stamps = pd.date_range("2024-01-08 09:00", periods=4, freq="30min")
    frame = pd.DataFrame(
        {
            "t": stamps,
            "calls": [10, 30, 0, 20],
            "handled": [10, 30, 0, 20],
            "aht": [100.0, 200.0, np.nan, 400.0],
        }
    )
    file = tmp_path / "r.csv"
    frame.to_csv(file, index=False)
    result = ingest(
        file,
        IngestOptions(
            time_col="t", value_cols=("calls=arrivals", "handled=handled", "aht=aht"), interval="day"
        ),
    )
    day = result.intervals.iloc[0]
    assert day["arrivals"] == 60
    np.testing.assert_allclose(day["aht"], (10 * 100 + 30 * 200 + 20 * 400) / 60)
