"""Ticket KPIs: response and resolution against SLAs per channel and priority, censoring-aware,
and the backlog of open tickets at each period's end.

A ticket export differs from a call log in three ways this module owns: its targets are "first
response within H hours" and "resolved within D hours", usually by channel and priority (not
"answered within 20 s"); some tickets are still open, so their times are only known to exceed
their age (Kaplan-Meier, ``forecasting.history.survival``); and open tickets are work waiting,
counted at each period end with their age.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.contacts import Contacts
from forecasting.history.survival import median_time, survival_at
from forecasting.history.targets import SLA_KINDS, KpiTargets, SlaRule

CLOCKS = {"first_response": "first_response_seconds", "resolution": "resolution_seconds"}
FLAGS = {"first_response": "first_response_sla_met", "resolution": "resolution_sla_met"}


def ticket_slas(contacts: Contacts, targets: KpiTargets) -> dict[str, np.ndarray]:
    """Each ticket's SLA in seconds (NaN: none applies) per kind with a rule in ``targets``;
    a rule naming no channel, queue or priority of the data is an error naming its key."""
    out = {}
    for kind in SLA_KINDS:
        rule: SlaRule = getattr(targets, kind)
        if rule and contacts.has(CLOCKS[kind]):
            out[kind] = sla_seconds(contacts, rule, kind)
    return out


def sla_seconds(contacts: Contacts, rule: SlaRule, kind: str = "first_response") -> np.ndarray:
    """The most specific time of ``rule`` for each contact: channel and priority nested, its
    priority, its channel or queue, that one's default, the default."""
    f = contacts.frame
    names = {
        "channel": _lower(f["channel"] if contacts.has("channel") else f["queue"]),
        "queue": _lower(f["queue"]),
        "priority": _lower(f["priority"]) if contacts.has("priority") else pd.Series("", index=f.index),
    }
    _check_keys(rule, kind, names)
    combos = pd.DataFrame(names).drop_duplicates()
    low = {
        k.lower(): ({kk.lower(): vv for kk, vv in v.items()} if isinstance(v, dict) else v)
        for k, v in rule.items()
    }
    combos["sla"] = [
        _lookup(low, *row) for row in combos[["channel", "queue", "priority"]].itertuples(index=False)
    ]
    joined = pd.DataFrame(names).merge(combos, on=["channel", "queue", "priority"], how="left")
    return joined["sla"].to_numpy(float)


def _lower(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.lower().where(values.notna(), "")


def _lookup(rule: dict, channel: str, queue: str, priority: str) -> float:
    for name in (channel, queue):
        nested = rule.get(name)
        if isinstance(nested, dict) and priority in nested:
            return nested[priority]
    if priority and isinstance(rule.get(priority), float):
        return rule[priority]
    for name in (channel, queue):
        value = rule.get(name)
        if isinstance(value, float):
            return value
        if isinstance(value, dict) and "default" in value:
            return value["default"]
    value = rule.get("default")
    return value if isinstance(value, float) else np.nan


def _check_keys(rule: SlaRule, kind: str, names: dict[str, pd.Series]) -> None:
    known = {v for series in names.values() for v in series.unique() if v}
    priorities = {v for v in names["priority"].unique() if v}
    for key, value in rule.items():
        if key.lower() != "default" and key.lower() not in known:
            raise InputError(
                "the targets file names a channel, queue or priority that is not in the data",
                key=f"{kind}.{key}",
                expected="default or one of " + ", ".join(sorted(known)),
            )
        if isinstance(value, dict):
            for inner in value:
                if inner.lower() != "default" and inner.lower() not in priorities:
                    raise InputError(
                        "the targets file names a priority that is not in the data",
                        key=f"{kind}.{key}.{inner}",
                        expected="default or one of "
                        + (", ".join(sorted(priorities)) or "(no priority column mapped)"),
                    )


def clock(contacts: Contacts, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Each ticket's time to ``kind`` and whether it was seen (False: still waiting at the
    export, its age then); NaN where neither is known (resolved with no time recorded)."""
    f = contacts.frame
    seen = f[CLOCKS[kind]].to_numpy(float)
    observed = np.isfinite(seen)
    age = (
        f["open_age_seconds"].to_numpy(float) if contacts.has("open_age_seconds") else np.full(len(f), np.nan)
    )
    return np.where(observed, seen, age), observed


def verdicts(duration: np.ndarray, observed: np.ndarray, sla: np.ndarray) -> np.ndarray:
    """Per ticket: 1.0 within its SLA, 0.0 missed (late, or still waiting past it), NaN when
    not yet known (still waiting, younger than its SLA) or no SLA applies."""
    with np.errstate(invalid="ignore"):
        met = np.where(observed, (duration <= sla).astype(float), np.where(duration > sla, 0.0, np.nan))
    return np.where(np.isfinite(sla) & np.isfinite(duration), met, np.nan)


def ticket_kpis(contacts: Contacts, keys: list[pd.Series], slas: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per group of ``keys``: Kaplan-Meier median time to first response and to resolution (a
    ticket export: open ones censored at the export), the Kaplan-Meier share within its SLA,
    and how often the export's own SLA flags agree with ours."""
    keyed = pd.DataFrame({k.name: k.to_numpy() for k in keys})
    codes = keyed.groupby(list(keyed.columns), sort=False, dropna=False).ngroup().to_numpy()
    uniques = pd.MultiIndex.from_frame(keyed.groupby(codes).first())
    out = pd.DataFrame(index=pd.RangeIndex(len(uniques)))
    for kind in CLOCKS:
        if not contacts.has(CLOCKS[kind]):
            continue
        duration, observed = clock(contacts, kind)
        if contacts.tickets:
            out[f"{kind}_median_s"] = median_time(duration, observed, codes).reindex(out.index)
        if kind in slas:
            out[f"{kind}_in_sla"] = _share_within(duration, observed, codes, slas[kind]).reindex(out.index)
            flag = FLAGS[kind]
            if contacts.has(flag):
                theirs = contacts.frame[flag].astype("Float64").to_numpy(float, na_value=np.nan)
                ours = verdicts(duration, observed, slas[kind])
                both = np.isfinite(theirs) & np.isfinite(ours)
                agree = pd.Series(np.where(both, (theirs == ours).astype(float), np.nan))
                out[f"{kind}_sla_agreement"] = agree.groupby(codes).mean().reindex(out.index)
    out.index = uniques
    return out.dropna(axis=1, how="all").reset_index()


def _share_within(duration, observed, codes, sla) -> pd.Series:
    """1 − S(SLA) by Kaplan-Meier, in each group's tickets of one SLA, weighted by their number."""
    known = np.isfinite(sla) & np.isfinite(duration)
    part = pd.DataFrame({"group": codes[known], "sla": sla[known]})
    cls = part.groupby(["group", "sla"], sort=False).ngroup().to_numpy()
    at = part.groupby(cls)["sla"].first()
    within = 1.0 - survival_at(duration[known], observed[known], cls, at)
    sizes = pd.Series(cls).value_counts()
    owner = part.groupby(cls)["group"].first()
    frame = pd.DataFrame(
        {"group": owner, "within": within.reindex(owner.index), "n": sizes.reindex(owner.index)}
    )
    weighted = (frame["within"] * frame["n"]).groupby(frame["group"]).sum()
    return weighted / frame.groupby("group")["n"].sum()


def backlog_at(
    contacts: Contacts,
    ends: pd.Series,
    resolution_sla: np.ndarray | None = None,
    group: pd.Series | None = None,
) -> pd.DataFrame:
    """Open tickets at each time in ``ends`` (exclusive: created before it and not resolved by
    it), per queue (or per ``group``, one value per ticket; the column is still 'queue'): how many, their median and largest age, and the share older than their
    resolution SLA. Ends after the export are taken at the export. Resolved tickets with no
    resolution time cannot be placed and are left out."""
    f = contacts.frame
    arrival = f["arrival_time"].to_numpy("datetime64[ns]")
    resolution = pd.to_timedelta(f["resolution_seconds"], unit="s").to_numpy("timedelta64[ns]")
    still_open = f["status"].eq("open").to_numpy()
    closed = np.where(still_open, np.datetime64("2262-01-01"), arrival + resolution)
    placed = still_open | ~np.isnat(closed)
    queue = (f["queue"] if group is None else group).to_numpy()
    sla = np.full(len(f), np.nan) if resolution_sla is None else np.asarray(resolution_sla, float)
    as_of = contacts.as_of
    ends = pd.unique(ends)
    parts = []
    for number, end in enumerate(ends):
        at = np.datetime64(min(pd.Timestamp(end), as_of) if as_of is not None else pd.Timestamp(end))
        waiting = np.flatnonzero(placed & (arrival < at) & (closed >= at))
        parts.append(
            (np.full(len(waiting), number), waiting, (at - arrival[waiting]) / np.timedelta64(1, "s"))
        )
    end_number = np.concatenate([p[0] for p in parts])
    rows = np.concatenate([p[1] for p in parts]).astype(int)
    ages = np.concatenate([p[2] for p in parts])
    with np.errstate(invalid="ignore"):
        over = np.where(np.isfinite(sla[rows]), ages > sla[rows], np.nan)
    long = pd.DataFrame({"end": end_number, "queue": queue[rows], "age": ages, "over": over})
    named = {
        "backlog": ("age", "size"),
        "backlog_age_median_s": ("age", "median"),
        "backlog_age_max_s": ("age", "max"),
        "backlog_over_sla": ("over", "mean"),
    }
    per_queue = long.groupby(["end", "queue"]).agg(**named).reset_index()
    total = long.groupby("end").agg(**named).reindex(range(len(ends))).rename_axis("end").reset_index()
    total["queue"] = None
    total["backlog"] = total["backlog"].fillna(0).astype(int)
    table = pd.concat([per_queue, total], ignore_index=True)
    table["end"] = np.asarray(ends)[table["end"].to_numpy()]
    if not np.isfinite(sla).any():
        table = table.drop(columns="backlog_over_sla")
    return table


def waiting_for_response(contacts: Contacts, queue: str | None = None) -> pd.Series:
    """Ages (seconds, at the export) of the open tickets still waiting for a first response:
    the work a response-time SLA is staffed against when a plan starts from this export.
    Without first-response times every open ticket counts. Empty when it is no ticket export."""
    if not contacts.tickets or not contacts.has("open_age_seconds"):
        return pd.Series(dtype=float)
    f = contacts.frame
    waiting = f["status"].eq("open") & f["open_age_seconds"].notna()
    if contacts.has("first_response_seconds"):
        waiting &= f["first_response_seconds"].isna()
    if queue is not None:
        waiting &= f["queue"].eq(queue)
    return f.loc[waiting, "open_age_seconds"].reset_index(drop=True)
