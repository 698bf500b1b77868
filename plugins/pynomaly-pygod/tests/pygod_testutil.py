"""Helpers shared by the pygod plugin tests (a uniquely named module: conftest names clash across plugins)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: ../shared/datasets/graph next to the repository (not part of it).
GRAPHS = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "graph"



def reference_neighbor_sample(colptr, row, input_node, num_neighbors, replace, directed):
    """torch-sparse's CPU ``neighbor_sample`` for full neighbourhoods (every ``num_neighbors`` < 0), in Python."""
    import torch

    assert all(k < 0 for k in num_neighbors) and directed, "the reference covers full neighbourhoods only"
    colptr_data, row_data, input_data = colptr.tolist(), row.tolist(), input_node.tolist()
    samples: list[int] = []
    to_local_node: dict[int, int] = {}
    for i, v in enumerate(input_data):
        samples.append(v)
        to_local_node.setdefault(v, i)
    rows: list[int] = []
    cols: list[int] = []
    edges: list[int] = []
    begin, end = 0, len(samples)
    for _ in num_neighbors:
        for i in range(begin, end):
            w = samples[i]
            for offset in range(colptr_data[w], colptr_data[w + 1]):
                v = row_data[offset]
                if v not in to_local_node:
                    to_local_node[v] = len(samples)
                    samples.append(v)
                cols.append(i)
                rows.append(to_local_node[v])
                edges.append(offset)
        begin, end = end, len(samples)

    def tensor(values: list[int]) -> Any:
        return torch.tensor(values, dtype=torch.long)

    return tensor(samples), tensor(rows), tensor(cols), tensor(edges)


def make_graph(seed: int = 0, n: int = 40, d: int = 6, outliers: int = 3) -> Any:
    """A ring plus random chords (both directions, no duplicates, no self-loops); nodes 0..outliers-1 have
    features shifted by 6."""
    from pynomaly_pygod import Graph

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[:outliers] += 6.0
    pairs = {(i, (i + 1) % n) for i in range(n)}
    pairs |= {(int(a), int(b)) for a, b in rng.integers(0, n, size=(n, 2)) if a != b}
    pairs |= {(b, a) for a, b in pairs}
    y = np.zeros(n, dtype=np.int64)
    y[:outliers] = 1
    return Graph(x=x, edge_index=np.array(sorted(pairs), dtype=np.int64).T, y=y)
