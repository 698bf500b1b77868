"""HBOS over exponentially decayed histograms: an online HBOS that forgets old data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.builtin.hbos import _Lookup
from pynomaly_core.errors import InputError
from pynomaly_core.histogram import equal_width_histogram, shared_range
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

    Distributed training (``mergeable``): counts on shared edges add up exactly; the merged model weighs every
    training row 1 (see :meth:`from_merged` and :meth:`local_equivalent`).
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
        n_bins = self.n_bins
        flat_index = self._bin_index(X)
        added = np.bincount(flat_index.reshape(-1), weights=np.repeat(weights, n_features),
                            minlength=n_bins * n_features + 1)[:n_bins * n_features]
        self.counts_ = self.counts_ * carried + added.reshape(n_bins, n_features)
        self.total_ = self.total_ * carried + float(weights.sum())

    def _bin_index(self, X: np.ndarray) -> np.ndarray:
        """``(n, n_features)``: the flat index (``bin · n_features + feature``) of each value's bin, or
        ``n_bins · n_features`` for a value too far outside the edges (it counts in the total only)."""
        n, n_features = X.shape
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
        return flat_index

    # -- training on partitions (pynomaly_core.merging): counts on shared edges -------------------------------
    @property
    def merge_passes(self) -> int:
        """One pass (the counts) with ``limits``; else two: each feature's range over all rows, then the counts."""
        return 1 if self.limits is not None else 2

    def partial_state(self, X: np.ndarray, pass_index: int, previous: dict | None) -> dict:
        """A partition's part of a merge. Without ``limits`` the first pass takes each feature's minimum and
        maximum, so the edges are those of **all** training rows (a partitioned data set has no "first
        ``init_size`` records"); the last pass counts the rows in the bins of those shared edges (outside them as
        :meth:`learn_many` does), every row with weight 1: counts that add up exactly."""
        if pass_index < self.merge_passes - 1:
            return {"n": X.shape[0], "low": X.min(axis=0), "high": X.max(axis=0)}
        shared = DecayedHBOS(**self.get_params())
        shared._start_shared(X.shape[1], previous or {})
        slots = self.n_bins * X.shape[1]
        counts = np.bincount(shared._bin_index(X).reshape(-1), minlength=slots + 1)[:slots]
        state = {key: value for key, value in (previous or {}).items() if key in ("low", "high")}
        return {**state, "n": X.shape[0], "counts": counts.reshape(self.n_bins, X.shape[1]).astype(np.int64)}

    def merge_states(self, states: Sequence[dict], pass_index: int) -> dict:
        merged: dict[str, Any] = {"n": sum(int(s["n"]) for s in states), "n_features": states[0]["n_features"]}
        if "low" in states[0]:
            merged["low"] = np.min([s["low"] for s in states], axis=0)
            merged["high"] = np.max([s["high"] for s in states], axis=0)
        if "counts" in states[0]:
            merged["counts"] = np.sum([s["counts"] for s in states], axis=0, dtype=np.int64)
        return merged

    def from_merged(self, merged: dict) -> None:
        """The merged model: the shared edges and every training row counted with weight 1, as if all were learned
        at one instant (there is no order across partitions to decay by). It scores exactly as
        :meth:`local_equivalent` fitted on all rows at once; what it learns next decays at ``decay``."""
        self._start_shared(int(merged["n_features"]), merged)
        self.counts_ = np.asarray(merged["counts"], dtype=np.float64)
        self.total_ = float(int(merged["n"]))
        self.n_learned_ = int(merged["n"])

    def local_equivalent(self, n_rows: int) -> DecayedHBOS:
        """An unfitted detector whose ``fit`` on all ``n_rows`` training rows at once gives this merged model's
        edges, counts and scores bit for bit: the same parameters with ``decay=0`` (no row forgotten) and
        ``init_size=n_rows`` (the edges from every row). ``set_params(decay=..., init_size=...)`` back to this
        model's afterwards makes it learn on exactly as this model does."""
        return DecayedHBOS(**{**self.get_params(), "decay": 0.0, "init_size": max(1, int(n_rows))})

    def _start_shared(self, n_features: int, merged: dict) -> None:
        """Start afresh with the edges every partition shares: ``limits``, or equal-width bins over the range of
        all rows (:func:`pynomaly_core.histogram.shared_range`, the edges of ``equal_width_histogram`` on them)."""
        names = self.__dict__.get("feature_names_in_")
        self._start(n_features, None if names is None else list(names))
        self.buffer_ = np.empty((0, n_features))
        self.n_buffered_ = 0
        if self.edges_ is not None:
            return
        edges = np.empty((self.n_bins + 1, n_features))
        for j, (low, high) in enumerate(zip(merged["low"], merged["high"], strict=True)):
            span, unit = shared_range(float(low), float(high), self.n_bins)
            column = np.histogram_bin_edges(np.array(span, dtype=np.float64), bins=self.n_bins, range=span)
            edges[:, j] = column * unit if unit != 1.0 else column
        self._set_edges(edges)

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
