"""Week and month totals a year ahead: how often their 80 % bands hold the truth.

Two ways planners get totals per period: from a daily history, forecast by day and added up
(``forecast --granularity week|month``), and from a report of monthly or weekly totals alone,
forecast by the period models. Generated daily series (three years, the stress cases of
``forecast_stress.py``, each case and seed its own base series); the next year is drawn
without the troubles. Coverage and mean absolute relative error per lead part (the first and
the last quarter of the year's periods).

    .venv/bin/python benchmarks/period_totals.py [--seeds 6]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from forecasting.catalog import make_model
from forecasting.forecast_job import period_forecast
from forecasting.period_models import forecast_periods
from forecasting.slots import calendar_of
from forecasting.special_days import SpecialDays
from forecasting.stress import CASES, benchmark_draw, generate

FREQ = {"week": "W-SUN", "month": "M"}


def scored(table: pd.DataFrame, actual: pd.Series, **key) -> list[dict]:
    truth = actual.reindex(pd.DatetimeIndex(table["timestamp"]).to_period(actual.index.freq)).to_numpy()
    inside = (table["lo80"].to_numpy() <= truth) & (truth <= table["hi80"].to_numpy())
    error = np.abs(truth / table["forecast"].to_numpy() - 1)
    n = len(table)
    return [
        {
            **key,
            "part": part,
            "coverage80": inside[s].mean(),
            "rel_error": error[s].mean(),
            "rel_width": ((table["hi80"] - table["lo80"]) / table["forecast"]).to_numpy()[s].mean(),
        }
        for part, s in (("first quarter", slice(0, max(n // 4, 1))), ("last quarter", slice(3 * n // 4, n)))
    ]


def run(seed: int, case_index: int) -> list[dict]:
    case = CASES[case_index]
    history, future = generate(case, "day", 1100, 364, **benchmark_draw(case_index, seed, "day"))
    model = make_model("calendar_regression").set_params(special_days=SpecialDays("US"))
    model.fit(history, calendar_of(history))
    rows = []
    for unit, freq in FREQ.items():
        actual = future.groupby(future.index.to_period(freq)).sum()
        by_day = period_forecast(model, future.index, unit)
        rows += scored(by_day[by_day["complete"]], actual, source="daily model", unit=unit, case=case.name)
        both = pd.concat([history, future])
        totals = both.groupby(both.index.to_period(freq)).sum()
        last = history.index[-1].to_period(freq)
        if history.index[-1].normalize() < last.end_time.normalize():
            last -= 1  # a report holds whole periods only
        periods = totals[(totals.index > totals.index[0]) & (totals.index <= last)]
        actual = totals[totals.index > last].iloc[:-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            done = forecast_periods(periods, unit, len(actual))
        rows += scored(done.table, actual, source="period totals", unit=unit, case=case.name)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args()
    rows, started = [], time.perf_counter()
    for case_index, case in enumerate(CASES):
        for seed in range(args.seeds):
            rows += run(seed, case_index)
        print(f"{case.name}: {time.perf_counter() - started:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    summary = table.pivot_table(
        index=["source", "unit"], columns="part", values=["coverage80", "rel_error", "rel_width"], sort=False
    )
    summary.columns = [f"{value}, {part}" for value, part in summary.columns]
    summary.index = [f"{source}: {unit}" for source, unit in summary.index]
    print(f"\n80 % bands of period totals a year ahead, {args.seeds} seeds × {len(CASES)} cases\n")
    print(summary.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
