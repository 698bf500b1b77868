"""Smoke tests of the time-series (ts_*) and graph (pyg_*) models: every one that can run here is fitted.

A model whose optional packages are missing is skipped with their names (and its fit must say so in one line).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from pynomaly_pyod import catalog
from pynomaly_pyod.dependencies import missing_packages

from pynomaly_core import create_detector
from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.persistence import load

WINDOW = 16
#: Small settings so that each model fits in about a second.
TS_PARAMS = {
    "ts_anomaly_transformer": {"window_size": WINDOW, "d_model": 16, "n_heads": 2, "n_layers": 1, "epochs": 1,
                               "batch_size": 64},
    "ts_kshape": {"window_size": WINDOW},
    "ts_lstm": {"window_size": WINDOW, "hidden_size": 8, "n_layers": 1, "epochs": 2},
    "ts_matrix_profile": {"window_size": WINDOW},
    "ts_od": {"window_size": WINDOW},
    "ts_sand": {"window_size": WINDOW, "max_iter": 10},
    "ts_spectral_residual": {},
}
GRAPH_PARAMS = {
    "pyg_anomalous": {"max_iter": 20},
    "pyg_anomalydae": {"epochs": 5, "embed_dim": 8, "num_heads": 2},
    "pyg_cola": {"epochs": 5, "hidden_dim": 8},
    "pyg_conad": {"epochs": 5, "hidden_dim": 8},
    "pyg_dominant": {"epochs": 5, "hidden_dim": 8},
    "pyg_guide": {"epochs": 5, "hidden_dim": 8},
    "pyg_radar": {"max_iter": 20},
    "pyg_scan": {},
}
TS_MODELS = sorted(m.name for m in catalog.MODELS if m.kind == "timeseries")
GRAPH_MODELS = sorted(m.name for m in catalog.MODELS if m.kind == "graph")


def skip_unless_installed(name: str) -> None:
    missing = missing_packages(catalog.get(name))
    if missing:
        pytest.skip(f"pyod.{name} needs {', '.join(missing)}, not installed")


def test_every_model_has_smoke_settings() -> None:
    assert sorted(TS_PARAMS) == TS_MODELS and sorted(GRAPH_PARAMS) == GRAPH_MODELS


def series(n: int, spike: int | None = None) -> np.ndarray:
    t = np.arange(n)
    values = np.column_stack([np.sin(t / 6.0), np.cos(t / 9.0)])
    values += 0.05 * np.random.default_rng(n).normal(size=values.shape)
    if spike is not None:
        values[spike] += 4.0
    return values


@pytest.mark.parametrize("name", TS_MODELS)
def test_timeseries_model(name: str) -> None:
    skip_unless_installed(name)
    model = catalog.get(name)
    params = TS_PARAMS[name]
    train, test = series(240), series(120, spike=60)
    detector = create_detector(model.qualified_name, **params).fit(train)
    assert detector.decision_scores_.shape == (240,) and np.isfinite(detector.decision_scores_).all()
    if model.transductive:
        with pytest.raises(PynomalyError, match="transductive"):
            detector.decision_function(test)
        spiked = create_detector(model.qualified_name, **params).fit(test).decision_scores_
        assert 60 - WINDOW <= int(np.argmax(spiked)) <= 60 + WINDOW
        return
    scores = detector.decision_function(test)
    assert scores.shape == (120,) and np.isfinite(scores).all()
    if "deterministic_with_seed" in model.capabilities:
        again = create_detector(model.qualified_name, **params).fit(train).decision_function(test)
        np.testing.assert_array_equal(again, scores)
    with tempfile.TemporaryDirectory() as tmp:
        if not {"save", "pickle_save"} & set(model.capabilities):
            with pytest.raises(PynomalyError, match="cannot be saved"):
                detector.save(Path(tmp) / "model")
            return
        restored = load(detector.save(Path(tmp) / "model"), trust=True)
        np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))


def graph() -> tuple[np.ndarray, np.ndarray]:
    """40 nodes in two rings with chords; nodes 0-2 have outlying features and join both rings."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    X[:3] += 6.0
    ring = [(i, (i + 1) % 20) for i in range(20)] + [(20 + i, 20 + (i + 1) % 20) for i in range(20)]
    chords = [(i, i + 5) for i in range(0, 15, 3)] + [(20 + i, 25 + i) for i in range(0, 15, 3)]
    hubs = [(h, t) for h in range(3) for t in (7, 11, 27, 33)]
    edges = np.array(ring + chords + hubs).T
    return X, np.concatenate([edges, edges[::-1]], axis=1)


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_graph_model(name: str) -> None:
    skip_unless_installed(name)
    X, edge_index = graph()
    model = create_detector(f"pyod.{name}", **GRAPH_PARAMS[name]).fit(X, edge_index=edge_index)
    assert model.decision_scores_.shape == (40,) and np.isfinite(model.decision_scores_).all()
    assert model.labels_.sum() == (model.decision_scores_ > model.threshold_).sum()
    with pytest.raises(PynomalyError, match="transductive"):
        model.decision_function(X)
    with tempfile.TemporaryDirectory() as tmp, pytest.raises(PynomalyError, match="transductive"):
        model.save(Path(tmp) / "model")


def test_graph_accepts_a_pyg_data_object() -> None:
    skip_unless_installed("pyg_radar")
    import torch
    from torch_geometric.data import Data

    X, edge_index = graph()
    data = Data(x=torch.tensor(X, dtype=torch.float32), edge_index=torch.tensor(edge_index))
    from_data = create_detector("pyod.pyg_radar", max_iter=20).fit(data).decision_scores_
    from_arrays = create_detector("pyod.pyg_radar", max_iter=20).fit(X, edge_index=edge_index).decision_scores_
    np.testing.assert_array_equal(from_data, from_arrays)


@pytest.mark.parametrize(("edge_index", "message"), [
    (None, "need edge_index"),
    (np.zeros((3, 4), dtype=int), r"shape \(2, n_edges\)"),
    (np.array([[0.5, 1.0], [1.0, 2.0]]), "integer node ids"),
    (np.array([[0, 1], [1, 40]]), "refers to node 40 but X has 40 nodes"),
])
def test_graph_input_errors(edge_index: object, message: str) -> None:
    X, _ = graph()
    with pytest.raises(InputError, match=message):
        create_detector("pyod.pyg_scan").fit(X, edge_index=edge_index)


def test_missing_graph_package_is_named() -> None:
    absent = [m for m in catalog.MODELS if m.kind == "graph" and missing_packages(m)]
    if not absent:
        pytest.skip("torch and torch_geometric are installed")
    X, edge_index = graph()
    with pytest.raises(PynomalyError, match="torch_geometric") as info:
        create_detector(absent[0].qualified_name).fit(X, edge_index=edge_index)
    assert "\n" not in str(info.value)
