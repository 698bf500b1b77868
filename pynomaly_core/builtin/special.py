"""Special functions the NumPy-only drift tests need (the core has no SciPy).

* :func:`gamma_q` — the regularised upper incomplete gamma Q(a, x) (series / Lentz continued fraction), so
  :func:`chi2_sf` is the chi-squared survival function;
* :func:`rank_average` — ranks with ties averaged (SciPy's ``rankdata(method="average")``), along the last axis;
* :func:`cvm_limit_cdf` — the limiting CDF of the Cramér–von Mises statistic (Csörgő & Faraway, 1996), with the
  Bessel function K_{1/4} from its integral representation.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = 1e-16
_TINY = 1e-300


def gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a) for a > 0, x ≥ 0 (Numerical Recipes §6.2, to double precision)."""
    if a <= 0:
        raise ValueError(f"gamma_q: a must be positive, got {a!r}")
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        # P(a, x) by its series, Q = 1 - P.
        term = total = 1.0 / a
        denominator = a
        for _ in range(10_000):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return float(min(max(1.0 - total * math.exp(log_prefix), 0.0), 1.0))
    # Q(a, x) by the continued fraction (modified Lentz).
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return float(min(max(math.exp(log_prefix) * h, 0.0), 1.0))


def chi2_sf(statistic: float, dof: float) -> float:
    """P(χ²_dof ≥ statistic)."""
    if dof <= 0:
        return 1.0
    return gamma_q(dof / 2.0, max(statistic, 0.0) / 2.0)


def rank_average(values: np.ndarray) -> np.ndarray:
    """1-based ranks along the last axis, ties sharing the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, axis=-1, kind="mergesort")
    ordered = np.take_along_axis(values, order, axis=-1)
    n = values.shape[-1]
    flat = ordered.reshape(-1, n)
    ranks_sorted = np.empty_like(flat)
    positions = np.arange(1, n + 1, dtype=np.float64)
    for row, line in enumerate(flat):
        starts = np.flatnonzero(np.r_[True, line[1:] != line[:-1]])
        ends = np.r_[starts[1:], n]
        means = (positions[starts] + positions[ends - 1]) / 2.0
        ranks_sorted[row] = np.repeat(means, ends - starts)
    ranks = np.empty_like(ranks_sorted)
    np.put_along_axis(ranks, order.reshape(-1, n), ranks_sorted, axis=-1)
    return ranks.reshape(values.shape)


# Trapezoid nodes for K_ν(q) = ∫₀^∞ exp(−q cosh t) cosh(ν t) dt: the integrand is analytic and decays
# double-exponentially, so the trapezoid rule converges geometrically in the step.
_T = np.linspace(0.0, 14.0, 2801)
_STEP = _T[1] - _T[0]


def scaled_bessel_k(nu: float, q: np.ndarray) -> np.ndarray:
    """exp(q) · K_ν(q) for q > 0 (SciPy's ``kve``), vectorised over ``q``."""
    q = np.asarray(q, dtype=np.float64)[..., None]
    integrand = np.exp(-q * (np.cosh(_T) - 1.0)) * np.cosh(nu * _T)
    weights = np.full(_T.size, _STEP)
    weights[0] = _STEP / 2.0
    return integrand @ weights


def cvm_limit_cdf(x: float) -> float:
    """P(W² ≤ x) for the limiting (one-sample) Cramér–von Mises distribution.

    Σ_k Γ(k+½)/(Γ(½) k!) · √(4k+1) · exp(−q_k) K_{1/4}(q_k) / (π √x), q_k = (4k+1)² / (16 x), summed until a
    term is below 1e-12 (Csörgő & Faraway 1996, eq. 1.3).
    """
    if x <= 0:
        return 0.0
    total = 0.0
    for k in range(200):
        y = 4 * k + 1
        q = y * y / (16.0 * x)
        if q > 700:  # exp(−2q)-sized terms: nothing left to add
            break
        u = math.exp(math.lgamma(k + 0.5) - math.lgamma(k + 1)) / (math.pi ** 1.5 * math.sqrt(x))
        # exp(−q) K(q) = exp(−2q) · kve(q)
        term = u * math.sqrt(y) * math.exp(-2.0 * q) * float(scaled_bessel_k(0.25, np.array(q)))
        total += term
        if abs(term) < 1e-12:
            break
    return total
