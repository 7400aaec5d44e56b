"""Forecast accuracy on the bank's 5-minute calls: every model and ``auto``.

Rolling origins over the last 4 weeks of the data (every open day that leaves a full horizon),
horizon 5 open days. ``auto`` is scored honestly: at each origin it uses the model or
combination that was best on the origins whose test window had already ended (a warm-up of
earlier origins feeds its first choices), so it never sees the week it forecasts.

    .venv/bin/python benchmarks/forecast_accuracy.py [--warmup 10]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from forecasting.backtest import origins_for, run_backtest
from forecasting.catalog import BASELINES, MODELS, make_model, rolling_auto
from forecasting.history.ingest import IngestOptions, ingest
from forecasting.metrics import accuracy
from forecasting.series import forecast_series

DATA = Path(__file__).resolve().parents[1] / "data" / "bank_calls_2003-03-03_2003-05-28.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warmup", type=int, default=10, help="origins before the 4 weeks, for auto's first choices"
    )
    parser.add_argument("--horizon-days", type=int, default=5)
    args = parser.parse_args()
    result = ingest(DATA, IngestOptions(time_col="DateTime", value_cols=("Calls",)))
    history = forecast_series(result)
    days = history.index.normalize().unique()
    window_start = days.max() - pd.Timedelta(weeks=4) + pd.Timedelta(days=1)
    scored = [o for o in origins_for(history, args.horizon_days, len(days)) if o >= window_start]
    earlier = [o for o in origins_for(history, args.horizon_days, len(days)) if o < window_start][
        -args.warmup :
    ]
    started = time.perf_counter()
    bt = run_backtest(
        {n: make_model(n) for n in MODELS},
        history,
        args.horizon_days,
        origins=earlier + scored,
        n_jobs=-1,
        sequential_bands=True,  # each origin's bands from the origins already over: what a fit then had
    )
    total = time.perf_counter() - started
    auto = rolling_auto(bt, scored[0])
    rows = []
    for name in [*MODELS, "auto"]:
        part = (
            auto
            if name == "auto"
            else bt.forecasts[(bt.forecasts["model"] == name) & (bt.forecasts["origin"] >= scored[0])]
        )
        seconds = sum(bt.seconds.values()) if name == "auto" else bt.seconds[name]
        kind = "baseline" if name in BASELINES else ("selection" if name == "auto" else "model")
        rows.append({"model": name, "kind": kind, **accuracy(part), "seconds_per_fit": seconds})
    table = pd.DataFrame(rows).sort_values("mase")
    print(
        f"\n{len(scored)} origins from {scored[0]:%Y-%m-%d} to {scored[-1]:%Y-%m-%d}, horizon {args.horizon_days} open days "
        f"of 5-minute slots; {len(earlier)} warm-up origins; backtest took {total:.0f} s\n"
    )
    cols = ["model", "kind", "mase", "wape", "bias", "coverage80", "coverage95", "seconds_per_fit"]
    print(
        table[cols].to_markdown(index=False, floatfmt=".3f")
        if _has_tabulate()
        else table[cols].to_string(index=False)
    )
    print("\nauto's choices:", auto.groupby("origin")["chosen"].first().value_counts().to_dict())
    best_baseline = table[table["kind"] == "baseline"]["mase"].min()
    auto_row = table[table["model"] == "auto"].iloc[0]
    print(
        f"auto MASE {auto_row['mase']:.3f} vs best baseline {best_baseline:.3f}; auto 80 % coverage {auto_row['coverage80']:.3f}"
    )
    baseline = table[table["kind"] == "baseline"].iloc[0]["model"]
    scored_rows = bt.forecasts[(bt.forecasts["model"] == baseline) & (bt.forecasts["origin"] >= scored[0])]
    by_day = []
    for name, part in (("auto", auto), (baseline, scored_rows)):
        for day, rows_of_day in part.groupby("horizon_day"):
            by_day.append({"model": name, "horizon_day": int(day), **accuracy(rows_of_day)})
    per_day = pd.DataFrame(by_day).pivot_table(
        index="horizon_day", columns="model", values=["mase", "coverage80", "coverage95"]
    )
    print("\nby horizon day (is the band as honest on day 5 as on day 1?):")
    print(per_day.round(3).to_markdown() if _has_tabulate() else per_day.round(3).to_string())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401

        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
