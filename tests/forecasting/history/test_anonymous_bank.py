"""The Anonymous Bank preset against an independent pandas reading of data/README.md's definitions."""

import json

import numpy as np
import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from tests.conftest import BANK_LOG


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(BANK_LOG, sep="\t", dtype=str)


@pytest.fixture(scope="module")
def expected(raw) -> pd.DataFrame:
    """Per-call flags computed directly from the README's definitions."""
    q_time = raw["q_time"].astype(int)
    served = (raw["outcome"] == "AGENT") & (raw["server"] != "NO_SERVER")
    abandoned = (raw["outcome"] == "HANG") & (q_time > 0)
    wants = served | abandoned
    day = pd.to_datetime("19" + raw["date"], format="%Y%m%d")
    exit_, entry = pd.to_timedelta(raw["vru_exit"]), pd.to_timedelta(raw["vru_entry"])
    wraps = exit_ < entry - pd.Timedelta(hours=12)
    arrival = day + exit_ + pd.to_timedelta(wraps.astype(int), unit="D")
    calls = pd.DataFrame(
        {
            "arrival": arrival,
            "queue": raw["type"],
            "served": served,
            "abandoned": abandoned,
            "wait": q_time,
            "handle": raw["ser_time"].astype(int),
        }
    )
    return calls[wants]


@pytest.fixture(scope="module")
def result():
    return ingest(BANK_LOG, IngestOptions(format="anonymous-bank", interval="60min"))


def test_accounting_balances_and_matches_definitions(result, raw, expected):
    counts = result.ledger.counts()
    assert counts["rows_read"] == len(raw)
    assert counts["rows_read"] == counts["rows_used"] + counts["rows_rejected"] + counts["rows_ignored"]
    assert counts["rows_used"] == len(expected)
    ignored = result.ledger.reasons(2)
    assert ignored["PHANTOM (virtual call, ignored by definition)"] == (raw["outcome"] == "PHANTOM").sum()
    assert sum(ignored.values()) == len(raw) - len(expected)


def test_interval_counts_equal_independent_computation(result, expected):
    t = result.intervals.set_index(["interval_start", "queue"])
    key = [expected["arrival"].dt.floor("60min"), expected["queue"]]
    arrivals = expected.groupby(key).size()
    abandoned = expected.groupby(key)["abandoned"].sum()
    assert t["arrivals"].sum() == len(expected)
    assert t["abandoned"].sum() == expected["abandoned"].sum()
    pd.testing.assert_series_equal(
        t.loc[arrivals.index, "arrivals"].astype(int), arrivals.astype(int), check_names=False
    )
    pd.testing.assert_series_equal(
        t.loc[abandoned.index, "abandoned"].astype(int), abandoned.astype(int), check_names=False
    )
    # every interval not in the independent count is empty
    assert t.drop(arrivals.index)["arrivals"].eq(0).all()


def test_service_level_asa_aht_per_interval(result, expected):
    e = expected.assign(start=expected["arrival"].dt.floor("60min"))
    g = e.groupby(["start", "queue"])
    sl = g.apply(lambda d: (d["served"] & (d["wait"] <= 20)).sum() / len(d), include_groups=False)
    asa = e[e["served"]].groupby(["start", "queue"])["wait"].mean()
    aht = e[e["served"]].groupby(["start", "queue"])["handle"].mean()
    t = result.intervals.set_index(["interval_start", "queue"])
    np.testing.assert_allclose(t.loc[sl.index, "service_level"], sl, rtol=1e-12)
    np.testing.assert_allclose(t.loc[asa.index, "asa"], asa, rtol=1e-12)
    np.testing.assert_allclose(t.loc[aht.index, "aht"], aht, rtol=1e-12)


def test_cli_writes_the_three_files(run_cli, tmp_path, raw, expected):
    code, out, err = run_cli(
        "ingest", BANK_LOG, "--format", "anonymous-bank", "--interval", "60min", "--out", tmp_path
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["rows_read"] == summary["rows_used"] + summary["rows_rejected"] + summary["rows_ignored"]
    assert {"rows_read", "rows_used", "rows_rejected", "rows_ignored"} <= summary.keys()
    intervals = pd.read_csv(tmp_path / "intervals.csv")
    assert intervals["arrivals"].sum() == len(expected)
    assert intervals["abandoned"].sum() == expected["abandoned"].sum()
    rejected = pd.read_csv(tmp_path / "rejected.csv")
    assert len(rejected) == summary["rows_rejected"]
    assert f"{len(raw):,} rows read" in out


def test_calendar_matches_published_opening_hours(result):
    hours = result.calendar.describe_hours()
    for day in ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"):
        assert hours[day] == "07:00–24:00"
    assert hours["Friday"].startswith("07:00–1")  # until ~14:00
    assert hours["Saturday"].endswith("–24:00")  # from ~20:00
    assert result.calendar.missing_days == ()
