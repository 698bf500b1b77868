"""Half-Space Trees (Tan, Ting & Liu, IJCAI 2011): river's algorithm, vectorised over records and trees.

The trees are river's (``river.anomaly.HalfSpaceTrees``, 0.26), draw for draw: the same ``random.Random(seed)``
draws in the same order and the same float operations on them (``choices`` of the split feature weighted by the
width of its current range, then a ``uniform`` split point within the middle 70 % of it, left subtree before
right), so with the same seed the trees, masses and scores are river's exactly, for a stream whose record dicts
have the column indices ``0 … d−1`` as keys (river sorts the keys; names that sort in column order give the same
trees). The trees are grown level by level for all trees at once (see :meth:`HalfSpaceTrees._build`).

What is vectorised:

* all trees are arrays in heap layout (node ``k`` has children ``2k+1``, ``2k+2``): ``split_feature_`` and
  ``split_value_`` of shape ``(n_trees, 2**height - 1)``;
* a batch of rows walks all trees at once, one level per step (``height`` gathers over an ``(n_rows, n_trees)``
  array of node indices), ending at one leaf per row and tree;
* masses are kept per leaf only (``mass_latest_`` and ``mass_reference_``, ``(n_trees, 2**height)`` counts): every
  record that is learned adds 1 to every node on its path, so a node's mass is the sum over the leaves below it;
* river's score of a record in a tree, ``Σ r_mass(node) · 2**depth`` down its path until the first node whose
  reference mass is below ``0.1 · window_size`` (or the leaf), depends only on the leaf the record reaches, so it is
  computed once per leaf when the reference window changes (``leaf_score_``) and a batch's score is one gather and
  a sum over the trees. The sums are integers, exact in float64, so the normalised ``1 − score / max_score`` is
  river's to the bit.

Window swaps happen every ``window_size`` learned records, also inside a batch (the batch is learned in segments).

Distributed training (``mergeable``, :mod:`pynomaly_core.merging`) is a mass merge: every partition builds the same
trees and counts its rows' leaves, and the counts add up exactly (see :meth:`HalfSpaceTrees.partial_state`).
"""

from __future__ import annotations

import bisect as bisect_module
import functools
import itertools
import math
import random
import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError
from pynomaly_core.online import OnlineDetector

#: river's padding: split points are drawn in the middle ``1 - 2 · 0.15`` of a node's range.
PADDING = 0.15
#: Trees of this height hold ``2**height`` leaves each (two int64 counts per leaf): beyond it memory explodes.
MAX_HEIGHT = 20
FIRST_WINDOW = "first_window"
#: Trees are grown level by level while the boxes of one level (trees × nodes × features) stay this small.
_LEVEL_BUILD_CELLS = 1 << 22
#: Rows whose leaves a partition walks at once when counting its masses for a merge.
_MERGE_CHUNK = 1 << 16


class HalfSpaceTrees(OnlineDetector, BaseDetector):
    """Half-Space Trees: an online ensemble of random half-space trees scored by node masses.

    Parameters are river's (``random_state`` is its ``seed``): ``n_trees`` trees of height ``height``; masses are
    counted over tumbling windows of ``window_size`` records, scoring uses the last complete window (the
    *reference*) while the current one is counted (the *latest*); during the first window every score is 0.

    ``limits`` gives each feature's range, from which the splits are drawn:

    * ``"first_window"`` (default): the minimum and maximum of each feature over the first ``window_size``
      records. The trees are built when that window is complete (until then no score can be computed anyway), so
      the model is river's with ``limits`` set to those ranges. A feature constant over the first window has no
      width and is never split on (as in river); if every feature is constant, each gets a unit-wide range;
    * ``None``: river's default, ``[0, 1]`` for every feature (scale the features to it, as river expects);
    * a list of ``[low, high]`` per feature, or a dict from feature name (or column index) to ``[low, high]``,
      features not named getting ``[0, 1]`` (river's ``limits`` dict).

    Higher score = more anomalous, in ``[0, 1]``. Memory is fixed: ``2 · n_trees · 2**height`` counts plus the
    trees (and ``window_size`` buffered records during the first window with ``limits="first_window"``).
    """

    qualified_name = "builtin.half_space_trees"

    def __init__(self, n_trees: int = 10, height: int = 8, window_size: int = 250,
                 limits: Any = FIRST_WINDOW, random_state: int | None = None, contamination: float = 0.1):
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.limits = limits
        self.random_state = random_state
        self.contamination = contamination

    # -- parameters ------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name, low in (("n_trees", 1), ("height", 1), ("window_size", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise InputError(f"{self._name()}: {name} must be an integer >= {low}, got {value!r}")
        if self.height > MAX_HEIGHT:
            raise InputError(f"{self._name()}: height must be <= {MAX_HEIGHT}, got {self.height!r}")
        seed = self.random_state
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise InputError(f"{self._name()}: random_state must be an integer or None, got {seed!r}")

    def _resolve_limits(self, n_features: int) -> np.ndarray | None:
        """``(n_features, 2)`` ranges, or None for ``"first_window"`` (known when the first window is complete)."""
        limits = self.limits
        if isinstance(limits, str):
            if limits != FIRST_WINDOW:
                raise InputError(f"{self._name()}: limits must be 'first_window', None, a list of [low, high] per "
                                 f"feature or a dict of them, got {limits!r}")
            return None
        ranges = np.tile([0.0, 1.0], (n_features, 1))
        if limits is None:
            return ranges
        if isinstance(limits, dict):
            names = [] if self.feature_names_in_ is None else list(self.feature_names_in_)
            for key, pair in limits.items():
                if key in names:
                    j = names.index(key)
                elif str(key) in [str(n) for n in names]:
                    j = [str(n) for n in names].index(str(key))
                elif str(key).isdigit() and int(key) < n_features:  # a column index
                    j = int(key)
                else:
                    raise InputError(f"{self._name()}: limits names unknown feature {key!r}")
                ranges[j] = self._pair(pair, key)
            return ranges
        if not isinstance(limits, list | tuple) or len(limits) != n_features:
            raise InputError(f"{self._name()}: limits must give [low, high] for each of the {n_features} features")
        for j, pair in enumerate(limits):
            ranges[j] = self._pair(pair, j)
        return ranges

    def _pair(self, pair: Any, key: Any) -> tuple[float, float]:
        try:
            low, high = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InputError(f"{self._name()}: limits of {key!r} must be [low, high], got {pair!r}") from None
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise InputError(f"{self._name()}: limits of {key!r} must be finite with low <= high, got {pair!r}")
        return low, high

    # -- the online contract ---------------------------------------------------------------------------------
    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        ranges = self._resolve_limits(n_features)
        n_leaves = 1 << self.height
        self.rng_ = random.Random(None if self.random_state is None else int(self.random_state))
        self.mass_latest_ = np.zeros((self.n_trees, n_leaves), dtype=np.int64)
        self.mass_reference_ = np.zeros((self.n_trees, n_leaves), dtype=np.int64)
        self.window_count_ = 0
        self.first_window_ = True
        self.reference_size_ = self.window_size  # records the reference masses count (a merge: all training rows)
        self.__dict__.pop("merge_seed_", None)  # the seed of a merge (set by from_merged)
        self.buffer_ = np.empty((0, n_features))
        self.split_feature_ = np.zeros((self.n_trees, n_leaves - 1), dtype=np.intp)
        self.split_value_ = np.zeros((self.n_trees, n_leaves - 1))
        self.limits_ = ranges
        self.built_ = False
        if ranges is None:
            self.buffer_ = np.zeros((self.window_size, n_features))
        else:
            if not (ranges[:, 1] - ranges[:, 0] > 0).any():
                raise InputError(f"{self._name()}: limits give every feature a zero width; no split can be drawn")
            self._build(ranges)
        self._refresh_reference()

    def _learn_many(self, X: np.ndarray) -> None:
        self._learn_rows(X, None)

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        if self.first_window_:
            return np.zeros(X.shape[0])
        return self._scores_of_leaves(self._leaves(X))

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        if not self.built_:
            scores = np.zeros(X.shape[0])
            self._learn_rows(X, None)
            return scores
        leaves = self._leaves(X)
        scores = np.zeros(X.shape[0]) if self.first_window_ else self._scores_of_leaves(leaves)
        self._learn_rows(X, leaves)
        return scores

    # one record: plain Python walks (a handful of NumPy calls on one row cost more than the walk itself)
    def _learn_one(self, x: np.ndarray) -> None:
        if not self.built_:
            self._learn_rows(x[None, :], None)
            return
        self._learn_leaves_one(self._leaves_one(x.tolist()))

    def _score_one(self, x: np.ndarray) -> float:
        if self.first_window_:
            return 0.0
        return self._score_leaves_one(self._leaves_one(x.tolist()))

    def _score_learn_one(self, x: np.ndarray) -> float:
        if not self.built_:
            self._learn_rows(x[None, :], None)
            return 0.0
        leaves = self._leaves_one(x.tolist())
        score = 0.0 if self.first_window_ else self._score_leaves_one(leaves)
        self._learn_leaves_one(leaves)
        return score

    # -- persistence -----------------------------------------------------------------------------------------
    def _online_get_state(self) -> dict[str, Any]:
        version, internal, gauss = self.rng_.getstate()
        return {
            "split_feature": self.split_feature_.astype(np.int64), "split_value": self.split_value_,
            "mass_latest": self.mass_latest_, "mass_reference": self.mass_reference_,
            "window_count": np.int64(self.window_count_), "first_window": np.bool_(self.first_window_),
            "reference_size": np.int64(self.reference_size_),
            "merge_seed": np.asarray([self.merge_seed_] if "merge_seed_" in self.__dict__ else [], dtype=np.int64),
            "built": np.bool_(self.built_), "buffer": self.buffer_[:self.window_count_ if not self.built_ else 0],
            "limits": np.empty((0, 2)) if self.limits_ is None else self.limits_,
            "rng_state": np.asarray(internal, dtype=np.int64), "rng_version": np.int64(version),
            "rng_gauss": np.float64(np.nan if gauss is None else gauss),
        }

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        self.split_feature_ = state["split_feature"].astype(np.intp)
        self.split_value_ = np.asarray(state["split_value"], dtype=np.float64)
        self.mass_latest_ = np.asarray(state["mass_latest"], dtype=np.int64)
        self.mass_reference_ = np.asarray(state["mass_reference"], dtype=np.int64)
        self.window_count_ = int(state["window_count"])
        self.first_window_ = bool(state["first_window"])
        self.reference_size_ = int(state["reference_size"]) if "reference_size" in state else self.window_size
        self.__dict__.pop("merge_seed_", None)
        if len(state.get("merge_seed", ())):
            self.merge_seed_ = int(state["merge_seed"][0])
        self.built_ = bool(state["built"])
        buffered = np.asarray(state["buffer"], dtype=np.float64)
        self.buffer_ = np.zeros((0 if self.built_ else self.window_size, buffered.shape[1]))
        self.buffer_[:buffered.shape[0]] = buffered
        self.limits_ = None if state["limits"].shape[0] == 0 else np.asarray(state["limits"], dtype=np.float64)
        gauss = float(state["rng_gauss"])
        self.rng_ = random.Random()
        self.rng_.setstate((int(state["rng_version"]), tuple(int(v) for v in state["rng_state"]),
                            None if np.isnan(gauss) else gauss))
        expected = (self.n_trees, 1 << self.height)
        if self.mass_latest_.shape != expected or self.split_feature_.shape != (expected[0], expected[1] - 1):
            raise InputError(f"{self._name()}: saved trees have shape {self.mass_latest_.shape}, the parameters "
                             f"say {expected}")
        if self.built_:
            self._index_trees()
        self._refresh_reference()

    # -- training on partitions (pynomaly_core.merging): shared trees, then masses that add up ------------------
    @property
    def merge_passes(self) -> int:
        """One pass (the masses) when the trees are known from the parameters alone (``limits`` given and
        ``random_state`` set); else two: first what the trees are built from, then the masses."""
        return 1 if not isinstance(self.limits, str) and self.random_state is not None else 2

    def partial_state(self, X: np.ndarray, pass_index: int, previous: dict | None) -> dict:
        """A partition's part of a mass merge.

        * First pass (when there are two): the minimum and maximum of each feature and, with
          ``random_state=None``, a random seed (the merge keeps the smallest, so every partition draws the same
          trees).
        * Last pass: every partition builds the same trees (from the seed and ``limits``, or with
          ``limits="first_window"`` from the ranges of the first pass: each feature's minimum and maximum over
          **all** training rows, not over the first ``window_size`` records of a stream, which a partitioned data
          set does not have) and counts the leaf each row reaches in each tree: integer masses that add up exactly.
        """
        if pass_index < self.merge_passes - 1:
            state = {"n": X.shape[0], "low": X.min(axis=0), "high": X.max(axis=0)}
            if self.random_state is None:
                state["seed"] = secrets.randbits(63)
            return state
        shared = HalfSpaceTrees(**self.get_params())
        shared.feature_names_in_ = self.__dict__.get("feature_names_in_")
        shared._start_shared(X.shape[1], previous or {})
        mass = np.zeros(shared.mass_reference_.size, dtype=np.int64)
        for start in range(0, X.shape[0], _MERGE_CHUNK):  # bounded memory: (rows × trees) leaf indices per chunk
            mass += np.bincount(shared._leaves(X[start:start + _MERGE_CHUNK]).reshape(-1), minlength=mass.size)
        state = {key: value for key, value in (previous or {}).items() if key in ("low", "high", "seed")}
        return {**state, "n": X.shape[0], "mass": mass.reshape(shared.mass_reference_.shape)}

    def merge_states(self, states: Sequence[dict], pass_index: int) -> dict:
        merged: dict[str, Any] = {"n": sum(int(s["n"]) for s in states), "n_features": states[0]["n_features"]}
        if "low" in states[0]:
            merged["low"] = np.min([s["low"] for s in states], axis=0)
            merged["high"] = np.max([s["high"] for s in states], axis=0)
        if "seed" in states[0]:
            merged["seed"] = min(int(s["seed"]) for s in states)
        if "mass" in states[0]:
            merged["mass"] = np.sum([s["mass"] for s in states], axis=0, dtype=np.int64)
        return merged

    def from_merged(self, merged: dict) -> None:
        """The merged model: the shared trees, every training row's mass as the reference (so
        ``reference_size_`` is the number of rows), an empty latest window. It scores exactly as
        :meth:`local_equivalent` fitted on all rows at once, and keeps learning online with windows of
        ``window_size`` records (the first swap replaces the merged reference)."""
        n = int(merged["n"])
        if n * self.n_trees * ((1 << (self.height + 1)) - 1) >= 1 << 63:
            raise InputError(f"{self._name()}: {n} rows overflow the int64 scores of {self.n_trees} trees of height "
                             f"{self.height}")
        self._start_shared(int(merged["n_features"]), merged)
        self.mass_reference_ = np.asarray(merged["mass"], dtype=np.int64).copy()
        self.reference_size_ = n
        self.first_window_ = False
        self._refresh_reference()
        self.n_learned_ = n

    def local_equivalent(self, n_rows: int | None = None) -> HalfSpaceTrees:
        """An unfitted detector whose ``fit`` on all ``n_rows`` training rows at once (in any order) gives this
        merged model's trees, masses and scores bit for bit: the same parameters with ``window_size=n_rows`` (one
        window holds every row: with ``limits="first_window"`` its ranges are those of all rows) and the seed the
        merge used. ``set_params(window_size=...)`` back to this model's afterwards makes it learn on exactly as
        this model does."""
        n = self.reference_size_ if n_rows is None else n_rows
        seed = self.__dict__.get("merge_seed_", self.random_state)
        return HalfSpaceTrees(**{**self.get_params(), "window_size": int(n), "random_state": seed})

    def _start_shared(self, n_features: int, merged: dict) -> None:
        """Start afresh with the trees every partition shares (the seed and ranges of the first pass)."""
        names = self.__dict__.get("feature_names_in_")
        self._start(n_features, None if names is None else list(names))
        self.merge_seed_ = int(self.random_state if self.random_state is not None else merged["seed"])
        ranges = self.limits_ if self.limits_ is not None else window_ranges(merged["low"], merged["high"])
        self.rng_ = random.Random(self.merge_seed_)
        self.buffer_ = np.empty((0, n_features))
        self._build(ranges)

    # -- trees -----------------------------------------------------------------------------------------------
    def _build(self, ranges: np.ndarray) -> None:
        """Draw the trees exactly as river's ``make_padded_tree`` does, one tree after the other: in pre-order,
        the split feature by ``rng.choices`` weighted by the widths of the node's current ranges, then the split
        point by ``rng.uniform`` over the middle of the chosen range; left subtree before right.

        Each node takes exactly two ``rng.random()`` draws, so the whole sequence is drawn at once (NumPy's legacy
        Mersenne Twister, started from the state of ``rng`` and handed back to it, gives the very same doubles)
        and the trees are grown level by level for all nodes of all trees at once, with the same float operations
        as ``choices``/``uniform``. Where that cannot be checked to match here, or for huge trees, the draws are
        made node by node in Python."""
        ranges = np.asarray(ranges, dtype=np.float64)
        cells = self.n_trees * (1 << (self.height - 1)) * ranges.shape[0]
        if cells <= _LEVEL_BUILD_CELLS and _numpy_draws_match():
            features, values = _grow_levels(self.rng_, ranges, self.n_trees, self.height)
        else:
            features, values = self._grow_nodes(ranges)
        self.split_feature_[:], self.split_value_[:] = features, values
        self.limits_ = ranges
        self.built_ = True
        self._index_trees()

    def _grow_nodes(self, ranges: np.ndarray) -> tuple[list[list[int]], list[list[float]]]:
        """The trees node by node, with ``rng.choices`` and ``rng.uniform`` (or their inlined equivalent)."""
        choose, uniform = _draws(self.rng_, ranges.shape[0])
        n_internal = (1 << self.height) - 1

        def grow(height: int, node: int) -> None:
            on = choose(widths)
            a, b = limits[on]
            at = uniform(a + PADDING * (b - a), b - PADDING * (b - a))
            features[node], values[node] = on, at
            if height == 1:
                return
            width = widths[on]
            limits[on], widths[on] = (a, at), at - a
            grow(height - 1, 2 * node + 1)
            limits[on], widths[on] = (at, b), b - at
            grow(height - 1, 2 * node + 2)
            limits[on], widths[on] = (a, b), width

        all_features, all_values = [], []
        for _ in range(self.n_trees):
            limits = [(float(low), float(high)) for low, high in ranges]
            widths = [high - low for low, high in limits]  # river's weights, kept up to date as limits change
            features, values = [0] * n_internal, [0.0] * n_internal
            grow(self.height, 0)
            all_features.append(features)
            all_values.append(values)
        return all_features, all_values

    def _index_trees(self) -> None:
        """Derived lookups for the walks. Internal node ``k`` of tree ``t`` is ``t · (2**height − 1) + k`` in the
        flat split arrays, leaf ``i`` of tree ``t`` is ``t · 2**height + i`` in the flat masses; ``_left`` maps an
        internal node to its left child (the right one is the next index), in the internal numbering above the
        last level and in the leaf numbering from it, so a walk ends on the flat index of its leaf."""
        n_trees, height = self.n_trees, self.height
        n_internal = (1 << height) - 1
        self._features_flat = np.ascontiguousarray(self.split_feature_.reshape(-1), dtype=np.intp)
        self._values_flat = np.ascontiguousarray(self.split_value_.reshape(-1))
        tree, node = np.divmod(np.arange(n_trees * n_internal, dtype=np.intp), n_internal)
        child = 2 * node + 1
        self._left = np.where(child < n_internal, tree * n_internal + child, (tree << height) + child - n_internal)
        self._roots = np.arange(n_trees, dtype=np.intp) * n_internal
        self._features_list = self.split_feature_.tolist()
        self._values_list = self.split_value_.tolist()

    def _leaves(self, X: np.ndarray) -> np.ndarray:
        """Flat leaf index (``t · 2**height + leaf``) reached by every row in every tree: ``(n_rows, n_trees)``."""
        n, d = X.shape
        flat = X.reshape(-1)
        row_base = (np.arange(n, dtype=np.intp) * d)[:, None]
        features, values, left = self._features_flat, self._values_flat, self._left
        roots = self._roots  # level 0: every row is at the root of every tree
        node = left.take(roots) + (flat.take(row_base + features.take(roots)) >= values.take(roots))
        for _ in range(1, self.height):
            right = flat.take(row_base + features.take(node)) >= values.take(node)
            node = left.take(node)
            node += right
        return node

    def _leaves_one(self, x: list[float]) -> list[int]:
        height = self.height
        first_leaf = (1 << height) - 1
        leaves = []
        for t, (features, values) in enumerate(zip(self._features_list, self._values_list, strict=True)):
            node = 0
            for _ in range(height):
                node = 2 * node + (2 if x[features[node]] >= values[node] else 1)
            leaves.append((t << height) + node - first_leaf)
        return leaves

    # -- masses and windows ----------------------------------------------------------------------------------
    def _learn_rows(self, X: np.ndarray, leaves: np.ndarray | None) -> None:
        """Learn rows in order, swapping windows (and, with ``limits="first_window"``, building the trees) on the
        way. ``leaves``: the rows' leaves when the caller walked them already."""
        n = X.shape[0]
        start = 0
        while start < n:
            room = self.window_size - self.window_count_
            stop = min(n, start + room)
            if not self.built_:
                self.buffer_[self.window_count_:self.window_count_ + stop - start] = X[start:stop]
                self.window_count_ += stop - start
                if self.window_count_ == self.window_size:
                    self._build_from_first_window()
                start = stop
                continue
            if leaves is None:
                leaves = self._leaves(X[start:])
                X, n, start, stop = X[start:], n - start, 0, stop - start
            self.mass_latest_ += np.bincount(leaves[start:stop].reshape(-1),
                                             minlength=self.mass_latest_.size).reshape(self.mass_latest_.shape)
            self.window_count_ += stop - start
            if self.window_count_ == self.window_size:
                self._swap()
            start = stop

    def _build_from_first_window(self) -> None:
        window = self.buffer_
        self._build(window_ranges(window.min(axis=0), window.max(axis=0)))
        self.buffer_ = np.empty((0, window.shape[1]))
        leaves = self._leaves(window)
        self.mass_latest_ += np.bincount(leaves.reshape(-1), minlength=self.mass_latest_.size).reshape(
            self.mass_latest_.shape)
        self._swap()

    def _learn_leaves_one(self, leaves: list[int]) -> None:
        latest = self.mass_latest_.reshape(-1)
        for leaf in leaves:
            latest[leaf] += 1
        self.window_count_ += 1
        if self.window_count_ == self.window_size:
            self._swap()

    def _swap(self) -> None:
        """End of a window: the latest masses become the reference, counting starts again."""
        self.mass_reference_ = self.mass_latest_
        self.mass_latest_ = np.zeros_like(self.mass_reference_)
        self.window_count_ = 0
        self.first_window_ = False
        self.reference_size_ = self.window_size
        self._refresh_reference()

    def _refresh_reference(self) -> None:
        """Per leaf, river's per-tree score of a record that reaches it (from the reference masses). River's size
        limit and normaliser are ``window_size`` records, the size of its reference window: here
        ``reference_size_``, which is ``window_size`` except after a merge (every training row is the reference)."""
        self.leaf_score_ = leaf_scores(self.mass_reference_, self.height, 0.1 * self.reference_size_)
        self._leaf_score_flat = self.leaf_score_.reshape(-1)
        self._max_score = self.n_trees * self.reference_size_ * ((1 << (self.height + 1)) - 1)

    def _scores_of_leaves(self, leaves: np.ndarray) -> np.ndarray:
        total = self._leaf_score_flat.take(leaves).sum(axis=1)
        return 1.0 - total / self._max_score

    def _score_leaves_one(self, leaves: list[int]) -> float:
        return 1.0 - int(self._leaf_score_flat.take(leaves).sum()) / self._max_score


def window_ranges(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The ``(n_features, 2)`` ranges the trees are drawn in, from each feature's minimum and maximum (over the
    first window, or over every training row for a merge). If nothing varies, each feature gets a unit-wide range
    so that splits can be drawn."""
    ranges = np.column_stack([np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)])
    if not (ranges[:, 1] > ranges[:, 0]).any():
        ranges = np.column_stack([ranges[:, 0] - 0.5, ranges[:, 0] + 0.5])
    return ranges


def _grow_levels(rng: random.Random, ranges: np.ndarray, n_trees: int, height: int) -> tuple[np.ndarray, ...]:
    """All trees at once, level by level: the split features and values in heap order, drawn as river draws them
    (see :meth:`HalfSpaceTrees._build`); ``rng`` ends in the state river's would after building the trees."""
    n_features = ranges.shape[0]
    n_internal = (1 << height) - 1
    draws = _random_doubles(rng, 2 * n_trees * n_internal).reshape(n_trees, n_internal, 2)  # per tree, pre-order
    preorder = _preorder(height)
    features = np.empty((n_trees, n_internal), dtype=np.intp)
    values = np.empty((n_trees, n_internal))
    low = np.tile(ranges[:, 0], (n_trees, 1, 1))  # (trees, nodes of the level, features): each node's box
    high = np.tile(ranges[:, 1], (n_trees, 1, 1))
    for depth in range(height):
        first, count = (1 << depth) - 1, 1 << depth
        u = draws[:, preorder[first:first + count]]
        cumulative = np.cumsum(high - low, axis=2)  # sequential sums, as itertools.accumulate
        total = cumulative[:, :, -1] + 0.0
        if not (np.isfinite(total).all() and (total > 0).all()):
            raise InputError("builtin.half_space_trees: the feature ranges have no finite positive width")
        # bisect_right(cumulative, u * total, 0, n_features - 1)
        on = (cumulative[:, :, :n_features - 1] <= (u[:, :, 0] * total)[:, :, None]).sum(axis=2)
        a = np.take_along_axis(low, on[:, :, None], axis=2)[:, :, 0]
        b = np.take_along_axis(high, on[:, :, None], axis=2)[:, :, 0]
        start, stop = a + PADDING * (b - a), b - PADDING * (b - a)
        at = start + (stop - start) * u[:, :, 1]  # Random.uniform(start, stop)
        features[:, first:first + count], values[:, first:first + count] = on, at
        if depth + 1 < height:  # children in level order: the left one takes (a, at), the right one (at, b)
            low, high = np.repeat(low, 2, axis=1), np.repeat(high, 2, axis=1)
            tree, node = np.indices((n_trees, count))
            high[tree, 2 * node, on] = at
            low[tree, 2 * node + 1, on] = at
    return features, values


@functools.lru_cache(maxsize=8)
def _preorder(height: int) -> np.ndarray:
    """The pre-order rank (root, left subtree, right subtree) of each internal node of a complete tree, by heap
    index."""
    n_internal = (1 << height) - 1
    rank = np.empty(n_internal, dtype=np.intp)
    stack, counter = [0], 0
    while stack:
        node = stack.pop()
        if node >= n_internal:
            continue
        rank[node] = counter
        counter += 1
        stack += [2 * node + 2, 2 * node + 1]
    return rank


def _random_doubles(rng: random.Random, n: int) -> np.ndarray:
    """The next ``n`` values of ``rng.random()``, drawn by NumPy (same Mersenne Twister, same 53-bit doubles), with
    ``rng`` advanced past them."""
    version, internal, gauss = rng.getstate()
    twister = np.random.RandomState()
    twister.set_state(("MT19937", np.asarray(internal[:624], dtype=np.uint32), internal[624]))
    doubles = twister.random_sample(n)
    _, key, position = twister.get_state()[:3]
    rng.setstate((version, (*(int(k) for k in key), int(position)), gauss))
    return doubles


@functools.lru_cache(maxsize=1)
def _numpy_draws_match() -> bool:
    """Whether :func:`_random_doubles` gives exactly ``rng.random()``'s values and leaves ``rng`` where they would."""
    try:
        reference, drawn = random.Random(1234), random.Random(1234)
        reference.random()
        drawn.random()  # off the state's first index
        expected = [reference.random() for _ in range(700)]  # across a regeneration of the 624-word state
        return _random_doubles(drawn, 700).tolist() == expected and drawn.random() == reference.random()
    except (TypeError, ValueError):
        return False


def _draws(rng: random.Random, n_features: int) -> tuple[Any, Any]:
    """``choose(widths) -> feature`` and ``uniform(a, b)``: ``rng.choices(range(n), weights=widths)[0]`` and
    ``rng.uniform(a, b)`` (what river calls), inlined (about three times faster) when this Python's ``random`` is
    checked to give the same draws that way (CPython's does), else those very calls."""
    if _inline_draws_match():
        return _inline_draws(rng, n_features)
    population = list(range(n_features))
    return (lambda widths: rng.choices(population=population, weights=widths)[0]), rng.uniform


def _inline_draws(rng: random.Random, n_features: int) -> tuple[Any, Any]:
    """CPython's ``Random.choices`` (k=1, with weights) and ``Random.uniform``, spelled out."""
    draw, last = rng.random, n_features - 1
    accumulate, bisect = itertools.accumulate, bisect_module.bisect

    def choose(widths: list[float]) -> int:
        cumulative = list(accumulate(widths))
        total = cumulative[-1] + 0.0
        if not 0.0 < total < math.inf:
            raise InputError("builtin.half_space_trees: the feature ranges have no finite positive width")
        return bisect(cumulative, draw() * total, 0, last)

    def uniform(a: float, b: float) -> float:
        return a + (b - a) * draw()

    return choose, uniform


@functools.lru_cache(maxsize=1)
def _inline_draws_match() -> bool:
    """Whether :func:`_inline_draws` gives exactly the draws of ``Random.choices``/``Random.uniform`` here."""
    probe = random.Random(20110716)
    reference, inlined = random.Random(7), random.Random(7)
    for _ in range(300):
        n = probe.randint(1, 12)
        widths = [probe.choice([0.0, probe.random(), probe.uniform(0, 1e6)]) for _ in range(n)]
        widths[probe.randrange(n)] = probe.random() + 1e-3
        a = probe.uniform(-10, 10)
        b = a + probe.random() * 5
        choose, uniform = _inline_draws(inlined, n)
        if reference.choices(population=list(range(n)), weights=widths)[0] != choose(widths):
            return False
        if reference.uniform(a, b) != uniform(a, b):
            return False
    return True


def leaf_scores(leaf_mass: np.ndarray, height: int, size_limit: float) -> np.ndarray:
    """``(n_trees, 2**height)`` int64: for a record reaching each leaf, ``Σ mass(node) · 2**depth`` over the nodes of
    its path from the root, stopping after the first internal node whose mass is below ``size_limit`` (river's
    ``_walk_score``); ``leaf_mass`` holds the masses of the leaves, an internal node's is the sum below it.

    Masses never grow down a path, so a node counts exactly when its parent's mass is at least ``size_limit``
    (the root always counts): every node's term is computed at once, then summed along each leaf's path.
    """
    first, last, depth, parent, paths = _tree_tables(height)
    n_trees = leaf_mass.shape[0]
    cumulative = np.zeros((n_trees, leaf_mass.shape[1] + 1), dtype=np.int64)
    np.cumsum(leaf_mass, axis=1, out=cumulative[:, 1:])
    mass = cumulative.take(last, axis=1) - cumulative.take(first, axis=1)  # every node, heap order
    terms = mass << depth
    terms[:, 1:] *= mass.take(parent, axis=1) >= size_limit
    return terms.take(paths, axis=1).reshape(n_trees, height + 1, -1).sum(axis=1)


@functools.lru_cache(maxsize=8)
def _tree_tables(height: int) -> tuple[np.ndarray, ...]:
    """For the nodes of a complete tree in heap order: the first and one-past-last leaf below each, its depth,
    the parent of each non-root node, and, flattened, the node at each depth of each leaf's path."""
    n_leaves = 1 << height
    depth = np.concatenate([np.full(1 << k, k, dtype=np.int64) for k in range(height + 1)])
    position = np.concatenate([np.arange(1 << k, dtype=np.intp) for k in range(height + 1)])
    width = n_leaves >> depth
    first = position * width
    parent = (np.arange(1, depth.size, dtype=np.intp) - 1) // 2
    leaves = np.arange(n_leaves, dtype=np.intp)
    paths = np.concatenate([(1 << k) - 1 + (leaves >> (height - k)) for k in range(height + 1)])
    return first, first + width, depth, parent, paths
