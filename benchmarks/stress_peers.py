"""Peer libraries on the generated stress series: statsforecast's AutoETS, AutoARIMA and MSTL.

The same series, seeds and scores as ``benchmarks/forecast_stress.py`` (MASE scaled by the
history's one-week naive error, WAPE, 80 % / 95 % interval coverage per horizon bucket of open
days ahead), so the two tables can be put side by side. Benchmark only: statsforecast is not a
dependency of capplan, and it cannot go into the project's own venv (it would downgrade pandas),
so it runs from a venv of its own, outside the repo and not committed:

    python3 -m venv .venv-peers
    .venv-peers/bin/pip install statsforecast tabulate -e .
    .venv-peers/bin/python benchmarks/stress_peers.py [--seeds 2] [--granularity day 30min]

How the peers see the data:

- Daily totals: the history's days, the gaps (the ``gaps`` case) filled with the same weekday a
  week earlier (linear interpolation would smear Sunday's low into Monday's high); season 7 for
  AutoETS and AutoARIMA, MSTL with [7, 365] when the history holds two years (else [7]);
  forecast 364 days ahead.
- 30-minute slots: a sequence of open slots (24 a day, 08:00-20:00; in the ``dst`` case the UTC
  timestamps move by an hour, which a sequence does not see), season 24 for AutoETS and
  AutoARIMA, MSTL with [24, 168]; the future's slots are forecast and aligned by position.
  AutoARIMA's search fits its candidates by conditional sums of squares here (see :func:`peer`).
- Unlike capplan's models in forecast_stress.py, the peers are not told the US holidays.
- Forecasts and interval bounds are clipped at 0; seconds are each model's fit and predict.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoARIMA, AutoETS

from forecasting.metrics import weekly_naive_scale
from forecasting.stress import SETUPS, StressCase, benchmark_draw, generate, score_rows

LEVELS = (80, 95)
SLOTS_PER_DAY = 24  # the generator's centre: open 08:00-20:00 in 30-minute slots
MODELS = ("AutoETS", "AutoARIMA", "MSTL")

# AutoARIMA warns for every candidate whose optimiser stopped early; the candidate is still scored
warnings.filterwarnings("ignore", message="possible convergence problem", category=UserWarning)


def peer(name: str, granularity: str, history_days: int) -> object:
    """The statsforecast model ``name`` with the seasons of ``granularity``. AutoARIMA on slots fits
    its candidates by conditional sums of squares (``approximation=True``, R's auto.arima default for
    series this long): with exact likelihood one 2,880-slot series took 11 minutes here, with it 5 s."""
    if granularity == "day":
        season, seasons = 7, [7, 365] if history_days >= 730 else [7]
    else:
        season, seasons = SLOTS_PER_DAY, [SLOTS_PER_DAY, 7 * SLOTS_PER_DAY]
    makers: dict[str, Callable[[], object]] = {
        "AutoETS": lambda: AutoETS(season_length=season),
        "AutoARIMA": lambda: AutoARIMA(season_length=season, approximation=granularity != "day"),
        "MSTL": lambda: MSTL(season_length=seasons),
    }
    return makers[name]()


def series_values(history: pd.Series, granularity: str) -> np.ndarray:
    """What the peers are fitted on: daily values on a full calendar (missing days take the value
    of the same weekday a week earlier; the generator never drops the first week), or the open
    slots in order."""
    if granularity != "day":
        return history.to_numpy(float)
    full = history.reindex(pd.date_range(history.index[0], history.index[-1], freq="D"))
    while full.isna().any():  # a week-earlier day that is itself missing is filled first
        full = full.fillna(full.shift(7))
    return full.to_numpy(float)


def forecast(
    name: str, values: np.ndarray, horizon: int, granularity: str, history_days: int
) -> tuple[pd.DataFrame, float]:
    """(frame of forecast, lo80, hi80, lo95, hi95 clipped at 0, seconds to fit and predict)."""
    df = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(values)), "y": values})
    model = peer(name, granularity, history_days)
    started = time.perf_counter()
    out = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(h=horizon, df=df, level=list(LEVELS))
    seconds = time.perf_counter() - started
    columns = {"forecast": name} | {
        f"{side}{level}": f"{name}-{side}-{level}" for level in LEVELS for side in ("lo", "hi")
    }
    frame = pd.DataFrame({ours: out[theirs].to_numpy(float) for ours, theirs in columns.items()})
    return frame.clip(lower=0), seconds


def run_case(case: StressCase, granularity: str, seed: int, models: list[str]) -> list[dict]:
    """Score rows (overall and per horizon bucket) of each peer on one generated series."""
    _, history_days, horizon = SETUPS[granularity]
    draw = benchmark_draw(SETUPS[granularity][0].index(case), seed, granularity)
    history, future = generate(case, granularity, history_days, horizon, **draw)
    scale = weekly_naive_scale(history)
    values = series_values(history, granularity)
    rows = []
    for name in models:
        pred, seconds = forecast(name, values, len(future), granularity, history_days)
        scored = score_rows(
            pred, future, scale, granularity, granularity=granularity, case=case.name, seed=seed, model=name
        )
        scored[0]["seconds"] = seconds
        rows += scored
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="series drawn per case (default 2)")
    parser.add_argument("--granularity", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--out", help="CSV of every score (case, seed, model, bucket)")
    args = parser.parse_args()
    rows = []
    for granularity in args.granularity:
        for case in SETUPS[granularity][0]:
            for seed in range(args.seeds):
                started = time.perf_counter()
                rows += run_case(case, granularity, seed, args.models)
                print(
                    f"{granularity} {case.name} seed {seed}: {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.5g")
    report(table)


def report(table: pd.DataFrame) -> None:
    """Per granularity: MASE by case, 80 % coverage by horizon bucket and seconds, each by model."""
    for granularity, part in table.groupby("granularity", sort=False):
        overall = part[part["bucket"] == "all"]
        mase = overall.pivot_table(index="case", columns="model", values="mase", sort=False)
        mase.loc["mean"] = mase.mean()
        print(f"\n{granularity}: MASE averaged over seeds\n")
        print(mase.to_markdown(floatfmt=".3f"))
        cov = part.pivot_table(index="bucket", columns="model", values="coverage80", sort=False)
        cov = cov.loc[[b for b in cov.index if b != "all"] + ["all"]]
        print(f"\n{granularity}: 80 % coverage by horizon bucket (open days ahead), over cases and seeds\n")
        print(cov.to_markdown(floatfmt=".3f"))
        seconds = overall.groupby("model", sort=False)["seconds"].agg(["mean", "max", "sum"])
        print(f"\n{granularity}: seconds per fit and predict\n")
        print(seconds.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
