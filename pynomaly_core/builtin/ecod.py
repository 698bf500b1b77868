"""ECOD: unsupervised outlier detection with empirical cumulative distribution functions (Li et al., 2022).

Inductive: the per-feature ECDFs are learnt from the training data only; a scored row is placed in them as if it
were one more sample ((count + 1) / (n + 1)), so tail probabilities stay in (0, 1] and nothing is refitted
on the data being scored.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.builtin.rank_index import RankIndex
from pynomaly_core.errors import InputError
from pynomaly_core.preprocessing import power_of_two_unit

_PARALLEL_CELLS = 1 << 18
_CHUNK_ROWS = 1 << 19


def skewness_sign(X: np.ndarray) -> np.ndarray:
    """Sign of the (biased) sample skewness of each column; 0 for constant columns (computed on the columns scaled
    by a power of two, so that values near the float maximum do not overflow)."""
    X = X / power_of_two_unit(X, axis=0)
    centred = X - X.mean(axis=0)
    m2 = np.mean(centred**2, axis=0)
    m3 = np.mean(centred**3, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / np.where(m2 > 0, m2, 1.0) ** 1.5, 0.0)
    return np.sign(skew)


class ECOD(BaseDetector):
    """Empirical-CDF outlier detection: sums per-feature tail probabilities (−log) of each row.

    ``combine="per_feature"`` (default) takes, per feature, the largest of the left tail, the right tail and the
    tail chosen by the feature's skewness, then sums (the authors' reference implementation in PyOD);
    ``combine="paper"`` sums each of the three first and takes the largest sum (the paper's Algorithm 1). Over
    the 30 ADBench sets the first scores a higher mean ROC-AUC (0.769 vs 0.750).

    Scoring looks each value up in a :class:`RankIndex` of its training column and reads the tail terms from
    precomputed tables; features are scored in ``n_jobs`` threads (``None``: all cores for large inputs).
    Scores do not depend on ``n_jobs``.
    """

    qualified_name = "builtin.ecod"

    def __init__(self, contamination: float = 0.1, combine: str = "per_feature", n_jobs: int | None = None):
        self.contamination = contamination
        self.combine = combine
        self.n_jobs = n_jobs

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if self.combine not in ("paper", "per_feature"):
            raise InputError(f"builtin.ecod: combine must be 'paper' or 'per_feature', got {self.combine!r}")
        if self.n_jobs is not None and (not isinstance(self.n_jobs, int) or self.n_jobs < 1):
            raise InputError(f"builtin.ecod: n_jobs must be a positive integer or None, got {self.n_jobs!r}")
        self._set_state({"sorted": np.sort(X, axis=0), "skew_sign": skewness_sign(X)})

    # -- training on partitions (pynomaly_core.merging): per-feature quantile sketches, moments for the skewness --
    merge_passes = 1

    def partial_state(self, X: np.ndarray, pass_index: int, previous: dict | None) -> dict:
        from pynomaly_core.merging import SKETCH_SIZE, moments, sketch

        size = getattr(self, "merge_sketch_size", SKETCH_SIZE)
        return {"sketches": [sketch(X[:, j], size) for j in range(X.shape[1])], "moments": moments(X)}

    def merge_states(self, states: list[dict], pass_index: int) -> dict:
        from pynomaly_core.merging import SKETCH_SIZE, merge_moments, merge_sketches

        size = getattr(self, "merge_sketch_size", SKETCH_SIZE)
        sketches = [merge_sketches([s["sketches"][j] for s in states], size)
                    for j in range(len(states[0]["sketches"]))]
        return {"sketches": sketches, "moments": merge_moments([s["moments"] for s in states]),
                "n_features": states[0]["n_features"]}

    def from_merged(self, merged: dict) -> None:
        """The ECDFs are read from ``merge_sketch_size`` representative points per feature; ``merge_bound_`` bounds
        how far each feature's tail probabilities are from those of a fit on all rows (0: exact)."""
        from pynomaly_core.merging import SKETCH_SIZE, cdf_bound, representatives

        size = getattr(self, "merge_sketch_size", SKETCH_SIZE)
        if self.combine not in ("paper", "per_feature"):
            raise InputError(f"builtin.ecod: combine must be 'paper' or 'per_feature', got {self.combine!r}")
        columns = [representatives(s, size) for s in merged["sketches"]]
        m2, m3 = merged["moments"]["m2"], merged["moments"]["m3"]
        with np.errstate(divide="ignore", invalid="ignore"):
            skew_sign = np.where(m2 > 0, np.sign(m3), 0.0)
        self._set_state({"sorted": np.column_stack(columns), "skew_sign": skew_sign})
        self.merge_bound_ = max(cdf_bound(s, size) for s in merged["sketches"])

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.sorted_ = np.ascontiguousarray(state["sorted"])
        self.skew_sign_ = state["skew_sign"]
        n = self.sorted_.shape[0]
        self._indexes = [RankIndex(self.sorted_[:, j]) for j in range(self.sorted_.shape[1])]
        counts = np.arange(n + 1, dtype=np.float64)
        log_n1 = np.log(n + 1.0)
        # −log P(X ≤ x) indexed by #train ≤ x, and −log P(X ≥ x) indexed by #train < x (the row counts as one)
        self._left_table = log_n1 - np.log(counts + 1.0)
        self._right_table = log_n1 - np.log(n - counts + 1.0)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"sorted": self.sorted_, "skew_sign": self.skew_sign_}

    def _feature_terms(self, column: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        at_most, below = self._indexes[j].counts(column)
        return self._left_table[at_most], self._right_table[below]

    def _feature_contribution(self, column: np.ndarray, j: int) -> np.ndarray:
        left, right = self._feature_terms(column, j)
        if self.skew_sign_[j] == 0:
            return left + right  # the skewness-chosen tail is both tails, which dominates either one
        return np.maximum(left, right)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's tail term (rows × features; with ``combine="per_feature"`` rows sum to the score)."""
        self._check_fitted()
        X = self._validate_for_scoring(X)
        return np.column_stack([self._feature_contribution(np.ascontiguousarray(X[:, j]), j)
                                for j in range(X.shape[1])])

    def _score(self, X: np.ndarray) -> np.ndarray:
        if X.shape[0] <= _CHUNK_ROWS:
            return self._score_chunk(X)
        return np.concatenate([self._score_chunk(X[i:i + _CHUNK_ROWS]) for i in range(0, X.shape[0], _CHUNK_ROWS)])

    def _score_chunk(self, X: np.ndarray) -> np.ndarray:
        workers = self._workers(X.shape)
        if self.combine == "per_feature":
            parts = self._map(workers, self._feature_contribution, X)
            return np.sum(parts, axis=0)
        terms = self._map(workers, self._feature_terms, X)
        left = np.sum([t[0] for t in terms], axis=0)
        right = np.sum([t[1] for t in terms], axis=0)
        auto = np.sum([t[0] if sign < 0 else t[1] for t, sign in zip(terms, self.skew_sign_, strict=True)], axis=0)
        return np.maximum(np.maximum(left, right), auto)

    def _workers(self, shape: tuple[int, int]) -> int:
        if self.n_jobs is not None:
            return min(self.n_jobs, shape[1])
        return min(os.cpu_count() or 1, shape[1]) if shape[0] * shape[1] >= _PARALLEL_CELLS else 1

    @staticmethod
    def _map(workers: int, func: Any, X: np.ndarray) -> list[Any]:
        columns = [np.ascontiguousarray(X[:, j]) for j in range(X.shape[1])]
        if workers <= 1:
            return [func(column, j) for j, column in enumerate(columns)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(func, columns, range(len(columns))))
