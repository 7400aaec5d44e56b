"""Model names users can ask for, and ``auto``: a combination of the best by backtest.

Names are what appears in leaderboards, MLflow and ``--models``; each maps to a fresh,
unfitted forecaster so backtests and final fits never share state.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from forecasting.backtest import Backtest
from forecasting.calibration import band_calibration
from forecasting.common.errors import InputError
from forecasting.metrics import accuracy, median_mase
from forecasting.models.aht import AhtProfile
from forecasting.models.base import Forecaster
from forecasting.models.baselines import SameWeekdayMean, SeasonalNaive
from forecasting.models.boosting import GradientBoosting
from forecasting.models.ensemble import COMBINE_SEP, Combination
from forecasting.models.harmonic import HarmonicRegression
from forecasting.models.topdown import TopDown
from forecasting.special_days import SpecialDays

MODELS: dict[str, Callable[[], Forecaster]] = {
    "seasonal_naive_day": lambda: SeasonalNaive("day"),
    "seasonal_naive_week": lambda: SeasonalNaive("week"),
    "weekday_mean": lambda: SameWeekdayMean("auto"),
    "weekday_median": lambda: SameWeekdayMean("auto", statistic="median"),
    "ets_topdown": lambda: TopDown("ets"),
    "prophet_topdown": lambda: TopDown("prophet"),
    "calendar_regression": lambda: TopDown("calendar"),
    "harmonic": lambda: HarmonicRegression(),
    "gbm": lambda: GradientBoosting(),
}
AHT_MODELS: dict[str, Callable[[], Forecaster]] = {"aht_profile": lambda: AhtProfile()}
BASELINES = ("seasonal_naive_day", "seasonal_naive_week", "weekday_mean", "weekday_median")
MAX_MEMBERS = 5  # combinations of the best 2 to 5 models are scored beside the single models
NOISE_MARGIN = 0.10  # MASE differences within 10 % are within the noise of a few origins


def make_model(name: str, clean: bool = True, special_days: SpecialDays | None = None) -> Forecaster:
    """A fresh forecaster by name; 'a+b' is the equal-weight combination of a and b. ``clean``:
    learn from the history mended of its anomalies (the default) or as it is; ``special_days``:
    holidays and the planner's dates, for the models that learn their effects."""
    if COMBINE_SEP in name:
        parts = name.split(COMBINE_SEP)
        if len(set(parts)) != len(parts) or not all(parts):
            raise InputError(
                "bad combination", option="model", expected="distinct model names joined by +", found=name
            )
        return Combination(tuple((part, make_model(part, clean, special_days)) for part in parts))
    factory = MODELS.get(name) or AHT_MODELS.get(name)
    if factory is None:
        raise InputError(
            "unknown model",
            option="model",
            expected="auto or one of " + ", ".join([*MODELS, *AHT_MODELS]),
            found=name,
        )
    model = factory().set_params(clean=clean)
    if special_days and "special_days" in model.get_params():
        model.set_params(special_days=special_days)
    return model


def parse_models(text: str | None, field: str = "arrivals") -> list[str]:
    """Candidate names for a backtest: single models only (combinations are built from the
    ranking), each once, of the kind the field needs."""
    available = AHT_MODELS if field == "aht" else MODELS
    if not text or text == "all":
        return list(available)
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    for n in names:
        if COMBINE_SEP in n:
            raise InputError(
                "combinations are not candidates",
                option="models",
                expected="single model names (auto builds combinations of the best)",
                found=n,
            )
        check_model_for_field(n, field)
    return names


def check_model_for_field(name: str, field: str) -> None:
    """Count models for arrivals, handle-time models for AHT: their intervals differ in kind."""
    for part in name.split(COMBINE_SEP):
        make_model(part)
        wanted = AHT_MODELS if field == "aht" else MODELS
        if part not in wanted:
            raise InputError(
                f"{part} does not forecast {field}",
                option="model",
                expected="one of " + ", ".join(wanted),
                found=part,
            )


def combination_forecasts(forecasts: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """Backtest rows of an equal-weight combination, from the members' stored forecasts."""
    keys = ["origin", "timestamp"]
    part = forecasts[forecasts["model"].isin(members)]
    numeric = [c for c in part.columns if c not in keys + ["model"]]
    combined = part.groupby(keys, sort=False)[numeric].mean().reset_index()
    return combined.assign(model=COMBINE_SEP.join(members))


def candidates(backtest: Backtest, max_members: int | None = None) -> pd.DataFrame:
    """Leaderboard of single models plus combinations of the best 2..max_members; models the
    backtest left out after its first origins (successive halving) come last, with the reason
    in ``left_out``, and take no part in combinations or the choice."""
    singles = backtest.leaderboard()
    left_out = singles[singles["model"].isin(backtest.dropped)]
    singles = singles[~singles["model"].isin(backtest.dropped)]
    ranked = singles["model"].tolist()
    calibration = {m: band_calibration(part) for m, part in backtest.forecasts.groupby("model", sort=False)}
    rows = [singles.drop(columns=["rank"])]
    for k in range(2, min(max_members or MAX_MEMBERS, len(ranked)) + 1):
        combo = combination_forecasts(backtest.forecasts, ranked[:k])
        name = combo["model"].iloc[0]
        calibration[name] = band_calibration(combo)
        rows.append(
            pd.DataFrame(
                [
                    {
                        "model": name,
                        **accuracy(combo),
                        "mase_median": median_mase(combo),
                        "origins": combo["origin"].nunique(),
                    }
                ]
            )
        )
    board = pd.concat(rows, ignore_index=True).sort_values(["mase", "model"]).reset_index(drop=True)
    if len(left_out):
        behind = left_out.drop(columns=["rank"]).sort_values(["mase", "model"])
        behind = behind.assign(
            left_out=[
                f"after {n} origins: {backtest.dropped[m]}"
                for m, n in zip(behind["model"], behind["origins"], strict=True)
            ]
        )
        board = pd.concat([board, behind], ignore_index=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    checked = pd.DataFrame([calibration[m] for m in board["model"]], index=board.index)
    return pd.concat([board, checked], axis=1)


def contenders(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard's entries scored on every origin (not left out by successive halving)."""
    return board[board["left_out"].isna()] if "left_out" in board else board


def choose_from(board: pd.DataFrame) -> str:
    """``auto``'s pick from a leaderboard: the combination of the most of the best models
    (up to five) whose MASE is within 10 % of the best entry's, else the best entry. Which
    single model ranks first swings from one set of origins to the next; an average of several
    good ones does not, and it holds better on weeks no backtest saw. A model far ahead of the
    rest (a yearly season only it knows) still wins alone: a combination with the others would
    fall outside the margin."""
    board = contenders(board)
    members = board["model"].str.count(re.escape(COMBINE_SEP)) + 1
    close = board[board["mase"] <= (1 + NOISE_MARGIN) * board["mase"].min()]
    return str(close.loc[members[close.index].idxmax(), "model"])


def explain_choice(board: pd.DataFrame, name: str) -> str:
    """One line saying which leaderboard entry ``auto`` chose and why (``choose_from``'s rule):
    it need not be rank 1."""
    row = board.set_index("model").loc[name]
    best = contenders(board).pipe(lambda b: b.loc[b["mase"].idxmin()])
    margin = f"{NOISE_MARGIN * 100:.0f} %"
    limit = (1 + NOISE_MARGIN) * float(best["mase"])
    if name == best["model"]:
        why = f"the best backtest MASE ({float(best['mase']):.3f})" + (
            "" if COMBINE_SEP in name else f"; no combination of more models came within {margin} of it"
        )
    else:
        members = name.count(COMBINE_SEP) + 1
        what = f"the most models ({members}) whose combination" if members > 1 else "the entry that"
        why = (
            f"{what} scored within {margin} of the best MASE ({float(row['mase']):.3f} ≤ {limit:.3f}, "
            f"{1 + NOISE_MARGIN:g} × {best['model']}'s {float(best['mase']):.3f}): an average of several "
            "good models holds better on weeks no backtest saw than the one ranked first by a few origins"
        )
    return f"auto chose {name} (rank {int(row['rank'])} of {len(board)}): {why}"


def choose(backtest: Backtest, max_members: int | None = None) -> str:
    """The name ``auto`` chooses from this backtest (see :func:`choose_from`)."""
    return choose_from(candidates(backtest, max_members))


def rolling_auto(
    backtest: Backtest, start: pd.Timestamp, lookback: int = 10, max_members: int | None = None
) -> pd.DataFrame:
    """Backtest rows of ``auto``: at each origin from ``start``, the choice made from the
    backtests whose whole test window had ended by then (no look-ahead), over the last
    ``lookback`` such origins."""
    f = backtest.forecasts
    rows = []
    for origin in sorted(f.loc[f["origin"] >= start, "origin"].unique()):
        done = f.groupby("origin")["timestamp"].max()
        completed = done[done < origin].index[-lookback:]
        if len(completed) == 0:
            continue
        past = Backtest(f[f["origin"].isin(completed)], backtest.seconds, backtest.horizon_days)
        name = choose(past, max_members)
        members = name.split(COMBINE_SEP)
        now = f[f["origin"] == origin]
        chosen = combination_forecasts(now, members) if len(members) > 1 else now[now["model"] == name]
        rows.append(chosen.assign(model="auto", chosen=name))
    return pd.concat(rows, ignore_index=True)
