"""Weekly and monthly totals: read as totals per period, forecast per period by the period
models, scored against the known truth of a generated centre (trend, weekday and yearly season)."""

import numpy as np
import pandas as pd
import pytest

from forecasting.history.ingest import IngestOptions, ingest
from forecasting.stress import StressCase, daily_history

MONTHS_AHEAD = 18


def centre(seed: int = 0, days: int = 1461 + 550) -> tuple[pd.Series, pd.Series]:
    """Daily counts and their true mean from 2021-01-01: three years and a half ahead."""
    return daily_history(StressCase("plain"), start="2021-01-01", days=days, seed=seed)


def write_totals(path, series: pd.Series, freq: str, label: str = "start") -> None:
    totals = series.resample(freq).sum()
    stamps = totals.index if label == "start" else totals.index.to_period("M").end_time.normalize()
    pd.DataFrame({"period": stamps.strftime("%Y-%m-%d"), "calls": totals.astype(int).to_numpy()}).to_csv(
        path, index=False
    )


@pytest.mark.parametrize(("freq", "label"), [("MS", "start"), ("MS", "end"), ("W-MON", "start")])
def test_totals_per_period_are_spread_over_their_days_and_kept_exactly(tmp_path, freq, label):
    observed, _ = centre(days=3 * 365)
    if freq.startswith("W"):  # weeks from Tuesday: the data's own weeks, whatever the weekday
        starts = pd.date_range("2021-01-05", periods=150, freq="7D")
        totals = pd.Series([observed[s : s + pd.Timedelta(days=6)].sum() for s in starts], index=starts)
        pd.DataFrame({"period": starts.strftime("%Y-%m-%d"), "calls": totals.astype(int)}).to_csv(
            tmp_path / "t.csv", index=False
        )
        unit, days, key = "week", 7, lambda t: (t - starts[0]).dt.days // 7
    else:
        observed = observed[observed.index < "2023-12-01"]
        write_totals(tmp_path / "t.csv", observed, freq, label)
        totals = observed.resample(freq).sum()
        unit, days, key = "month", None, lambda t: t.dt.to_period("M")
    result = ingest(tmp_path / "t.csv", IngestOptions(time_col="period", value_cols=("calls",)))
    t = result.intervals
    assert result.reported_by == unit and result.summary()["reported_by"] == unit
    assert int(t["arrivals"].sum()) == int(totals.sum())  # every call kept, as whole calls
    assert (
        result.interval == pd.Timedelta("1D")
        and t["interval_start"].diff().dropna().eq(pd.Timedelta("1D")).all()
    )
    per_period = t.groupby(key(t["interval_start"]))["arrivals"]
    np.testing.assert_array_equal(per_period.sum().to_numpy(), totals.astype(int).to_numpy())
    spread = per_period.max() - per_period.min()
    assert (spread <= 1).all()  # evenly: whole calls differ by at most one
    if days:
        assert (per_period.count() == days).all()


def test_an_unfinished_last_month_is_left_out_and_said(tmp_path):
    observed, _ = centre(days=3 * 365)
    write_totals(tmp_path / "t.csv", observed[observed.index < "2023-12-10"], "MS")  # exported on 10 December
    result = ingest(tmp_path / "t.csv", IngestOptions(time_col="period", value_cols=("calls",)))
    assert result.intervals["interval_start"].max() == pd.Timestamp("2023-11-30")
    assert result.ledger.counts()["rows_ignored"] == 1
    assert any("2023-12-01" in w and "left out" in w for w in result.ledger.warnings)


def test_monthly_totals_forecast_eighteen_months_ahead_better_than_last_years_months(tmp_path, run_cli):
    """Three years of monthly totals: 18 months ahead, the chosen period model beats the
    seasonal naive (the same month a year before) against the truth, its bands hold the
    actual totals about as often as they say, and they widen with the lead."""
    errors, naive_errors, held, widths = [], [], [], []
    for seed in range(3):
        observed, _ = centre(seed)
        history = observed[observed.index < "2024-01-01"]
        write_totals(tmp_path / "m.csv", history, "MS")
        code, out, _ = run_cli(
            "forecast",
            tmp_path / "m.csv",
            "--time-col",
            "period",
            "--value-col",
            "calls",
            "--horizon-days",
            "546",
            "--out",
            tmp_path / "f.csv",
        )
        assert code == 0 and "18 months" in out
        f = pd.read_csv(tmp_path / "f.csv", parse_dates=["timestamp"])
        assert len(f) == MONTHS_AHEAD and f["timestamp"].iloc[0] == pd.Timestamp("2024-01-01")
        truth = observed.resample("MS").sum().reindex(f["timestamp"]).to_numpy()
        last_year = observed.resample("MS").sum().shift(12).reindex(f["timestamp"]).to_numpy()
        errors.append(np.abs(f["forecast"] - truth) / truth)
        naive_errors.append(np.abs(last_year - truth) / truth)
        held.append((f["lo80"] <= truth) & (truth <= f["hi80"]))
        widths.append(((f["hi80"] - f["lo80"]) / f["forecast"]).to_numpy())
    assert np.mean(errors) < 0.7 * np.mean(naive_errors)
    assert 0.6 <= np.mean(held) <= 1.0
    assert all(w[-6:].mean() > w[:6].mean() for w in widths)


def test_weekly_totals_forecast_by_the_datas_own_weeks_and_never_finer(tmp_path, run_cli):
    observed, _ = centre(days=2 * 365)
    starts = pd.date_range("2021-01-03", periods=100, freq="7D")  # weeks from Sunday
    weeks = pd.Series([observed[s : s + pd.Timedelta(days=6)].sum() for s in starts], index=starts)
    pd.DataFrame({"week": weeks.index.strftime("%Y-%m-%d"), "calls": weeks.astype(int)}).to_csv(
        tmp_path / "w.csv", index=False
    )
    args = (
        "forecast",
        tmp_path / "w.csv",
        "--time-col",
        "week",
        "--value-col",
        "calls",
        "--horizon-days",
        "91",
    )
    code, out, _ = run_cli(*args, "--out", tmp_path / "f.csv")
    assert code == 0 and "13 weeks" in out
    f = pd.read_csv(tmp_path / "f.csv", parse_dates=["timestamp"])
    assert (f["timestamp"].dt.day_of_week == 6).all() and f["timestamp"].iloc[0] == weeks.index[
        -1
    ] + pd.Timedelta(days=7)
    assert (
        (f["lo95"] <= f["lo80"]).all()
        and (f["lo80"] <= f["forecast"]).all()
        and (f["hi80"] <= f["hi95"]).all()
    )
    code, _, err = run_cli(*args, "--granularity", "day", "--out", tmp_path / "d.csv")
    assert code != 0 and "totals per week" in err and "Traceback" not in err
    code, _, err = run_cli(*args, "--model", "weekday_mean", "--out", tmp_path / "d.csv")
    assert code != 0 and "period models" in err


def test_bands_measured_on_origins_that_had_the_final_fits_yearly_season():
    """36 months: origins from month 18 on are scored, but a model given under two years has no
    yearly season; its errors would widen the final (seasonal) fit's bands, so they are left
    out once six seasoned origins exist, and kept when fewer do."""
    from forecasting.period_models import MIN_SEASONED_ORIGINS, _like_the_final_fit

    errors = pd.DataFrame({"origin": np.repeat(np.arange(18, 36), 3), "lead": np.tile([1, 2, 3], 18)})
    kept = _like_the_final_fit(errors, 12)
    assert kept["origin"].min() == 24 and kept["origin"].nunique() == 12
    young = errors[errors["origin"] < 24 + MIN_SEASONED_ORIGINS - 1]
    assert _like_the_final_fit(young, 12).equals(young)
