"""Backtests never look ahead, and their metrics agree with a direct computation."""

from typing import ClassVar

import numpy as np
import pandas as pd

from forecasting.backtest import origins_for, run_backtest
from forecasting.catalog import candidates, combination_forecasts, rolling_auto
from forecasting.models.base import Forecaster
from forecasting.models.baselines import SeasonalNaive


class Spy(Forecaster):
    """Records what it was trained on; forecasts the training mean."""

    seen: ClassVar[list] = []

    def __init__(self, tag: str = "spy"):
        self.tag = tag

    def _fit(self, history):
        self.mean_ = history.mean()
        Spy.seen.append(history.index.max())

    def _predict_mean(self, timestamps):
        return np.full(len(timestamps), self.mean_)


def test_no_look_ahead(bank_history):
    Spy.seen = []
    origins = origins_for(bank_history, 5, 6)
    bt = run_backtest({"spy": Spy()}, bank_history, 5, origins=origins, progress=False)
    f = bt.forecasts
    for origin, part in f.groupby("origin"):
        assert part["timestamp"].min() >= origin
        assert part["timestamp"].dt.normalize().nunique() == 5
    # one fit per origin (bands come from the other origins' errors, not inner refits), each
    # on data that ended before its origin
    assert len(Spy.seen) == len(origins)
    assert all(t < o for t, o in zip(sorted(Spy.seen), origins, strict=True))


def test_metrics_match_direct_computation(bank_history):
    origins = origins_for(bank_history, 5, 3, step_days=2)
    bt = run_backtest({"naive": SeasonalNaive("week")}, bank_history, 5, origins=origins, progress=False)
    board = bt.leaderboard().set_index("model")
    f = bt.forecasts
    maes = []
    for origin, part in f.groupby("origin"):
        train = bank_history[bank_history.index < origin]
        week_ago = train.reindex(train.index - pd.Timedelta(days=7))
        scale = np.nanmean(np.abs(train.to_numpy() - week_ago.to_numpy()))
        maes.append(np.abs(part["forecast"] - part["actual"]).to_numpy() / scale)
    np.testing.assert_allclose(board.loc["naive", "mase"], np.concatenate(maes).mean())
    np.testing.assert_allclose(
        board.loc["naive", "wape"], np.abs(f["forecast"] - f["actual"]).sum() / f["actual"].sum()
    )
    inside = (f["actual"] >= f["lo80"]) & (f["actual"] <= f["hi80"])
    np.testing.assert_allclose(board.loc["naive", "coverage80"], inside.mean())


def test_combinations_and_rolling_auto(bank_history):
    origins = origins_for(bank_history, 5, 6)
    models = {"naive": SeasonalNaive("week"), "day": SeasonalNaive("day")}
    bt = run_backtest(models, bank_history, 5, origins=origins, progress=False)
    combo = combination_forecasts(bt.forecasts, ["naive", "day"])
    one = bt.forecasts.set_index(["origin", "timestamp", "model"])["forecast"].unstack("model")
    np.testing.assert_allclose(
        combo.set_index(["origin", "timestamp"])["forecast"],
        one.mean(axis=1).loc[combo.set_index(["origin", "timestamp"]).index],
    )
    assert "naive+day" in set(candidates(bt)["model"])
    auto = rolling_auto(bt, origins[-1], lookback=3)
    assert auto["origin"].unique().tolist() == [origins[-1]]
    assert auto["chosen"].iloc[0] in set(candidates(bt)["model"])


def board_of(scores: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"model": list(scores), "mase": list(scores.values())}).sort_values("mase")


def test_auto_prefers_the_widest_combination_within_the_noise():
    from forecasting.catalog import choose_from

    close = board_of({"a": 0.80, "b": 0.82, "c": 0.85, "a+b": 0.79, "a+b+c": 0.78, "a+b+c+d": 0.85, "d": 1.2})
    assert choose_from(close) == "a+b+c+d"  # 0.85 ≤ 1.1 × 0.78
    far = board_of({"a": 0.50, "b": 0.90, "c": 0.95, "a+b": 0.62, "a+b+c": 0.70})
    assert choose_from(far) == "a"  # one model far ahead (a yearly season only it knows) wins alone
    assert choose_from(board_of({"a": 0.5})) == "a"


class Counted(SeasonalNaive):
    """The one-week seasonal naive times ``factor``; counts its fits (in this process)."""

    fits: ClassVar[dict] = {}

    def __init__(self, factor: float = 1.0, season: str = "week", clean: bool = True):
        super().__init__(season, clean=clean)
        self.factor = factor

    def _fit(self, history):
        super()._fit(history)
        Counted.fits[self.factor] = Counted.fits.get(self.factor, 0) + 1

    def _predict_mean(self, timestamps):
        return super()._predict_mean(timestamps) * self.factor


def test_successive_halving_leaves_a_hopeless_model_out_after_the_newest_origins(bank_history):
    Counted.fits = {}
    models = {"naive": Counted(1.0), "tenfold": Counted(10.0)}
    origins = origins_for(bank_history, 5, 6)
    bt = run_backtest(models, bank_history, 5, origins=origins, progress=False, keep_within=0.25)
    assert Counted.fits == {1.0: 6, 10.0: 2}  # fitted at the two newest origins only
    assert set(bt.forecasts.loc[bt.forecasts["model"] == "tenfold", "origin"]) == set(origins[-2:])
    assert list(bt.dropped) == ["tenfold"]
    board = candidates(bt)
    assert board.iloc[-1]["model"] == "tenfold" and board.iloc[-1]["left_out"].startswith("after 2 origins")
    assert not board["model"].str.contains("tenfold\\+|\\+tenfold").any()  # in no combination
    assert board["left_out"].iloc[:-1].isna().all()


def test_cells_are_kept_and_found_again_on_a_longer_history(bank_history, tmp_path):
    from forecasting.store.backtest_cells import BacktestCells

    cells = BacktestCells(tmp_path / "cells")
    shorter = bank_history[bank_history.index < "2003-05-20"]
    Counted.fits = {}
    first = run_backtest({"mean": Counted()}, shorter, 5, 4, progress=False, cells=cells)
    assert Counted.fits == {1.0: 4}
    again = run_backtest({"mean": Counted()}, shorter, 5, 4, progress=False, cells=cells)
    assert Counted.fits == {1.0: 4}  # nothing refitted
    pd.testing.assert_frame_equal(first.forecasts, again.forecasts)
    # a longer history: its origins before 2003-05-14 saw the same past and test days
    longer = run_backtest({"mean": Counted()}, bank_history, 5, 10, progress=False, cells=cells)
    reused = [o for o in first.forecasts["origin"].unique() if o in set(longer.forecasts["origin"])]
    assert reused and Counted.fits == {1.0: 4 + 10 - len(reused)}
    # another model (or parameter) is another cell
    run_backtest({"mean": Counted(2.0)}, shorter, 5, 4, progress=False, cells=cells)
    assert Counted.fits[2.0] == 4
