"""Deferred work (email, tickets): a backlog carried across intervals and closed hours,
worked oldest first, with a response-time target of "X % answered within H hours".

With first-in-first-out work the cumulative number handled obeys
handled(t) = min(arrived(t), handled(t−1) + capacity(t)), whose closed form
handled(t) = C(t) + min(0, min_{s≤t} [A(s) − C(s)]) (A, C cumulative arrivals and capacity)
makes the whole horizon one vectorized pass, however many intervals it has.
"""

from __future__ import annotations

import numpy as np


def deadline_lag(target_seconds: float, interval_seconds: float) -> int:
    """Intervals after its arrival interval by whose end an item is surely within target.

    Conservative at interval resolution: an item may have arrived at the end of its interval.
    """
    return max(int(np.floor(target_seconds / interval_seconds)) - 1, 0)


def backlog_simulation(
    arrivals, aht, agents, interval_seconds: float, target_seconds: float, initial: float = 0.0
) -> dict[str, np.ndarray]:
    """Per interval: handled, backlog at the end, age of the oldest waiting item at the end
    (seconds), and the share of the interval's arrivals answered within the target.

    ``agents`` is 0 in closed intervals: work waits for the next opening. ``initial`` items
    are waiting at the start (the open backlog at the end of the data); first in, they are
    worked first, and count as the oldest while they last.
    """
    arrivals = np.asarray(arrivals, float)
    aht = np.broadcast_to(np.asarray(aht, float), arrivals.shape)
    capacity = np.asarray(agents, float) * interval_seconds / aht
    A = initial + np.cumsum(arrivals)
    C = np.cumsum(capacity)
    H = C + np.minimum(0.0, np.minimum.accumulate(A - C))
    H = np.minimum(H, A)
    handled = np.diff(np.r_[0.0, H])
    backlog = A - H
    # oldest waiting item: the first one not yet handled, which arrived in interval k
    k = np.searchsorted(A, H, side="right")
    ends = (np.arange(len(A)) + 1) * interval_seconds
    oldest_age = np.where(backlog > 1e-9, ends - np.minimum(k, len(A) - 1) * interval_seconds, 0.0)
    # arrivals of interval i are surely in time if handled by the end of interval i + lag − 1
    lag = deadline_lag(target_seconds, interval_seconds)
    later = np.minimum(np.arange(len(A)) + lag, len(A) - 1)
    before = np.r_[initial, A[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        in_time = np.clip((H[later] - before) / arrivals, 0.0, 1.0)
    in_time = np.where(arrivals > 0, in_time, np.nan)
    return {
        "handled": handled,
        "backlog": backlog,
        "oldest_age_seconds": oldest_age,
        "answered_in_time": in_time,
    }


def backlog_required_agents(
    arrivals,
    aht,
    open_mask,
    interval_seconds: float,
    target_seconds: float,
    share: float = 1.0,
    initial: float = 0.0,
) -> np.ndarray:
    """Agents per open interval so that the work is answered within the target, oldest first.

    Level plan: each interval's work is spread evenly over the open intervals from its arrival
    (or the next opening) to its deadline, so no closing time or weekend piles work into one
    interval. Such a plan is feasible item by item, so first-in-first-out (which is earliest
    deadline first here) meets every deadline that has an opening before it. With
    ``share`` < 1, the remaining work may take up to twice the target. All work is staffed:
    leaving some undone would grow the backlog without end. Work arriving after the last
    opening of the horizon is not staffed here. ``initial`` items waiting at the start are
    staffed as if they arrived at the first opening: answered within the target from then
    (not all in that first interval, as work due before it would be).
    """
    arrivals = np.asarray(arrivals, float)
    aht = np.broadcast_to(np.asarray(aht, float), arrivals.shape)
    open_mask = np.asarray(open_mask, bool)
    n = len(arrivals)
    index = np.arange(n)
    lag = deadline_lag(target_seconds, interval_seconds)
    rank = np.cumsum(open_mask) - 1  # open intervals numbered 0, 1, …
    n_open = int(open_mask.sum())
    if n_open == 0:
        return np.zeros(n, np.int64)
    first = np.minimum.accumulate(np.where(open_mask, index, n)[::-1])[::-1]  # first open >= i
    has_start = first < n
    start = np.where(has_start, rank[np.minimum(first, n - 1)], n_open)
    work = arrivals * aht
    opening = int(np.argmax(open_mask))  # the waiting work is due within the target of the first opening
    work[opening] += initial * aht[opening]
    rate = np.zeros(n_open + 1)
    due_rank = {}
    for part, days in ((share, lag), (1.0 - share, 2 * lag + 1)):
        due = np.minimum(index + days, n - 1)
        end = np.maximum(rank[due], start)  # latest open <= deadline; at least the start
        due_rank[days] = end
        if part <= 0:
            continue
        ok = has_start & (work > 0)
        per = part * work[ok] / (end[ok] - start[ok] + 1)
        np.add.at(rate, start[ok], per)
        np.add.at(rate, end[ok] + 1, -per)
    need = np.cumsum(rate)[:n_open] / interval_seconds
    # whole agents: the level plan's running total rounded up (a queue needing 0.3 of an agent
    # an hour gets one agent every few hours, not one every hour), then topped up wherever
    # first-in-first-out would miss a deadline with them
    whole = np.diff(np.r_[0.0, np.ceil(np.cumsum(need) - 1e-9)])
    items = arrivals.copy()
    items[opening] += initial
    due_by = _due_by_rank(items, has_start, due_rank[lag], due_rank[2 * lag + 1], share, n_open)
    capacity = interval_seconds / aht[open_mask]
    arrived = np.cumsum(items)[open_mask]
    agents = np.zeros(n)
    agents[open_mask] = _top_up(whole, capacity, arrived, due_by)
    return agents.astype(np.int64)


def _due_by_rank(items, has_start, first_end, last_end, share: float, n_open: int) -> np.ndarray:
    """Items (first in, first out) that must be handled by the end of each open interval: a
    ``share`` of each interval's by its first deadline, all of them by the second."""
    total = np.cumsum(items)
    before = total - items
    due = np.zeros(n_open)
    ok = has_start & (items > 0)
    np.maximum.at(due, first_end[ok], before[ok] + share * items[ok])
    np.maximum.at(due, last_end[ok], total[ok])
    return np.maximum.accumulate(due)


def _top_up(agents, capacity, arrived, due_by) -> np.ndarray:
    """``agents`` per open interval, raised where the items handled so far (each agent handles
    ``capacity`` items an interval, never more than have arrived) fall short of ``due_by``."""
    agents = agents.copy()
    handled = 0.0
    for t in range(len(agents)):
        short = due_by[t] - (handled + agents[t] * capacity[t])
        if short > 1e-9:
            agents[t] += np.ceil(short / capacity[t] - 1e-9)
        handled = min(arrived[t], handled + agents[t] * capacity[t])
    return agents
