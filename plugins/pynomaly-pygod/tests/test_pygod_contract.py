"""The detector contract on graphs: the kit's detector checks (which are tabular) redone for node scoring."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from pygod_testutil import make_graph
from pynomaly_pygod import Graph
from pynomaly_pygod.catalog import MODELS
from pynomaly_pygod.sampling import extension_installed

from pynomaly_core.errors import InputError, IntegrityError, NotFittedError, PynomalyError
from pynomaly_core.persistence import MANIFEST, load
from pynomaly_core.sdk import create_detector

#: Small settings per detector: few epochs (DMGD needs 3: two warm-up epochs).
FAST = {m.name: ({"epoch": 3} if "epoch" in m.params else {}) for m in MODELS}
IDS = [m.name for m in MODELS]


def graph_for(model, graph):
    """The test graph; SCAN gets a larger one, where some nodes form clusters (on the small one none does)."""
    return make_graph(n=80) if model.name == "scan" else graph


def make(model, **params):
    if "random_state" in model.params:
        params.setdefault("random_state", 0)
    return create_detector(model.qualified_name, **{**FAST[model.name], **params})


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_fit_gives_one_finite_score_per_node_and_labels_from_the_threshold(model, graph):
    graph = graph_for(model, graph)
    detector = make(model)
    assert detector.fit(graph) is detector
    scores = detector.decision_scores_
    assert scores.dtype == np.float64 and scores.shape == (graph.n_nodes,) and np.isfinite(scores).all()
    assert np.unique(scores).size > 1, "constant scores: the detector learned nothing on the test graph"
    np.testing.assert_array_equal(detector.labels_, (scores > detector.threshold_).astype(np.int64))
    assert detector.n_features_in_ == graph.n_features and detector.fit_time_s_ > 0
    np.testing.assert_array_equal(detector.predict(graph), (detector.decision_function(graph) >
                                                            detector.threshold_).astype(np.int64))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_contamination_sets_the_fraction_of_labelled_nodes(model):
    graph = make_graph(n=80)  # contamination 0.05 -> 4 nodes
    for contamination in (0.05, 0.2):
        detector = make(model, contamination=contamination).fit(graph)
        if model.name == "scan":  # binary scores (PyGOD: 1 in a cluster, 0 outside): ties only lower the fraction
            assert detector.labels_.mean() <= contamination
            continue
        assert abs(detector.labels_.mean() - contamination) <= 1 / graph.n_nodes, detector.labels_.mean()


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_seeded_fits_are_identical_and_leave_the_global_generators_alone(model, graph):
    graph = graph_for(model, graph)
    import torch

    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    before = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    first = make(model).fit(graph)
    second = make(model).fit(graph)
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    np.testing.assert_array_equal(first.decision_function(graph), second.decision_function(graph))
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1]) and random.getstate() == before[2]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_save_and_load_give_identical_scores_in_safe_formats(model, graph, tmp_path):
    graph = graph_for(model, graph)
    detector = make(model).fit(graph)
    expected = detector.decision_function(graph)
    path = detector.save(tmp_path / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    formats = {entry["format"] for entry in manifest["artefacts"].values()}
    assert formats == ({"npz", "torch_state_dict"} if model.inductive else {"npz"})
    restored = load(path)  # no trust needed: nothing is pickled
    np.testing.assert_array_equal(restored.decision_function(graph), expected)
    np.testing.assert_array_equal(restored.decision_scores_, detector.decision_scores_)
    assert restored.threshold_ == detector.threshold_
    if model.inductive:
        other = make_graph(seed=5, n=30)
        np.testing.assert_array_equal(restored.decision_function(other), detector.decision_function(other))
    artefact = path / sorted(manifest["artefacts"])[0]
    artefact.write_bytes(artefact.read_bytes() + b"\0")
    with pytest.raises(IntegrityError):
        load(path)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_other_graphs_are_scored_by_inductive_detectors_only(model, graph):
    graph = graph_for(model, graph)
    detector = make(model).fit(graph)
    other = make_graph(seed=3, n=50)
    if model.inductive:
        scores = detector.decision_function(other)
        assert scores.shape == (50,) and np.isfinite(scores).all()
    else:
        with pytest.raises(PynomalyError, match="transductive") as info:
            detector.decision_function(other)
        assert "\n" not in str(info.value)
        np.testing.assert_array_equal(detector.decision_function(graph), detector.decision_scores_)


# -- input handling (one detector of each loop) --------------------------------------------------------------
@pytest.mark.parametrize("name", ["pygod.dominant", "pygod.radar"])
def test_graph_inputs_are_accepted_in_every_form(name, graph):
    import torch
    from torch_geometric.data import Data

    expected = create_detector(name, epoch=3, random_state=0).fit(graph).decision_scores_
    pyg = Data(x=torch.tensor(graph.x), edge_index=torch.tensor(graph.edge_index))
    for form in (graph.to_dataset(), pyg):
        np.testing.assert_array_equal(create_detector(name, epoch=3, random_state=0).fit(form).decision_scores_,
                                      expected)


def one_line(exc_type, call, *fragments):
    with pytest.raises(exc_type) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and all(f in message for f in fragments), message


def test_unusable_inputs_are_one_line_errors(graph):
    detector = create_detector("pygod.dominant", epoch=3, random_state=0)
    one_line(InputError, lambda: detector.fit(graph.x), "pygod.dominant needs a graph", "ndarray of shape (40, 6)")
    one_line(InputError, lambda: detector.fit(Graph(graph.x, graph.edge_index).to_dataset().__class__(X=graph.x)),
             "tabular dataset")
    bad_x = graph.x.copy()
    bad_x[4, 2] = np.nan
    one_line(InputError, lambda: detector.fit(Graph(bad_x, graph.edge_index)), "NaN at row 4, column 2")
    edges = graph.edge_index.copy()
    edges[1, 7] = 40
    one_line(InputError, lambda: detector.fit(Graph(graph.x, edges)), "edge_index[1, 7]", "node 40", "40 nodes")
    one_line(InputError, lambda: detector.fit(Graph(graph.x, graph.edge_index[:1])), "shape (2, n_edges)")
    one_line(NotFittedError, lambda: detector.decision_function(graph), "not fitted")
    detector.fit(graph)
    one_line(InputError, lambda: detector.decision_function(Graph(graph.x[:, :5], graph.edge_index)),
             "5 features", "fitted on 6")
    one_line(InputError, lambda: create_detector("pygod.dominant", act="nope").fit(graph), "act='nope'")
    one_line(InputError, lambda: create_detector("pygod.dominant", random_state="0").fit(graph), "random_state")


def test_pygod_failures_explain_the_dense_adjacency(graph):
    x = np.vstack([graph.x, np.zeros((1, graph.n_features))])  # node 40 has no edge
    one_line(PynomalyError, lambda: create_detector("pygod.dominant", epoch=3).fit(Graph(x, graph.edge_index)),
             "pygod.dominant", "node 40, the last, has no edge", "self-loop")
    doubled = np.concatenate([graph.edge_index, graph.edge_index[:, :5]], axis=1)
    one_line(PynomalyError, lambda: create_detector("pygod.gaan", epoch=3).fit(Graph(graph.x, doubled)),
             "pygod.gaan", "lists some edges twice")


@pytest.mark.skipif(extension_installed(), reason="pyg-lib or torch-sparse is installed: sampling works")
def test_neighbour_sampling_without_an_extension_is_a_one_line_error(graph):
    detector = create_detector("pygod.dominant", epoch=3, num_neigh=5, batch_size=16)
    one_line(InputError, lambda: detector.fit(graph), "num_neigh=[5, 5, 5, 5]", "pyg-lib or torch-sparse")


def test_mini_batches_with_full_neighbourhoods_need_no_extension(graph):
    batched = create_detector("pygod.dominant", epoch=3, batch_size=16, random_state=0).fit(graph)
    assert np.isfinite(batched.decision_scores_).all() and batched.estimator_.batch_size == 16
    assert batched.decision_function(make_graph(seed=9, n=50)).shape == (50,)


def test_guide_uses_a_private_motif_cache(graph, tmp_path):
    detector = create_detector("pygod.guide", epoch=3, random_state=0).fit(graph)
    assert detector.cache_dir is None and not Path(detector.estimator_.cache_dir).exists()
    cached = create_detector("pygod.guide", epoch=3, random_state=0, cache_dir=str(tmp_path)).fit(graph)
    assert any(tmp_path.iterdir())
    np.testing.assert_array_equal(cached.decision_scores_, detector.decision_scores_)
