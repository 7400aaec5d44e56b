"""The intraday profile that spreads daily or weekly volumes to intervals, against independent
pandas computations: built from an intraday history, read from a file (and its mistakes
refused in one line), the bundled typical day, and spreading that keeps every total."""

import numpy as np
import pandas as pd
import pytest

from forecasting.common.errors import InputError
from forecasting.intraday_profile import (
    RECENT_WEEKS,
    TYPICAL_FILE,
    IntradayProfile,
    from_history,
    period_of,
    read_profile,
    typical_profile,
)
from forecasting.stress import StressCase, generate

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def intraday() -> pd.Series:
    history, _ = generate(StressCase("plain"), "30min", 70, 7, seed=3)
    history = history.copy()
    last_monday = history.index[history.index.day_of_week == 0].normalize().max()
    history.loc[last_monday + pd.Timedelta(hours=9)] *= 6  # one odd morning: the median ignores it
    return history


def trimmed(values: pd.DataFrame | pd.Series, cut: float = 0.2):
    """Mean of each column with the int(cut·n) highest and lowest values left out."""
    ordered = np.sort(np.asarray(values, float), axis=0)
    k = int(cut * len(ordered))
    return ordered[k : len(ordered) - k].mean(axis=0)


def pandas_profile(history: pd.Series, weeks: int) -> tuple[pd.DataFrame, np.ndarray]:
    """weekday × clock time shares, computed directly: each day's shares, the trimmed mean of
    the last ``weeks`` same weekdays, renormalised; and the weekday mix of day totals."""
    frame = history.rename("v").to_frame()
    frame["date"] = frame.index.normalize()
    frame["time"] = frame.index.strftime("%H:%M")
    wide = frame.pivot_table(index="date", columns="time", values="v", aggfunc="sum").fillna(0.0)
    totals = wide.sum(axis=1)
    shares = wide.div(totals, axis=0)
    shares["weekday"] = shares.index.day_of_week
    recent = shares.sort_index().groupby("weekday").tail(weeks)
    profile = pd.DataFrame(
        {d: trimmed(g.drop(columns="weekday")) for d, g in recent.groupby("weekday")}, index=wide.columns
    ).T
    profile = profile.div(profile.sum(axis=1), axis=0)
    days = totals.loc[recent.index]
    mix = np.array([trimmed(days[days.index.day_of_week == d]) for d in range(7)])
    return profile, mix / mix.sum()


def test_profile_from_history_is_the_trimmed_mean_of_recent_same_weekdays(intraday):
    profile = from_history(intraday, pd.Timedelta("30min"))
    expected, mix = pandas_profile(intraday, RECENT_WEEKS)
    got = profile.frame().assign(weekday=lambda f: f["weekday"].map(DAYS.index))
    got = got.pivot(index="weekday", columns="time", values="share")
    expected = expected.loc[:, (expected > 0).any()]
    pd.testing.assert_frame_equal(
        got.reindex_like(expected).fillna(0.0), expected, check_names=False, atol=1e-12
    )
    assert np.allclose(profile.shares.sum(axis=1), 1.0)
    assert np.allclose(profile.day_mix, mix)
    # the odd morning is not the Monday shape: 09:00 keeps a share like its neighbours'
    assert profile.shares[0, 18] < 1.5 * max(profile.shares[0, 17], profile.shares[0, 19])


def test_a_quiet_queue_keeps_a_smooth_shape():
    """1.5 calls a half-hour: a median of the days' shares leaves slots empty; every open slot
    keeps a share here."""
    rng = np.random.default_rng(1)
    stamps = pd.date_range("2025-01-06", periods=56 * 48, freq="30min")
    open_ = (stamps.hour >= 8) & (stamps.hour < 20)
    counts = pd.Series(rng.poisson(1.5, len(stamps)).astype(float), index=stamps)[open_]
    profile = from_history(counts, pd.Timedelta("30min"))
    assert (profile.shares[:, 16:40] > 0).all() and profile.open[:, 16:40].all()
    assert profile.shares.max() < 0.12


def test_spreading_keeps_each_day_and_week_total(intraday):
    profile = from_history(intraday, pd.Timedelta("30min"))
    rng = np.random.default_rng(0)
    days = pd.date_range("2025-03-03", periods=17, freq="D")
    volume = rng.uniform(100, 2000, len(days))
    sd = volume * 0.1
    out = profile.spread_days(days, volume, sd)
    by_day = out.groupby(out["timestamp"].dt.normalize())
    assert np.allclose(by_day["volume"].sum().to_numpy(), volume, rtol=1e-12)
    assert np.allclose(by_day["sd"].sum().to_numpy(), sd, rtol=1e-12)  # the day's cv in each slot
    assert np.allclose(out["sd"] / out["volume"], 0.1)
    assert (out["timestamp"].dt.hour >= 8).all() and (out["timestamp"].dt.hour < 20).all()
    weeks = pd.date_range("2025-03-03", periods=3, freq="7D")
    totals = np.array([7000.0, 9100.0, 0.0])
    spread, note = profile.spread_weeks(weeks, totals)
    assert note is None
    week_of = (spread["timestamp"].dt.normalize() - weeks[0]).dt.days // 7
    assert np.allclose(spread.groupby(week_of)["volume"].sum().reindex(range(3), fill_value=0), totals)
    first = spread[week_of == 0]
    per_day = first.groupby(first["timestamp"].dt.day_of_week)["volume"].sum()
    assert np.allclose(per_day.to_numpy() / 7000.0, profile.day_mix[per_day.index])


def test_longer_slots_sum_shares_and_shorter_are_refused(intraday):
    profile = from_history(intraday, pd.Timedelta("30min"))
    hourly = profile.at(pd.Timedelta("60min"))
    assert np.allclose(hourly.shares, profile.shares.reshape(7, -1, 2).sum(axis=2))
    with pytest.raises(InputError, match=r"30-minute slots.*found '15 minutes'"):
        profile.at(pd.Timedelta("15min"))


def test_a_day_with_contacts_on_a_closed_weekday_is_refused_not_dropped(tmp_path):
    path = tmp_path / "weekdays.csv"
    path.write_text("weekday,time,share\n" + "".join(f"{d},09:00,0.5\n{d},10:00,0.5\n" for d in DAYS[:5]))
    profile = read_profile(path)
    assert profile.open_weekdays == (0, 1, 2, 3, 4)
    days = pd.date_range("2025-03-03", periods=7, freq="D")  # Monday to Sunday
    out = profile.spread_days(days, np.array([10, 10, 10, 10, 10, 0, 0.0]))
    assert out["volume"].sum() == pytest.approx(50)
    with pytest.raises(InputError, match=r"no opening hours on Saturdays.*2025-03-08"):
        profile.spread_days(days, np.full(7, 10.0))


def test_long_and_wide_files_read_alike_and_weights_are_normalised_with_a_note(tmp_path):
    long = tmp_path / "long.csv"
    long.write_text("weekday,time,share\nMon,8:00,1\nmon,08:30:00,3\nTue,08:00,2\nTUESDAY,08:30,2\n")
    wide = tmp_path / "wide.csv"
    wide.write_text("time,Monday,Tuesday\n08:00,1,2\n08:30,3,2\n")
    a, b = read_profile(long), read_profile(wide)
    assert a.interval == b.interval == pd.Timedelta("30min")
    assert np.allclose(a.shares, b.shares) and (a.open == b.open).all()
    assert np.allclose(a.shares[0, 16:18], [0.25, 0.75]) and np.allclose(a.shares[1, 16:18], [0.5, 0.5])
    assert a.notes and "normalised" in a.notes[0] and "add up to 4" in a.notes[0]
    assert a.day_mix is None and a.weekday_mix()[1] is not None  # no weekday mix: said


def test_percentages_are_shares(tmp_path):
    path = tmp_path / "percent.csv"
    path.write_text("weekday,time,share\nMonday,09:00,25%\nMonday,10:00,75 %\n")
    profile = read_profile(path)
    assert np.allclose(profile.shares[0, 9:11], [0.25, 0.75]) and not profile.notes


def test_shares_of_the_week_give_the_weekday_mix(tmp_path):
    path = tmp_path / "week.csv"
    path.write_text("weekday,time,share\nMonday,09:00,0.3\nMonday,10:00,0.3\nFriday,09:00,0.4\n")
    profile = read_profile(path)
    assert not profile.notes
    assert np.allclose(profile.day_mix, [0.6, 0, 0, 0, 0.4, 0, 0])
    assert np.allclose(profile.shares[0, 9:11], [0.5, 0.5])


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("weekday,time,share\nMonday,08:00,-0.1\n", "row 2, column 'share'.*a share of 0 or more"),
        ("weekday,time,share\nMonday,08:00,0.5\nMonday,08:30,abc\n", "row 3, column 'share'"),
        ("weekday,time,share\nMondag,08:00,1\n", "row 2, column 'weekday'.*Monday"),
        ("weekday,time,share\nMonday,25:00,1\n", "row 2, column 'time'.*time of day"),
        ("weekday,time,share\nMonday,8,1\n", "row 2, column 'time'.*time of day"),
        ("weekday,time,share\nMonday,2024-01-01 08:00,1\n", "row 2, column 'time'.*time of day"),
        ("weekday,time,share\nMonday,08:00,0.5\nMonday,08:30,0.4\nMonday,08:40,0.1\n", "row 4.*grid"),
        ("weekday,time,share\nMonday,08:00,0.5\nMonday,08:00,0.5\n", "row 3.*each weekday and time once"),
        ("weekday,time,share\nMonday,08:00,0\nMonday,08:30,0\n", "Monday add up to 0"),
        ("day,share\nMonday,1\n", "column 'time'"),
        ("time,calls\n08:00,1\n", "no weekday columns"),
        ("time,Monday,Tuesday\n08:00,1,x\n", "row 2, column 'Tuesday'"),
    ],
)
def test_a_bad_profile_file_is_refused_in_one_line(tmp_path, text, where):
    path = tmp_path / "profile.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=where) as caught:
        read_profile(path)
    assert "profile.csv" in str(caught.value) and "\n" not in str(caught.value)


def test_the_typical_profile_is_a_documented_week():
    profile = typical_profile()
    assert profile.typical and TYPICAL_FILE.is_file()
    assert profile.interval == pd.Timedelta("15min")
    assert np.allclose(profile.shares.sum(axis=1), 1.0)
    assert profile.day_mix is not None and profile.day_mix.sum() == pytest.approx(1.0)
    hours = profile.hours()
    assert hours[0] == ((pd.Timedelta(hours=8), pd.Timedelta(hours=20)),)
    assert set(hours) == set(range(7))  # every weekday has hours: no day's volume is lost
    monday = profile.shares[0]
    assert 9.5 <= np.argmax(monday) / 4 <= 12  # the classic mid-morning peak
    assert profile.day_mix[5] < profile.day_mix[0] and profile.day_mix[6] < profile.day_mix[5]


def test_period_of_tells_days_and_weeks_from_intervals():
    assert period_of(pd.date_range("2025-01-01", periods=5, freq="D")) == pd.Timedelta(days=1)
    assert period_of(pd.date_range("2025-01-06", periods=5, freq="7D")) == pd.Timedelta(days=7)
    assert period_of(pd.date_range("2025-01-01", periods=5, freq="30min")) is None
    assert period_of(pd.DatetimeIndex(["2025-01-01"])) is None
    two_queues = pd.DatetimeIndex(["2025-01-01", "2025-01-02", "2025-01-01", "2025-01-02"])
    assert period_of(two_queues, np.array(["a", "a", "b", "b"])) == pd.Timedelta(days=1)


def test_profile_is_a_frozen_holder():
    profile = typical_profile()
    assert isinstance(profile, IntradayProfile)
    with pytest.raises(AttributeError):
        profile.interval = pd.Timedelta("1h")  # type: ignore[misc]
