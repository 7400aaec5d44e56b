"""validate-staffing when the training days cannot tell the models apart: a log without
abandonments (every model predicting none scores 0), one training day (nothing to predict
from the days before), no score at all, or a tie. It says it cannot choose and why, and keeps
the textbook model; before, it "chose" the first of an all-zero tie, or calibrated on all-NaN."""

import numpy as np
import pandas as pd
import pytest

from scenarios.service.validation import DEFAULT_MODEL, MIN_FOLD_TRAIN_DAYS, why_undecided
from tests.conftest import BANK_LOG


def _train(days: int, abandoned: int = 1) -> pd.DataFrame:
    starts = pd.date_range("2024-01-01 08:00", periods=days, freq="D")
    return pd.DataFrame({"interval_start": starts, "arrivals": 50, "abandoned": abandoned})


def _folds(train: pd.DataFrame) -> list:
    return list(train["interval_start"].dt.normalize().iloc[MIN_FOLD_TRAIN_DAYS:])


SCORES = {"erlang-a": 0.05, "calibrated": 0.02, "present": 0.03}


@pytest.mark.parametrize(
    ("days", "abandoned", "scores", "fragment"),
    [
        (1, 1, {k: np.nan for k in SCORES}, "1 training day"),
        (MIN_FOLD_TRAIN_DAYS, 1, {k: np.nan for k in SCORES}, f"{MIN_FOLD_TRAIN_DAYS} training days"),
        (10, 0, {"erlang-c": 0.0, "erlang-a": 0.0, "calibrated": 0.01}, "no abandonment"),
        (10, 0, SCORES, "no abandonment"),  # one model alone predicting none would 'win'
        (10, 1, {k: np.nan for k in SCORES}, "no model could be scored"),
        (10, 1, dict.fromkeys(SCORES, 0.04), "all 3 models scored tie"),
    ],
)
def test_the_training_days_cannot_choose(days, abandoned, scores, fragment):
    train = _train(days, abandoned)
    reason = why_undecided(train, _folds(train), scores)
    assert reason is not None and fragment in reason


@pytest.mark.parametrize(
    "scores",
    [SCORES, {**SCORES, "present": 0.02}, {**SCORES, "present": np.nan}],  # a tie at the top is no deadlock
)
def test_scores_that_differ_on_days_with_abandonment_choose(scores):
    train = _train(10)
    assert why_undecided(train, _folds(train), scores) is None


@pytest.fixture(scope="module")
def bank_days(tmp_path_factory):
    """The bank log's first five days, and the same without a single abandonment."""
    lines = BANK_LOG.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    days = [
        r for r in rows if r.split("\t")[5] in {"990201", "990202", "990203", "990204", "990205", "990207"}
    ]
    folder = tmp_path_factory.mktemp("bank")
    short, calm = folder / "short.tsv", folder / "calm.tsv"
    short.write_text("\n".join([header, *days]) + "\n")
    calm.write_text("\n".join([header, *(r for r in days if r.split("\t")[12] != "HANG")]) + "\n")
    return short, calm


@pytest.mark.parametrize(
    ("which", "train_until", "fragment"),
    [("short", "1999-02-01", "1 training day"), ("calm", "1999-02-05", "no abandonment")],
)
def test_validate_staffing_says_it_cannot_choose(run_cli, tmp_path, bank_days, which, train_until, fragment):
    log = bank_days[0] if which == "short" else bank_days[1]
    out = tmp_path / "r.csv"
    code, printed, err = run_cli(
        "validate-staffing",
        "--log",
        log,
        "--format",
        "anonymous-bank",
        "--train-until",
        train_until,
        "--out",
        out,
    )
    assert code == 0, err
    assert "cannot choose a model" in printed and fragment in printed
    assert f"kept the textbook {DEFAULT_MODEL}" in printed and "chosen by out-of-time" not in printed
    summary = pd.read_csv(out.with_name("r_summary.csv")).set_index("model")
    assert summary.index[summary["chosen"]].tolist() == [DEFAULT_MODEL]
    assert fragment in summary.loc[DEFAULT_MODEL, "chosen_because"]
