"""HBOS: histogram-based outlier score (Goldstein & Dengel, 2012), static equal-width bins."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError
from pynomaly_core.histogram import equal_width_histogram

#: Inputs of at least this many cells are scored with one thread per feature (as ECOD does); scores are the same.
_PARALLEL_CELLS = 1 << 18


class HBOS(BaseDetector):
    """Sum over features of −log2(density + alpha) of the bin each value falls in.

    Values outside the training range within ``tol`` bin widths count as the edge bin, further out as the
    least dense bin (the convention of the reference implementation).
    """

    qualified_name = "builtin.hbos"

    def __init__(self, n_bins: int = 10, alpha: float = 0.1, tol: float = 0.5, contamination: float = 0.1):
        self.n_bins = n_bins
        self.alpha = alpha
        self.tol = tol
        self.contamination = contamination

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if not isinstance(self.n_bins, int | np.integer) or self.n_bins < 2:
            raise InputError(f"builtin.hbos: n_bins must be an integer >= 2, got {self.n_bins!r}")
        for name in ("alpha", "tol"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise InputError(f"builtin.hbos: {name} must be in (0, 1), got {value!r}")
        n_features = X.shape[1]
        self.hist_ = np.zeros((self.n_bins, n_features))
        self.bin_edges_ = np.zeros((self.n_bins + 1, n_features))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for j in range(n_features):
                self.hist_[:, j], self.bin_edges_[:, j] = equal_width_histogram(X[:, j], self.n_bins, density=True)
        # A range so narrow that the bin width underflows makes densities infinite: cap them (log2 stays finite).
        np.nan_to_num(self.hist_, copy=False, nan=0.0, posinf=np.finfo(np.float64).max)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"hist": self.hist_, "bin_edges": self.bin_edges_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.hist_, self.bin_edges_ = state["hist"], state["bin_edges"]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's part of the score, ``-log2(density + alpha)`` (rows × features; rows sum to the score)."""
        self._check_fitted()
        return -np.column_stack(self._terms(self._validate_for_scoring(X)))

    def _score(self, X: np.ndarray) -> np.ndarray:
        total = np.zeros(X.shape[0])
        for term in self._terms(X):  # feature by feature, in the reference's order of additions
            total -= term
        return total

    def _terms(self, X: np.ndarray) -> list[np.ndarray]:
        n_bins = self.hist_.shape[0]
        edges = self.bin_edges_
        log_density = np.log2(self.hist_ + self.alpha)
        lookup = _Lookup(
            edges=edges,
            # by searchsorted index (the count of edges below the value): below the range, each bin, above it
            table=log_density[np.clip(np.arange(n_bins + 2) - 1, 0, n_bins - 1)],
            lowest=log_density.min(axis=0),
            below_reach=(edges[1] - edges[0]) * self.tol, above_reach=(edges[-1] - edges[-2]) * self.tol,
        )
        columns = [X[:, j] for j in range(X.shape[1])]
        workers = min(os.cpu_count() or 1, X.shape[1]) if X.size >= _PARALLEL_CELLS else 1
        with np.errstate(over="ignore", invalid="ignore"):  # distances beyond the float maximum compare as inf
            if workers > 1:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    return list(pool.map(lookup.term, columns, range(len(columns))))
            return [lookup.term(column, j) for j, column in enumerate(columns)]


@dataclass(frozen=True)
class _Lookup:
    """Per feature (column ``j`` of each array): the bin edges, the log-density of each searchsorted index, and the
    reach beyond the range that still counts as the edge bin (values further out get the least dense bin's)."""

    edges: np.ndarray
    table: np.ndarray
    lowest: np.ndarray
    below_reach: np.ndarray
    above_reach: np.ndarray

    def term(self, column: np.ndarray, j: int) -> np.ndarray:
        """log2(density + alpha) of the bin of every value of feature ``j``."""
        index = np.searchsorted(self.edges[:, j], column, side="left")
        term = self.table[:, j][index]
        last = self.edges.shape[0]  # the index of a value above the range
        low, high = index.min(), index.max()
        if low == 0:  # at or below the range: within the reach it counts as the first bin, beyond as the lowest
            rows = np.flatnonzero(index == 0)
            term[rows[(self.edges[0, j] - column[rows]) > self.below_reach[j]]] = self.lowest[j]
        if high == last:
            rows = np.flatnonzero(index == last)
            term[rows[(column[rows] - self.edges[-1, j]) > self.above_reach[j]]] = self.lowest[j]
        return term
