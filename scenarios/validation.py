"""Staffing-model validation on a center's own log: calibrate on the first days, then predict
each later interval's abandonment, ASA and service level from its observed arrivals, handle
time and staffing, and compare with what really happened.

Models: plain Erlang C and Erlang A (with the patience estimated from the training days) on the
agents seen in the log; the calibrated model (Erlang A on the agents seen × the availability
fitted on the training days); and the simulation with lognormal handle times and the same
calibrated staffing.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from forecasting.errors import InputError
from forecasting.history.contacts import Contacts
from forecasting.history.intervals import contacts_to_intervals
from forecasting.history.targets import DEFAULT_TARGET_SECONDS
from scenarios.staffing.calibration import (
    Calibration,
    fit_availability,
    fit_lognormal,
    patience_from_abandonment,
    patience_kaplan_meier,
)
from scenarios.staffing.erlang import erlang_a_metrics, erlang_c_metrics
from scenarios.staffing.simulation import Distribution, simulate

log = logging.getLogger(__name__)
REPORT_COLUMNS = [
    "interval_start",
    "model",
    "arrivals",
    "observed_abandon_rate",
    "predicted_abandon_rate",
    "observed_asa",
    "predicted_asa",
    "observed_sl",
    "predicted_sl",
    "agents_seen",
    "agents_modelled",
]
MODELS = ("erlang-c", "erlang-a", "calibrated", "simulation")


def agents_seen(contacts: Contacts, length: pd.Timedelta) -> pd.Series:
    """Distinct agents serving a call at some moment of each interval (start or end inside it)."""
    f = contacts.frame
    served = f[f["handled"] & f["agent_id"].notna() & f["answer_time"].notna()]
    end = served["end_time"].fillna(served["answer_time"])
    pairs = pd.concat(
        [
            pd.DataFrame(
                {"interval_start": served["answer_time"].dt.floor(length), "agent": served["agent_id"]}
            ),
            pd.DataFrame({"interval_start": end.dt.floor(length), "agent": served["agent_id"]}),
        ]
    )
    return pairs.drop_duplicates().groupby("interval_start").size().rename("agents_seen")


def calibrate(
    contacts: Contacts, train: pd.DataFrame, length: pd.Timedelta, target_seconds: float
) -> Calibration:
    f = contacts.frame
    wait = f["wait_seconds"].fillna(0).to_numpy(float)
    abandoned = f["abandoned"].to_numpy(bool)
    patience = patience_from_abandonment(wait, abandoned)
    _, _, km_mean = patience_kaplan_meier(wait, abandoned)
    handle = fit_lognormal(f.loc[f["handled"], "handle_seconds"].to_numpy(float))
    alpha = fit_availability(
        train["arrivals"],
        train["aht"],
        train["agents_seen"],
        train["abandon_rate"],
        train["service_level"],
        length.total_seconds(),
        target_seconds,
        patience,
    )
    return Calibration(patience, km_mean, handle, alpha)


def validate_staffing(
    contacts: Contacts,
    length: pd.Timedelta,
    train_until: pd.Timestamp,
    target_seconds: float = DEFAULT_TARGET_SECONDS,
    replications: int = 10,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, Calibration]:
    """Per-interval report (one row per interval and model), error summary, and the calibration."""
    if not contacts.has("agent_id", "answer_time", "wait_seconds", "handle_seconds"):
        raise InputError(
            "the log lacks what validation needs",
            column="agent_id",
            expected="agent, answer time, wait and handle time per contact (e.g. <<format>> anonymous-bank)",
        )
    table = contacts_to_intervals(contacts, length, target_seconds)
    table = (
        table.groupby("interval_start", as_index=False)[
            ["arrivals", "handled", "abandoned", "answered_in_target"]
        ]
        .sum()
        .merge(_pooled(contacts, length), on="interval_start", how="left")
    )
    table = table.join(agents_seen(contacts, length), on="interval_start")
    table["agents_seen"] = table["agents_seen"].fillna(0)
    table["abandon_rate"] = table["abandoned"] / table["arrivals"].replace(0, np.nan)
    table["service_level"] = table["answered_in_target"] / table["arrivals"].replace(0, np.nan)
    usable = (table["arrivals"] > 0) & (table["agents_seen"] > 0) & table["aht"].notna()
    cut = pd.Timestamp(train_until).normalize() + pd.Timedelta(days=1)
    train = table[usable & (table["interval_start"] < cut)]
    test = table[usable & (table["interval_start"] >= cut)]
    if train.empty or test.empty:
        raise InputError(
            "nothing to train on or to test",
            option="train_until",
            expected=f"a date inside the log, leaving days after it (log: {table['interval_start'].min():%Y-%m-%d} to {table['interval_start'].max():%Y-%m-%d})",
            found=str(train_until.date()),
        )
    train_contacts = Contacts(contacts.frame[contacts.frame["arrival_time"] < cut], contacts.available)
    cal = calibrate(train_contacts, train, length, target_seconds)
    log.info(
        "calibrated on %d intervals: patience %.0f s (Kaplan–Meier %.0f s), handle lognormal mean %.0f s cv %.2f, availability %.2f",
        len(train),
        cal.patience_seconds,
        cal.patience_km_seconds,
        cal.handle.mean,
        cal.handle.cv,
        cal.availability,
    )
    seconds = length.total_seconds()
    v, h, n = (
        test["arrivals"].to_numpy(float),
        test["aht"].to_numpy(float),
        test["agents_seen"].to_numpy(float),
    )
    predictions = {
        "erlang-c": (erlang_c_metrics(v, h, seconds, n, target_seconds), n),
        "erlang-a": (erlang_a_metrics(v, h, seconds, n, target_seconds, cal.patience_seconds), n),
        "calibrated": (
            erlang_a_metrics(v, h, seconds, n * cal.availability, target_seconds, cal.patience_seconds),
            n * cal.availability,
        ),
    }
    predictions["simulation"] = _simulated(test, table, cut, cal, seconds, target_seconds, replications, seed)
    parts = []
    for model, (m, modelled) in predictions.items():
        asa = np.where(np.isfinite(m["asa_seconds"]), m["asa_seconds"], np.nan)
        parts.append(
            pd.DataFrame(
                {
                    "interval_start": test["interval_start"].to_numpy(),
                    "model": model,
                    "arrivals": v.astype(int),
                    "observed_abandon_rate": test["abandon_rate"].to_numpy(),
                    "predicted_abandon_rate": m["abandon_rate"],
                    "observed_asa": test["asa"].to_numpy(),
                    "predicted_asa": asa,
                    "observed_sl": test["service_level"].to_numpy(),
                    "predicted_sl": m["service_level"],
                    "agents_seen": n.astype(int),
                    "agents_modelled": modelled,
                }
            )
        )
    report = pd.concat(parts, ignore_index=True)[REPORT_COLUMNS].sort_values(
        ["interval_start", "model"], kind="stable"
    )
    return report.reset_index(drop=True), error_summary(report), cal


def _pooled(contacts: Contacts, length: pd.Timedelta) -> pd.DataFrame:
    """AHT and ASA of served calls per interval over all queues."""
    f = contacts.frame[contacts.frame["handled"]]
    start = f["arrival_time"].dt.floor(length).rename("interval_start")
    return pd.DataFrame(
        {"aht": f["handle_seconds"].groupby(start).mean(), "asa": f["wait_seconds"].groupby(start).mean()}
    ).reset_index()


def _simulated(test, table, cut, cal: Calibration, seconds, target_seconds, replications, seed):
    """Simulate the whole test period as one run (queues carry over between intervals)."""
    span = table[table["interval_start"] >= cut].set_index("interval_start")
    volume = span["arrivals"].to_numpy(float)
    agents = np.round(span["agents_seen"].to_numpy(float) * cal.availability)
    aht_mean = float(np.nanmean(span["aht"]))
    result = simulate(
        volume,
        agents,
        seconds,
        Distribution("lognormal", aht_mean, cal.handle.cv),
        Distribution("exponential", cal.patience_seconds),
        target_seconds,
        replications,
        seed,
    )
    pick = span.index.get_indexer(test["interval_start"])
    m = {k: result.mean[k][pick] for k in ("abandon_rate", "asa_seconds", "service_level")}
    return m, agents[pick]


def error_summary(report: pd.DataFrame) -> pd.DataFrame:
    """Arrival-weighted mean absolute error and bias of each model, per metric."""
    rows = []
    for model, part in report.groupby("model", sort=False):
        w = part["arrivals"].to_numpy(float)
        row = {"model": model, "intervals": len(part)}
        for metric in ("abandon_rate", "asa", "sl"):
            obs, pred = (
                part[f"observed_{metric}"].to_numpy(float),
                part[f"predicted_{metric}"].to_numpy(float),
            )
            ok = np.isfinite(obs) & np.isfinite(pred)
            row[f"{metric}_mae"] = (
                float(np.average(np.abs(pred[ok] - obs[ok]), weights=w[ok])) if ok.any() else np.nan
            )
            row[f"{metric}_bias"] = (
                float(np.average(pred[ok] - obs[ok], weights=w[ok])) if ok.any() else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows).sort_values("abandon_rate_mae").reset_index(drop=True)
