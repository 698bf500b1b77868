"""The adapter: one :class:`BaseDetector` subclass per PyGOD detector, built from its table row.

``fit(graph)`` validates the graph (see :mod:`pynomaly_pygod.graph`), builds the PyGOD detector from the
pynomaly parameters, trains it under ``random_state`` and takes PyGOD's ``decision_score_`` (PyGOD's name; PyOD
and pynomaly say ``decision_scores_``) as the training scores, higher = more anomalous. ``threshold_`` and
``labels_`` come from ``contamination`` as for every pynomaly detector.

How a detector trains (the table's ``loop``):

* ``"pynomaly"`` (PyGOD's ``DeepDetector`` subclasses that keep its ``fit``): PyGOD's training loop run by
  :mod:`pynomaly_pygod.training` with a loader that needs no compiled extension for full neighbourhoods;
* ``"pygod"`` (GADNR, Radar, ANOMALOUS, ONE, SCAN): PyGOD's own ``fit``; none of them builds a NeighborLoader
  in its default full-batch mode.

``decision_function(graph)``: inductive detectors (the table's ``inductive``) score any graph with the fitted
model; the others are transductive in PyGOD (their ``decision_function`` retrains on the new graph), so here
they score only the graph they were fitted on (its training scores) and raise a one-line error for another.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import BackendError, InputError, PynomalyError, first_line
from pynomaly_core.validation import check_scores
from pynomaly_core.wrapping import keyword_init
from pynomaly_pygod.catalog import Model
from pynomaly_pygod.graph import Graph, as_graph, fingerprint

SCORES_FILE = "scores.npz"
WEIGHTS_FILE = "model.pt"

#: Where the names of ``named_defaults`` parameters are looked up.
NAMESPACES = {"act": "torch.nn.functional", "backbone": "torch_geometric.nn"}

#: Fitted attributes of the PyGOD detector (beyond its parameters) that scoring needs, per model.
DETECTOR_STATE = {"guide": ("dim_s",)}
#: Attributes of the fitted torch module that its ``state_dict`` does not hold, per model.
MODULE_STATE = {"ocgnn": ("c", "r", "warmup")}
_COMMON_STATE = ("num_nodes", "in_dim", "batch_size")


@contextlib.contextmanager
def pygod_call(name: str, graph: Graph | None = None) -> Iterator[None]:
    """Run PyGOD code for detector ``name``: its console output goes to stderr, its errors become one line.

    ``ValueError``/``TypeError``/``IndexError`` (bad parameters or data) become :class:`InputError`, an
    ``ImportError`` and any other ``RuntimeError`` a :class:`PynomalyError`, anything else a :class:`BackendError`; the
    original is chained.
    """
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    except PynomalyError:
        raise
    except ImportError as exc:
        raise PynomalyError(f"{name}: PyGOD could not import {exc.name or 'a module'} ({first_line(exc)})") from exc
    except (ValueError, TypeError, IndexError) as exc:
        raise InputError(f"{name}: {first_line(exc)}{_hint(graph)}") from exc
    except RuntimeError as exc:
        raise PynomalyError(f"{name}: PyGOD failed: {first_line(exc)}{_hint(graph)}") from exc
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        raise BackendError(f"{name} failed inside PyGOD: {type(exc).__name__}: {first_line(exc)}{_hint(graph)}") \
            from exc


def _hint(graph: Graph | None) -> str:
    if graph is None:
        return ""
    last = graph.n_nodes - 1
    if int(graph.edge_index.max()) < last:
        return (f" (node {last}, the last, has no edge: PyGOD sizes its dense adjacency by the largest node id "
                f"in edge_index; give isolated nodes a self-loop, e.g. ({last}, {last}))")
    codes = graph.edge_index[0] * graph.n_nodes + graph.edge_index[1]
    if np.unique(codes).size < codes.size:
        return " (edge_index lists some edges twice, so PyGOD's dense adjacency holds counts above 1: drop duplicates)"
    return ""


class PyGODDetector(BaseDetector):
    """A PyGOD detector behind the pynomaly contract (``_model``, its table row, says which one and how)."""

    _model: ClassVar[Model]

    # -- fitting and scoring ---------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> PyGODDetector:
        """Fit on a graph (``y``, node labels, is not used: every PyGOD detector here is unsupervised)."""
        from pynomaly_pygod.training import deep_fit, seeded

        self._check_contamination()
        graph = as_graph(X, self._name())
        start = time.perf_counter()
        with pygod_call(self._name(), graph), seeded(self._seed()), self._cache_dir() as cache_dir:
            estimator = self._build_estimator(cache_dir)
            data = to_pyg(graph)
            if self._model.loop == "pynomaly":
                deep_fit(estimator, data, self._name())
            else:
                estimator.fit(data)
        self.decision_scores_ = check_scores(_numpy(estimator.decision_score_), graph.n_nodes, self._name())
        self.fit_time_s_ = time.perf_counter() - start
        self.estimator_ = estimator
        self.n_features_in_ = graph.n_features
        self.feature_names_in_ = np.asarray(graph.feature_names, dtype=object) if graph.feature_names else None
        self.n_nodes_ = graph.n_nodes
        self.graph_fingerprint_ = fingerprint(graph)
        self._set_threshold(self.decision_scores_)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores of the graph's nodes: float64, one per node, higher = more anomalous."""
        from pynomaly_pygod.training import deep_decision_function, seeded

        self._check_fitted()
        names = None if self.feature_names_in_ is None else [str(n) for n in self.feature_names_in_]
        graph = as_graph(X, self._name(), n_features=self.n_features_in_, feature_names=names)
        if names is not None and graph.feature_names is not None and list(graph.feature_names) != names:
            raise InputError(f"{self._name()}: node features {graph.feature_names} differ from the fitted {names}")
        if not self._model.inductive:
            if fingerprint(graph) != self.graph_fingerprint_:
                raise PynomalyError(
                    f"{self._name()} is transductive: it scores only the graph it was fitted on "
                    "(PyGOD retrains it on a new graph); fit it on this graph instead"
                )
            return self.decision_scores_.copy()
        with pygod_call(self._name(), graph), seeded(self._seed()), self._cache_dir() as cache_dir:
            if cache_dir is not None:
                self.estimator_.cache_dir = cache_dir
            scores = deep_decision_function(self.estimator_, to_pyg(graph), self._name())
        return check_scores(_numpy(scores), graph.n_nodes, self._name())

    def _seed(self) -> int | None:
        seed = getattr(self, "random_state", None)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InputError(f"{self._name()}: random_state must be an integer or None, got {seed!r}")
        return seed

    @contextlib.contextmanager
    def _cache_dir(self) -> Iterator[str | None]:
        """GUIDE caches motif counts keyed by the graph's *shapes* (``~/.pygod`` by default), so two graphs of one
        size would share them: with ``cache_dir=None`` each call gets a private temporary directory instead."""
        if "cache_dir" not in self._model.params or self.cache_dir is not None:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="pynomaly-pygod-") as directory:
            yield directory

    def _build_estimator(self, cache_dir: str | None = None) -> Any:
        module_name, _, class_name = self._model.pygod_class.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        params = {key: value for key, value in self.get_params().items() if key != "random_state"}
        for key in self._model.named_defaults:
            params[key] = _named(params[key], key, self._name())
        if isinstance(params.get("num_neigh"), tuple):
            params["num_neigh"] = list(params["num_neigh"])
        if cache_dir is not None:
            params["cache_dir"] = cache_dir
        return cls(**params)

    # -- persistence -----------------------------------------------------------------------------------------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        arrays = {"decision_scores": self.decision_scores_, "threshold": np.asarray(self.threshold_),
                  "fingerprint": np.asarray(self.graph_fingerprint_), "n_nodes": np.asarray(self.n_nodes_)}
        files = {SCORES_FILE: "npz"}
        if self._model.inductive:
            import torch

            estimator = self.estimator_
            for key in _COMMON_STATE + DETECTOR_STATE.get(self._model.name, ()):
                arrays[f"detector__{key}"] = np.asarray(getattr(estimator, key))
            module = getattr(estimator.model, "_orig_mod", estimator.model)  # torch.compile wraps the module
            for key in MODULE_STATE.get(self._model.name, ()):
                value = getattr(module, key)
                arrays[f"module__{key}"] = _numpy(value)
                arrays[f"module_is_tensor__{key}"] = np.asarray(isinstance(value, torch.Tensor))
            torch.save(module.state_dict(), directory / WEIGHTS_FILE)
            files[WEIGHTS_FILE] = "torch_state_dict"
        with open(directory / SCORES_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        return files

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        with np.load(directory / SCORES_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        self.decision_scores_ = arrays["decision_scores"]
        self.graph_fingerprint_ = str(arrays["fingerprint"])
        self.n_nodes_ = int(arrays["n_nodes"])
        if self._model.inductive:
            self.estimator_ = self._restore_estimator(directory, arrays)
        self._set_threshold(self.decision_scores_, threshold=float(arrays["threshold"]))

    def _restore_estimator(self, directory: Path, arrays: dict[str, np.ndarray]) -> Any:
        import torch
        from torch_geometric import compile as pyg_compile

        with pygod_call(self._name()):
            estimator = self._build_estimator()
            for key in _COMMON_STATE + DETECTOR_STATE.get(self._model.name, ()):
                setattr(estimator, key, arrays[f"detector__{key}"].item())
            with torch.random.fork_rng(devices=[]):  # init_model draws initial weights; keep the caller's RNG
                module = estimator.init_model(**estimator.kwargs)
            state = torch.load(directory / WEIGHTS_FILE, map_location=estimator.device, weights_only=True)
            module.load_state_dict(state)
            for key in MODULE_STATE.get(self._model.name, ()):
                value = arrays[f"module__{key}"]
                if bool(arrays[f"module_is_tensor__{key}"]):
                    setattr(module, key, torch.from_numpy(np.array(value)).to(estimator.device))
                else:
                    setattr(module, key, value.item())
            estimator.model = pyg_compile(module) if estimator.compile_model else module
        return estimator


def to_pyg(graph: Graph) -> Any:
    """A validated graph as a PyG ``Data`` with float32 features (PyGOD's models are float32)."""
    import torch
    from torch_geometric.data import Data

    return Data(x=torch.tensor(graph.x, dtype=torch.float32), edge_index=torch.from_numpy(graph.edge_index.copy()))


def _numpy(value: Any) -> np.ndarray:
    detach = getattr(value, "detach", None)
    return np.asarray(detach().cpu().numpy() if detach is not None else value)


def _named(value: Any, key: str, name: str) -> Any:
    """``"relu"`` → ``torch.nn.functional.relu``, ``"GCN"`` → ``torch_geometric.nn.GCN``; callables pass."""
    if value is None or not isinstance(value, str):
        return value
    namespace = importlib.import_module(NAMESPACES[key])
    resolved = getattr(namespace, value, None) if not value.startswith("_") else None
    if resolved is None or not callable(resolved):
        raise InputError(f"{name}: {key}={value!r} is not a name in {NAMESPACES[key]}")
    return resolved


def make_detector_class(model: Model) -> type[PyGODDetector]:
    """The adapter class of ``model``: keyword-only parameters with PyGOD's names and (JSON) defaults."""
    kind = "inductive: scores any graph" if model.inductive else "transductive: scores the graph it was fitted on"
    namespace = {
        "__init__": keyword_init(model.adapter, model.params),
        "__module__": "pynomaly_pygod.detectors",
        "__qualname__": model.adapter,
        "__doc__": f"{model.summary}\n\nWraps PyGOD's ``{model.pygod_class.replace(':', '.')}`` as "
                   f"``{model.qualified_name}`` ({kind}); parameters and defaults are PyGOD's, plus "
                   "``random_state``.",
        "qualified_name": model.qualified_name,
        "_model": model,
    }
    return type(model.adapter, (PyGODDetector,), namespace)
