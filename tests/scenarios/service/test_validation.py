"""capplan validate-staffing on the Anonymous Bank log, checked against plain pandas."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import BANK_LOG


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("validation")


@pytest.fixture(scope="module")
def report(report_folder):
    from capplan.cli import main

    out = report_folder / "REPORT.csv"
    code = main(
        [
            "-q",
            "validate-staffing",
            "--log",
            str(BANK_LOG),
            "--format",
            "anonymous-bank",
            "--train-until",
            "1999-02-09",
            "--interval",
            "60min",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return pd.read_csv(out, parse_dates=["interval_start"]), pd.read_csv(out.with_name("REPORT_summary.csv"))


def test_report_shape(report):
    table, _summary = report
    assert list(table.columns)[:9] == [
        "interval_start",
        "model",
        "arrivals",
        "observed_abandon_rate",
        "predicted_abandon_rate",
        "observed_asa",
        "predicted_asa",
        "observed_sl",
        "predicted_sl",
    ]
    models = {
        "erlang-c",
        "erlang-a",
        "calibrated",
        "calibrated-by-hour",
        "present",
        "present-by-hour",
        "learned",
        "simulation",
    }
    assert set(table["model"]) == models
    assert table["interval_start"].min() >= pd.Timestamp("1999-02-10")
    assert table.groupby("interval_start")["model"].size().eq(len(models)).all()
    summary = _summary
    assert set(summary["model"]) == models and summary["chosen"].sum() == 1
    for metric in ("abandon_rate", "asa", "sl"):
        assert summary[[f"{metric}_mae", f"{metric}_bias"]].notna().all().all()


def test_observed_values_follow_the_data_readme(report):
    table, _ = report
    raw = pd.read_csv(BANK_LOG, sep="\t", dtype=str)
    q = raw["q_time"].astype(int)
    served = (raw["outcome"] == "AGENT") & (raw["server"] != "NO_SERVER")
    abandoned = (raw["outcome"] == "HANG") & (q > 0)
    calls = raw[served | abandoned].assign(served=served, abandoned=abandoned, q=q)
    day = pd.to_datetime("19" + calls["date"], format="%Y%m%d")
    exit_, entry = pd.to_timedelta(calls["vru_exit"]), pd.to_timedelta(calls["vru_entry"])
    arrival = day + exit_ + pd.to_timedelta((exit_ < entry - pd.Timedelta(hours=12)).astype(int), unit="D")
    hour = arrival.dt.floor("60min")
    g = calls.groupby(hour)
    expected = pd.DataFrame(
        {
            "arrivals": g.size(),
            "abandon": g["abandoned"].mean(),
            "asa": calls[calls["served"]].groupby(hour[calls["served"]])["q"].mean(),
            "sl": g.apply(lambda d: (d["served"] & (d["q"] <= 20)).mean(), include_groups=False),
        }
    )
    one = table[table["model"] == "erlang-c"].set_index("interval_start")
    e = expected.loc[one.index]
    np.testing.assert_array_equal(one["arrivals"], e["arrivals"])
    np.testing.assert_allclose(one["observed_abandon_rate"], e["abandon"], rtol=1e-5)
    np.testing.assert_allclose(one["observed_asa"], e["asa"], rtol=1e-5)
    np.testing.assert_allclose(one["observed_sl"], e["sl"], rtol=1e-5)


def test_calibration_beats_textbook_erlang(report):
    _, summary = report
    s = summary.set_index("model")
    assert s.loc["calibrated", "abandon_rate_mae"] < min(
        s.loc["erlang-c", "abandon_rate_mae"], s.loc["erlang-a", "abandon_rate_mae"]
    )
    assert s.loc["calibrated", "sl_mae"] < min(s.loc["erlang-c", "sl_mae"], s.loc["erlang-a", "sl_mae"])


def test_bad_train_until(run_cli, tmp_path):
    code, _out, err = run_cli(
        "validate-staffing",
        "--log",
        BANK_LOG,
        "--format",
        "anonymous-bank",
        "--train-until",
        "2001-01-01",
        "--out",
        tmp_path / "r.csv",
    )
    assert code == 2 and "--train-until" in err and "1999-02-01 to 1999-02-14" in err


@pytest.mark.parametrize("train_until", ["1999-02-07", "1999-02-09"])
def test_the_model_chosen_on_the_training_days_beats_calibrated_erlang_a(run_cli, tmp_path, train_until):
    """Calibrate on the days up to ``train_until``, test on the rest: the model chosen by its
    out-of-time error on the training days (before the test days are seen) has an hourly
    abandonment MAE well below calibrated Erlang A's, on intervals with ≥ 30 arrivals too."""
    code, out, err = run_cli(
        "validate-staffing",
        "--log",
        BANK_LOG,
        "--format",
        "anonymous-bank",
        "--train-until",
        train_until,
        "--out",
        tmp_path / "r.csv",
    )
    assert code == 0, err
    summary = pd.read_csv(tmp_path / "r_summary.csv").set_index("model")
    chosen = summary.index[summary["chosen"]][0]
    assert f"chosen by out-of-time error on the training days: {chosen}" in out
    assert summary.loc[chosen, "abandon_rate_mae"] < 0.85 * summary.loc["calibrated", "abandon_rate_mae"]
    report = pd.read_csv(tmp_path / "r.csv")
    busy = report[report["arrivals"] >= 30]
    mae = busy.groupby("model").apply(
        lambda p: np.average(
            np.abs(p["predicted_abandon_rate"] - p["observed_abandon_rate"]), weights=p["arrivals"]
        ),
        include_groups=False,
    )
    assert mae[chosen] < 0.85 * mae["calibrated"]


def test_the_picture_and_its_tables_agree_with_the_report(report):
    from scenarios.service.validation import MIN_HOUR_ARRIVALS, by_hour_of_day, observed_and_predicted

    table, _summary = report
    wide = observed_and_predicted(table, ["learned", "calibrated"], "abandon_rate")
    calibrated = table[table["model"] == "calibrated"].set_index("interval_start")
    assert wide.set_index("interval_start")["calibrated"].to_numpy() == pytest.approx(
        calibrated["predicted_abandon_rate"].to_numpy(), nan_ok=True
    )
    hourly = by_hour_of_day(wide).set_index("hour")
    busy = calibrated.assign(hour=calibrated.index.hour)
    for hour, part in busy.groupby("hour"):
        if part["arrivals"].sum() < MIN_HOUR_ARRIVALS:
            assert hour not in hourly.index
            continue
        observed = np.average(part["observed_abandon_rate"], weights=part["arrivals"])
        assert hourly.loc[hour, "observed"] == pytest.approx(observed)
    assert len(hourly) >= 10


def test_validate_staffing_draws_predicted_against_observed(report, report_folder):
    png = report_folder / "REPORT.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
