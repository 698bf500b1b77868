"""Neighbour loading for PyGOD's deep detectors without a compiled extension.

PyGOD 1.1 trains and scores every ``DeepDetector`` through PyG's ``NeighborLoader``, whose ``NeighborSampler``
calls a compiled kernel from ``pyg-lib`` or ``torch-sparse``; without one, the first batch raises
``ImportError: 'NeighborSampler' requires either 'pyg-lib' or 'torch-sparse'`` (even for PyGOD's default
``batch_size=0, num_neigh=-1``: one batch holding the whole graph). Neither installs quickly on a fresh machine:
``pyg-lib`` is not on PyPI, ``torch-sparse``/``torch-scatter`` are source distributions that compile for minutes.

With ``num_neigh=-1`` (every neighbour, every hop) that kernel draws no random numbers: it walks the CSC layout hop
by hop. :class:`FullNeighborSampler` computes the same output in NumPy (the same nodes, in the same order, the
same edges in the same order with the same edge ids) and plugs into PyG's own ``NeighborLoader`` through its
public ``neighbor_sampler`` argument, so batching, feature slicing and the per-iteration seed draw of the
underlying ``DataLoader`` stay PyG's. Sampling a subset of neighbours (``num_neigh >= 0``) still needs an
extension; :func:`make_loader` says so in one line when none is installed.

The output is that of ``torch-sparse``'s ``neighbor_sample``. ``pyg-lib`` returns the same subgraph but draws 128
numbers from torch's global generator per batch (it prefetches random bits even when it samples nothing), which
changes later random draws: detectors that draw random numbers while training (CoLA, CONAD, GAAN, any
``dropout > 0``) give other scores under PyGOD + pyg-lib than here or under PyGOD + torch-sparse.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch_geometric.loader import NeighborLoader
from torch_geometric.sampler import NeighborSampler, NodeSamplerInput, SamplerOutput

from pynomaly_core.errors import InputError

EXTENSIONS = ("pyg_lib", "torch_sparse")


def sampling_extension() -> str | None:
    """The compiled sampler PyG would use (``pyg_lib`` or ``torch_sparse``), or ``None`` when neither is there."""
    import torch_geometric.typing as pyg_typing

    if pyg_typing.WITH_PYG_LIB:
        return "pyg_lib"
    if pyg_typing.WITH_TORCH_SPARSE:
        return "torch_sparse"
    return None


def extension_installed() -> bool:
    """Whether ``pyg-lib`` or ``torch-sparse`` is importable (found without importing it)."""
    return any(importlib.util.find_spec(name) is not None for name in EXTENSIONS)


def hop_counts(num_neigh: Any, num_layers: int) -> list[int]:
    """PyGOD's ``num_neigh`` (an int for every layer, or a list with one per layer) as a list."""
    return [int(num_neigh)] * num_layers if isinstance(num_neigh, int) else [int(k) for k in num_neigh]


class FullNeighborSampler(NeighborSampler):
    """PyG's ``NeighborSampler`` restricted to full neighbourhoods, computed without a compiled kernel.

    ``num_hops`` hops from the seed nodes; every in-neighbour (CSC order) of every frontier node is taken. Node ids
    are numbered in order of first appearance (seeds first), as the kernels do.
    """

    def __init__(self, data: Any, num_hops: int):
        with warnings.catch_warnings():
            # PyG warns that sampling without pyg-lib is deprecated; this sampler does not use PyG's kernels.
            warnings.filterwarnings("ignore", message=".*without a 'pyg-lib' installation.*")
            super().__init__(data, num_neighbors=[-1] * num_hops)
        self.num_hops = num_hops
        self._colptr = self.colptr.numpy()
        self._row = self.row.numpy()

    def sample_from_nodes(self, inputs: NodeSamplerInput) -> SamplerOutput:
        if inputs.input_type is not None or inputs.time is not None:
            raise InputError("full-neighbourhood sampling supports homogeneous graphs without time only")
        node, row, col, edge = full_neighborhood(self._colptr, self._row, inputs.node.numpy(), self.num_hops)
        out = SamplerOutput(node=torch.from_numpy(node), row=torch.from_numpy(row), col=torch.from_numpy(col),
                            edge=torch.from_numpy(edge), batch=None)
        out.metadata = (inputs.input_id, inputs.time)
        return out


def full_neighborhood(colptr: np.ndarray, row: np.ndarray, seed: np.ndarray,
                      num_hops: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ``num_hops``-hop in-neighbour of ``seed`` in a CSC graph: ``(nodes, rows, cols, edge offsets)``.

    ``nodes`` are global ids (seeds first, then each hop's new nodes in order of first appearance); ``rows`` and
    ``cols`` are local ids (source, target) and ``edge offsets`` index the CSC arrays: the output of
    ``torch_sparse.neighbor_sample(colptr, row, seed, [-1] * num_hops, replace=False, directed=True)``.
    """
    seed = np.asarray(seed, dtype=np.int64)
    local = np.full(colptr.shape[0] - 1, -1, dtype=np.int64)
    local[seed[::-1]] = np.arange(seed.size, dtype=np.int64)[::-1]  # the first occurrence of a seed wins
    nodes = [seed]
    n_sampled = seed.size
    rows, cols, edges = [], [], []
    begin, end = 0, seed.size
    for _ in range(num_hops):
        frontier = np.concatenate(nodes)[begin:end] if len(nodes) > 1 else seed[begin:end]
        starts = colptr[frontier]
        counts = colptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            begin = end
            continue
        # offsets start_i, start_i + 1, ..., start_i + count_i - 1 for each frontier node i, in order
        firsts = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        offsets = firsts + np.arange(total, dtype=np.int64)
        neighbours = row[offsets]
        unseen = neighbours[local[neighbours] < 0]
        if unseen.size:
            _, first_index = np.unique(unseen, return_index=True)
            new_nodes = unseen[np.sort(first_index)]
            local[new_nodes] = np.arange(n_sampled, n_sampled + new_nodes.size, dtype=np.int64)
            nodes.append(new_nodes)
            n_sampled += new_nodes.size
        rows.append(local[neighbours])
        cols.append(np.repeat(np.arange(begin, end, dtype=np.int64), counts))
        edges.append(offsets)
        begin, end = end, n_sampled
    empty = np.empty(0, dtype=np.int64)
    return (np.concatenate(nodes), np.concatenate(rows) if rows else empty, np.concatenate(cols) if cols else empty,
            np.concatenate(edges) if edges else empty)


def make_loader(data: Any, num_neigh: Sequence[int], batch_size: int, name: str) -> NeighborLoader:
    """PyG's ``NeighborLoader`` as PyGOD builds it, with :class:`FullNeighborSampler` for full neighbourhoods."""
    if all(k < 0 for k in num_neigh):
        sampler = FullNeighborSampler(data, num_hops=len(num_neigh))
        return NeighborLoader(data, list(num_neigh), batch_size=batch_size, neighbor_sampler=sampler)
    if not extension_installed():
        raise InputError(f"{name}: num_neigh={list(num_neigh)} samples neighbours, which needs pyg-lib or "
                         "torch-sparse (pip install torch-sparse torch-scatter); num_neigh=-1 needs neither")
    return NeighborLoader(data, list(num_neigh), batch_size=batch_size)
