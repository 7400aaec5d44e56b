"""Erlang B, C and A as vectorized functions of numpy arrays, in log space.

All inputs broadcast: pass whole columns (every interval of every queue) at once. Agent counts
may be non-integer (Erlang B via the incomplete gamma function) and run to thousands without
overflow. Erlang C has no steady state when agents <= load: such intervals are *overloaded*
and get P(wait) = 1, SL = 0, ASA = inf, never a plausible-looking number.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def erlang_b(load: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """Blocking probability B(n, A) = Aⁿe^(−A) / Γ(n+1, A), for real n >= 0, in log space."""
    load, agents = np.broadcast_arrays(np.asarray(load, float), np.asarray(agents, float))
    out = np.ones(load.shape)
    ok = load > 0
    a, n = load[ok], agents[ok]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        q = special.gammaincc(n + 1.0, a)  # regularized upper incomplete gamma
        log_b = n * np.log(a) - a - np.log(q) - special.gammaln(n + 1.0)
        b = np.exp(np.minimum(log_b, 0.0))
    # When q underflows the load is far above the agents: B tends to 1 − n/A.
    tiny = ~(q > 0)
    b[tiny] = np.clip(1.0 - n[tiny] / a[tiny], 0.0, 1.0)
    out[ok] = b
    out[~ok] = np.where(agents[~ok] > 0, 0.0, 1.0)
    return out


def erlang_b_metrics(volume, aht, interval_seconds, agents) -> dict[str, np.ndarray]:
    """Loss system (no queue): blocking probability and carried occupancy of ``agents`` lines."""
    volume, aht, interval_seconds, agents = np.broadcast_arrays(
        *(np.asarray(v, float) for v in (volume, aht, interval_seconds, agents))
    )
    load = volume * aht / interval_seconds
    blocking = np.where(volume > 0, erlang_b(load, agents), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        occupancy = np.where(agents > 0, load * (1 - blocking) / agents, 0.0)
    nan = np.full(load.shape, np.nan)
    return {
        "load": load,
        "blocking": blocking,
        "p_wait": nan,
        "service_level": nan,
        "asa_seconds": nan,
        "abandon_rate": blocking,
        "occupancy": occupancy,
        "overloaded": np.zeros(load.shape, bool),
    }


def erlang_c(load: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """P(wait) in M/M/n; 1.0 where agents <= load (overloaded: no steady state)."""
    load, agents = np.broadcast_arrays(np.asarray(load, float), np.asarray(agents, float))
    b = erlang_b(load, agents)
    stable = agents > load
    with np.errstate(divide="ignore", invalid="ignore"):
        c = agents * b / (agents - load * (1.0 - b))
    return np.where(stable, np.clip(c, 0.0, 1.0), 1.0)


def erlang_c_metrics(volume, aht, interval_seconds, agents, target_seconds) -> dict[str, np.ndarray]:
    """Erlang C service of ``agents`` for ``volume`` contacts of mean ``aht`` s per interval."""
    volume, aht, interval_seconds, agents, target_seconds = np.broadcast_arrays(
        *(np.asarray(v, float) for v in (volume, aht, interval_seconds, agents, target_seconds))
    )
    load = volume * aht / interval_seconds
    p_wait = erlang_c(load, agents)
    stable = agents > load
    gap = np.where(stable, agents - load, np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sl = np.where(stable, 1.0 - p_wait * np.exp(-gap * target_seconds / aht), 0.0)
        asa = np.where(stable, p_wait * aht / gap, np.inf)
        occupancy = np.where(agents > 0, np.minimum(load / agents, 1.0), np.nan)
    no_calls = volume <= 0
    return {
        "load": load,
        "p_wait": np.where(no_calls, 0.0, p_wait),
        "service_level": np.where(no_calls, 1.0, sl),
        "asa_seconds": np.where(no_calls, 0.0, asa),
        "occupancy": np.where(no_calls, 0.0, occupancy),
        "abandon_rate": np.zeros(load.shape),
        "overloaded": stable.__invert__() & ~no_calls,
    }


def _log_gamma_lower(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log γ(x, y), the unregularized lower incomplete gamma. 𝒜(x, y) = x·eʸ·y^(−x)·γ(x, y) is
    formed from it in place, so each γ is computed once."""
    with np.errstate(divide="ignore"):
        return np.log(special.gammainc(x, y)) + special.gammaln(x)


def _p_wait_over_served(x, y, rho, theta, p_wait, t):
    """P(W > t, served) for arrays broadcast against t (DOMAIN.md's Erlang A formula)."""
    decay = np.exp(-theta * t)
    y_t = y * decay
    gamma_y_t = _log_gamma_lower(x, y_t)  # once per point: the cost of the quadrature
    ratio = np.exp(gamma_y_t - _log_gamma_lower(x, y))
    log_a_t = np.log(x) + y_t - x * np.log(y_t) + gamma_y_t  # log 𝒜(x, y_t)
    return p_wait * ratio / rho * (1.0 - np.exp(-log_a_t))


def _served_asa(x, y, rho, theta, p_wait, p_ab, points: int = 97, chunk: int = 20_000) -> np.ndarray:
    """Mean wait of served callers, ∫ P(W > t, served) dt / P(served), by quadrature.

    P(W > t) ≤ e^(−θt), so the integral stops at 12/θ; points are denser near 0 where the
    curve bends most.
    """
    grid = np.linspace(0.0, 1.0, points) ** 2 * 12.0
    out = np.empty(x.shape)
    flat = [a.ravel() for a in (x, y, rho, theta, p_wait, p_ab)]
    for lo in range(0, out.size, chunk):
        xs, ys, rs, ts, pw, pa = (a[lo : lo + chunk, None] for a in flat)
        t = grid[None, :] / ts
        curve = _p_wait_over_served(xs, ys, rs, ts, pw, t)
        out.ravel()[lo : lo + chunk] = np.trapezoid(np.nan_to_num(curve), t, axis=1) / np.maximum(
            1.0 - pa[:, 0], 1e-12
        )
    return out


def erlang_a_metrics(
    volume, aht, interval_seconds, agents, target_seconds, patience, served_asa: bool = True
) -> dict[str, np.ndarray]:
    """Erlang A (M/M/n+M): waits, abandonment and service level with exponential patience.

    Formulas as in DOMAIN.md (Palm; Garnett, Mandelbaum & Reiman). Stable at every load; very
    large patience falls back to Erlang C, whose limit it is. ``asa_seconds`` is the mean wait
    of served callers (ASA's definition), ``mean_wait_seconds`` that of all arrivals, E[W];
    ``served_asa=False`` skips the quadrature ASA needs when only other metrics matter.
    """
    volume, aht, interval_seconds, agents, target_seconds, patience = np.broadcast_arrays(
        *(np.asarray(v, float) for v in (volume, aht, interval_seconds, agents, target_seconds, patience))
    )
    lam = volume / interval_seconds
    mu = 1.0 / aht
    theta = 1.0 / patience
    load = lam / mu
    n = agents
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        x = n * mu / theta
        y = lam / theta
        rho = lam / (n * mu)
        b = erlang_b(load, n)
        # log γ(x, ·) at y and at y·e^(−θT), each once (the incomplete gamma is most of the cost)
        decay = np.exp(-theta * target_seconds)
        y_t = y * decay
        gamma_y, gamma_y_t = _log_gamma_lower(x, y), _log_gamma_lower(x, y_t)
        log_a = np.log(x) + y - x * np.log(y) + gamma_y
        # P(W>0) = 𝒜B / (1 + (𝒜 − 1)B) = 1 / (1 + (1/B − 1)/𝒜), safe when 𝒜 is huge
        p_wait = 1.0 / (1.0 + np.exp(np.log1p(-b) - np.log(b) - log_a))
        p_ab = (np.exp(-np.log(rho) - log_a) + 1.0 - 1.0 / rho) * p_wait
        mean_wait = p_ab / theta
        ratio = np.exp(gamma_y_t - gamma_y)
        p_wait_t = p_wait * ratio * decay
        log_a_t = np.log(x) + y_t - x * np.log(y_t) + gamma_y_t
        p_wait_t_served = p_wait_t / decay / rho * (1.0 - np.exp(-log_a_t))
        sl = 1.0 - p_ab - p_wait_t_served
        if served_asa:
            served_wait = np.where(p_ab < 1, _served_asa(x, y, rho, theta, p_wait, p_ab), np.nan)
        else:
            served_wait = np.full(x.shape, np.nan)
        occupancy = rho * (1.0 - p_ab)
    result = {
        "load": load,
        "p_wait": p_wait,
        "service_level": np.clip(sl, 0.0, 1.0),
        "asa_seconds": served_wait,
        "mean_wait_seconds": mean_wait,
        "p_wait_over_target": p_wait_t,
        "abandon_rate": np.clip(p_ab, 0.0, 1.0),
        "occupancy": np.clip(occupancy, 0.0, 1.0),
        "overloaded": np.zeros(load.shape, dtype=bool),
    }
    # Where 𝒜 cannot be evaluated, the limits: patience so long that nobody leaves is Erlang C
    # (where it is stable); patience so short that nobody waits is Erlang's loss system, whose
    # callers finding every agent busy all leave (abandonment = Erlang B). Patience of 0.01 s
    # used to fall back to Erlang C: abandonment 0 instead of B.
    unevaluated = ~np.isfinite(p_wait) | ~np.isfinite(sl) | (theta <= 0)
    fallback = unevaluated & (patience >= aht)
    impatient = unevaluated & ~fallback
    if fallback.any():
        c = erlang_c_metrics(volume, aht, interval_seconds, agents, target_seconds)
        for key in ("p_wait", "service_level", "asa_seconds", "occupancy", "overloaded"):
            result[key] = np.where(fallback, c[key], result[key])
        result["abandon_rate"] = np.where(fallback, 0.0, result["abandon_rate"])
    if impatient.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            blocked = np.clip(erlang_b(load, n), 0.0, 1.0)
            loss = {
                "p_wait": blocked,
                "abandon_rate": blocked,
                "service_level": 1.0 - blocked,  # the served were answered at once
                "asa_seconds": np.zeros(load.shape),
                "mean_wait_seconds": blocked * patience,
                "p_wait_over_target": np.zeros(load.shape),
                "occupancy": np.clip(load * (1.0 - blocked) / n, 0.0, 1.0),
            }
        for key, value in loss.items():
            result[key] = np.where(impatient, value, result[key])
    nobody = (n <= 0) & (volume > 0)  # no agents: every caller waits out their patience
    for key, value in (
        ("p_wait", 1.0),
        ("service_level", 0.0),
        ("abandon_rate", 1.0),
        ("occupancy", 0.0),
        ("overloaded", False),
    ):
        result[key] = np.where(nobody, value, result[key])
    for key in ("asa_seconds", "mean_wait_seconds"):
        result[key] = np.where(nobody, patience, result[key])
    no_calls = volume <= 0
    for key, value in (
        ("p_wait", 0.0),
        ("service_level", 1.0),
        ("asa_seconds", 0.0),
        ("abandon_rate", 0.0),
        ("occupancy", 0.0),
    ):
        result[key] = np.where(no_calls, value, result[key])
    return result
