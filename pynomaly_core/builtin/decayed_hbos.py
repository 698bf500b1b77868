"""HBOS over exponentially decayed histograms: an online HBOS that forgets old data."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.builtin.hbos import _Lookup
from pynomaly_core.errors import InputError
from pynomaly_core.histogram import equal_width_histogram
from pynomaly_core.online import OnlineDetector


class DecayedHBOS(OnlineDetector, BaseDetector):
    """Sum over features of −log2(density + alpha), the densities from histograms whose counts decay per record.

    * **Bin edges are fixed**: ``n_bins`` equal-width bins per feature over a declared range (``limits``: a list
      of ``[low, high]`` per feature) or, with ``limits=None``, over the range of the first ``init_size`` records
      (buffered until then, all scoring 0; ``fit`` on fewer rows takes the edges from all of them).
    * **Decay per record**: each learned record multiplies every earlier count by ``1 − decay``, so a record
      learned ``k`` records ago weighs ``(1 − decay)**k`` (a memory of about ``1 / decay`` records; ``decay=0``
      never forgets, and over one batch then gives exactly ``builtin.hbos``'s scores).
    * The density of a bin is its decayed count over (decayed total · bin width). A record outside the edges
      counts in the edge bin within ``tol`` bin widths and, further out, only in the total (it dilutes every bin);
      scoring treats values outside the edges as ``builtin.hbos`` does (the edge bin within ``tol`` widths, the
      least dense bin beyond).

    Memory: ``n_bins × n_features`` counts (plus ``init_size`` buffered rows until the edges are set).
    ``learn_many`` applies the decay in closed form, equal to record-by-record learning up to rounding.
    """

    qualified_name = "builtin.decayed_hbos"

    def __init__(self, n_bins: int = 10, alpha: float = 0.1, tol: float = 0.5, decay: float = 0.001,
                 limits: list | None = None, init_size: int = 256, contamination: float = 0.1):
        self.n_bins = n_bins
        self.alpha = alpha
        self.tol = tol
        self.decay = decay
        self.limits = limits
        self.init_size = init_size
        self.contamination = contamination

    def _check_params(self, n_features: int) -> None:
        for name, low in (("n_bins", 2), ("init_size", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise InputError(f"{self._name()}: {name} must be an integer >= {low}, got {value!r}")
        for name in ("alpha", "tol"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 < value < 1:
                raise InputError(f"{self._name()}: {name} must be in (0, 1), got {value!r}")
        if not isinstance(self.decay, int | float) or not 0 <= self.decay < 1:
            raise InputError(f"{self._name()}: decay must be in [0, 1), got {self.decay!r}")
        if self.limits is not None and (not isinstance(self.limits, list | tuple) or len(self.limits) != n_features):
            raise InputError(f"{self._name()}: limits must give [low, high] for each of the {n_features} features")

    # -- the online contract ---------------------------------------------------------------------------------
    def _online_reset(self, n_features: int) -> None:
        self._check_params(n_features)
        self.counts_ = np.zeros((self.n_bins, n_features))
        self.total_ = 0.0
        self.edges_ = None
        self.buffer_ = np.zeros((self.init_size, n_features))
        self.n_buffered_ = 0
        if self.limits is not None:
            edges = np.empty((self.n_bins + 1, n_features))
            for j, pair in enumerate(self.limits):
                try:
                    low, high = (float(v) for v in pair)
                except (TypeError, ValueError):
                    raise InputError(f"{self._name()}: limits of feature {j} must be [low, high], "
                                     f"got {pair!r}") from None
                if not (np.isfinite(low) and np.isfinite(high) and low < high):
                    raise InputError(f"{self._name()}: limits of feature {j} must be finite with low < high, got "
                                     f"{pair!r}")
                edges[:, j] = np.linspace(low, high, self.n_bins + 1)
            self._set_edges(edges)

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        super()._fit(X, y)
        if self.edges_ is None:  # fewer rows than init_size: a known batch fixes the edges from what it has
            self._finish_init()

    def _learn_many(self, X: np.ndarray) -> None:
        if self.edges_ is None:
            take = min(X.shape[0], self.init_size - self.n_buffered_)
            self.buffer_[self.n_buffered_:self.n_buffered_ + take] = X[:take]
            self.n_buffered_ += take
            if self.n_buffered_ == self.init_size:
                self._finish_init()
            X = X[take:]
            if X.shape[0] == 0:
                return
        self._add(X)

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        if self.edges_ is None:
            return np.zeros(X.shape[0])
        edges = self.edges_
        n_bins = edges.shape[0] - 1
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            density = (self.counts_ / self._widths) / self.total_
        np.nan_to_num(density, copy=False, nan=0.0, posinf=np.finfo(np.float64).max)
        log_density = np.log2(density + self.alpha)
        lookup = _Lookup(
            edges=edges, table=log_density[np.clip(np.arange(n_bins + 2) - 1, 0, n_bins - 1)],
            lowest=log_density.min(axis=0), below_reach=self._widths[0] * self.tol,
            above_reach=self._widths[-1] * self.tol,
        )
        total = np.zeros(X.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(X.shape[1]):  # feature by feature, as builtin.hbos adds them
                total -= lookup.term(X[:, j], j)
        return total

    # -- histograms ------------------------------------------------------------------------------------------
    def _finish_init(self) -> None:
        if self.n_buffered_ == 0:
            return
        rows = self.buffer_[:self.n_buffered_]
        edges = np.empty((self.n_bins + 1, rows.shape[1]))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for j in range(rows.shape[1]):
                edges[:, j] = equal_width_histogram(rows[:, j], self.n_bins)[1]
        self._set_edges(edges)
        self.buffer_ = np.empty((0, rows.shape[1]))
        self.n_buffered_ = 0
        self._add(rows)

    def _set_edges(self, edges: np.ndarray) -> None:
        self.edges_ = edges
        with np.errstate(over="ignore"):
            self._widths = np.diff(edges, axis=0)

    def _add(self, X: np.ndarray) -> None:
        """Learn rows in order: counts decay by ``1 − decay`` per record (in closed form over the batch)."""
        n, n_features = X.shape
        keep = 1.0 - self.decay
        if keep == 1.0:
            weights = np.ones(n)
            carried = 1.0
        else:
            weights = keep ** np.arange(n - 1, -1, -1, dtype=np.float64)  # the newest row weighs 1
            carried = keep ** n
        edges, widths, n_bins = self.edges_, self._widths, self.n_bins
        flat_index = np.empty((n, n_features), dtype=np.intp)
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(n_features):
                column = X[:, j]
                index = np.searchsorted(edges[:, j], column, side="right") - 1
                index[column == edges[-1, j]] = n_bins - 1  # the last bin includes its right edge
                below, above = index < 0, index >= n_bins
                if below.any():
                    near = below & ((edges[0, j] - column) <= widths[0, j] * self.tol)
                    index[near] = 0
                if above.any():
                    near = above & ((column - edges[-1, j]) <= widths[-1, j] * self.tol)
                    index[near] = n_bins - 1
                outside = (index < 0) | (index >= n_bins)
                index = index * n_features + j
                index[outside] = n_bins * n_features  # a slot past the bins: counted in the total only
                flat_index[:, j] = index
        added = np.bincount(flat_index.reshape(-1), weights=np.repeat(weights, n_features),
                            minlength=n_bins * n_features + 1)[:n_bins * n_features]
        self.counts_ = self.counts_ * carried + added.reshape(n_bins, n_features)
        self.total_ = self.total_ * carried + float(weights.sum())

    # -- persistence -----------------------------------------------------------------------------------------
    def _online_get_state(self) -> dict[str, Any]:
        return {
            "counts": self.counts_, "total": np.float64(self.total_), "buffer": self.buffer_[:self.n_buffered_],
            "edges": np.empty((0, self.counts_.shape[1])) if self.edges_ is None else self.edges_,
        }

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        counts = np.asarray(state["counts"], dtype=np.float64)
        self._check_params(counts.shape[1])
        self.counts_, self.total_ = counts.copy(), float(state["total"])
        edges = np.asarray(state["edges"], dtype=np.float64)
        buffered = np.asarray(state["buffer"], dtype=np.float64)
        self.n_buffered_ = buffered.shape[0]
        if edges.shape[0] == 0:
            self.edges_ = None
            self.buffer_ = np.zeros((self.init_size, counts.shape[1]))
            self.buffer_[:self.n_buffered_] = buffered
        else:
            self._set_edges(edges)
            self.buffer_ = np.empty((0, counts.shape[1]))
