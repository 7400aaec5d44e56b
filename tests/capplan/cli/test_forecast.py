"""``capplan forecast`` / ``backtest`` as a user runs them, bad input included."""

import pandas as pd
import pytest

from tests.conftest import BANK_CALLS

SERIES = ["--time-col", "DateTime", "--value-col", "Calls"]


def test_forecast_named_model_writes_the_table(run_cli, tmp_path):
    out = tmp_path / "f.csv"
    code, _stdout, err = run_cli(
        "forecast",
        "--input",
        BANK_CALLS,
        *SERIES,
        "--model",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--out",
        out,
    )
    assert code == 0, err
    table = pd.read_csv(out, parse_dates=["timestamp"])
    assert list(table.columns) == ["timestamp", "forecast", "lo80", "hi80", "lo95", "hi95"]
    assert len(table) == 2 * 169
    assert table["timestamp"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2003-05-29", "2003-05-30"]
    assert (table["lo80"] <= table["hi80"]).all()


def test_forecast_at_timestamps_with_closed_ones(run_cli, tmp_path):
    at = tmp_path / "at.csv"
    at.write_text("when\n2003-06-02T07:00:00Z\n2003-06-02T03:00:00Z\n2003-06-07T12:00:00Z\n")
    out = tmp_path / "f.csv"
    code, _stdout, err = run_cli(
        "forecast", "--input", BANK_CALLS, *SERIES, "--model", "seasonal_naive_week", "--at", at, "--out", out
    )
    assert code == 0, err
    table = pd.read_csv(out)
    assert len(table) == 3 and table["forecast"].iloc[0] > 0
    assert (table.iloc[1:, 1:] == 0).all().all()


def test_closed_timestamps_are_named_in_the_warning(tmp_path, caplog):
    from capplan.cli import main

    at = tmp_path / "at.csv"
    at.write_text("when\n2003-06-02T03:00:00Z\n")
    with caplog.at_level("WARNING"):
        assert (
            main(
                [
                    "forecast",
                    "--input",
                    str(BANK_CALLS),
                    *SERIES,
                    "--model",
                    "seasonal_naive_week",
                    "--at",
                    str(at),
                    "--out",
                    str(tmp_path / "f.csv"),
                ]
            )
            == 0
        )
    assert "2003-06-02 03:00" in caplog.text and "closed" in caplog.text


def bad_series(tmp_path, rows):
    path = tmp_path / "s.csv"
    path.write_text("\n".join(["DateTime,Calls", *rows]) + "\n")
    return path


def days_of_rows(n_days=3):
    stamps = pd.date_range("2024-01-08 09:00", periods=n_days * 8, freq="1h")
    return [f"{t:%Y-%m-%d %H:%M},{i % 7 + 3}" for i, t in enumerate(stamps)]


@pytest.mark.parametrize(
    "kind, mutate, fragments",
    [
        ("too little history", lambda rows: rows, ["too little history", "days"]),
        (
            "text in the value column",
            lambda rows: rows[:4] + [rows[4].split(",")[0] + ",many"] + rows[5:],
            ["row 6", "column 'Calls'", "not a count"],
        ),
        (
            "duplicate timestamp",
            lambda rows: rows[:4] + [rows[3]] + rows[4:],
            ["row 6", "duplicate timestamp"],
        ),
        (
            "unparsable timestamp",
            lambda rows: rows[:2] + ["Jan 8th,4"] + rows[2:],
            ["row 4", "unparsable time"],
        ),
    ],
)
def test_bad_input_one_line_error(run_cli, tmp_path, kind, mutate, fragments):
    path = bad_series(tmp_path, mutate(days_of_rows()))
    code, _out, err = run_cli("forecast", "--input", path, *SERIES, "--out", tmp_path / "f.csv")
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_backtest_prints_and_saves_the_leaderboard(run_cli, tmp_path):
    code, out, err = run_cli(
        "backtest",
        "--input",
        BANK_CALLS,
        *SERIES,
        "--models",
        "seasonal_naive_week,weekday_mean",
        "--origins",
        "3",
        "--out",
        tmp_path,
    )
    assert code == 0, err
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert {"seasonal_naive_week", "weekday_mean", "weekday_mean+seasonal_naive_week"} <= set(
        board["model"]
    ) | {"seasonal_naive_week+weekday_mean"}
    assert {"mase", "wape", "mae", "rmse", "bias", "coverage80", "coverage95"} <= set(board.columns)
    assert "weekday_mean" in out and "by horizon day (MASE, coverage of the 80 % interval)" in out
    assert set(pd.read_csv(tmp_path / "by_horizon.csv")["horizon_day"]) == {1, 2, 3, 4, 5}


def test_each_queue_gets_its_own_forecast(run_cli, tmp_path):
    from tests.conftest import BANK_LOG

    out = tmp_path / "each.csv"
    code, _stdout, err = run_cli(
        "forecast",
        BANK_LOG,
        "--format",
        "anonymous-bank",
        "--interval",
        "60min",
        "--queue",
        "each",
        "--model",
        "weekday_mean",
        "--horizon-days",
        "2",
        "--out",
        out,
    )
    assert code == 0, err
    table = pd.read_csv(out)
    assert sorted(table["queue"].unique()) == ["IN", "NE", "NW", "PE", "PS", "TT"]
    assert table.groupby("queue").size().nunique() == 1
    code, _stdout, err = run_cli(
        "forecast",
        BANK_LOG,
        "--format",
        "anonymous-bank",
        "--interval",
        "60min",
        "--field",
        "aht",
        "--horizon-days",
        "2",
        "--out",
        tmp_path / "aht.csv",
    )
    assert code == 0, err
    aht = pd.read_csv(tmp_path / "aht.csv")
    assert aht["forecast"].between(60, 600).mean() > 0.9 and (aht["lo80"] < aht["hi80"]).all()


def test_a_constant_series_is_not_called_too_short(run_cli, tmp_path):
    stamps = pd.date_range("2024-01-08", periods=30 * 24, freq="1h")
    stamps = stamps[(stamps.hour >= 9) & (stamps.hour < 17)]
    path = bad_series(tmp_path, [f"{t:%Y-%m-%d %H:%M},5" for t in stamps])
    code, _out, err = run_cli("backtest", "--input", path, *SERIES, "--models", "weekday_mean")
    assert code == 2 and "does not change" in err and "too little" not in err, err


@pytest.mark.parametrize(
    ("stamp", "fragment"),
    [
        ("1990-06-02T07:00:00", "inside or before the history"),  # a year typed wrong
        ("2003-05-20T07:00:00", "inside or before the history"),
        ("2031-06-02T07:00:00", "too far ahead"),
    ],
)
def test_requested_times_must_follow_the_history(run_cli, tmp_path, stamp, fragment):
    at = tmp_path / "at.csv"
    at.write_text(f"when\n2003-06-02T07:00:00\n{stamp}\n")
    out = tmp_path / "f.csv"
    code, _, err = run_cli(
        "forecast", BANK_CALLS, *SERIES, "--model", "weekday_mean", "--at", at, "--out", out
    )
    assert code == 2 and "--at" in err and fragment in err and "2003-05-28" in err
    assert err.strip().count("\n") <= 1 and not out.exists()  # a warning line at most, then the error


def test_an_unreadable_first_requested_time_is_named_as_such(run_cli, tmp_path):
    at = tmp_path / "at.csv"
    at.write_text("when\nhello\n2003-06-02T07:00:00+02:00\n")
    code, _, err = run_cli(
        "forecast", BANK_CALLS, *SERIES, "--model", "weekday_mean", "--at", at, "--out", tmp_path / "f.csv"
    )
    assert code == 2 and "row 2" in err and "unparsable time" in err and "mixed time zones" not in err


def test_a_horizon_of_centuries_is_refused(run_cli, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:  # argparse stops before the command runs
        run_cli("forecast", BANK_CALLS, *SERIES, "--horizon-days", "1000000", "--out", tmp_path / "f.csv")
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "--horizon-days" in err and "1 to 1,100" in err


def _flat(tmp_path, value: float):
    idx = pd.date_range("2024-01-01", "2024-03-01", freq="30min")
    idx = idx[(idx.hour >= 8) & (idx.hour < 18)]
    path = tmp_path / "flat.csv"
    pd.DataFrame({"t": idx, "calls": value}).to_csv(path, index=False)
    return path


def test_a_constant_history_is_forecast_as_itself(run_cli, tmp_path):
    out = tmp_path / "f.csv"
    code, _, err = run_cli(
        "forecast", _flat(tmp_path, 10), "--time-col", "t", "--value-col", "calls", "--out", out
    )
    assert code == 0, err
    table = pd.read_csv(out)
    assert (table["forecast"] == 10).all() and (table["lo80"] <= 10).all() and (table["hi80"] >= 10).all()


def test_a_history_of_zeros_says_so(run_cli, tmp_path):
    code, _, err = run_cli(
        "forecast", _flat(tmp_path, 0), "--time-col", "t", "--value-col", "calls", "--out", tmp_path / "f.csv"
    )
    assert code == 2 and "every value is 0" in err


def test_auto_reuses_the_backtest_of_the_same_data(tmp_path):
    """`backtest` then `forecast --model auto` on the same data: the forecast takes the backtest's
    choice (no second, smaller selection that may choose otherwise); other data, or a longer
    horizon than the backtest looked at, are selected afresh."""
    from forecasting.forecast_job import backtest_and_choose, choice_key, remember_choice, select_and_fit
    from forecasting.history.ingest import IngestOptions, ingest
    from forecasting.series import forecast_series
    from forecasting.store.forecast_cache import ForecastCache

    result = ingest(BANK_CALLS, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    history = forecast_series(result)
    names = ["weekday_mean", "seasonal_naive_week"]
    cache = ForecastCache(tmp_path / "choices")
    choice = backtest_and_choose(history, names, 5, 3, progress=False)
    remember_choice(cache, choice_key(history, names, True, None), choice, 5)

    reused = select_and_fit(history, result.calendar, "auto", names, 5, 2, progress=False, choices=cache)
    assert reused.name == choice.name and reused.backtest is None
    assert reused.leaderboard.equals(choice.leaderboard)
    longer = select_and_fit(history, result.calendar, "auto", names, 10, 2, progress=False, choices=cache)
    assert longer.backtest is not None  # chosen afresh for a horizon the backtest did not look at
    other = select_and_fit(
        history.iloc[:-169], result.calendar, "auto", names, 5, 2, progress=False, choices=cache
    )
    assert other.backtest is not None
