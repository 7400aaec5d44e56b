"""Service metrics of groups of contacts or intervals: the one place they are defined.

Interval tables and the KPI report both call these, so an interval's service level and a
month's service level can never disagree on the definition (denominator: all arrivals).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.history.contacts import Contacts

COUNT_COLUMNS = ("arrivals", "handled", "abandoned", "answered_in_target")


def summarize_contacts(contacts: Contacts, keys: list[pd.Series], target_seconds: float) -> pd.DataFrame:
    """Per-group metrics for the fields the data has; ``keys`` are aligned Series to group by."""
    f = contacts.frame
    handled = f["handled"].to_numpy(bool)
    cols: dict[str, pd.Series] = {
        "arrivals": pd.Series(1, index=f.index),
        "handled": f["handled"].astype(int),
    }
    if not contacts.tickets or contacts.has("abandoned"):  # tickets are not abandoned unless said
        cols["abandoned"] = f["abandoned"].astype(int)
    means: dict[str, pd.Series] = {}
    p90: dict[str, pd.Series] = {}
    # the voice service level and ASA mean something only where the customer waits on the line
    realtime = f["realtime"].to_numpy(bool) if "realtime" in f else np.ones(len(f), bool)
    if contacts.has("wait_seconds") and realtime.any():
        wait = f["wait_seconds"].astype(float)
        # a ticket is answered by its first response, resolved or not
        answered = wait.notna().to_numpy() if contacts.tickets else handled
        cols["answered_in_target"] = (answered & realtime & (wait.to_numpy() <= target_seconds)).astype(int)
        if not realtime.all():
            cols["realtime_arrivals"] = pd.Series(realtime.astype(int), index=f.index)
        means["asa"] = wait.where(answered & realtime)
    if contacts.has("handle_seconds"):
        means["aht"] = f["handle_seconds"].astype(float).where(handled)
    for name in ("first_response_seconds", "resolution_seconds"):
        if contacts.has(name):
            short = name.replace("_seconds", "")
            means[f"{short}_mean_s"] = f[name].astype(float)
            p90[f"{short}_p90_s"] = f[name].astype(float)
    if contacts.has("csat"):
        csat = f["csat"].astype(float)
        means["csat_mean"] = csat
        means["csat"] = (csat >= 4).astype(float).where(csat.notna())
    if contacts.has("nps"):
        nps = f["nps"].astype(float)
        means["nps"] = ((nps >= 9).astype(float) - (nps <= 6).astype(float)).where(nps.notna()) * 100
    if contacts.has("ces"):
        ces = f["ces"].astype(float)
        means["ces"] = (ces >= 5).astype(float).where(ces.notna())
    if contacts.has("fcr"):
        means["fcr"] = f["fcr"].astype(float).where(handled)
    elif contacts.has("repeat"):
        first_contact = f["repeat"].eq(False) & handled  # NaN (unknown customer) is not False
        followed = f["followed_up"].astype("boolean")
        means["fcr"] = (~followed).astype("Float64").astype(float).where(first_contact)
    if contacts.has("repeat"):
        cols["known_customer_contacts"] = f["repeat"].notna().astype(int)
        cols["repeat_contacts"] = f["repeat"].eq(True).astype(int)

    data = pd.DataFrame(
        {**cols, **{f"_mean_{k}": v for k, v in means.items()}, **{f"_p90_{k}": v for k, v in p90.items()}}
    )
    grouped = data.groupby(keys, sort=True, observed=True)
    out = grouped[list(cols)].sum()
    if means:
        out = out.join(
            grouped[[f"_mean_{k}" for k in means]].mean().rename(columns=lambda c: c[len("_mean_") :])
        )
    if p90:
        out = out.join(
            grouped[[f"_p90_{k}" for k in p90]].quantile(0.9).rename(columns=lambda c: c[len("_p90_") :])
        )
    if contacts.has("agent_id"):
        agents = f["agent_id"].where(handled)
        out["agents_seen"] = agents.groupby(keys, sort=True, observed=True).nunique()
    return add_rates(out.reset_index(), tickets=contacts.tickets)


def per_agent_kpi(tickets: bool) -> str:
    """The name of handled contacts per agent: in a ticket export handled means resolved (the
    open ones' agents are not counted), so it says so."""
    return "resolved_tickets_per_agent" if tickets else "contacts_per_agent"


def add_rates(table: pd.DataFrame, tickets: bool = False) -> pd.DataFrame:
    """Rates that follow from counts; empty groups get NaN, not a fake 0 % or 100 %."""
    if "arrivals" not in table:  # e.g. an interval report of AHT only
        return table
    arrivals = table["arrivals"].astype(float).replace(0, np.nan)
    if "answered_in_target" in table:
        waiting = (
            table["realtime_arrivals"].astype(float).replace(0, np.nan)
            if "realtime_arrivals" in table
            else arrivals
        )
        table["service_level"] = table["answered_in_target"] / waiting
    if "abandoned" in table:
        table["abandon_rate"] = table["abandoned"] / arrivals
    if "repeat_contacts" in table:
        known = table["known_customer_contacts"].astype(float)
        episodes = (known - table["repeat_contacts"]).replace(0, np.nan)
        table["repeat_rate"] = table["repeat_contacts"] / known.replace(0, np.nan)
        table["contacts_per_issue"] = known / episodes
    if "agents_seen" in table:
        table[per_agent_kpi(tickets)] = table["handled"] / table["agents_seen"].replace(0, np.nan)
    return table


def rollup_intervals(intervals: pd.DataFrame, keys: list[pd.Series]) -> pd.DataFrame:
    """Aggregate an interval table (e.g. from interval reports) to coarser groups.

    Counts add up; AHT and ASA are weighted by handled contacts and service level by arrivals,
    which is how a center's own report would combine them.
    """
    t = intervals
    data = pd.DataFrame(index=t.index)
    counts = [c for c in COUNT_COLUMNS if c in t and t[c].notna().any()]
    for c in counts:
        data[c] = t[c]
    # weights: handled contacts, else arrivals, else plain means of the intervals
    weight = (
        t["handled"]
        if "handled" in counts
        else (t["arrivals"] if "arrivals" in counts else pd.Series(1.0, index=t.index))
    )
    weighted = {}
    for c in ("aht", "asa"):
        if c in t and t[c].notna().any() and weight is not None:
            data[f"_w_{c}"] = t[c] * weight
            data[f"_n_{c}"] = weight.where(t[c].notna())
            weighted[c] = True
    if "service_level" in t and t["service_level"].notna().any() and "answered_in_target" not in counts:
        data["answered_in_target"] = t["service_level"] * t["arrivals"]
        counts.append("answered_in_target")
    grouped = data.groupby(keys, sort=True, observed=True)
    out = grouped.sum(min_count=1)
    for c in weighted:
        out[c] = out.pop(f"_w_{c}") / out.pop(f"_n_{c}").replace(0, np.nan)
    out = out.reset_index()
    for c in ("arrivals", "abandoned"):
        if c not in out:
            out[c] = np.nan
    return add_rates(out)
