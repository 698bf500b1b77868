"""``tf.mmd``: the core's MMD drift test with the kernel matrix and permutation statistics in TensorFlow (float64).

Same computation as :mod:`pynomaly_core.builtin.mmd_drift` (unbiased MMD², Gaussian kernel, median-heuristic
bandwidth, permutations from ``permutation_indices``), so on the same data and seed the statistic agrees to
rounding and so do the p-values. Permutations are evaluated in chunks as ``W K Wᵀ`` products with 0/1 group
indicators ``W`` instead of re-indexing the kernel matrix once per permutation.

The pairwise squared distances and the median-heuristic bandwidth are the reference's own (NumPy); TensorFlow
computes the kernel from them and every permutation statistic (the ``n_permutations × n²`` bulk of the work).
The reference computes ``|a|² + |b|² - 2 a·b`` with the BLAS, whose cancellation turns a duplicated row's distance
into ±1e-15 instead of 0, depending on how that BLAS rounds (TensorFlow's Eigen kernels round differently); where
most distances are duplicates, those few ulps decide the median and so the kernel. Sharing the distances keeps
both backends on the same kernel for every input.
"""

from __future__ import annotations

import numpy as np

from pynomaly_core.builtin.mmd_drift import (
    TIE_TOLERANCE,
    MMDDrift,
    median_bandwidth,
    pairwise_sq_dists,
    permutation_indices,
)
from pynomaly_core.errors import InputError
from pynomaly_tf.runtime import DEVICE_CHOICES, DEVICE_NAMES, deterministic, resolve_device, tf

#: Indicator rows evaluated at once are limited to about this many matrix entries (bounded memory).
_CHUNK_ENTRIES = 1 << 22


def mmd2_of_groups(kernel: tf.Tensor, in_x: tf.Tensor, n_x: int) -> tf.Tensor:
    """Unbiased MMD² for each row of ``in_x`` (0/1 indicators of the rows in the first sample)."""
    n_y = int(kernel.shape[0]) - n_x
    in_y = 1.0 - in_x
    diag = tf.linalg.diag_part(kernel)
    k_x = tf.matmul(in_x, kernel)
    k_y = tf.matmul(in_y, kernel)
    sum_xx = (tf.reduce_sum(k_x * in_x, axis=1) - tf.linalg.matvec(in_x, diag)) / (n_x * (n_x - 1))
    sum_yy = (tf.reduce_sum(k_y * in_y, axis=1) - tf.linalg.matvec(in_y, diag)) / (n_y * (n_y - 1))
    return sum_xx + sum_yy - 2.0 * tf.reduce_sum(k_x * in_y, axis=1) / (n_x * n_y)


def mmd_permutation_test(x: np.ndarray, y: np.ndarray, n_permutations: int, seed: int | None,
                         bandwidth: float | None = None, device: str = "/CPU:0") -> tuple[float, float, float]:
    """(MMD² statistic, permutation p-value, bandwidth), computed with TensorFlow in float64 on ``device``."""
    n_x = x.shape[0]
    n_total = n_x + y.shape[0]
    permutations = permutation_indices(n_total, n_permutations, seed)
    pooled = np.concatenate([x, y])
    sigma = median_bandwidth(pooled) if bandwidth is None else float(bandwidth)
    with tf.device(device), deterministic():
        kernel = tf.exp(-tf.constant(pairwise_sq_dists(pooled, pooled), dtype=tf.float64) / (2.0 * sigma**2))
        identity = tf.constant((np.arange(n_total) < n_x)[None, :], dtype=tf.float64)
        statistic = float(mmd2_of_groups(kernel, identity, n_x)[0])
        exceed = 0
        chunk = max(1, _CHUNK_ENTRIES // n_total)
        for start in range(0, n_permutations, chunk):
            block = tf.constant(permutations[start:start + chunk])
            # Row j of the permuted pool is pooled row block[j]: pooled row i is in the first group when its
            # position in the permutation is below n_x.
            in_x = tf.cast(tf.argsort(block, axis=1, stable=True) < n_x, tf.float64)
            permuted = mmd2_of_groups(kernel, in_x, n_x)
            exceed += int(tf.reduce_sum(tf.cast(permuted >= statistic - TIE_TOLERANCE, tf.int32)))
    return statistic, (exceed + 1) / (n_permutations + 1), sigma


class TFMMDDrift(MMDDrift):
    """:class:`~pynomaly_core.builtin.mmd_drift.MMDDrift` computed with TensorFlow; ``device="auto"`` uses a GPU."""

    name = "tf.mmd"

    def __init__(self, alpha: float = 0.05, n_permutations: int = 200, bandwidth: float | None = None,
                 random_state: int | None = 0, device: str = "cpu"):
        super().__init__(alpha=alpha, n_permutations=n_permutations, bandwidth=bandwidth, random_state=random_state)
        if not isinstance(device, str) or not DEVICE_NAMES.match(device):
            raise InputError(f"tf.mmd: device must be {DEVICE_CHOICES}, got {device!r}")
        self.device = device

    def _test(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        return mmd_permutation_test(x, y, self.n_permutations, self.random_state, self.bandwidth,
                                    resolve_device(self.device))
