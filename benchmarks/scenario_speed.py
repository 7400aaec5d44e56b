"""Scenario speed: the app's instant what-if (staffing of two weeks of 15-minute intervals from
the cached forecast) and a full scenario run (plus Monte Carlo risk, target curve and the
best targets a headcount reaches), for the bundled baseline with Erlang A and Erlang C.

    .venv/bin/python benchmarks/scenario_speed.py
"""

from __future__ import annotations

import statistics
import tempfile
import time

from tabulate import tabulate

from forecasting.store import Store
from scenarios.inputs.base_forecast import base_forecast
from scenarios.inputs.spec import load_scenario
from scenarios.runner import run_scenario


def timed(f, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    baseline, path = load_scenario("baseline")
    store = Store.at(
        tempfile.mkdtemp(prefix="capplan-bench-")
    )  # a cache of its own: the first run is a real first run
    forecast = baseline.forecast.model_copy(update={"model": "weekday_mean", "interval": "15min"})
    start = time.perf_counter()
    base = base_forecast(baseline.data, forecast, baseline.risk.correlation, path.parent, store)
    first = time.perf_counter() - start
    cached, _ = timed(
        lambda: base_forecast(baseline.data, forecast, baseline.risk.correlation, path.parent, store)
    )
    n = len(base.table)
    rows = [
        ["both", "forecast (first time: ingest, fit, write the cache)", n, first],
        ["both", "forecast (from the cache)", n, cached],
    ]
    for model in ("erlang-a", "erlang-c"):
        queues = {
            "voice": baseline.queues["voice"].model_copy(
                update={"model": model, "patience_seconds": 300 if model == "erlang-a" else None}
            )
        }
        s = baseline.model_copy(update={"queues": queues, "forecast": forecast})
        quick, _ = timed(lambda s=s: run_scenario(s, path, base=base, analysis=False))
        full, _ = timed(lambda s=s: run_scenario(s, path, base=base), repeat=1)
        rows += [
            [model, "what-if: staffing and service (the app's instant answer)", n, quick],
            [model, "full run: + risk (500 draws), target curve, best targets, evidence", n, full],
        ]
    print(
        tabulate(rows, headers=["model", "step", "intervals", "seconds"], floatfmt=".3f", tablefmt="github")
    )


if __name__ == "__main__":
    main()
