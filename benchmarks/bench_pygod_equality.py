"""The PyGOD plugin against PyGOD called directly, on the graphs of ../shared/datasets/graph.

For DOMINANT and CoLA (PyGOD defaults, ``--epochs`` epochs, seed 0) on ``inj_cora.npz`` and ``books.npz``:

* ``max |diff|``: the largest absolute difference between pynomaly's training scores and PyGOD's
  ``decision_score_`` after ``torch_geometric.seed_everything(0)`` on a PyG ``Data`` of the same arrays
  (goal: 0.0, i.e. bitwise equal float32 scores);
* ``roc_auc`` of both against the node labels ``y``;
* ``ratio``: median over ``--repeats`` interleaved runs of (pynomaly fit) / (direct PyGOD fit), one torch thread.

Direct PyGOD needs pyg-lib or torch-sparse for its NeighborLoader. Without them this script supplies
torch-sparse's kernel as a Python port (the one in plugins/pynomaly-pygod/tests/conftest.py), so the direct runs
pay a Python sampling loop the plugin does not: the ratio then flatters the plugin by the time of that loop
(printed as ``kernel_s``). Run with ``nice``: ``nice python benchmarks/bench_pygod_equality.py [--epochs 100]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _common import REPO, print_table

GRAPHS = REPO.parent / "shared" / "datasets" / "graph"
DETECTORS = (("dominant", "DOMINANT"), ("cola", "CoLA"))


def _reference_kernel():
    spec = importlib.util.spec_from_file_location(
        "pygod_conftest", REPO / "plugins" / "pynomaly-pygod" / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_neighbor_sample


def enable_direct_pygod() -> str:
    """Make PyGOD's own NeighborLoader run; returns which sampler it uses."""
    import torch
    import torch_geometric.typing as pyg_typing

    if pyg_typing.WITH_PYG_LIB:
        return "pyg_lib"
    if pyg_typing.WITH_TORCH_SPARSE:
        return "torch_sparse"
    kernel = _reference_kernel()
    timed = {"seconds": 0.0}

    def neighbor_sample(*args):
        start = time.perf_counter()
        try:
            return kernel(*args)
        finally:
            timed["seconds"] += time.perf_counter() - start

    library = torch.library.Library("torch_sparse", "DEF")
    library.define("neighbor_sample(Tensor colptr, Tensor row, Tensor input_node, int[] num_neighbors, "
                   "bool replace, bool directed) -> (Tensor, Tensor, Tensor, Tensor)")
    library.impl("neighbor_sample", neighbor_sample, "CPU")
    pyg_typing.WITH_TORCH_SPARSE = True
    enable_direct_pygod.library = library  # keep the registration alive
    enable_direct_pygod.timed = timed
    return "reference (Python port of torch-sparse's kernel)"


def run_direct(cls_name: str, dataset, epochs: int) -> tuple[np.ndarray, float, float]:
    import pygod.detector
    import torch
    import torch_geometric
    from torch_geometric.data import Data

    timed = getattr(enable_direct_pygod, "timed", {"seconds": 0.0})
    kernel_before = timed["seconds"]
    data = Data(x=torch.tensor(dataset.X, dtype=torch.float32), edge_index=torch.tensor(dataset.extra["edge_index"]))
    start = time.perf_counter()
    torch_geometric.seed_everything(0)
    detector = getattr(pygod.detector, cls_name)(epoch=epochs).fit(data)
    seconds = time.perf_counter() - start
    return detector.decision_score_.numpy().astype(np.float64), seconds, timed["seconds"] - kernel_before


def run_pynomaly(name: str, dataset, epochs: int) -> tuple[np.ndarray, float]:
    from pynomaly_core.sdk import create_detector

    start = time.perf_counter()
    model = create_detector(f"pygod.{name}", epoch=epochs, random_state=0).fit(dataset)
    return model.decision_scores_, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="training epochs (PyGOD's default: 100)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timed runs per path")
    parser.add_argument("--graphs", nargs="+", default=["inj_cora.npz", "books.npz"])
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    import torch
    from pynomaly_pygod.loaders import load_graph_npz

    from pynomaly_core.metrics import roc_auc

    torch.set_num_threads(1)
    sampler = enable_direct_pygod()
    print(f"direct PyGOD sampler: {sampler}; torch threads: 1; epochs: {args.epochs}", file=sys.stderr)
    rows = []
    for graph in args.graphs:
        dataset = load_graph_npz(str(GRAPHS / graph))
        for name, cls_name in DETECTORS:
            run_direct(cls_name, dataset, 1)  # warm-up of both paths (imports, first calls)
            run_pynomaly(name, dataset, 1)
            ratios, direct_times, ours_times, kernel_times = [], [], [], []
            for _ in range(args.repeats):
                direct, direct_s, kernel_s = run_direct(cls_name, dataset, args.epochs)
                ours, ours_s = run_pynomaly(name, dataset, args.epochs)
                ratios.append(ours_s / direct_s)
                direct_times.append(direct_s)
                ours_times.append(ours_s)
                kernel_times.append(kernel_s)
            rows.append({
                "graph": graph, "detector": f"pygod.{name}", "max_abs_diff": float(np.abs(ours - direct).max()),
                "roc_auc": roc_auc(dataset.y, ours), "roc_auc_direct": roc_auc(dataset.y, direct),
                "pynomaly_s": statistics.median(ours_times), "direct_s": statistics.median(direct_times),
                "kernel_s": statistics.median(kernel_times), "ratio": statistics.median(ratios),
            })
    print_table(list(rows[0]), [list(row.values()) for row in rows])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(row["max_abs_diff"] == 0.0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
