"""Fixtures of the PyGOD plugin's tests: small graphs, the shared benchmark graphs, and direct PyGOD runs.

Direct PyGOD runs need PyG's compiled neighbour sampler (pyg-lib or torch-sparse). Where neither is installed,
the ``pygod_direct`` fixture registers :func:`reference_neighbor_sample`, a line-by-line Python port of
torch-sparse's CPU kernel ``neighbor_sample`` (``csrc/cpu/neighbor_sample_cpu.cpp``, full-neighbourhood branch),
as ``torch.ops.torch_sparse.neighbor_sample`` and tells PyG that torch-sparse is there. PyGOD and PyG then run
unmodified; only the C++ kernel is replaced, by code that shares nothing with the plugin's sampler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pygod_testutil import GRAPHS, make_graph, reference_neighbor_sample

#: torch library that holds the reference kernel, defined once per process.
_library: Any = None


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread: on a busy 2-core machine OpenMP's spinning makes tiny graphs 50x slower."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def pygod_direct(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make PyGOD's own ``fit`` runnable; returns the sampler it uses (``pyg_lib``, ``torch_sparse`` or
    ``reference``, the Python port of torch-sparse's kernel)."""
    global _library
    import torch
    import torch_geometric.typing as pyg_typing

    if pyg_typing.WITH_PYG_LIB:
        return "pyg_lib"
    if pyg_typing.WITH_TORCH_SPARSE:
        return "torch_sparse"
    if _library is None:
        _library = torch.library.Library("torch_sparse", "DEF")
        _library.define("neighbor_sample(Tensor colptr, Tensor row, Tensor input_node, int[] num_neighbors, "
                        "bool replace, bool directed) -> (Tensor, Tensor, Tensor, Tensor)")
        _library.impl("neighbor_sample", reference_neighbor_sample, "CPU")
    monkeypatch.setattr(pyg_typing, "WITH_TORCH_SPARSE", True)
    return "reference"


@pytest.fixture
def graph() -> Any:
    return make_graph()


@pytest.fixture
def shared_graph() -> Callable[[str], Any]:
    """Load a shared benchmark graph (``inj_cora.npz``, ``books.npz``, ...) as a Dataset, or skip."""

    def load(name: str) -> Any:
        from pynomaly_pygod.loaders import load_graph_npz

        path = GRAPHS / name
        if not path.is_file():
            pytest.skip(f"shared graph {path} is not there")
        return load_graph_npz(str(path))

    return load
