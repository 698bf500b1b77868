"""The adapter: one :class:`BaseDetector` subclass per PyOD model, built from its table row.

``fit`` builds the PyOD estimator from the detector's parameters, calls ``estimator.fit(X)`` (with ``y`` for
supervised models, ``edge_index`` for graph models) and takes PyOD's ``decision_scores_`` as training scores;
``decision_function`` calls ``estimator.decision_function``. The core validates the input and rejects
non-finite scores with a :class:`ScoreError`; :mod:`pynomaly_pyod.fixes` repairs the known PyOD cases first.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.wrapping import keyword_init
from pynomaly_pyod import state
from pynomaly_pyod.calls import pyod_call
from pynomaly_pyod.catalog import Model
from pynomaly_pyod.dependencies import ensure_available
from pynomaly_pyod.estimators import build_estimator
from pynomaly_pyod.fixes import after_fit
from pynomaly_pyod.rng import isolated_rng

SCORES_FILE = "scores.npz"
_NO_ISOLATION = contextlib.nullcontext()


class PyODDetector(BaseDetector):
    """A PyOD estimator behind the pynomaly detector contract (``_model``, its table row, says which one and how)."""

    _model: ClassVar[Model]

    # -- fitting and scoring ---------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        self._check_rows(X.shape[0])
        labels = self._labels(y, X.shape[0]) if self._model.supervised else None
        extras = self._fit_extras(X)
        with self._isolated(self._seed()), pyod_call(self._name(), n_rows=X.shape[0]):
            estimator = build_estimator(self._model, self._params(), n_features=X.shape[1])
            if labels is not None:
                estimator.fit(X, labels)
            else:
                estimator.fit(X, **extras)
            after_fit(self._model.name, estimator, X)
        self.estimator_ = estimator
        return estimator.decision_scores_

    def _score(self, X: np.ndarray) -> np.ndarray:
        if self._model.transductive:
            raise PynomalyError(
                f"{self._name()} is transductive: it scores only the data it was fitted on "
                "(use decision_scores_ and labels_ after fit, or `pynomaly detect`)"
            )
        with self._isolated(self._seed()), pyod_call(self._name()):
            return self.estimator_.decision_function(X)

    def _set_threshold(self, scores: np.ndarray, threshold: float | None = None) -> None:
        if threshold is None:
            threshold = self._pyod_threshold(scores)
        super()._set_threshold(scores, threshold=threshold)

    def _pyod_threshold(self, scores: np.ndarray) -> float | None:
        """PyOD's own ``threshold_`` when it is the core's threshold by construction, else ``None``.

        That holds when the model's ``fit`` ends with PyOD's default ``_process_decision_scores`` (table flag,
        checked again here), ``scores`` is PyOD's float64 ``decision_scores_`` array itself (same memory, shape
        and strides) and the contamination is the same: both then take ``np.percentile(scores, 100 * (1 -
        contamination))``. Reusing it saves a second pass over the scores, the bulk of the adapter's overhead
        for fast detectors.
        """
        estimator = getattr(self, "estimator_", None)
        pyod_scores = getattr(estimator, "decision_scores_", None)
        if not (self._model.standard_threshold and isinstance(pyod_scores, np.ndarray)
                and pyod_scores.dtype == np.float64 and pyod_scores.shape == scores.shape
                and pyod_scores.strides == scores.strides and np.shares_memory(pyod_scores, scores)
                and isinstance(self.contamination, float | int) and estimator.contamination == self.contamination):
            return None
        from pyod.models.base import BaseDetector as PyODBase

        if type(estimator)._process_decision_scores is not PyODBase._process_decision_scores:
            return None
        return float(estimator.threshold_)

    def _check_rows(self, n_rows: int) -> None:
        """PyOD's deep-learning models train on full batches only: fewer rows than ``batch_size`` would train nothing
        (and PyOD fails with an UnboundLocalError)."""
        param = self._model.min_rows_param
        minimum = getattr(self, param, None) if param else None
        if isinstance(minimum, int) and n_rows < minimum:
            noun = "sample" if n_rows == 1 else "samples"
            raise InputError(f"{self._name()}: needs at least {param}={minimum} training rows (PyOD trains on full "
                             f"batches only), got {n_rows} {noun}; pass {param}={max(n_rows, 1)} or smaller")

    def _params(self) -> dict[str, Any]:
        """The constructor parameters (as ``get_params``, without inspecting the signature on every fit)."""
        return {key: getattr(self, key) for key in self._model.params}

    def _seed(self) -> object:
        return getattr(self, self._model.seed_param) if self._model.seed_param else None

    def _isolated(self, seed: object = None) -> contextlib.AbstractContextManager[None]:
        """Torch models run with the caller's global generators protected and torch seeded from the model's seed
        (PyOD's DevNet ignores its ``random_seed``); see :mod:`pynomaly_pyod.rng`."""
        if "torch" not in self._model.requires:
            return _NO_ISOLATION
        ensure_available(self._model)
        return isolated_rng(seed)

    def _fit_extras(self, X: np.ndarray) -> dict[str, Any]:
        """Extra keyword arguments of PyOD's ``fit`` (graph models pass ``edge_index``)."""
        return {}

    def _labels(self, y: np.ndarray | None, n_rows: int) -> np.ndarray:
        if y is None:
            raise InputError(f"{self._name()} is supervised: call fit(X, y) with 0/1 labels y (1 = anomaly)")
        labels = np.asarray(y).reshape(-1)
        if labels.shape[0] != n_rows:
            raise InputError(f"{self._name()}: y has {labels.shape[0]} labels but X has {n_rows} rows")
        if not np.isin(labels, (0, 1)).all():
            raise InputError(f"{self._name()}: y must hold only 0 (normal) and 1 (anomaly)")
        return labels.astype(np.int64)

    # -- persistence -----------------------------------------------------------------------------------------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        if self._model.transductive:
            raise PynomalyError(f"{self._name()} is transductive: it cannot score new data, so it is not saved")
        if not {"save", "pickle_save"} & set(self._model.capabilities):
            raise PynomalyError(f"{self._name()} cannot be saved: PyOD's fitted object cannot be pickled")
        with open(directory / SCORES_FILE, "wb") as handle:
            np.savez(handle, decision_scores=self.decision_scores_, threshold=np.asarray(self.threshold_))
        if "save" in self._model.capabilities:
            files = state.save_safe(self.estimator_, directory, self._name())
        else:
            files = state.save_pickle(self.estimator_, directory)
        return {SCORES_FILE: "npz", **files}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        ensure_available(self._model)  # unpickling a torch model without torch would fail obscurely
        if "save" in self._model.capabilities:
            estimator = build_estimator(self._model, self._params())
            state.load_safe(estimator, directory, self._name())
        else:
            estimator = state.load_pickle(directory, trust, self._name())
        self.estimator_ = estimator
        with np.load(directory / SCORES_FILE, allow_pickle=False) as data:
            self.decision_scores_ = data["decision_scores"]
            threshold = float(data["threshold"])
        self._set_threshold(self.decision_scores_, threshold=threshold)


class GraphDetector(PyODDetector):
    """A PyOD graph model: ``fit(X, edge_index=...)`` with node features ``X`` and a (2, n_edges) edge list.

    A PyTorch Geometric ``Data`` object (with ``x`` and ``edge_index``) is accepted as ``X`` as well. Graph
    models are transductive: the scores are ``decision_scores_``, one per node.
    """

    def fit(self, X: Any, y: Any = None, edge_index: Any = None) -> GraphDetector:
        if edge_index is None and hasattr(X, "edge_index") and hasattr(X, "x"):
            X, edge_index = _to_numpy(X.x), _to_numpy(X.edge_index)
        if edge_index is None:
            raise InputError(f"{self._name()}: graph detectors need edge_index, an array of shape (2, n_edges)")
        self._edge_index = edge_index
        try:
            return super().fit(X, y)
        finally:
            del self._edge_index

    def _fit_extras(self, X: np.ndarray) -> dict[str, Any]:
        return {"edge_index": check_edge_index(self._edge_index, X.shape[0], self._name())}


def check_edge_index(edge_index: Any, n_nodes: int, name: str) -> np.ndarray:
    """``edge_index`` as an int64 (2, n_edges) array of node ids in ``[0, n_nodes)``, or an InputError."""
    edges = np.asarray(edge_index)
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise InputError(f"{name}: edge_index must have shape (2, n_edges), got {edges.shape}")
    if edges.dtype.kind not in "iu" and not (edges.dtype.kind == "f" and np.all(np.mod(edges, 1) == 0)):
        raise InputError(f"{name}: edge_index must hold integer node ids, got dtype {edges.dtype}")
    edges = edges.astype(np.int64)
    outside = edges[(edges < 0) | (edges >= n_nodes)]
    if outside.size:
        raise InputError(f"{name}: edge_index refers to node {int(outside[0])} but X has {n_nodes} nodes "
                         f"(ids 0..{n_nodes - 1})")
    return edges


def _to_numpy(value: Any) -> np.ndarray:
    detach = getattr(value, "detach", None)
    return np.asarray(detach().cpu().numpy() if detach is not None else value)


def make_detector_class(model: Model) -> type[PyODDetector]:
    """The adapter class of ``model``: keyword-only parameters with PyOD's names and (JSON) defaults."""
    base = GraphDetector if model.kind == "graph" else PyODDetector
    namespace = {
        "__init__": keyword_init(model.adapter, model.params),
        "__module__": "pynomaly_pyod.detectors",
        "__qualname__": model.adapter,
        "__doc__": f"{model.summary}\n\nWraps PyOD's ``{model.pyod_class.replace(':', '.')}`` as "
                   f"``{model.qualified_name}``; parameters and defaults are PyOD's.",
        "qualified_name": model.qualified_name,
        "_model": model,
    }
    return type(model.adapter, (base,), namespace)
