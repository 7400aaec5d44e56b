"""Times with UTC offsets across a daylight-saving change: durations are measured between
instants, slots are counted on the centre's local clock. Before, an arrival at
01:59:55+01:00 answered at 03:00:05+02:00 waited 3,610 s, autumn's answers came 'before'
their arrivals and were rejected, and interval reports lost the repeated hour as duplicates."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting.history.ingest import IngestOptions, ingest

MAPPING = "columns:\n  contact_id: id\n  arrival_time: arrival\n  answer_time: answer\n  end_time: end\n"
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney")
CHANGES = {  # one spring and one autumn change per zone, as UTC instants
    "Europe/Berlin": ("2024-03-31 01:00", "2024-10-27 01:00"),
    "America/New_York": ("2024-03-10 07:00", "2024-11-03 06:00"),
    "Australia/Sydney": ("2024-10-05 16:00", "2024-04-06 16:00"),
}


def _log(folder, zone: str, arrivals_utc: pd.DatetimeIndex, waits, handles) -> object:
    """A contact log written as an export would: each time in the zone's local time with its
    offset. Returns the ingest result."""

    def local(instants):
        return [t.tz_convert(zone).isoformat() for t in instants]

    answer = arrivals_utc + pd.to_timedelta(waits, unit="s")
    end = answer + pd.to_timedelta(handles, unit="s")
    frame = pd.DataFrame(
        {
            "id": range(len(arrivals_utc)),
            "arrival": local(arrivals_utc),
            "answer": local(answer),
            "end": local(end),
        }
    )
    frame.to_csv(folder / "log.csv", index=False)
    (folder / "map.yaml").write_text(MAPPING)
    return ingest(folder / "log.csv", IngestOptions(mapping=folder / "map.yaml", interval="60min"))


def test_waits_across_both_changes_are_measured_between_instants(tmp_path):
    spring, autumn = (pd.Timestamp(t, tz="UTC") for t in CHANGES["Europe/Berlin"])
    arrivals = pd.DatetimeIndex(
        [change + pd.Timedelta(seconds=s) for change in (spring, autumn) for s in (-5, 5)]
    )
    result = _log(tmp_path, "Europe/Berlin", arrivals, [10] * 4, [170] * 4)
    assert result.ledger.counts()["rows_rejected"] == 0  # autumn's answer is not 'before' its arrival
    contacts = result.contacts.frame
    np.testing.assert_allclose(contacts["wait_seconds"], 10)
    np.testing.assert_allclose(contacts["handle_seconds"], 170)
    local_clock = ["01:59:55", "03:00:05", "02:59:55", "02:00:05"]
    assert list(contacts["arrival_time"].dt.strftime("%H:%M:%S")) == local_clock
    notes = " ".join(result.ledger.warnings)
    assert (
        "on 2024-03-31: clocks went forward 1 h" in notes and "on 2024-10-27: clocks went back 1 h" in notes
    )


def test_the_repeated_autumn_hour_keeps_every_contact_and_the_day_total(tmp_path):
    _, autumn = (pd.Timestamp(t, tz="UTC") for t in CHANGES["Europe/Berlin"])
    arrivals = pd.date_range(
        autumn - pd.Timedelta(hours=3), autumn + pd.Timedelta(hours=3), freq="10min", inclusive="left"
    )
    result = _log(
        tmp_path, "Europe/Berlin", arrivals, np.full(len(arrivals), 20), np.full(len(arrivals), 200)
    )
    assert result.ledger.counts()["rows_used"] == len(arrivals)
    slots = result.intervals.set_index("interval_start")["arrivals"]
    assert slots.sum() == len(arrivals)
    assert slots[pd.Timestamp("2024-10-27 02:00")] == 12  # both 02:00 hours, six contacts each
    assert (result.intervals["asa"].dropna() == 20).all()


def test_an_interval_report_keeps_the_repeated_hour(tmp_path):
    instants = pd.date_range("2024-10-26 22:00", "2024-10-27 06:00", freq="30min", tz="UTC", inclusive="left")
    local = [t.tz_convert("Europe/Berlin").isoformat() for t in instants]
    pd.DataFrame({"t": local, "calls": 10, "aht": np.arange(len(local)) * 0 + 200.0}).to_csv(
        tmp_path / "report.csv", index=False
    )
    options = IngestOptions(time_col="t", value_cols=["calls", "aht=aht"], interval="30min")
    result = ingest(tmp_path / "report.csv", options)
    assert result.ledger.counts()["rows_rejected"] == 0
    slots = result.intervals.set_index("interval_start")
    assert slots["arrivals"].sum() == 10 * len(instants)
    assert slots.loc[pd.Timestamp("2024-10-27 02:30"), "arrivals"] == 20
    assert slots.loc[pd.Timestamp("2024-10-27 02:30"), "aht"] == pytest.approx(200.0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    which=st.sampled_from([0, 1]),
    minutes_before=st.lists(st.integers(-180, 180), min_size=1, max_size=8),
    wait=st.integers(0, 7200),
    handle=st.integers(1, 7200),
)
def test_any_duration_across_a_change_is_its_true_length(tmp_path, zone, which, minutes_before, wait, handle):
    change = pd.Timestamp(CHANGES[zone][which], tz="UTC")
    arrivals = pd.DatetimeIndex(sorted(change + pd.to_timedelta(minutes_before, unit="min")))
    result = _log(tmp_path, zone, arrivals, np.full(len(arrivals), wait), np.full(len(arrivals), handle))
    contacts = result.contacts.frame
    assert len(contacts) == len(arrivals)
    np.testing.assert_allclose(contacts["wait_seconds"], wait)
    np.testing.assert_allclose(contacts["handle_seconds"].dropna(), handle)
    assert result.intervals["arrivals"].sum() == len(arrivals)
    expected_local = arrivals.tz_convert(zone).tz_localize(None)
    assert sorted(contacts["arrival_time"]) == sorted(expected_local)


def test_a_utc_export_is_counted_on_the_centres_clock(tmp_path):
    """A Berlin centre open 08:00-20:00 exporting its slots in UTC: with --timezone the slots
    stay at 08:00-20:00 local on both sides of the change, instead of moving an hour."""
    from forecasting.stress import StressCase, intraday_history

    observed, _ = intraday_history(StressCase("dst", dst_zone="Europe/Berlin"), start="2024-03-25", days=14)
    frame = pd.DataFrame({"t": observed.index.strftime("%Y-%m-%dT%H:%M:%SZ"), "calls": observed.to_numpy()})
    frame.to_csv(tmp_path / "utc.csv", index=False)
    options = IngestOptions(time_col="t", value_cols=("calls",), timezone="Europe/Berlin")
    result = ingest(tmp_path / "utc.csv", options)
    busy = result.intervals[result.intervals["arrivals"] > 0]["interval_start"]
    hours = busy.dt.hour + busy.dt.minute / 60
    assert hours.min() == 8 and hours.max() == 19.5  # every day, before and after 31 March
    assert result.intervals["arrivals"].sum() == observed.sum()
    naive = ingest(tmp_path / "utc.csv", IngestOptions(time_col="t", value_cols=("calls",)))
    first_slot = (
        naive.intervals[naive.intervals["arrivals"] > 0]
        .groupby(naive.intervals["interval_start"].dt.date)["interval_start"]
        .min()
        .dt.hour
    )
    assert set(first_slot) == {6, 7}  # UTC clock: the opening moves at the change


def test_unmarked_times_in_a_named_zone_get_durations_across_the_change(tmp_path):
    (tmp_path / "map.yaml").write_text(MAPPING)
    (tmp_path / "log.csv").write_text(
        "id,arrival,answer,end\n1,2024-03-31 01:59:55,2024-03-31 03:00:05,2024-03-31 03:03:05\n"
    )
    options = IngestOptions(mapping=tmp_path / "map.yaml", timezone="Europe/Berlin")
    contacts = ingest(tmp_path / "log.csv", options).contacts.frame
    assert contacts["wait_seconds"].iloc[0] == 10 and contacts["handle_seconds"].iloc[0] == 180


def test_an_unknown_zone_is_named(run_cli, tmp_path):
    (tmp_path / "map.yaml").write_text(MAPPING)
    (tmp_path / "log.csv").write_text("id,arrival,answer,end\n1,2024-03-31 01:59:55,,\n")
    code, _, err = run_cli(
        "ingest",
        tmp_path / "log.csv",
        "--mapping",
        tmp_path / "map.yaml",
        "--timezone",
        "Mars/Olympus",
        "--out",
        tmp_path / "out",
    )
    assert code == 2 and "--timezone" in err and "Mars/Olympus" in err and "Traceback" not in err
