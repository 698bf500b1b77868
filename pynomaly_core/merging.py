"""Training on partitions of the data: mergeable detector states and the map/reduce driver (NumPy only).

A detector that declares the ``mergeable`` capability implements three methods (the :class:`Mergeable` protocol):

* ``partial_state(X, pass_index, previous)`` → a small dict of arrays summarising one partition; ``previous`` is
  the merged state of the previous pass (HBOS needs two passes: the range of each feature, then the counts of
  bins on edges shared by every partition);
* ``merge_states(states, pass_index)`` → one state of the same form (associative: merged states merge again);
* ``from_merged(merged)`` → sets the fitted attributes from the last pass's merged state;
* ``merge_passes``: how many passes (it may depend on the parameters);
* optionally ``local_equivalent(n_rows)`` on the merged model → the unfitted detector whose ``fit`` on all rows at
  once it equals, where that is not the detector itself (the online detectors: one window of every row).

:func:`fit_merged` runs the passes with any engine's ``map_partitions(task) -> [task(X) for each partition]``
(Dask, Spark or a plain list, :func:`local_map`), then one pass over the scores for ``threshold_``. Each task also
has ``combine(results) -> result``, which an engine may use to merge results on the workers (a tree reduction)
before they reach the driver. What is exact:
Mahalanobis (moments, Chan's pairwise merge), HBOS (counts on shared edges), and the online Half-Space Trees (leaf
masses of shared trees) and DecayedHBOS (counts on shared edges), whose merged models are their
``local_equivalent(n_rows)`` fitted on all rows at once; ECOD keeps a per-feature quantile sketch whose bound on the
empirical CDF is the model's ``merge_bound_`` (exact while a feature has at most ``sketch_size`` rows in all).
The threshold comes from a sketch of the training scores, exact up to ``sketch_size`` rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.validation import check_array, check_scores

State = dict[str, Any]
#: ``map_partitions(task)``: ``task`` applied to every partition (a float64 array), the results in a list.
MapPartitions = Callable[[Callable[[np.ndarray], Any]], list[Any]]

#: Points a quantile sketch keeps per partition and after a merge (per feature for ECOD, and of the scores).
SKETCH_SIZE = 1 << 14


@runtime_checkable
class Mergeable(Protocol):
    """What a detector with the ``mergeable`` capability implements (see the module docstring)."""

    merge_passes: int

    def partial_state(self, X: np.ndarray, pass_index: int, previous: State | None) -> State: ...

    def merge_states(self, states: Sequence[State], pass_index: int) -> State: ...

    def from_merged(self, merged: State) -> None: ...


def is_mergeable(detector: Any) -> bool:
    return isinstance(detector, Mergeable)


def local_map(partitions: Iterable[np.ndarray]) -> MapPartitions:
    """The reference engine: partitions held in memory, tasks run one after the other."""
    parts = list(partitions)
    return lambda task: [task(X) for X in parts]


def fit_merged(detector: Any, map_partitions: MapPartitions, *, feature_names: Sequence[Any] | None = None,
               sketch_size: int = SKETCH_SIZE) -> Any:
    """Fit ``detector`` from per-partition states merged on the driver; returns the detector.

    ``sketch_size`` bounds the quantile sketches (ECOD's features, the training scores): larger is more exact.
    """
    if not is_mergeable(detector):
        raise InputError(f"{detector._name()} cannot be trained distributed (it is not mergeable): fit it on a "
                         "sample")
    detector._check_contamination()
    detector.merge_sketch_size = int(sketch_size)
    # known to partial_state (shipped with the detector), e.g. for parameters keyed by feature name
    detector.feature_names_in_ = None if feature_names is None else np.asarray(list(feature_names), dtype=object)
    start = time.perf_counter()
    merged: State | None = None
    for pass_index in range(detector.merge_passes):
        states = [s for s in map_partitions(_StateTask(detector, pass_index, merged)) if s is not None]
        if not states:
            raise InputError(f"{detector._name()}: no rows to fit")
        merged = detector.merge_states(states, pass_index)
    detector.from_merged(merged)
    detector.n_features_in_ = int(merged["n_features"])
    detector.feature_names_in_ = None if feature_names is None else np.asarray(list(feature_names), dtype=object)
    scores = merge_sketches([s for s in map_partitions(_ScoreSketchTask(detector, sketch_size)) if s is not None],
                            sketch_size)
    exact = bool(np.all(scores["weights"] == 1))
    values = scores["values"] if exact else representatives(scores, sketch_size)
    detector.decision_scores_ = values
    detector._set_threshold(values)
    detector.threshold_exact_ = exact
    detector.fit_time_s_ = time.perf_counter() - start
    return detector


class _StateTask:
    """``partial_state`` of one partition, validated (a class, not a closure, so engines ship it cheaply)."""

    def __init__(self, detector: Any, pass_index: int, previous: State | None):
        self.detector, self.pass_index, self.previous = detector, pass_index, previous

    def __call__(self, X: np.ndarray) -> State | None:
        if len(X) == 0:
            return None
        array = check_array(X, allow_nan=getattr(self.detector, "allow_nan", False))
        state = self.detector.partial_state(array, self.pass_index, self.previous)
        state["n_features"] = array.shape[1]
        return state

    def combine(self, states: Sequence[State | None]) -> State | None:
        present = [s for s in states if s is not None]
        if not present:
            return None
        return {"n_features": present[0]["n_features"], **self.detector.merge_states(present, self.pass_index)}


class _ScoreSketchTask:
    def __init__(self, detector: Any, size: int):
        self.detector, self.size = detector, size

    def __call__(self, X: np.ndarray) -> State | None:
        if len(X) == 0:
            return None
        array = check_array(X, allow_nan=getattr(self.detector, "allow_nan", False),
                            n_features=self.detector.n_features_in_)
        return sketch(check_scores(self.detector._score(array), array.shape[0], self.detector._name()), self.size)

    def combine(self, sketches: Sequence[State | None]) -> State | None:
        present = [s for s in sketches if s is not None]
        return merge_sketches(present, self.size) if present else None


# -- quantile sketches ---------------------------------------------------------------------------------------
def sketch(values: np.ndarray, size: int = SKETCH_SIZE) -> State:
    """A weighted quantile summary of ``values``: at most ``size`` sorted points and their weights.

    ``count(x)``, the summed weight of the points ``<= x``, never exceeds the number of values ``<= x`` and falls
    short of it by at most ``error`` (0: the summary holds every value).
    """
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    if ordered.size <= size:
        return {"values": ordered, "weights": np.ones(ordered.size, dtype=np.int64), "error": 0}
    return _compress(ordered, np.ones(ordered.size, dtype=np.int64), size, 0)


def merge_sketches(sketches: Sequence[State], size: int = SKETCH_SIZE) -> State:
    """One sketch of the union; the errors add up, plus what compressing back to ``size`` points costs."""
    values = np.concatenate([s["values"] for s in sketches])
    weights = np.concatenate([s["weights"] for s in sketches])
    error = sum(int(s["error"]) for s in sketches)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    if values.size <= size:
        return {"values": values, "weights": weights, "error": error}
    return _compress(values, weights, size, error)


def _compress(values: np.ndarray, weights: np.ndarray, size: int, error: int) -> State:
    """Keep the points where the cumulative weight first reaches ``k · total / size``; each takes the weight of the
    points since the previous one kept. A count falls short by less than the largest new weight."""
    cumulative = np.cumsum(weights)
    total = int(cumulative[-1])
    targets = -(-np.arange(1, size + 1, dtype=np.int64) * total // size)  # ceil(k · total / size)
    keep = np.unique(np.searchsorted(cumulative, targets, side="left"))
    kept = cumulative[keep]
    new_weights = np.diff(kept, prepend=0)
    return {"values": values[keep], "weights": new_weights, "error": error + int(new_weights.max()) - 1}


def representatives(summary: State, size: int) -> np.ndarray:
    """``size`` equally weighted points standing for the sketch (the value at ranks ``ceil(k · n / size)``)."""
    cumulative = np.cumsum(summary["weights"])
    total = int(cumulative[-1])
    if total <= size and np.all(summary["weights"] == 1):
        return summary["values"].copy()
    targets = -(-np.arange(1, size + 1, dtype=np.int64) * total // size)
    return summary["values"][np.searchsorted(cumulative, targets, side="left")]


def cdf_bound(summary: State, size: int) -> float:
    """Bound on ``|F̂(x) − F(x)|`` for an ECDF read from ``representatives(summary, size)`` as ECOD reads its
    training column (``(count + 1) / (m + 1)``): the sketch's error, the resampling step and the ``+1``s."""
    if summary["error"] == 0 and summary["weights"].size <= size and np.all(summary["weights"] == 1):
        return 0.0
    total = int(np.sum(summary["weights"]))
    m = min(size, total)
    return (int(summary["error"]) + -(-total // m) + 1) / total + 2.0 / (m + 1)


def moments(X: np.ndarray) -> State:
    """Count, mean and central second and third moments per column (mergeable with :func:`merge_moments`)."""
    mean = X.mean(axis=0)
    centred = X - mean
    return {"n": X.shape[0], "mean": mean, "m2": np.sum(centred**2, axis=0), "m3": np.sum(centred**3, axis=0)}


def merge_moments(parts: Sequence[State]) -> State:
    """Pébay's pairwise update of count, mean, M2 and M3 (exact up to rounding)."""
    merged = dict(parts[0])
    for part in parts[1:]:
        na, nb = merged["n"], part["n"]
        n = na + nb
        delta = part["mean"] - merged["mean"]
        m2 = merged["m2"] + part["m2"] + delta**2 * (na * nb / n)
        m3 = (merged["m3"] + part["m3"] + delta**3 * (na * nb * (na - nb) / n**2)
              + 3.0 * delta * (na * part["m2"] - nb * merged["m2"]) / n)
        merged = {"n": n, "mean": merged["mean"] + delta * (nb / n), "m2": m2, "m3": m3}
    return merged
