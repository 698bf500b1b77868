"""HBOS: histogram-based outlier score (Goldstein & Dengel, 2012), static equal-width bins."""

from __future__ import annotations

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError
from pynomaly_core.histogram import equal_width_histogram


class HBOS(BaseDetector):
    """Sum over features of −log2(density + alpha) of the bin each value falls in.

    Values outside the training range within ``tol`` bin widths count as the edge bin, further out as the
    least dense bin (the convention of the reference implementation).
    """

    detector_name = "builtin.hbos"

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

    def _score(self, X: np.ndarray) -> np.ndarray:
        n_bins = self.hist_.shape[0]
        edges = self.bin_edges_
        log_density = np.log2(self.hist_ + self.alpha)
        lowest = log_density.min(axis=0)
        below_reach = (edges[1] - edges[0]) * self.tol
        above_reach = (edges[-1] - edges[-2]) * self.tol
        total = np.zeros(X.shape[0])
        for j in range(X.shape[1]):  # feature by feature, in the reference's order of additions
            column = X[:, j]
            index = np.searchsorted(edges[:, j], column, side="left")
            score = log_density[:, j][np.clip(index - 1, 0, n_bins - 1)]
            below, above = index == 0, index == n_bins + 1
            if below.any():
                near = (edges[0, j] - column) <= below_reach[j]
                score = np.where(below, np.where(near, log_density[0, j], lowest[j]), score)
            if above.any():
                near = (column - edges[-1, j]) <= above_reach[j]
                score = np.where(above, np.where(near, log_density[-1, j], lowest[j]), score)
            total -= score
        return total

