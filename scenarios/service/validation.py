"""Staffing-model validation on a centre's own log: calibrate on the first days, then predict
each later interval's abandonment, ASA and service level from its observed arrivals, handle
time and agents, and compare with what really happened.

Every model of ``models`` is fitted on the training days and scored on the test days; the one
reported as *chosen* is picked before the test days are looked at, by its out-of-time error on
the training days themselves (each of the last training days predicted from the days before
it), so the choice is the one a planner could have made. The simulation (queues carried over
between intervals) is reported beside them, not chosen: it is too slow to refit per day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.contacts import Contacts
from forecasting.history.targets import DEFAULT_TARGET_SECONDS
from scenarios.service.models import LearnedModel, QueueingModel
from scenarios.service.presence import PRESENCE_GAPS
from scenarios.service.table import present_column, service_table
from scenarios.staffing.calibration import Calibration, fit_lognormal, patience_kaplan_meier
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
MODELS = ("erlang-c", "erlang-a", "calibrated", "calibrated-by-hour", "present", "learned", "simulation")
OUT_OF_TIME_DAYS = 7  # the last training days each predicted from the days before them
DEFAULT_MODEL = "erlang-a"  # the textbook formula, kept when the training days cannot choose
MIN_FOLD_TRAIN_DAYS = 3  # days a fold's model is fitted on, at least


@dataclass
class Validation:
    report: pd.DataFrame  # one row per test interval and model
    summary: pd.DataFrame  # per model: test errors, out-of-time error on the training days, chosen
    calibration: Calibration  # of the 'calibrated' model: patience, handle times, availability
    chosen: str  # the model picked by out-of-time error on the training days (or the default)
    undecided: str | None  # why the training days could not choose (DEFAULT_MODEL kept); None if they did
    presence_gap: float  # seconds between calls still counted as present, picked likewise
    presence_availability: float  # α of the 'present' model


def candidate_models(seconds: float, target: float, gap: float) -> dict[str, object]:
    present = present_column(gap)
    return {
        "erlang-c": QueueingModel("erlang-c", seconds, target),
        "erlang-a": QueueingModel("erlang-a", seconds, target),
        "calibrated": QueueingModel("erlang-a", seconds, target, calibrate=True),
        "calibrated-by-hour": QueueingModel("erlang-a", seconds, target, calibrate=True, by_hour=True),
        "present": QueueingModel("erlang-a", seconds, target, agents=present, calibrate=True),
        "present-by-hour": QueueingModel(
            "erlang-a", seconds, target, agents=present, calibrate=True, by_hour=True, patience_by_hour=True
        ),
        "learned": LearnedModel(QueueingModel("erlang-a", seconds, target, agents=present, calibrate=True)),
    }


def validate_staffing(
    contacts: Contacts,
    length: pd.Timedelta,
    train_until: pd.Timestamp,
    target_seconds: float = DEFAULT_TARGET_SECONDS,
    replications: int = 10,
    seed: int = 0,
) -> Validation:
    if not contacts.has("agent_id", "answer_time", "wait_seconds", "handle_seconds"):
        raise InputError(
            "the log lacks what validation needs",
            column="agent_id",
            expected="agent, answer time, wait and handle time per contact (e.g. <<format>> anonymous-bank)",
        )
    table = service_table(contacts, length, target_seconds)
    cut = pd.Timestamp(train_until).normalize() + pd.Timedelta(days=1)
    train, test = table[table["interval_start"] < cut], table[table["interval_start"] >= cut]
    if train.empty or test.empty:
        span = f"{contacts.frame['arrival_time'].min():%Y-%m-%d} to {contacts.frame['arrival_time'].max():%Y-%m-%d}"
        raise InputError(
            "nothing to train on or to test",
            option="train_until",
            expected=f"a date inside the log, leaving days after it (log: {span})",
            found=str(pd.Timestamp(train_until).date()),
        )
    seconds = length.total_seconds()
    contacts_on = _contacts_on(contacts)

    folds = out_of_time_folds(train)
    gap = choose_presence_gap(train, folds, contacts, seconds, target_seconds)
    models = candidate_models(seconds, target_seconds, gap)
    out_of_time = {name: _out_of_time(model, train, folds, contacts_on) for name, model in models.items()}
    undecided = why_undecided(train, folds, out_of_time)
    chosen = (
        DEFAULT_MODEL
        if undecided
        else min(out_of_time, key=lambda k: np.nan_to_num(out_of_time[k], nan=np.inf))
    )
    train_contacts = contacts_on(train["interval_start"].dt.normalize().unique())
    predictions = {}
    for name, model in models.items():
        model.fit(train, train_contacts)
        predictions[name] = model.predict(test)
    present = models["present"]
    predictions["simulation"] = _simulated(
        test, present, train_contacts, seconds, target_seconds, replications, seed
    )
    report = _report(test, predictions)
    summary = error_summary(report)
    summary["out_of_time_abandon_mae"] = summary["model"].map(out_of_time)
    summary["chosen"] = summary["model"] == chosen
    summary["chosen_because"] = np.where(
        summary["chosen"],
        f"cannot choose: {undecided}; the textbook model kept" if undecided else "lowest out-of-time error",
        "",
    )
    calibration = _calibration(train_contacts, models["calibrated"])
    log.info(
        "chose %s (%s) on %d training days; presence gap %g s",
        chosen,
        undecided or "by out-of-time abandonment error",
        len(folds),
        gap,
    )
    return Validation(report, summary, calibration, chosen, undecided, gap, present.availability_)


def why_undecided(train: pd.DataFrame, folds: list, scores: dict[str, float]) -> str | None:
    """Why the training days cannot tell the models apart, or None when they can: too few days
    to predict any from those before it, no abandonment to predict (every model predicting
    none scores 0), no score at all, or every model scoring the same. (A tie among some at the
    top is no such case: the first of them in ``candidate_models``' order, the simplest, is
    taken; a learned model that fell back to its base ties with it.)"""
    days = train["interval_start"].dt.normalize().nunique()
    if not folds:
        return (
            f"{days} training day{'s' if days != 1 else ''}: choosing predicts each of the last ones from "
            f"at least {MIN_FOLD_TRAIN_DAYS} days before it, so it needs {MIN_FOLD_TRAIN_DAYS + 1} or more"
        )
    on_folds = train["interval_start"].dt.normalize().isin(folds)
    if train.loc[on_folds, "abandoned"].sum() == 0:
        return "no abandonment on the scored training days: every model predicting none scores 0, so they cannot be told apart"
    finite = {k: v for k, v in scores.items() if np.isfinite(v)}
    if not finite:
        return "no model could be scored on the training days (no usable intervals to predict)"
    best = min(finite.values())
    tied = [k for k, v in finite.items() if np.isclose(v, best, rtol=1e-9, atol=1e-12)]
    if len(finite) > 1 and len(tied) == len(finite):
        return f"all {len(tied)} models scored tie at an out-of-time error of {best:.4f}"
    return None


def choose_presence_gap(
    train: pd.DataFrame, folds: list, contacts: Contacts, seconds: float, target_seconds: float
) -> float:
    """The gap between calls up to which an agent counts as present, of ``PRESENCE_GAPS``,
    whose calibrated Erlang A has the lowest out-of-time abandonment error on the folds
    (the middle one when they cannot be told apart)."""
    contacts_on = _contacts_on(contacts)
    errors = {
        gap: _out_of_time(
            QueueingModel("erlang-a", seconds, target_seconds, agents=present_column(gap), calibrate=True),
            train,
            folds,
            contacts_on,
        )
        for gap in PRESENCE_GAPS
    }
    finite = [e for e in errors.values() if np.isfinite(e)]
    if not finite or (len(finite) > 1 and np.ptp(finite) <= 1e-12):  # no choice: the middle one
        return PRESENCE_GAPS[len(PRESENCE_GAPS) // 2]
    return min(PRESENCE_GAPS, key=lambda g: (np.nan_to_num(errors[g], nan=np.inf), g))


def _contacts_on(contacts: Contacts):
    """A function from days to the contacts that arrived on them."""
    day = contacts.frame["arrival_time"].dt.normalize()
    return lambda days: Contacts(contacts.frame[day.isin(days)], contacts.available)


def out_of_time_folds(train: pd.DataFrame) -> list[pd.Timestamp]:
    """The last training days (up to seven), each predicted from the days before it."""
    days = np.sort(train["interval_start"].dt.normalize().unique())
    usable = days[MIN_FOLD_TRAIN_DAYS:]
    return list(pd.DatetimeIndex(usable[-OUT_OF_TIME_DAYS:]))


def _out_of_time(model, train: pd.DataFrame, folds: list, contacts_on) -> float:
    """Arrival-weighted abandonment MAE of ``model`` over the fold days, each predicted by
    the model fitted on the training days before it, on hours (finer intervals pooled,
    arrival-weighted); NaN without folds. Pooled because the MAE of a share over a handful
    of calls rewards predicting the median, none: at 15 minutes textbook Erlang A, which
    under-predicts abandonment everywhere, would win."""
    errors, weights = [], []
    day = train["interval_start"].dt.normalize()
    for fold in folds:
        before, on = train[day < fold], train[day == fold]
        if before.empty or on.empty:
            continue
        try:
            model.fit(before, contacts_on(before["interval_start"].dt.normalize().unique()))
        except ValueError:
            continue
        hourly = pd.DataFrame(
            {
                "hour": on["interval_start"].dt.floor("h"),
                "arrivals": on["arrivals"],
                "predicted": model.predict(on)["abandon_rate"],
                "observed": on["abandon_rate"],
            }
        )
        hourly = hourly[np.isfinite(hourly["predicted"]) & np.isfinite(hourly["observed"])]
        sums = hourly[["predicted", "observed"]].mul(hourly["arrivals"], axis=0).groupby(hourly["hour"]).sum()
        calls = hourly.groupby("hour")["arrivals"].sum()
        ok = calls > 0
        errors.append((sums["predicted"] - sums["observed"])[ok].abs().to_numpy() / calls[ok].to_numpy())
        weights.append(calls[ok].to_numpy(float))
    if not errors or np.concatenate(weights).sum() == 0:
        return float("nan")
    return float(np.average(np.concatenate(errors), weights=np.concatenate(weights)))


def _calibration(contacts: Contacts, calibrated: QueueingModel) -> Calibration:
    f = contacts.frame
    _, _, km_mean = patience_kaplan_meier(
        f["wait_seconds"].fillna(0).to_numpy(float), f["abandoned"].to_numpy(bool)
    )
    handle = fit_lognormal(f.loc[f["handled"].astype(bool), "handle_seconds"].to_numpy(float))
    return Calibration(calibrated.patience_, km_mean, handle, calibrated.availability_)


def _simulated(test, present: QueueingModel, contacts: Contacts, seconds, target_seconds, replications, seed):
    """The test intervals simulated in order as one run (queues carry over between them),
    with the 'present' model's agents and lognormal handle times."""
    f = contacts.frame
    handle = fit_lognormal(f.loc[f["handled"].astype(bool), "handle_seconds"].to_numpy(float))
    agents = np.round(present.modelled_agents(test))
    result = simulate(
        test["arrivals"].to_numpy(float),
        agents,
        seconds,
        Distribution("lognormal", float(np.nanmean(test["aht"])), handle.cv),
        Distribution("exponential", present.patience_),
        target_seconds,
        replications,
        seed,
    )
    out = {k: result.mean[k] for k in ("abandon_rate", "asa_seconds", "service_level")}
    out["agents_modelled"] = agents
    return out


def _report(test: pd.DataFrame, predictions: dict[str, dict]) -> pd.DataFrame:
    parts = []
    for model, m in predictions.items():
        asa = np.asarray(m["asa_seconds"], float)
        parts.append(
            pd.DataFrame(
                {
                    "interval_start": test["interval_start"].to_numpy(),
                    "model": model,
                    "arrivals": test["arrivals"].to_numpy().astype(int),
                    "observed_abandon_rate": test["abandon_rate"].to_numpy(),
                    "predicted_abandon_rate": m["abandon_rate"],
                    "observed_asa": test["asa"].to_numpy(),
                    "predicted_asa": np.where(np.isfinite(asa), asa, np.nan),
                    "observed_sl": test["service_level"].to_numpy(),
                    "predicted_sl": m["service_level"],
                    "agents_seen": test["agents_seen"].to_numpy().astype(int),
                    "agents_modelled": m["agents_modelled"],
                }
            )
        )
    report = pd.concat(parts, ignore_index=True)[REPORT_COLUMNS]
    return report.sort_values(["interval_start", "model"], kind="stable").reset_index(drop=True)


def error_summary(report: pd.DataFrame) -> pd.DataFrame:
    """Arrival-weighted mean absolute error and bias of each model, per metric."""
    rows = []
    for model, part in report.groupby("model", sort=False):
        w = part["arrivals"].to_numpy(float)
        row = {"model": model, "intervals": len(part)}
        for metric in ("abandon_rate", "asa", "sl"):
            obs = part[f"observed_{metric}"].to_numpy(float)
            pred = part[f"predicted_{metric}"].to_numpy(float)
            ok = np.isfinite(obs) & np.isfinite(pred)
            row[f"{metric}_mae"] = (
                float(np.average(np.abs(pred[ok] - obs[ok]), weights=w[ok])) if ok.any() else np.nan
            )
            row[f"{metric}_bias"] = (
                float(np.average(pred[ok] - obs[ok], weights=w[ok])) if ok.any() else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows).sort_values("abandon_rate_mae").reset_index(drop=True)


MIN_HOUR_ARRIVALS = 30  # fewer test arrivals in an hour of day: left out of the by-hour picture
PICTURED = {"abandon_rate": "abandonment", "sl": "service level", "asa": "ASA (s)"}  # report suffix -> name


def pictured_models(chosen: str) -> list[str]:
    """The models a predicted-versus-observed picture shows: the chosen one beside the plain
    calibration and the textbook formula it is measured against."""
    return list(dict.fromkeys([chosen, "calibrated", "erlang-a"]))


def observed_and_predicted(report: pd.DataFrame, models: list[str], metric: str) -> pd.DataFrame:
    """Per test interval: ``observed`` and each model's prediction of ``metric`` (a report
    suffix: abandon_rate, sl or asa) in columns, with the interval's arrivals."""
    part = report[report["model"].isin(models)]
    wide = part.pivot_table(index="interval_start", columns="model", values=f"predicted_{metric}")
    first = part.drop_duplicates("interval_start").set_index("interval_start")
    wide.insert(0, "observed", first[f"observed_{metric}"])
    wide.insert(0, "arrivals", first["arrivals"])
    return wide[["arrivals", "observed", *[m for m in models if m in wide]]].reset_index()


def by_hour_of_day(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`observed_and_predicted` averaged per hour of day, weighted by arrivals: where in
    the day a model is biased. Hours with fewer than ``MIN_HOUR_ARRIVALS`` arrivals are left
    out: a handful of calls is noise, not bias."""
    values = [c for c in table.columns if c not in ("interval_start", "arrivals")]
    hour = table["interval_start"].dt.hour.rename("hour")
    weighted = table[values].mul(table["arrivals"], axis=0).where(table[values].notna())
    weights = table[values].notna().mul(table["arrivals"], axis=0)
    out = weighted.groupby(hour).sum() / weights.groupby(hour).sum().replace(0, np.nan)
    out = out.assign(arrivals=table.groupby(hour)["arrivals"].sum()).reset_index()
    return out[out["arrivals"] >= MIN_HOUR_ARRIVALS].reset_index(drop=True)
