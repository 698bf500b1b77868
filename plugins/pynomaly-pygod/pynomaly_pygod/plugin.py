"""Entry point of the ``pygod`` plugin: one detector spec per row of the static table, and the graph loaders.

Registration reads only the generated table; PyGOD, torch and torch_geometric are imported when a detector is
fitted, and NumPy when a loader runs.
"""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec, LoaderSpec
from pynomaly_pygod.catalog import MODELS


@hookimpl
def register_detectors(register):
    for model in MODELS:
        register(DetectorSpec(
            name=model.name,
            summary=model.summary,
            target=f"pynomaly_pygod.detectors:{model.adapter}",
            data_kinds={"graph"},
            capabilities=set(model.capabilities),
            params=dict(model.params),
        ))


@hookimpl
def register_loaders(register):
    register(LoaderSpec(
        name="graph_npz",
        summary="A graph as a NumPy archive: node features x, edge_index (2, n_edges), optional labels y.",
        target="pynomaly_pygod.loaders:load_graph_npz",
        sniff_target="pynomaly_pygod.loaders:is_graph_npz",
        suffixes=(".npz",),
        data_kinds={"graph"},
        params={"features": "x", "edges": "edge_index", "labels": "y"},
    ))
    register(LoaderSpec(
        name="edgelist_csv",
        summary="A graph from an edge-list CSV and a node-table CSV (or a directory with edges.csv, nodes.csv).",
        target="pynomaly_pygod.loaders:load_edgelist_csv",
        data_kinds={"graph"},
        params={"nodes": None, "columns": None, "labels": None, "id_column": "id", "source_column": None,
                "target_column": None, "delimiter": None, "undirected": False},
    ))
