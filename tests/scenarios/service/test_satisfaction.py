"""CSAT as the wait shapes it: a generated log with a known wait → satisfaction curve is
recovered, the prediction from an interval's service is checked against an independent
integral, and out of time it beats the history's constant."""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from forecasting.history.contacts import Contacts
from scenarios.service.satisfaction import SatisfactionModel, validate_satisfaction


def truth(wait):
    """The generated centre: 92 % satisfied without a wait, falling towards 42 % after long waits."""
    return 0.92 - 0.5 * (1 - np.exp(-np.asarray(wait, float) / 180.0))


def generated_log(seed: int, days: int = 21, abandoned_surveys: bool = False) -> Contacts:
    """Hourly intervals of varying congestion: some callers wait (exponential, longer when the
    interval is busier), some of those hang up; 40 % of callers answer a 1-5 survey."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range("2024-03-04", periods=days):
        for hour in range(8, 20):
            congestion = rng.uniform(0, 1)
            n = rng.poisson(40)
            start = day + pd.Timedelta(hours=hour)
            arrival = start + pd.to_timedelta(rng.uniform(0, 3600, n), unit="s")
            waits = np.where(rng.uniform(size=n) < congestion, rng.exponential(20 + 400 * congestion, n), 0.0)
            abandoned = (waits > 0) & (rng.uniform(size=n) < 0.25 * congestion)
            satisfied = rng.uniform(size=n) < np.where(abandoned, 0.2, truth(waits))
            answers = rng.uniform(size=n) < 0.4
            if not abandoned_surveys:
                answers &= ~abandoned
            csat = np.where(answers, np.where(satisfied, 5.0, 2.0), np.nan)
            rows.append(
                pd.DataFrame(
                    {
                        "arrival_time": arrival,
                        "wait_seconds": waits,
                        "abandoned": abandoned,
                        "handled": ~abandoned,
                        "csat": csat,
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True)
    return Contacts(frame, frozenset({"arrival_time", "wait_seconds", "abandoned", "csat"}))


def test_the_wait_to_satisfaction_curve_is_recovered():
    model = SatisfactionModel("csat").fit(generated_log(1))
    waits = np.linspace(0, 600, 61)  # where most waits are; ~4,000 surveys: a few points of noise
    error = np.abs(model.of_wait(waits) - truth(waits))
    assert error.mean() < 0.03 and error.max() < 0.08
    assert model.of_wait(0.0) == pytest.approx(truth(0.0), abs=0.02)  # half the callers never wait
    assert (np.diff(model.of_wait(np.linspace(0, 2000, 200))) <= 1e-12).all()
    assert model.abandoned_ is None  # no surveys from callers who hung up


def test_callers_who_hung_up_get_their_own_value_when_they_answered_surveys():
    model = SatisfactionModel("csat").fit(generated_log(2, abandoned_surveys=True))
    assert model.abandoned_ == pytest.approx(0.2, abs=0.05)


def test_the_prediction_from_service_is_the_integral_over_the_waits():
    model = SatisfactionModel("csat")
    model.waits_ = np.linspace(0, 20000, 20001)
    model.values_ = truth(model.waits_)
    p_wait, asa, ab = 0.6, 90.0, 0.1
    q = (p_wait - ab) / (1 - ab)
    mean = asa / q
    waited, _ = quad(lambda w: truth(w) * np.exp(-w / mean) / mean, 0, np.inf)
    expected = (1 - q) * truth(0) + q * waited
    assert model.predict_service([p_wait], [asa], [ab])[0] == pytest.approx(expected, abs=0.002)
    # no wait at all: the no-wait value; more waiting never predicts more satisfaction
    assert model.predict_service([0.0], [0.0], [0.0])[0] == pytest.approx(truth(0))
    worse = model.predict_service(np.full(5, 0.6), np.array([10, 40, 90, 200, 400.0]), np.zeros(5))
    assert (np.diff(worse) < 0).all()


def test_out_of_time_it_beats_the_history_s_constant():
    log = generated_log(3, days=28)
    table, summary = validate_satisfaction(log, pd.Timedelta("60min"), "2024-03-24")
    mae = summary.set_index("predictor")["mae"]
    assert table["interval_start"].min() >= pd.Timestamp("2024-03-25")
    assert mae["from_service"] < 0.8 * mae["constant"]
    assert mae["from_waits"] <= mae["from_service"] + 0.005
    assert abs(summary.set_index("predictor").loc["from_service", "bias"]) < 0.03


def _log_file(path, seed: int = 4):
    """The generated centre as a plain contact log a user would export (canonical columns)."""
    rng = np.random.default_rng(seed)
    f = generated_log(seed, days=21).frame
    answer = f["arrival_time"] + pd.to_timedelta(f["wait_seconds"], unit="s")
    handle = pd.to_timedelta(rng.lognormal(np.log(180), 0.5, len(f)), unit="s")
    table = pd.DataFrame(
        {
            "contact_id": np.arange(len(f)),
            "arrival_time": f["arrival_time"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "answer_time": answer.where(f["handled"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "end_time": (answer + handle).where(f["handled"], answer).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "abandoned": f["abandoned"],
            "agent_id": pd.Series(rng.integers(0, 12, len(f))).map("agent{}".format).where(f["handled"]),
            "csat": f["csat"],
        }
    )
    table.to_csv(path, index=False)
    return path


def test_each_scenario_reports_the_csat_its_service_gives(run_cli, write_scenario, tracking_store, tmp_path):
    from scenarios.tracking.runs import compare_runs

    log = _log_file(tmp_path / "contacts.csv")
    spec = {
        "name": "good",
        "data": {"input": str(log), "format": "log"},
        "forecast": {"model": "weekday_mean", "horizon_days": 3, "interval": "60min"},
        "queues": {"voice": {"model": "erlang-a", "patience_seconds": 300}},
        "targets": {"service_level": 0.9, "target_seconds": 20},
        "supply": {"shrinkage": 0.3, "cost_per_agent_hour": 30},
        "risk": {"simulations": 50},
    }
    good = write_scenario("good", spec)
    poor = write_scenario("poor", {"extends": "good", "name": "poor", "targets": {"service_level": 0.4}})
    code, _out, err = run_cli("scenario", "run", good, poor, "--out", tmp_path / "out")
    assert code == 0, err
    table = compare_runs(tracking_store, ["good", "poor"], "good")
    csat = table.loc["csat"]
    assert truth(600) < csat["poor"] < csat["good"] < truth(0) + 0.02
    assert (
        table.loc["satisfaction.csat.validation_mae", "good"]
        < table.loc["satisfaction.csat.constant_mae", "good"]
    )
    intervals = pd.read_csv(tmp_path / "out" / "good" / "intervals.csv")
    model = SatisfactionModel("csat").fit(generated_log(4, days=21))
    busy = intervals[intervals["volume"] > 0]
    expected = model.predict_service(busy["p_wait"], busy["asa_seconds"], busy["abandon_rate"])
    assert busy["csat"].to_numpy() == pytest.approx(expected, abs=0.02)


def test_validate_staffing_checks_the_csat_curve_out_of_time(run_cli, tmp_path):
    log = _log_file(tmp_path / "contacts.csv")
    out = tmp_path / "REPORT.csv"
    code, text, err = run_cli(
        "validate-staffing",
        "--log",
        log,
        "--format",
        "log",
        "--train-until",
        "2024-03-17",
        "--interval",
        "60min",
        "--out",
        out,
    )
    assert code == 0, err
    check = pd.read_csv(tmp_path / "REPORT_csat.csv").set_index("predictor")
    assert check.loc["from_service", "mae"] < 0.8 * check.loc["constant", "mae"]
    assert "csat per interval from the service" in text
