"""The graph a PyGOD detector receives: node features, an edge list and optional node labels (NumPy only).

A graph detector accepts, for ``fit`` and ``decision_function``:

* a :class:`pynomaly_core.data.Dataset` with ``kind="graph"`` and ``extra["edge_index"]`` (what the loaders
  ``pygod.graph_npz`` and ``pygod.edgelist_csv`` return);
* a :class:`Graph` (``Graph(x, edge_index)``);
* a PyTorch Geometric ``Data`` object, or anything else with ``x`` and ``edge_index`` attributes.

Scores are one per node, in node order. ``edge_index`` is PyG's layout: shape (2, n_edges), row 0 the source node,
row 1 the target node, ids in ``[0, n_nodes)``; an undirected graph lists each edge in both directions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.validation import check_array, feature_names_of

GRAPH_KIND = "graph"


@dataclass(eq=False)
class Graph:
    """Node features ``x`` (n_nodes, n_features), ``edge_index`` (2, n_edges) and optional 0/1 node labels ``y``."""

    x: Any
    edge_index: Any
    y: Any = None
    feature_names: list[str] | None = None
    #: Original node ids (from an edge-list file), one per row of ``x``.
    node_ids: Any = None
    source: str = ""

    @property
    def n_nodes(self) -> int:
        return int(np.shape(self.x)[0])

    @property
    def n_edges(self) -> int:
        return int(np.shape(self.edge_index)[1])

    @property
    def n_features(self) -> int:
        return int(np.shape(self.x)[1])

    def to_dataset(self) -> Any:
        """This graph as a :class:`~pynomaly_core.data.Dataset` of kind ``"graph"``."""
        from pynomaly_core.data import Dataset

        extra: dict[str, Any] = {"edge_index": np.asarray(self.edge_index)}
        if self.node_ids is not None:
            extra["node_ids"] = np.asarray(self.node_ids)
        return Dataset(X=np.asarray(self.x), y=None if self.y is None else np.asarray(self.y),
                       feature_names=self.feature_names, source=self.source, kind=GRAPH_KIND, extra=extra)

    @classmethod
    def from_dataset(cls, dataset: Any) -> Graph:
        if getattr(dataset, "kind", None) != GRAPH_KIND or "edge_index" not in getattr(dataset, "extra", {}):
            raise InputError(f"{dataset.source or 'dataset'}: not a graph (kind {dataset.kind!r}, no edge_index); "
                             "load it with pygod.graph_npz or pygod.edgelist_csv")
        return cls(x=dataset.X, edge_index=dataset.extra["edge_index"], y=dataset.y,
                   feature_names=dataset.feature_names, node_ids=dataset.extra.get("node_ids"), source=dataset.source)


def _numpy(value: Any) -> Any:
    detach = getattr(value, "detach", None)  # a torch tensor
    return detach().cpu().numpy() if detach is not None else value


def as_graph(data: Any, name: str, *, n_features: int | None = None,
             feature_names: list[str] | None = None) -> Graph:
    """Validate ``data`` as a graph: float64 features without NaN/inf, int64 edge ids in range; else InputError."""
    if isinstance(data, Graph):
        graph = data
    elif type(data).__name__ == "Dataset" and hasattr(data, "extra"):
        if data.kind != GRAPH_KIND or "edge_index" not in data.extra:
            raise InputError(f"{name} needs a graph, got a {data.kind} dataset without edge_index "
                             "(load graphs with pygod.graph_npz or pygod.edgelist_csv)")
        graph = Graph.from_dataset(data)
    elif hasattr(data, "x") and hasattr(data, "edge_index"):
        graph = Graph(x=_numpy(data.x), edge_index=_numpy(data.edge_index),
                      y=_numpy(getattr(data, "y", None)) if getattr(data, "y", None) is not None else None)
    else:
        shape = getattr(data, "shape", None)
        what = f"{type(data).__name__} of shape {tuple(shape)}" if shape is not None else type(data).__name__
        raise InputError(f"{name} needs a graph (a Dataset of kind 'graph', a pynomaly_pygod.Graph or a PyG Data "
                         f"with x and edge_index), got {what}")
    names = graph.feature_names or feature_names_of(graph.x)
    x = check_array(graph.x, n_features=n_features, feature_names=names or feature_names, what="node features x")
    if np.isfortran(np.asarray(graph.x)):
        # Keep a column-major layout: torch keeps it too, and some of its reductions sum in layout order, so the
        # same features in another layout can differ from a direct PyGOD run in the last bit.
        x = np.asfortranarray(x)
    edges = check_edge_index(graph.edge_index, x.shape[0], name)
    y = None
    if graph.y is not None:
        y = np.asarray(graph.y).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise InputError(f"{name}: y has {y.shape[0]} labels but the graph has {x.shape[0]} nodes")
    return Graph(x=x, edge_index=edges, y=y, feature_names=names, node_ids=graph.node_ids, source=graph.source)


def check_edge_index(edge_index: Any, n_nodes: int, name: str) -> np.ndarray:
    """``edge_index`` as a C-contiguous int64 (2, n_edges) array of node ids in ``[0, n_nodes)``, or InputError."""
    edges = np.asarray(edge_index)
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise InputError(f"{name}: edge_index must have shape (2, n_edges), got {edges.shape}")
    if edges.shape[1] == 0:
        raise InputError(f"{name}: the graph has no edges")
    if edges.dtype.kind == "f":
        if not np.isfinite(edges).all() or np.any(np.mod(edges, 1) != 0):
            raise InputError(f"{name}: edge_index must hold integer node ids, got non-integer values")
    elif edges.dtype.kind not in "iu":
        raise InputError(f"{name}: edge_index must hold integer node ids, got dtype {edges.dtype}")
    edges = np.ascontiguousarray(edges, dtype=np.int64)
    outside = (edges < 0) | (edges >= n_nodes)
    if outside.any():
        row, column = (int(i) for i in np.argwhere(outside)[0])
        raise InputError(f"{name}: edge_index[{row}, {column}] refers to node {int(edges[row, column])} but the "
                         f"graph has {n_nodes} nodes (ids 0..{n_nodes - 1})")
    return edges


def fingerprint(graph: Graph) -> str:
    """SHA-256 of a validated graph's features and edges: identifies the graph a model was fitted on."""
    digest = hashlib.sha256()
    for array in (np.asarray(graph.x, dtype=np.float64), np.asarray(graph.edge_index, dtype=np.int64)):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
