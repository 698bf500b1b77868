"""Two-sample Kolmogorov–Smirnov drift test per feature, with a multiple-testing correction."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.drift import CORRECTIONS, DriftReport, check_pair, per_feature_report
from pynomaly_core.errors import InputError
from pynomaly_core.validation import feature_names_of


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """sup |F_a − F_b| over the pooled sample."""
    a, b = np.sort(a), np.sort(b)
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def kolmogorov_sf(lam: float) -> float:
    """P(K > lam) for the Kolmogorov distribution: 2 Σ (−1)^(k−1) exp(−2 k² lam²)."""
    if lam < 0.2:
        return 1.0
    k = np.arange(1, 101)
    terms = 2 * (-1.0) ** (k - 1) * np.exp(-2 * k**2 * lam**2)
    return float(min(max(terms.sum(), 0.0), 1.0))


EXACT_LIMIT = 10_000_000


def ks_exact_p_value(statistic: float, n: int, m: int) -> float:
    """Exact two-sided P(D ≥ d) under H0 (continuous data).

    Counts the lattice paths from (0, 0) to (n, m) that stay strictly inside the band |i/n − j/m| < d; for
    each i the band is one interval of j, so a row of the count is a cumulative sum over that interval.
    Rows are rescaled to avoid overflow (the log of the scale is carried along).
    """
    from math import lgamma, log

    if statistic <= 0:
        return 1.0
    if n > m:
        n, m = m, n
    limit = statistic - 1e-12
    row = np.zeros(m + 1)
    log_scale = 0.0
    for i in range(n + 1):
        lo = max(int(np.floor(m * (i / n - limit))), 0)
        hi = min(int(np.ceil(m * (i / n + limit))), m)
        while lo <= hi and abs(i / n - lo / m) >= limit:
            lo += 1
        while hi >= lo and abs(i / n - hi / m) >= limit:
            hi -= 1
        new = np.zeros(m + 1)
        if i == 0:
            new[: hi + 1] = 1.0  # along the first edge from the origin, which is always inside
        elif lo <= hi:
            new[lo:hi + 1] = np.cumsum(row[lo:hi + 1])
        peak = new.max()
        if peak <= 0:
            return 1.0
        row = new / peak
        log_scale += log(peak)
    log_inside = log(row[m]) + log_scale if row[m] > 0 else float("-inf")
    log_total = lgamma(n + m + 1) - lgamma(n + 1) - lgamma(m + 1)
    return float(min(max(1.0 - np.exp(log_inside - log_total), 0.0), 1.0))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Two-sided p-value: exact when n·m ≤ 10⁷, else asymptotic with Stephens' small-sample correction."""
    if n * m <= EXACT_LIMIT:
        return ks_exact_p_value(statistic, n, m)
    effective = np.sqrt(n * m / (n + m))
    return kolmogorov_sf((effective + 0.12 + 0.11 / effective) * statistic)


class KSDrift:
    """Per-feature two-sample KS test; drift overall when any adjusted p-value is below ``alpha``.

    The effect size is the KS distance itself (sup |F_ref − F_cur|, in [0, 1]).
    """

    name = "builtin.ks"

    def __init__(self, alpha: float = 0.05, correction: str = "holm"):
        if not 0 < alpha < 1:
            raise InputError(f"builtin.ks: alpha must be in (0, 1), got {alpha!r}")
        if correction not in CORRECTIONS:
            raise InputError(f"builtin.ks: correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
        self.alpha = alpha
        self.correction = correction

    def run(self, reference: Any, current: Any, feature_names: list[str] | None = None) -> DriftReport:
        names = feature_names or feature_names_of(reference)
        ref, cur = check_pair(reference, current, names)
        names = names or [f"x{j}" for j in range(ref.shape[1])]
        stats = np.array([ks_statistic(ref[:, j], cur[:, j]) for j in range(ref.shape[1])])
        p_values = np.array([ks_p_value(s, ref.shape[0], cur.shape[0]) for s in stats])
        return per_feature_report(self.name, self.alpha, self.correction, names, stats, p_values,
                                  effect_sizes=stats,
                                  details={"n_reference": int(ref.shape[0]), "n_current": int(cur.shape[0])})
