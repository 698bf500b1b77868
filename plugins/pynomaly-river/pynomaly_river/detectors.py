"""river's anomaly detectors as pynomaly online detectors (this module imports river).

Each detector holds one river model (``model_``; one per feature for the univariate scorers) and follows
:mod:`pynomaly_core.online`: ``learn_one``/``score_one`` call river's with the record as a dict keyed by the column
index (``{0: x0, 1: x1, …}``, whatever the feature names; river's ``HalfSpaceTrees`` sorts the keys, so the trees are
those of river fed such dicts), and ``learn_many``/``score_many`` loop over the rows. river's own mini-batch methods
are not used: ``OneClassSVM.learn_many`` takes one gradient step per batch (a different model from learning the
records one by one) and ``LocalOutlierFactor.learn_many`` loops over the rows itself. So the scores are exactly
river's for the same stream of records, in the same order.

``fit(X)`` starts a fresh river model and learns every row; ``partial_fit`` keeps learning. Scores are river's
(higher = more anomalous). Models are saved with pickle (the ``pickle_save`` capability): the core refuses to load
them without ``trust=True`` and checks their sha256 first, and :meth:`RiverDetector._load_artefacts` unpickles
nothing without that flag either.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from river import anomaly, neighbors, optim, stats

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError, IntegrityError, UntrustedArtefactError
from pynomaly_core.online import OnlineDetector

MODEL_FILE = "river_model.pkl"
_AGGREGATES = {"max": np.max, "mean": np.mean, "sum": np.sum}


class RiverDetector(OnlineDetector, BaseDetector):
    """A river anomaly detector learning records as ``{column index: value}`` dicts."""

    river_class: ClassVar[type]

    def make_model(self) -> Any:
        """A fresh river model with this detector's parameters."""
        raise TypeError(f"{type(self).__name__} must implement make_model")

    def _online_reset(self, n_features: int) -> None:
        self.model_ = self.make_model()

    def _learn_many(self, X: np.ndarray) -> None:
        learn = self.model_.learn_one
        for row in X.tolist():
            learn(dict(enumerate(row)))

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        score = self.model_.score_one
        return np.fromiter((score(dict(enumerate(row))) for row in X.tolist()), dtype=np.float64, count=X.shape[0])

    def _learn_one(self, x: np.ndarray) -> None:
        self.model_.learn_one(dict(enumerate(x.tolist())))

    def _score_one(self, x: np.ndarray) -> float:
        return float(self.model_.score_one(dict(enumerate(x.tolist()))))

    # -- persistence: pickle, only with trust ----------------------------------------------------------------
    def _online_get_state(self) -> dict[str, Any]:
        return {}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        return None

    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        artefacts = super()._save_artefacts(directory)
        with open(directory / MODEL_FILE, "wb") as handle:
            pickle.dump(self.model_, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return {**artefacts, MODEL_FILE: "pickle"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        if artefacts.get(MODEL_FILE) != "pickle":
            raise IntegrityError(f"{directory}: {self._name()} models need the artefact {MODEL_FILE} in format "
                                 "'pickle'")
        if not trust:
            raise UntrustedArtefactError(
                f"{directory / MODEL_FILE} is a pickle, which can run code when loaded; pass trust=True "
                "(CLI: --trust) only if you trust its origin"
            )
        super()._load_artefacts(directory, artefacts, trust)
        with open(directory / MODEL_FILE, "rb") as handle:
            model = pickle.load(handle)  # behind trust=True and the core's sha256 check
        self._check_loaded(model, directory)
        self.model_ = model

    def _check_loaded(self, model: Any, directory: Path) -> None:
        if type(model) is not self.river_class:
            raise IntegrityError(f"{directory / MODEL_FILE} holds a {type(model).__name__}, expected "
                                 f"{self.river_class.__name__}")


class HalfSpaceTrees(RiverDetector):
    """``river.anomaly.HalfSpaceTrees``; ``limits``: a list of ``[low, high]`` per column, or a dict from column
    index to ``[low, high]`` (others ``[0, 1]``), or None for ``[0, 1]`` everywhere (river's default)."""

    qualified_name = "river.half_space_trees"
    river_class = anomaly.HalfSpaceTrees

    def __init__(self, n_trees: int = 10, height: int = 8, window_size: int = 250, limits: Any = None,
                 seed: int | None = None, contamination: float = 0.1):
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.limits = limits
        self.seed = seed
        self.contamination = contamination

    def _online_reset(self, n_features: int) -> None:
        self._n_columns = n_features
        super()._online_reset(n_features)

    def make_model(self) -> Any:
        return anomaly.HalfSpaceTrees(n_trees=self.n_trees, height=self.height, window_size=self.window_size,
                                      limits=self._river_limits(getattr(self, "_n_columns", None)), seed=self.seed)

    def _river_limits(self, n_features: int | None) -> dict[int, tuple[float, float]] | None:
        limits = self.limits
        if limits is None:
            return None
        if isinstance(limits, dict):
            items = list(limits.items())
        elif isinstance(limits, list | tuple) and (n_features is None or len(limits) == n_features):
            items = list(enumerate(limits))
        else:
            raise InputError(f"{self._name()}: limits must be None, a list of [low, high] per column or a dict "
                             f"from column index to [low, high], got {limits!r}")
        resolved = {}
        for key, pair in items:
            try:
                index = int(key)
                low, high = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise InputError(f"{self._name()}: limits entry {key!r}: {pair!r} is not column index: "
                                 "[low, high]") from None
            if n_features is not None and not 0 <= index < n_features:
                raise InputError(f"{self._name()}: limits names column {key!r}, there are {n_features}")
            resolved[index] = (low, high)
        return resolved


class OneClassSVM(RiverDetector):
    """``river.anomaly.OneClassSVM`` with ``optimizer=optim.SGD(learning_rate)`` (river's default is
    ``SGD(0.01)``). river's score is ``w·x − intercept``; scale the features upstream, as river advises."""

    qualified_name = "river.one_class_svm"
    river_class = anomaly.OneClassSVM

    def __init__(self, nu: float = 0.1, learning_rate: float = 0.01, intercept_lr: float = 0.01,
                 clip_gradient: float = 1e12, contamination: float = 0.1):
        self.nu = nu
        self.learning_rate = learning_rate
        self.intercept_lr = intercept_lr
        self.clip_gradient = clip_gradient
        self.contamination = contamination

    def make_model(self) -> Any:
        return anomaly.OneClassSVM(nu=self.nu, optimizer=optim.SGD(self.learning_rate),
                                   intercept_lr=self.intercept_lr, clip_gradient=self.clip_gradient)


class LocalOutlierFactor(RiverDetector):
    """``river.anomaly.LocalOutlierFactor`` over a sliding window of ``window_size`` records (river's default
    engine, ``neighbors.LazySearch`` with Euclidean distance, whose default window in the LOF is 1000)."""

    qualified_name = "river.local_outlier_factor"
    river_class = anomaly.LocalOutlierFactor

    def __init__(self, n_neighbors: int = 10, window_size: int = 1000, contamination: float = 0.1):
        self.n_neighbors = n_neighbors
        self.window_size = window_size
        self.contamination = contamination

    def make_model(self) -> Any:
        return anomaly.LocalOutlierFactor(n_neighbors=self.n_neighbors,
                                          engine=neighbors.LazySearch(window_size=self.window_size))


class LODA(RiverDetector):
    """``river.anomaly.LODA``: ``n_random_cuts`` sparse projections, each with a streaming histogram."""

    qualified_name = "river.loda"
    river_class = anomaly.LODA

    def __init__(self, n_bins: int = 10, n_random_cuts: int = 100, seed: int | None = None,
                 contamination: float = 0.1):
        self.n_bins = n_bins
        self.n_random_cuts = n_random_cuts
        self.seed = seed
        self.contamination = contamination

    def make_model(self) -> Any:
        return anomaly.LODA(n_bins=self.n_bins, n_random_cuts=self.n_random_cuts, seed=self.seed)


class _PerFeature(RiverDetector):
    """river's supervised *univariate* scorers, which score a target value ``y`` (ignoring ``x``): one model per
    feature, learning and scoring that feature's value as ``y``; the per-feature scores are aggregated by
    ``max``, ``mean`` or ``sum``. With one feature the score is river's exactly."""

    def _online_reset(self, n_features: int) -> None:
        if self.aggregate not in _AGGREGATES:
            raise InputError(f"{self._name()}: aggregate must be max, mean or sum, got {self.aggregate!r}")
        self.model_ = [self.make_model() for _ in range(n_features)]

    def _learn_many(self, X: np.ndarray) -> None:
        learners = [model.learn_one for model in self.model_]
        for row in X.tolist():
            for learn, value in zip(learners, row, strict=True):
                learn(None, value)

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        scorers = [model.score_one for model in self.model_]
        scores = np.array([[score(None, value) for score, value in zip(scorers, row, strict=True)]
                           for row in X.tolist()], dtype=np.float64).reshape(X.shape)
        return _AGGREGATES[self.aggregate](scores, axis=1)

    def _learn_one(self, x: np.ndarray) -> None:
        self._learn_many(x[None, :])

    def _score_one(self, x: np.ndarray) -> float:
        return float(self._score_many(x[None, :])[0])

    def _check_loaded(self, model: Any, directory: Path) -> None:
        if not isinstance(model, list) or not all(type(m) is self.river_class for m in model):
            raise IntegrityError(f"{directory / MODEL_FILE} does not hold a list of {self.river_class.__name__}")
        if len(model) != self.n_features_online_:
            raise IntegrityError(f"{directory / MODEL_FILE} holds {len(model)} models for "
                                 f"{self.n_features_online_} features")


class GaussianScorer(_PerFeature):
    """``river.anomaly.GaussianScorer`` per feature: ``2·|CDF(x) − 0.5|`` under a Gaussian fitted to the feature
    (over the last ``window_size`` values, or all), 0 during the first ``grace_period`` records."""

    qualified_name = "river.gaussian_scorer"
    river_class = anomaly.GaussianScorer

    def __init__(self, window_size: int | None = None, grace_period: int = 100, aggregate: str = "max",
                 contamination: float = 0.1):
        self.window_size = window_size
        self.grace_period = grace_period
        self.aggregate = aggregate
        self.contamination = contamination

    def make_model(self) -> Any:
        return anomaly.GaussianScorer(window_size=self.window_size, grace_period=self.grace_period)


class StandardAbsoluteDeviation(_PerFeature):
    """``river.anomaly.StandardAbsoluteDeviation`` per feature: ``|x − sub_stat| / std``, ``sub_stat`` the running
    ``"mean"`` (river's default, ``stats.Mean``) or ``"median"`` (``stats.Quantile(0.5)``; before the first record
    river cannot score with it, and the empty model scores 0)."""

    qualified_name = "river.standard_absolute_deviation"
    river_class = anomaly.StandardAbsoluteDeviation

    def __init__(self, sub_stat: str = "mean", aggregate: str = "max", contamination: float = 0.1):
        self.sub_stat = sub_stat
        self.aggregate = aggregate
        self.contamination = contamination

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        if self.model_ and self.model_[0].sub_stat.get() is None:  # an empty running median has no value yet:
            return np.zeros(X.shape[0])  # river cannot score then (None − x); the empty model scores 0
        return super()._score_many(X)

    def make_model(self) -> Any:
        if self.sub_stat not in ("mean", "median"):
            raise InputError(f"{self._name()}: sub_stat must be 'mean' or 'median', got {self.sub_stat!r}")
        statistic = stats.Mean() if self.sub_stat == "mean" else stats.Quantile(0.5)
        return anomaly.StandardAbsoluteDeviation(sub_stat=statistic)
