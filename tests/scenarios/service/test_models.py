"""Service models: agents present from a log, the learned correction on simulated intervals
with a known distortion, and monotonicity in agents."""

import numpy as np
import pandas as pd
import pytest

from forecasting.history.contacts import Contacts
from scenarios.service.models import LearnedModel, QueueingModel
from scenarios.service.presence import agents_present, presence_spans
from scenarios.staffing.erlang import erlang_a_metrics

HOUR = 3600.0


def _log(calls: list[tuple[str, str, str]]) -> Contacts:
    frame = pd.DataFrame(calls, columns=["agent_id", "answer_time", "end_time"])
    frame["answer_time"] = pd.to_datetime(frame["answer_time"])
    frame["end_time"] = pd.to_datetime(frame["end_time"])
    frame["handled"] = True
    return Contacts(frame, frozenset({"agent_id", "answer_time", "end_time"}))


def test_an_agent_is_present_between_calls_close_together_only():
    log = _log(
        [
            ("a", "1999-02-01 10:00", "1999-02-01 10:05"),
            ("a", "1999-02-01 10:08", "1999-02-01 10:10"),
            ("a", "1999-02-01 10:40", "1999-02-01 10:45"),
            ("b", "1999-02-01 10:50", "1999-02-01 11:20"),
        ]
    )
    hours = pd.DatetimeIndex(["1999-02-01 10:00", "1999-02-01 11:00"])
    present = agents_present(log, pd.Timedelta("60min"), 300, hours)
    # a: 10:00-10:10 and 10:40-10:45 (the 30-minute gap is a break); b: 10:50-11:20
    assert present.to_numpy() == pytest.approx([(10 + 5 + 10) / 60, 20 / 60])
    joined = agents_present(log, pd.Timedelta("60min"), 1800, hours)  # a gap of 30 min joins a's spans
    assert joined.to_numpy() == pytest.approx([(45 + 10) / 60, 20 / 60])


def test_presence_matches_a_minute_by_minute_count():
    rng = np.random.default_rng(5)
    start = pd.Timestamp("2024-03-04 08:00") + pd.to_timedelta(rng.integers(0, 8 * 60, 400), unit="min")
    end = start + pd.to_timedelta(rng.integers(1, 15, 400), unit="min")
    calls = list(zip(rng.choice(list("abcdefgh"), 400), start.astype(str), end.astype(str), strict=True))
    log = _log(calls)
    hours = pd.date_range("2024-03-04 08:00", periods=9, freq="60min")
    present = agents_present(log, pd.Timedelta("60min"), 600, hours)
    starts, ends = presence_spans(
        log.frame.rename(columns={"agent_id": "agent", "answer_time": "start", "end_time": "end"}), 600
    )
    minutes = pd.date_range("2024-03-04 08:00", periods=9 * 60, freq="min")
    count = (
        (minutes.to_numpy()[:, None] >= starts[None, :]) & (minutes.to_numpy()[:, None] < ends[None, :])
    ).sum(1)
    expected = pd.Series(count, index=minutes).groupby(minutes.floor("60min")).mean()
    assert present.to_numpy() == pytest.approx(expected.to_numpy())


def _intervals(rng, n: int, patience: float) -> pd.DataFrame:
    arrivals = rng.integers(40, 300, n).astype(float)
    aht = rng.uniform(120, 260, n)
    load = arrivals * aht / HOUR
    agents = np.maximum(np.round(load * rng.uniform(0.8, 1.5, n)), 1)
    q = erlang_a_metrics(arrivals, aht, HOUR, agents, 20, patience)
    return pd.DataFrame(
        {
            "arrivals": arrivals,
            "aht": aht,
            "agents_seen": agents,
            "hour": rng.integers(8, 20, n),
            "q_abandon": q["abandon_rate"],
            "q_sl": q["service_level"],
            "q_asa": q["asa_seconds"],
        }
    )


def _patience_log(patience: float) -> Contacts:
    """Waits and abandonments whose P(Ab)/E[W] estimate is exactly ``patience``."""
    frame = pd.DataFrame({"wait_seconds": [patience / 10] * 10, "abandoned": [True] + [False] * 9})
    return Contacts(frame, frozenset({"wait_seconds", "abandoned"}))


def _observe(rng, table: pd.DataFrame) -> pd.DataFrame:
    """The centre differs from Erlang A in a known way: abandonment is 0.5 × Erlang A's + 2
    points, service level 0.8 × Erlang A's; observed with binomial noise."""
    n = table["arrivals"].to_numpy().astype(int)
    truth_ab = 0.5 * table["q_abandon"] + 0.02
    truth_sl = 0.8 * table["q_sl"]
    return table.assign(
        truth_ab=truth_ab,
        truth_sl=truth_sl,
        abandon_rate=rng.binomial(n, truth_ab) / n,
        service_level=rng.binomial(n, truth_sl) / n,
        asa=table["q_asa"] * rng.uniform(0.9, 1.1, len(table)),
    )


def test_the_learned_model_recovers_a_known_correction():
    rng = np.random.default_rng(11)
    patience = 300.0
    train = _observe(rng, _intervals(rng, 800, patience))
    test = _observe(rng, _intervals(rng, 300, patience))
    learned = LearnedModel(QueueingModel("erlang-a", HOUR, 20)).fit(train, _patience_log(patience))
    predicted = learned.predict(test)
    w = test["arrivals"]
    base_error = np.average(np.abs(test["q_abandon"] - test["truth_ab"]), weights=w)
    learned_error = np.average(np.abs(predicted["abandon_rate"] - test["truth_ab"]), weights=w)
    assert learned_error < 0.25 * base_error
    sl_error = np.average(np.abs(predicted["service_level"] - test["truth_sl"]), weights=w)
    assert sl_error < 0.25 * np.average(np.abs(test["q_sl"] - test["truth_sl"]), weights=w)


def test_more_agents_never_predict_worse_service():
    rng = np.random.default_rng(12)
    train = _observe(rng, _intervals(rng, 800, 300.0))
    learned = LearnedModel(QueueingModel("erlang-a", HOUR, 20)).fit(train, _patience_log(300.0))
    for arrivals, aht in ((80, 150), (200, 200), (300, 250)):
        agents = np.arange(1, 40, dtype=float)
        grid = pd.DataFrame(
            {"arrivals": float(arrivals), "aht": float(aht), "agents_seen": agents, "hour": 12}
        )
        m = learned.predict(grid)
        assert (np.diff(m["abandon_rate"]) <= 1e-12).all()
        assert (np.diff(m["service_level"]) >= -1e-12).all()
        asa = m["asa_seconds"][np.isfinite(m["asa_seconds"])]
        assert (np.diff(asa) <= 1e-9).all()


def test_beyond_the_training_range_service_still_improves_to_any_target():
    """Trees are flat past the data: the learnt service of this centre tops out near 0.8 × Erlang
    A's, so a 0.95 target would never be met; past the range the base model takes over, monotone."""
    rng = np.random.default_rng(13)
    train = _observe(rng, _intervals(rng, 800, 300.0))
    learned = LearnedModel(QueueingModel("erlang-a", HOUR, 20)).fit(train, _patience_log(300.0))
    agents = np.arange(1, 400, dtype=float)
    grid = pd.DataFrame({"arrivals": 200.0, "aht": 200.0, "agents_seen": agents, "hour": 12})
    m = learned.predict(grid)
    assert (np.diff(m["service_level"]) >= -1e-12).all() and (np.diff(m["abandon_rate"]) <= 1e-12).all()
    assert m["service_level"][-1] > 0.99 and m["abandon_rate"][-1] < 0.01
    inside = (agents / (200 * 200 / HOUR)) <= learned.edges_["service_level"][1]
    base = learned.base.predict(grid)
    assert not np.allclose(m["service_level"][inside], base["service_level"][inside], atol=0.02)
