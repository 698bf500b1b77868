"""Kernel maximum-mean-discrepancy two-sample test with a permutation p-value (the NumPy reference).

Accelerated backends (torch, TensorFlow, JAX) implement the same computation: the pooled Gaussian kernel
matrix, the median-heuristic bandwidth and the permutations drawn by :func:`permutation_indices`, so that on
the same data and seed their statistics and p-values agree with this one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.drift import DriftReport, FeatureDrift, check_pair
from pynomaly_core.errors import InputError

#: Permuted statistics within this of the observed one are ties (they differ from it only by the rounding of a
#: reordered sum) and count as at least as large, so every backend gets the same p-value.
TIE_TOLERANCE = 1e-10
#: Squared distances at most this times ``|a|² + |b|²`` are rounding noise of the norm expansion and count as 0.
DISTANCE_NOISE = 1e-12


def median_bandwidth(pooled: np.ndarray) -> float:
    """Median heuristic: sqrt(median of the non-zero pairwise squared distances / 2)."""
    sq = pairwise_sq_dists(pooled, pooled)
    upper = sq[np.triu_indices_from(sq, k=1)]
    positive = upper[upper > 0]
    return float(np.sqrt(np.median(positive) / 2)) if positive.size else 1.0


def pairwise_sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances by the norm expansion; values within rounding noise of zero become exactly 0.

    The expansion ``|a|² + |b|² − 2a·b`` cancels catastrophically for (near-)identical rows: what is left is noise
    of order ``eps · (|a|² + |b|²)`` that differs between BLAS libraries. Cutting at :data:`DISTANCE_NOISE` times
    that scale makes every backend see the same zeros (and so the same median-heuristic bandwidth).
    """
    norms = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :]
    sq = norms - 2.0 * a @ b.T
    sq[sq <= DISTANCE_NOISE * norms] = 0.0
    return sq


def rbf_kernel(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    return np.exp(-pairwise_sq_dists(a, b) / (2.0 * bandwidth**2))


def permutation_indices(n_total: int, n_permutations: int, seed: int | None) -> np.ndarray:
    """The permutations of the pooled sample, shared by every backend (rows of indices)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_total) for _ in range(n_permutations)]) if n_permutations else \
        np.empty((0, n_total), dtype=np.int64)


def mmd2_from_kernel(kernel: np.ndarray, n_x: int) -> float:
    """Unbiased MMD² of the first ``n_x`` pooled rows against the rest, from the pooled kernel matrix."""
    n_y = kernel.shape[0] - n_x
    kxx = kernel[:n_x, :n_x]
    kyy = kernel[n_x:, n_x:]
    kxy = kernel[:n_x, n_x:]
    sum_xx = (kxx.sum() - np.trace(kxx)) / (n_x * (n_x - 1))
    sum_yy = (kyy.sum() - np.trace(kyy)) / (n_y * (n_y - 1))
    return float(sum_xx + sum_yy - 2.0 * kxy.mean())


def mmd_permutation_test(
    x: np.ndarray, y: np.ndarray, n_permutations: int, seed: int | None, bandwidth: float | None = None
) -> tuple[float, float, float]:
    """(MMD² statistic, permutation p-value, bandwidth) for samples ``x`` and ``y``."""
    pooled = np.concatenate([x, y])
    sigma = median_bandwidth(pooled) if bandwidth is None else float(bandwidth)
    kernel = rbf_kernel(pooled, pooled, sigma)
    statistic = mmd2_from_kernel(kernel, x.shape[0])
    exceed = 0
    for perm in permutation_indices(pooled.shape[0], n_permutations, seed):
        if mmd2_from_kernel(kernel[np.ix_(perm, perm)], x.shape[0]) >= statistic - TIE_TOLERANCE:
            exceed += 1
    return statistic, (exceed + 1) / (n_permutations + 1), sigma


class MMDDrift:
    """Multivariate drift test: unbiased MMD² with a Gaussian kernel, p-value from ``n_permutations`` permutations.

    ``bandwidth=None`` uses the median heuristic on the pooled sample. One overall verdict (the test looks at
    all features jointly), reported as a single entry named ``all``.
    """

    name = "builtin.mmd"

    def __init__(self, alpha: float = 0.05, n_permutations: int = 200, bandwidth: float | None = None,
                 random_state: int | None = 0):
        if not 0 < alpha < 1:
            raise InputError(f"mmd: alpha must be in (0, 1), got {alpha!r}")
        if n_permutations < 1:
            raise InputError(f"mmd: n_permutations must be >= 1, got {n_permutations!r}")
        if bandwidth is not None and bandwidth <= 0:
            raise InputError(f"mmd: bandwidth must be positive, got {bandwidth!r}")
        self.alpha = alpha
        self.n_permutations = n_permutations
        self.bandwidth = bandwidth
        self.random_state = random_state

    def _test(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        return mmd_permutation_test(x, y, self.n_permutations, self.random_state, self.bandwidth)

    def run(self, reference: Any, current: Any, feature_names: list[str] | None = None) -> DriftReport:
        ref, cur = check_pair(reference, current, feature_names)
        if ref.shape[0] < 2 or cur.shape[0] < 2:
            raise InputError("mmd: reference and current need at least 2 rows each")
        statistic, p_value, sigma = self._test(ref, cur)
        verdict = FeatureDrift("all", statistic, p_value, p_value, p_value < self.alpha, effect_size=statistic)
        return DriftReport(self.name, self.alpha, "none", [verdict], verdict.drift,
                           {"bandwidth": sigma, "n_permutations": self.n_permutations,
                            "n_reference": int(ref.shape[0]), "n_current": int(cur.shape[0])})
