"""Forecast accuracy on generated stress series: ``auto`` beside the simple baselines.

Daily totals (three years of history with trend, weekday and yearly season, forecast a year
ahead) and 30-minute slots (four months, forecast two weeks ahead), each with one kind of
trouble in its history: one-day spikes, a level shift, US holidays, a feed that stopped,
missing days, a daylight-saving change (slots in UTC). The future is drawn from the same
process without the troubles, so a model is scored on what a planner needed to know. Models
are told the country's holidays, as a planner would tell them. Scores: MASE (scaled by the
history's one-week naive error), WAPE and the 80 % interval's coverage per horizon bucket.

    .venv/bin/python benchmarks/forecast_stress.py [--seeds 2] [--granularity day 30min]
    .venv/bin/python benchmarks/forecast_stress.py --seeds 16 --granularity day --model calendar_regression

``--model`` scores one catalog model in auto's place (no backtest): quick enough for the many
seeds a coverage per horizon bucket needs to be more than noise.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from forecasting.catalog import BASELINES, make_model
from forecasting.forecast_job import Selection, select_and_fit
from forecasting.metrics import weekly_naive_scale
from forecasting.slots import calendar_of
from forecasting.special_days import SpecialDays
from forecasting.stress import SETUPS, benchmark_draw, generate, score_rows


def run_case(case, granularity: str, seed: int, model: str | None = None) -> list[dict]:
    _, history_days, horizon = SETUPS[granularity]
    draw = benchmark_draw(SETUPS[granularity][0].index(case), seed, granularity)
    history, future = generate(case, granularity, history_days, horizon, **draw)
    calendar = calendar_of(history)
    scale = weekly_naive_scale(history)
    special = SpecialDays("US") if granularity == "day" else None
    rows = []
    started = time.perf_counter()
    if model:  # one model in auto's place
        fitted = make_model(model)
        if special is not None and "special_days" in fitted.get_params():
            fitted.set_params(special_days=special)
        auto = Selection(model, fitted.fit(history, calendar), None, None)
    else:
        auto = select_and_fit(
            history, calendar, "auto", horizon_days=horizon, progress=False, n_jobs=-1, special_days=special
        )
    models = {"auto": (auto.model, time.perf_counter() - started)}
    for name in BASELINES:
        started = time.perf_counter()
        models[name] = (make_model(name).fit(history, calendar), time.perf_counter() - started)
    for name, (model, seconds) in models.items():
        scored = score_rows(
            model.predict(future.index),
            future,
            scale,
            granularity,
            granularity=granularity,
            case=case.name,
            seed=seed,
            model=name,
        )
        scored[0].update(seconds=seconds, chosen=auto.name if name == "auto" else name)
        rows += scored
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="series drawn per case (default 2)")
    parser.add_argument("--granularity", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--out", help="CSV of every score (case, seed, model, bucket)")
    parser.add_argument("--model", help="score this catalog model in auto's place (no backtest: fast)")
    args = parser.parse_args()
    rows = []
    for granularity in args.granularity:
        for case in SETUPS[granularity][0]:
            for seed in range(args.seeds):
                started = time.perf_counter()
                rows += run_case(case, granularity, seed, args.model)
                print(
                    f"{granularity} {case.name} seed {seed}: {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False, float_format="%.5g")
    report(table)


def report(table: pd.DataFrame) -> None:
    overall = table[table["bucket"] == "all"]
    for granularity, part in overall.groupby("granularity", sort=False):
        mase = part.pivot_table(index="case", columns="model", values="mase", sort=False)
        baselines = [c for c in mase.columns if c in BASELINES]
        summary = pd.DataFrame(
            {
                "auto MASE": mase["auto"],
                "best baseline": mase[baselines].idxmin(axis=1),
                "its MASE": mase[baselines].min(axis=1),
                "auto cov80": part[part["model"] == "auto"].groupby("case", sort=False)["coverage80"].mean(),
                "auto chose": part[part["model"] == "auto"]
                .groupby("case", sort=False)["chosen"]
                .agg(lambda c: ", ".join(sorted(set(c)))),
            }
        )
        print(f"\n{granularity}: MASE averaged over seeds, auto beside the best baseline of each case\n")
        print(summary.to_markdown(floatfmt=".3f"))
        buckets = table[(table["granularity"] == granularity) & (table["bucket"] != "all")]
        cov_auto = buckets[buckets["model"] == "auto"].pivot_table(
            index="case", columns="bucket", values="coverage80", sort=False
        )
        print(f"\n{granularity}: auto's 80 % coverage by horizon bucket (open days ahead)\n")
        print(cov_auto.to_markdown(floatfmt=".2f"))
        all_cases = buckets[buckets["model"] == "auto"].groupby("bucket", sort=False)["coverage80"].mean()
        print("all cases: " + ", ".join(f"{b} {v:.2f}" for b, v in all_cases.items()))
        wins = (summary["auto MASE"] < summary["its MASE"]).sum()
        print(
            f"auto beats the best baseline in {wins} of {len(summary)} cases; mean MASE auto "
            f"{summary['auto MASE'].mean():.3f} vs best baseline {summary['its MASE'].mean():.3f}"
        )


if __name__ == "__main__":
    main()
