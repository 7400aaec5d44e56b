"""Plots people would rather look at than read: forecast against actual with its bands."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def open_stretches(timestamps) -> np.ndarray:
    """A number per timestamp that changes wherever the series skips time (a closed night, a
    weekend, a missing interval): the step is the series' most common spacing. Lines and bands
    are drawn per stretch, so nothing is drawn across time the centre was closed."""
    t = pd.to_datetime(pd.Series(timestamps)).reset_index(drop=True)
    order = np.argsort(t.to_numpy(), kind="stable")
    gaps = t.iloc[order].diff()
    step = gaps[gaps > pd.Timedelta(0)].mode()
    jumps = (gaps > step.iloc[0]).to_numpy() if len(step) else np.zeros(len(t), bool)
    out = np.empty(len(t), int)
    out[order] = np.cumsum(jumps)
    return out


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
    for n, part in enumerate(np.unique(open_stretches(x))):
        rows = open_stretches(x) == part
        first = n == 0
        ax.fill_between(
            fx[rows],
            forecast["lo95"].to_numpy()[rows],
            forecast["hi95"].to_numpy()[rows],
            color="tab:blue",
            alpha=0.15,
            label="95 % interval" if first else None,
        )
        ax.fill_between(
            fx[rows],
            forecast["lo80"].to_numpy()[rows],
            forecast["hi80"].to_numpy()[rows],
            color="tab:blue",
            alpha=0.3,
            label="80 % interval" if first else None,
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
