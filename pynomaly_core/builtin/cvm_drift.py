"""Two-sample Cramér–von Mises drift test per feature (Anderson, 1962), as SciPy's ``cramervonmises_2samp``.

T = U / (n m N) − (4 n m − 1) / (6 N), U = n Σ (r_i − i)² + m Σ (s_j − j)² from the pooled mid-ranks. The
p-value is exact (every arrangement of the pooled sample counted, Xiao et al. 2006) when both samples have at
most ``EXACT_LIMIT`` rows, else from the limiting distribution after Anderson's mean/variance normalisation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pynomaly_core.builtin.special import cvm_limit_cdf, rank_average
from pynomaly_core.drift import DriftReport, check_alpha_correction, check_pair, per_feature_report
from pynomaly_core.errors import InputError
from pynomaly_core.validation import feature_names_of

EXACT_LIMIT = 20


def cvm_u_statistics(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """U for every column of ``a`` (n × d) against ``b`` (m × d)."""
    n, m = a.shape[0], b.shape[0]
    pooled = np.concatenate([np.sort(a, axis=0), np.sort(b, axis=0)]).T  # d × N
    ranks = rank_average(pooled)
    return (n * ((ranks[:, :n] - np.arange(1, n + 1)) ** 2).sum(axis=1)
            + m * ((ranks[:, n:] - np.arange(1, m + 1)) ** 2).sum(axis=1))


def cvm_statistic_from_u(u: np.ndarray | float, n: int, m: int) -> np.ndarray | float:
    k, total = n * m, n + m
    return u / (k * total) - (4 * k - 1) / (6 * total)


def cvm_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample statistic T of two 1-D samples."""
    u = cvm_u_statistics(np.asarray(a, float).reshape(-1, 1), np.asarray(b, float).reshape(-1, 1))[0]
    return float(cvm_statistic_from_u(u, len(a), len(b)))


def cvm_asymptotic_p_value(t: float, n: int, m: int) -> float:
    k, total = n * m, n + m
    mean = (1 + 1 / total) / 6
    variance = (total + 1) * (4 * k * total - 3 * (n * n + m * m) - 2 * k) / (45 * total**2 * 4 * k)
    normalised = 1 / 6 + (t - mean) / math.sqrt(45 * variance)
    if normalised < 0.003:
        return 1.0
    return float(max(0.0, 1.0 - cvm_limit_cdf(normalised)))


_EXACT_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _exact_distribution(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and frequencies of Σ (a·v − b·u)² over every lattice path from (0, 0) to (n, m).

    ``a = lcm/n``, ``b = lcm/m``: the integer form of Σ (F_n − G_m)² over the pooled order (the path visits
    (u, v) after u points of the first and v of the second sample).
    """
    key = (n, m)
    if key not in _EXACT_CACHE:
        lcm = math.lcm(n, m)
        a, b = lcm // n, lcm // m
        row: list[tuple[np.ndarray, np.ndarray]] = []
        for u in range(n + 1):
            new_row = []
            for v in range(m + 1):
                step = (a * u - b * v) ** 2
                parts = ([row[v]] if u > 0 else []) + ([new_row[v - 1]] if v > 0 else [])
                if not parts:
                    values, counts = np.zeros(1, dtype=np.int64), np.ones(1)
                else:
                    joined_values = np.concatenate([p[0] for p in parts])
                    joined_counts = np.concatenate([p[1] for p in parts])
                    values, inverse = np.unique(joined_values, return_inverse=True)
                    counts = np.bincount(inverse, weights=joined_counts)
                    values = values + step
                new_row.append((values, counts))
            row = new_row
        _EXACT_CACHE[key] = row[m]
    return _EXACT_CACHE[key]


def cvm_exact_p_value(u: float, n: int, m: int) -> float:
    """P(U' ≥ u) over the C(n+m, n) equally likely arrangements (continuous data)."""
    values, counts = _exact_distribution(n, m)
    lcm = math.lcm(n, m)
    k = n * m
    threshold = math.floor(lcm**2 * (n + m) * (6 * u - k * (4 * k - 1)) / (6 * k**2))
    return float(counts[values >= threshold].sum() / math.comb(n + m, n))


def cvm_p_value(u: float, n: int, m: int) -> float:
    """Exact when max(n, m) ≤ ``EXACT_LIMIT``, else asymptotic (SciPy's ``method="auto"``)."""
    if max(n, m) <= EXACT_LIMIT:
        return cvm_exact_p_value(u, n, m)
    return cvm_asymptotic_p_value(float(cvm_statistic_from_u(u, n, m)), n, m)


class CramerVonMisesDrift:
    """Per-feature two-sample Cramér–von Mises test with a multiple-testing correction.

    More sensitive than KS to differences spread over the whole distribution. The effect size is the
    sample-size-free distance ω² = ∫ (F_ref − F_cur)² dH (H the pooled CDF) = T · N / (n m).
    """

    name = "builtin.cvm"

    def __init__(self, alpha: float = 0.05, correction: str = "holm"):
        check_alpha_correction(self.name, alpha, correction)
        self.alpha = alpha
        self.correction = correction

    def run(self, reference: Any, current: Any, feature_names: list[str] | None = None) -> DriftReport:
        names = feature_names or feature_names_of(reference)
        ref, cur = check_pair(reference, current, names)
        n, m = ref.shape[0], cur.shape[0]
        if n < 2 or m < 2:
            raise InputError(f"{self.name}: reference and current need at least 2 rows each (got {n} and {m})")
        names = names or [f"x{j}" for j in range(ref.shape[1])]
        u = cvm_u_statistics(ref, cur)
        t = np.asarray(cvm_statistic_from_u(u, n, m))
        p_values = [cvm_p_value(float(value), n, m) for value in u]
        return per_feature_report(self.name, self.alpha, self.correction, names, t, p_values,
                                  effect_sizes=t * (n + m) / (n * m),
                                  details={"n_reference": n, "n_current": m,
                                           "method": "exact" if max(n, m) <= EXACT_LIMIT else "asymptotic"})
