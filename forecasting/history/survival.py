"""Kaplan-Meier estimates for many groups at once: times to first response and to resolution
when some tickets are still open.

An open ticket's time is only known to be longer than its age at the export (censored).
Averaging resolved tickets alone drops the slow ones still open and reads too fast; counting
open ones as resolved at the export reads too slow. Kaplan-Meier uses each ticket for as long
as it was watched.

Vectorized over groups: with rows sorted by group, time and events before censorings at the
same time, a row's number at risk is the rows left in its group, and the product of
(1 - 1/at risk) over a group's event rows telescopes to the textbook (1 - d/n) per distinct
time, so one cumulative sum of logs gives every group's curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def survival_curves(duration, observed, group) -> pd.DataFrame:
    """Rows sorted by group and time, with ``survival`` just after each row's time (ties: the
    value after the last tied row)."""
    duration = np.asarray(duration, float)
    observed = np.asarray(observed, bool)
    group = np.asarray(group)
    keep = np.isfinite(duration)
    duration, observed, group = duration[keep], observed[keep], group[keep]
    order = np.lexsort((~observed, duration, group))
    d, e, g = duration[order], observed[order], group[order]
    frame = pd.DataFrame({"group": g, "t": d, "observed": e})
    position = frame.groupby("group", sort=False).cumcount().to_numpy()
    size = frame.groupby("group", sort=False)["t"].transform("size").to_numpy()
    at_risk = size - position
    with np.errstate(divide="ignore"):
        step = np.where(e, np.log1p(-1.0 / at_risk), 0.0)  # -inf when the last one at risk ends
    frame["log_survival"] = pd.Series(step).groupby(g, sort=False).cumsum().to_numpy()
    frame["survival"] = np.exp(frame["log_survival"])
    return frame


def survival_at(duration, observed, group, at: pd.Series) -> pd.Series:
    """S(at[group]) per group: the share still waiting after ``at`` seconds (1 when nothing
    ended by then); ``at`` is indexed by group."""
    curves = survival_curves(duration, observed, group)
    limit = curves["group"].map(at).to_numpy(float)
    by_then = curves[curves["t"].to_numpy() <= limit]
    value = by_then.groupby("group", sort=False)["survival"].last()
    groups = pd.unique(curves["group"])
    return value.reindex(groups).fillna(1.0)


def median_time(duration, observed, group) -> pd.Series:
    """The Kaplan-Meier median per group: the first time its curve reaches 0.5; NaN when it
    never does (more than half still open at their last look)."""
    curves = survival_curves(duration, observed, group)
    reached = curves[(curves["survival"] <= 0.5 + 1e-12) & curves["observed"]]
    groups = pd.unique(curves["group"])
    return reached.groupby("group", sort=False)["t"].min().reindex(groups)
