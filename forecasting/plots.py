"""Plots people would rather look at than read: forecast against actual with its bands."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def forecast_plot(actual: pd.Series, forecast: pd.DataFrame, title: str):
    """Actual history (last weeks) and a forecast table with lo/hi 80 and 95 bands."""
    fig, ax = plt.subplots(figsize=(12, 4))
    x = pd.to_datetime(forecast["timestamp"]) if "timestamp" in forecast else forecast.index
    position = {
        t: i for i, t in enumerate(sorted(set(actual.index) | set(x)))
    }  # open slots only, no night gaps
    fx = [position[t] for t in x]
    ax.fill_between(
        fx, forecast["lo95"], forecast["hi95"], color="tab:blue", alpha=0.15, label="95 % interval"
    )
    ax.fill_between(
        fx, forecast["lo80"], forecast["hi80"], color="tab:blue", alpha=0.3, label="80 % interval"
    )
    ax.plot(fx, forecast["forecast"], color="tab:blue", lw=1.2, label="forecast")
    ax.plot([position[t] for t in actual.index], actual.to_numpy(), color="black", lw=0.8, label="actual")
    ticks = sorted({t.normalize() for t in position})
    first_slot = {d: min(i for t, i in position.items() if t.normalize() == d) for d in ticks}
    ax.set_xticks(
        list(first_slot.values()),
        [d.strftime("%a %d %b") for d in first_slot],
        rotation=45,
        ha="right",
        fontsize=7,
    )
    ax.set_title(title)
    ax.set_ylabel(actual.name or "value")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
