"""Matrix-profile discords, online: the left matrix profile (Yeh et al., ICDM 2016; Zhu et al., 2016).

The score of a record is the z-normalised Euclidean distance from the subsequence of the last ``m`` values (ending
at it) to its nearest neighbour among the subsequences ending in the ``history`` records before it, excluding
trivial matches (those ending fewer than ``m // 2`` records before). A discord, a subsequence unlike anything seen,
scores high. Computed with NumPy matrix products over blocks of queries; per feature, maximum over features;
records with no complete subsequence or no earlier candidate score 0.
"""

from __future__ import annotations

import numpy as np

from pynomaly_core.timeseries.base import check_int
from pynomaly_core.timeseries.history import HistoryDetector, blocks

_FLAT = 1e-10


def znormalised(subsequences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows centred and scaled to unit standard deviation, and which rows are constant (left as zeros)."""
    centred = subsequences - subsequences.mean(axis=1, keepdims=True)
    std = centred.std(axis=1, keepdims=True)
    flat = (std <= _FLAT * (1.0 + np.abs(subsequences).max(axis=1, keepdims=True)))[:, 0]
    return np.where(flat[:, None], 0.0, centred / np.where(std > 0, std, 1.0)), flat


class MatrixProfile(HistoryDetector):
    """Left matrix-profile distance of each record's subsequence (see the module docstring)."""

    qualified_name = "builtin.matrix_profile"

    def __init__(self, m: int = 32, history: int = 2000, contamination: float = 0.1):
        self.m = m
        self.history = history
        self.contamination = contamination

    def _check_params(self) -> None:
        check_int(self, "m", self.m, 3)
        check_int(self, "history", self.history, self.m)

    def _memory(self) -> int:
        return self.history + self.m

    def _scores(self, rows: np.ndarray, first: int, origin: int) -> np.ndarray:
        m, history, exclusion = self.m, self.history, max(self.m // 2, 1)
        n, d = rows.shape
        if n < m:
            return np.zeros(n - first)
        per_feature = np.zeros((n - first, d))
        for j in range(d):
            normal, flat = znormalised(np.lib.stride_tricks.sliding_window_view(rows[:, j], m))
            for start, end in blocks(max(first, m - 1 + exclusion), n, 512):
                low = max(start - history, m - 1)
                high = end - exclusion  # candidates end in low … high − 1
                queries, cands = normal[start - m + 1:end - m + 1], normal[low - m + 1:high - m + 1]
                corr = queries @ cands.T / m
                both_flat = flat[start - m + 1:end - m + 1, None] & flat[None, low - m + 1:high - m + 1]
                corr = np.where(both_flat, 1.0, corr)
                i = np.arange(start, end)[:, None]
                c = np.arange(low, high)[None, :]
                valid = (c >= i - history) & (c <= i - exclusion)
                distance = np.sqrt(np.maximum(2.0 * m * (1.0 - corr), 0.0))
                nearest = np.where(valid, distance, np.inf).min(axis=1)
                per_feature[start - first:end - first, j] = np.where(np.isfinite(nearest), nearest, 0.0)
        return per_feature.max(axis=1)
