"""Calibration estimators recover known parameters from synthetic data."""

import numpy as np

from scenarios.staffing.calibration import (
    fit_availability,
    fit_lognormal,
    patience_from_abandonment,
    patience_kaplan_meier,
)
from scenarios.staffing.erlang import erlang_a_metrics


def synthetic_waits(n=200_000, patience=300.0, seed=0):
    rng = np.random.default_rng(seed)
    virtual = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(120, n))  # wait a caller would face
    tau = rng.exponential(patience, n)
    abandoned = tau < virtual
    return np.minimum(virtual, tau), abandoned


def test_patience_estimates():
    wait, abandoned = synthetic_waits()
    assert abs(patience_from_abandonment(wait, abandoned) / 300 - 1) < 0.05
    times, survival, restricted = patience_kaplan_meier(wait, abandoned)
    assert np.all(np.diff(survival) <= 0)
    np.testing.assert_allclose(restricted, 300 * (1 - np.exp(-times.max() / 300)), rtol=0.05)
    i = np.searchsorted(times, 300)
    np.testing.assert_allclose(
        survival[i], np.exp(-1), atol=0.02
    )  # S(300 s) of an exponential with mean 300 s


def test_lognormal_fit_keeps_mean_and_cv():
    rng = np.random.default_rng(1)
    sigma = np.sqrt(np.log1p(0.8**2))
    sample = rng.lognormal(np.log(240) - sigma**2 / 2, sigma, 100_000)
    d = fit_lognormal(sample)
    np.testing.assert_allclose([d.mean, d.cv], [240, 0.8], rtol=0.03)


def test_availability_is_recovered():
    rng = np.random.default_rng(2)
    volume = rng.uniform(40, 200, 80)
    seen = np.ceil(volume * 180 / 3600 / 0.7) + 3
    truth = erlang_a_metrics(volume, 180, 3600, seen * 0.7, 20, 300, served_asa=False)
    alpha = fit_availability(volume, 180, seen, truth["abandon_rate"], truth["service_level"], 3600, 20, 300)
    assert alpha == 0.7
