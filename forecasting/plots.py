"""Plots people would rather look at than read: forecast against actual with its bands."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from forecasting.slots import open_stretches


def forecast_plot(actual: pd.Series, forecast: pd.DataFrame, title: str):
    """Actual history (last weeks) and a forecast table with lo/hi 80 and 95 bands, each line
    and band drawn per open stretch (closed nights are left out of the axis and not joined)."""
    fig, ax = plt.subplots(figsize=(12, 4))
    x = pd.to_datetime(forecast["timestamp"]) if "timestamp" in forecast else forecast.index
    x = pd.DatetimeIndex(x)
    position = {
        t: i for i, t in enumerate(sorted(set(actual.index) | set(x)))
    }  # open slots only, no night gaps
    fx = np.array([position[t] for t in x])
    ax_ = np.array([position[t] for t in actual.index])
    stretches = open_stretches(x)
    for n, part in enumerate(np.unique(stretches)):
        rows, first = stretches == part, n == 0
        for level, alpha in ((95, 0.15), (80, 0.3)):
            ax.fill_between(
                fx[rows],
                forecast[f"lo{level}"].to_numpy()[rows],
                forecast[f"hi{level}"].to_numpy()[rows],
                color="tab:blue",
                alpha=alpha,
                label=f"{level} % interval" if first else None,
            )
        ax.plot(
            fx[rows],
            forecast["forecast"].to_numpy()[rows],
            color="tab:blue",
            lw=1.2,
            label="forecast" if first else None,
        )
    stretches = open_stretches(actual.index)
    for n, part in enumerate(np.unique(stretches)):
        rows = stretches == part
        ax.plot(ax_[rows], actual.to_numpy()[rows], color="black", lw=0.8, label="actual" if n == 0 else None)
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
