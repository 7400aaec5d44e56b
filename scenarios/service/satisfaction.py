"""Customer satisfaction as the wait shapes it: what a scenario's service means for CSAT / NPS.

Fitted per contact on the history's surveys: the expected survey value (CSAT: the share of
scores ≥ 4; NPS: 100 × (promoter − detractor)) as a non-increasing function of the caller's
wait (centred isotonic regression; no shape is assumed beyond "waiting longer never pleases"). Callers
who hung up have their own value when enough of them answered a survey; otherwise the
prediction, like the history's KPI, is over the callers who were answered.

A scenario's intervals have no waits, only the service the staffing gives: P(wait > 0), ASA
and abandonment. The waits of answered callers are taken as none for 1 − q of them and
exponential with mean ASA / q for the rest (q = P(wait > 0 | answered)), exact for Erlang C
and close for Erlang A, and the fitted function is averaged over that distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.history.contacts import Contacts

SURVEYS = ("csat", "nps")
MIN_SURVEYS = 50  # fewer answered surveys with a wait: no model
MIN_ABANDONED_SURVEYS = 20  # fewer from callers who hung up: the prediction covers answered callers only
# equal-probability points of the exponential: the mean of s over them is E[s(W)] (midpoint rule in u)
_U = (np.arange(64) + 0.5) / 64
_EXP_QUANTILES = -np.log1p(-_U)


def survey_value(survey: str, scores: pd.Series) -> pd.Series:
    """Each answer's contribution to the KPI: satisfied (CSAT ≥ 4) as 1/0, or NPS's ±100 / 0."""
    s = scores.astype(float)
    if survey == "csat":
        return (s >= 4).astype(float).where(s.notna())
    return (100.0 * ((s >= 9).astype(float) - (s <= 6).astype(float))).where(s.notna())


def _centred(x: np.ndarray, fitted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots of centred isotonic regression (Oron & Flournoy 2017): one per block of equal
    fitted value, at the block's mean x, joined by straight lines. Plain isotonic steps jump
    where one noisy block ends; through the centres the curve is smoother and less biased."""
    order = np.argsort(x, kind="stable")
    x, fitted = x[order], fitted[order]
    block = np.concatenate([[0], np.cumsum(np.diff(fitted) != 0)])
    counts = np.bincount(block)
    centres = np.bincount(block, weights=x) / counts
    values = np.bincount(block, weights=fitted) / counts
    return centres, values


@dataclass
class SatisfactionModel:
    """Expected survey value given the wait (sklearn-like ``fit(contacts)``)."""

    survey: str = "csat"
    waits_: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)
    values_: np.ndarray = field(default_factory=lambda: np.zeros(0), init=False)
    abandoned_: float | None = field(default=None, init=False)  # value among callers who hung up
    overall_: float = field(default=np.nan, init=False)  # the history's answered value, for comparison
    surveys_: int = field(default=0, init=False)

    def fit(self, contacts: Contacts) -> SatisfactionModel:
        from sklearn.isotonic import IsotonicRegression

        f = contacts.frame
        value = survey_value(self.survey, f[self.survey])
        answered = (
            f["handled"].to_numpy(bool) & value.notna().to_numpy() & f["wait_seconds"].notna().to_numpy()
        )
        if answered.sum() < MIN_SURVEYS:
            raise ValueError(
                f"{answered.sum()} answered {self.survey} surveys with a wait, need {MIN_SURVEYS}"
            )
        wait = f["wait_seconds"].to_numpy(float)[answered].clip(0)
        y = value.to_numpy(float)[answered]
        fitted = IsotonicRegression(increasing=False).fit_transform(wait, y)
        self.waits_, self.values_ = _centred(wait, fitted)
        self.overall_, self.surveys_ = float(y.mean()), int(answered.sum())
        hung_up = f["abandoned"].to_numpy(bool) & value.notna().to_numpy()
        self.abandoned_ = float(value[hung_up].mean()) if hung_up.sum() >= MIN_ABANDONED_SURVEYS else None
        return self

    def of_wait(self, wait) -> np.ndarray:
        """Expected survey value of an answered caller who waited ``wait`` seconds."""
        return np.interp(np.asarray(wait, float), self.waits_, self.values_)

    def predict_service(self, p_wait, asa_seconds, abandon_rate) -> np.ndarray:
        """Expected KPI per interval from the service it gets (arrays alike); NaN where the
        service is unknown (no calls, or no ASA)."""
        p_wait, asa, ab = (np.asarray(a, float) for a in (p_wait, asa_seconds, abandon_rate))
        ab = np.nan_to_num(ab, nan=0.0).clip(0, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.clip((p_wait - ab) / (1 - ab), 0.0, 1.0)  # answered callers who waited at all
            mean_wait = np.where(q > 0, asa / q, 0.0)
        waited = self.of_wait(mean_wait[..., None] * _EXP_QUANTILES).mean(axis=-1)
        answered = (1 - q) * self.of_wait(0.0) + q * waited
        if self.abandoned_ is None:
            return np.where(np.isfinite(asa), answered, np.nan)
        return np.where(np.isfinite(asa), (1 - ab) * answered + ab * self.abandoned_, np.nan)

    def predict_contacts(self, contacts: Contacts) -> pd.Series:
        """Each surveyed contact's expected value from its own wait (for validation)."""
        f = contacts.frame
        expected = pd.Series(self.of_wait(f["wait_seconds"].fillna(0).clip(lower=0)), index=f.index)
        if self.abandoned_ is not None:
            expected = expected.where(~f["abandoned"], self.abandoned_)
        return expected


def interval_service(contacts: Contacts, length: pd.Timedelta) -> pd.DataFrame:
    """Per interval of arrival: arrivals, the observed P(wait > 0), ASA and abandonment, and
    for each survey in the log its answers and observed KPI."""
    f = contacts.frame
    wait = f["wait_seconds"].fillna(0).clip(lower=0)
    data = pd.DataFrame(
        {
            "interval_start": f["arrival_time"].dt.floor(length),
            "arrivals": 1,
            "p_wait": (wait > 0).astype(float),
            "asa": wait.where(f["handled"]),
            "abandon_rate": f["abandoned"].astype(float),
        }
    )
    for survey in SURVEYS:
        if contacts.has(survey):
            value = survey_value(survey, f[survey])
            data[survey] = value
            data[f"{survey}_answers"] = value.notna().astype(int)
    g = data.groupby("interval_start")
    out = g[["p_wait", "asa", "abandon_rate"] + [s for s in SURVEYS if s in data]].mean()
    out["arrivals"] = g["arrivals"].sum()
    for survey in SURVEYS:
        if survey in data:
            out[f"{survey}_answers"] = g[f"{survey}_answers"].sum()
    return out.reset_index()


def validate_satisfaction(
    contacts: Contacts, length: pd.Timedelta, train_until, survey: str = "csat"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit on the days up to ``train_until``; on each later interval, predict the KPI from the
    interval's observed service (P(wait > 0), ASA, abandonment: what a scenario has) and from
    its callers' own waits, beside the training days' value as a constant. Returns the
    per-interval table and the answer-weighted MAE and bias of each predictor."""
    f = contacts.frame
    day = f["arrival_time"].dt.normalize()
    cut = pd.Timestamp(train_until).normalize()
    train = Contacts(f[day <= cut], contacts.available)
    test = Contacts(f[day > cut], contacts.available)
    model = SatisfactionModel(survey).fit(train)
    table = interval_service(test, length)
    own = (
        model.predict_contacts(test)
        .where(test.frame[survey].notna())
        .groupby(test.frame["arrival_time"].dt.floor(length))
        .mean()
    )
    table["from_service"] = model.predict_service(table["p_wait"], table["asa"], table["abandon_rate"])
    table["from_waits"] = table["interval_start"].map(own)
    table["constant"] = (
        model.overall_
        if model.abandoned_ is None
        else ((1 - table["abandon_rate"]) * model.overall_ + table["abandon_rate"] * model.abandoned_)
    )
    table = table[table[f"{survey}_answers"] > 0].rename(columns={survey: "observed"})
    weight = table[f"{survey}_answers"].to_numpy(float)
    rows = []
    for predictor in ("from_service", "from_waits", "constant"):
        error = (table[predictor] - table["observed"]).to_numpy(float)
        ok = np.isfinite(error)
        rows.append(
            {
                "predictor": predictor,
                "intervals": int(ok.sum()),
                "mae": float(np.average(np.abs(error[ok]), weights=weight[ok])) if ok.any() else np.nan,
                "bias": float(np.average(error[ok], weights=weight[ok])) if ok.any() else np.nan,
            }
        )
    return table, pd.DataFrame(rows)


@dataclass
class FittedSatisfaction:
    """What a scenario records of its satisfaction model: the fit on the whole log and, when
    the log is long enough, the check on its last week."""

    model: SatisfactionModel
    validation: pd.DataFrame | None  # validate_satisfaction's summary

    def metrics(self) -> dict[str, float]:
        s = self.model.survey
        out = {
            f"satisfaction.{s}.surveys": float(self.model.surveys_),
            f"satisfaction.{s}.history": self.model.overall_,
        }
        if self.validation is not None:
            v = self.validation.set_index("predictor")["mae"]
            out[f"satisfaction.{s}.validation_mae"] = float(v["from_service"])
            out[f"satisfaction.{s}.constant_mae"] = float(v["constant"])
        return out


def fit_satisfaction(contacts: Contacts, length: pd.Timedelta) -> dict[str, FittedSatisfaction]:
    """A model per survey the log has with enough answers (none is not an error: most logs
    have no surveys), validated on the log's last week when it spans enough days."""
    from scenarios.service.fitted import HELD_OUT_DAYS, MIN_DAYS_TO_VALIDATE

    if not contacts.has("wait_seconds"):
        return {}
    days = contacts.frame["arrival_time"].dt.normalize().unique()
    out = {}
    for survey in SURVEYS:
        if not contacts.has(survey):
            continue
        try:
            model = SatisfactionModel(survey).fit(contacts)
        except ValueError:
            continue
        validation = None
        if len(days) >= MIN_DAYS_TO_VALIDATE:
            cut = pd.Timestamp(np.sort(days)[-HELD_OUT_DAYS - 1])
            try:
                validation = validate_satisfaction(contacts, length, cut, survey)[1]
            except ValueError:  # too few answers before the last week
                validation = None
        out[survey] = FittedSatisfaction(model, validation)
    return out
