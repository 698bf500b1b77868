"""HBOS: histogram-based outlier score (Goldstein & Dengel, 2012), static equal-width bins."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError
from pynomaly_core.histogram import counts_on, density_of, equal_width_histogram, shared_range

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
        self._check_params()
        n_features = X.shape[1]
        self.hist_ = np.zeros((self.n_bins, n_features))
        self.bin_edges_ = np.zeros((self.n_bins + 1, n_features))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for j in range(n_features):
                self.hist_[:, j], self.bin_edges_[:, j] = equal_width_histogram(X[:, j], self.n_bins, density=True)
        # A range so narrow that the bin width underflows makes densities infinite: cap them (log2 stays finite).
        np.nan_to_num(self.hist_, copy=False, nan=0.0, posinf=np.finfo(np.float64).max)

    def _check_params(self) -> None:
        if not isinstance(self.n_bins, int | np.integer) or self.n_bins < 2:
            raise InputError(f"builtin.hbos: n_bins must be an integer >= 2, got {self.n_bins!r}")
        for name in ("alpha", "tol"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise InputError(f"builtin.hbos: {name} must be in (0, 1), got {value!r}")

    # -- training on partitions (pynomaly_core.merging): the range of each feature, then counts on shared edges --
    merge_passes = 2

    def partial_state(self, X: np.ndarray, pass_index: int, previous: dict | None) -> dict:
        if pass_index == 0:
            return {"n": X.shape[0], "low": X.min(axis=0), "high": X.max(axis=0)}
        spans = self._spans(previous)
        counts = np.column_stack([counts_on(X[:, j], self.n_bins, span, unit) for j, (span, unit) in enumerate(spans)])
        return {"n": X.shape[0], "low": previous["low"], "high": previous["high"], "counts": counts}

    def merge_states(self, states: list[dict], pass_index: int) -> dict:
        merged = {"n": sum(s["n"] for s in states), "n_features": states[0]["n_features"],
                  "low": np.min([s["low"] for s in states], axis=0),
                  "high": np.max([s["high"] for s in states], axis=0)}
        if pass_index == 1:
            merged["counts"] = np.sum([s["counts"] for s in states], axis=0)
        return merged

    def from_merged(self, merged: dict) -> None:
        self._check_params()
        spans = self._spans(merged)
        self.hist_ = np.zeros((self.n_bins, len(spans)))
        self.bin_edges_ = np.zeros((self.n_bins + 1, len(spans)))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for j, (span, unit) in enumerate(spans):
                self.hist_[:, j], self.bin_edges_[:, j] = density_of(merged["counts"][:, j], self.n_bins, span, unit)
        np.nan_to_num(self.hist_, copy=False, nan=0.0, posinf=np.finfo(np.float64).max)

    def _spans(self, merged: dict) -> list[tuple[tuple[float, float], float]]:
        self._check_params()
        return [shared_range(float(lo), float(hi), self.n_bins) for lo, hi in zip(merged["low"], merged["high"],
                                                                                  strict=True)]

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
