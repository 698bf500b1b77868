"""pynomaly gives PyGOD's own scores: same seed, same graph, identical float32 scores (difference 0.0).

The reference is PyGOD's unmodified ``fit`` after ``torch_geometric.seed_everything(seed)``, on a PyG ``Data``
built from the same arrays. Without pyg-lib/torch-sparse the ``pygod_direct`` fixture supplies torch-sparse's
kernel as a Python port (see conftest.py); PyGOD and PyG themselves run unmodified.
"""

from __future__ import annotations

import numpy as np
import pytest
from pygod_testutil import make_graph, reference_neighbor_sample

from pynomaly_core.sdk import create_detector

EPOCHS = 2


def direct_pygod(cls_name, dataset, seed=0, **params):
    import pygod.detector
    import torch
    import torch_geometric
    from torch_geometric.data import Data

    data = Data(x=torch.tensor(dataset.X, dtype=torch.float32), edge_index=torch.tensor(dataset.extra["edge_index"]))
    torch_geometric.seed_everything(seed)
    detector = getattr(pygod.detector, cls_name)(**params).fit(data)
    return detector.decision_score_.numpy(), detector.label_.numpy()


def assert_same_as_pygod(name, cls_name, dataset, **params):
    scores, labels = direct_pygod(cls_name, dataset, **params)
    model = create_detector(f"pygod.{name}", random_state=0, **params).fit(dataset)
    assert np.abs(model.decision_scores_ - scores).max() == 0.0
    np.testing.assert_array_equal(model.labels_, labels)
    return model


@pytest.mark.parametrize("graph_file", ["inj_cora.npz", "books.npz"])
def test_dominant_equals_pygod(graph_file, shared_graph, pygod_direct):
    assert_same_as_pygod("dominant", "DOMINANT", shared_graph(graph_file), epoch=EPOCHS)


@pytest.mark.parametrize("graph_file", ["inj_cora.npz", "books.npz"])
def test_cola_equals_pygod(graph_file, shared_graph, pygod_direct):
    # CoLA draws a random permutation in every forward pass: equal scores mean the random draws (including the
    # DataLoader's one per epoch) happen in PyGOD's order.
    if pygod_direct == "pyg_lib":
        pytest.skip("pyg-lib draws 128 extra random numbers per batch (see pynomaly_pygod.sampling)")
    assert_same_as_pygod("cola", "CoLA", shared_graph(graph_file), epoch=EPOCHS)


def test_radar_equals_pygod_without_any_sampler(shared_graph):
    assert_same_as_pygod("radar", "Radar", shared_graph("books.npz"), epoch=EPOCHS)


@pytest.mark.parametrize(("name", "cls_name"), [("conad", "CONAD"), ("ocgnn", "OCGNN"), ("done", "DONE")])
def test_mini_batches_equal_pygod(name, cls_name, pygod_direct):
    if pygod_direct == "pyg_lib":
        pytest.skip("pyg-lib draws 128 extra random numbers per batch (see pynomaly_pygod.sampling)")
    graph = make_graph(n=60).to_dataset()
    assert_same_as_pygod(name, cls_name, graph, epoch=3, batch_size=16)


def test_scoring_a_new_graph_equals_pygod(shared_graph, pygod_direct):
    import pygod.detector
    import torch
    import torch_geometric
    from torch_geometric.data import Data

    books = shared_graph("books.npz")
    other = make_graph(n=50, d=books.n_features).to_dataset()
    torch_geometric.seed_everything(0)
    reference = pygod.detector.DOMINANT(epoch=EPOCHS).fit(
        Data(x=torch.tensor(books.X, dtype=torch.float32), edge_index=torch.tensor(books.extra["edge_index"])))
    torch_geometric.seed_everything(0)
    expected = reference.decision_function(
        Data(x=torch.tensor(other.X, dtype=torch.float32), edge_index=torch.tensor(other.extra["edge_index"])))
    model = create_detector("pygod.dominant", epoch=EPOCHS, random_state=0).fit(books)
    assert np.abs(model.decision_function(other) - expected.numpy()).max() == 0.0


def test_the_reference_kernel_is_the_plugins_sampler_on_random_graphs():
    import torch
    from pynomaly_pygod.sampling import FullNeighborSampler, full_neighborhood
    from torch_geometric.data import Data

    rng = np.random.default_rng(0)
    for _ in range(25):
        n = int(rng.integers(2, 50))
        edges = rng.integers(0, n, size=(2, int(rng.integers(1, 150))))  # duplicates and self-loops included
        sampler = FullNeighborSampler(Data(x=torch.zeros(n, 1), edge_index=torch.tensor(edges)), num_hops=2)
        for seed in (np.arange(n), rng.permutation(n)[: max(1, n // 3)], np.array([0, 0, 1])[: n + 1] % n):
            hops = int(rng.integers(1, 4))
            got = full_neighborhood(sampler._colptr, sampler._row, seed, hops)
            want = reference_neighbor_sample(sampler.colptr, sampler.row, torch.tensor(seed), [-1] * hops, False, True)
            for mine, theirs in zip(got, want, strict=True):
                np.testing.assert_array_equal(mine, theirs.numpy())
