"""How many agents were really there in each interval, read from who answered calls when.

Agents *seen* (anyone who served a call in the interval) overstate capacity: an agent who took
one call and went to a meeting counts as a full agent for the hour. An agent's *presence* is
instead the spans between their calls, joined while the gaps are short (a short gap is wrap-up
or waiting for the next call; a long one is a break or other work); the agents present in an
interval are the time-average of those spans over it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.history.contacts import Contacts

PRESENCE_GAPS = (300.0, 600.0, 1200.0)  # seconds between calls still counted as present


def served_calls(contacts: Contacts) -> pd.DataFrame:
    """agent, start (answer) and end of every served call with an agent and an answer time."""
    f = contacts.frame
    served = f[f["handled"].astype(bool) & f["agent_id"].notna() & f["answer_time"].notna()]
    end = served["end_time"].fillna(served["answer_time"])
    return pd.DataFrame(
        {
            "agent": served["agent_id"].to_numpy(),
            "start": served["answer_time"].to_numpy(),
            "end": np.maximum(end.to_numpy(), served["answer_time"].to_numpy()),
        }
    )


def agents_seen(contacts: Contacts, length: pd.Timedelta) -> pd.Series:
    """Distinct agents serving a call at some moment of each interval (start or end inside it)."""
    calls = served_calls(contacts)
    pairs = pd.concat(
        [
            pd.DataFrame({"interval_start": calls["start"].dt.floor(length), "agent": calls["agent"]}),
            pd.DataFrame({"interval_start": calls["end"].dt.floor(length), "agent": calls["agent"]}),
        ]
    )
    return pairs.drop_duplicates().groupby("interval_start").size().rename("agents_seen")


def presence_spans(calls: pd.DataFrame, gap_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of each agent's spans of presence: consecutive calls joined while the
    gap from the end of everything before to the next answer is at most ``gap_seconds``."""
    calls = calls.sort_values(["agent", "start"], kind="stable")
    latest_end = calls.groupby("agent", sort=False)["end"].cummax()
    previous_end = latest_end.groupby(calls["agent"], sort=False).shift()
    new_span = previous_end.isna() | ((calls["start"] - previous_end).dt.total_seconds() > gap_seconds)
    span = new_span.cumsum().to_numpy()
    grouped = calls.assign(span=span).groupby("span", sort=False)
    return grouped["start"].min().to_numpy(), grouped["end"].max().to_numpy()


def agents_present(
    contacts: Contacts, length: pd.Timedelta, gap_seconds: float, intervals: pd.DatetimeIndex
) -> pd.Series:
    """Time-average number of agents present over each interval starting at ``intervals``."""
    starts, ends = presence_spans(served_calls(contacts), gap_seconds)
    edges = np.concatenate([intervals.to_numpy(), (intervals + length).to_numpy()])
    present = _present_seconds_until(starts, ends, edges)
    seconds = present[len(intervals) :] - present[: len(intervals)]
    return pd.Series(seconds / length.total_seconds(), index=intervals, name=f"present_{gap_seconds:g}")


def _present_seconds_until(starts: np.ndarray, ends: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Σ over spans of the seconds each spent present before each of ``times``:
    Σ_{start ≤ t} (t − start) − Σ_{end ≤ t} (t − end), from sorted starts and ends."""
    out = np.zeros(len(times))
    t = times.astype("datetime64[ns]").astype(np.int64) / 1e9
    for points, sign in ((starts, 1.0), (ends, -1.0)):
        p = np.sort(points.astype("datetime64[ns]").astype(np.int64) / 1e9)
        cumulative = np.concatenate([[0.0], np.cumsum(p)])
        k = np.searchsorted(p, t, side="right")
        out += sign * (k * t - cumulative[k])
    return out
