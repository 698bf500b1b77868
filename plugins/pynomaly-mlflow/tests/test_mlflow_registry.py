"""Publishing a model-store version to the MLflow registry and back, lineage kept as tags."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from pynomaly_mlflow.registry import fetch, publish

from pynomaly_core import create_detector
from pynomaly_core.modelstore import ModelStore
from pynomaly_core.modelstore.fingerprints import fingerprint


@pytest.fixture
def tracking(tmp_path):
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield MlflowClient(uri, uri)
    mlflow.set_tracking_uri(previous)
    mlflow.set_registry_uri(previous)


def test_publish_and_fetch_back(tmp_path, tracking):
    X = np.random.default_rng(1).normal(size=(300, 3))
    store = ModelStore(url=f"sqlite:///{tmp_path / 'store.db'}", home=tmp_path / "home")
    first = store.register("sensors", create_detector("hbos").fit(X), data_fingerprint=fingerprint(X))
    second = store.register("sensors", create_detector("hbos", n_bins=20).fit(X), data_fingerprint=fingerprint(X),
                            parent=first.ref)
    published = publish(store, second.ref, alias="champion", client=tracking)
    assert published.tags["pynomaly.ref"] == second.ref
    assert published.tags["pynomaly.parent"] == first.ref
    assert published.tags["pynomaly.data_sha256"] == fingerprint(X)["sha256"]
    assert tracking.get_model_version_by_alias("sensors", "champion").version == published.version
    back = fetch(store, "sensors", alias="champion", client=tracking)
    assert back.version == 3 and back.parent == second.ref
    assert back.fingerprint["sha256"] == fingerprint(X)["sha256"]
    expected = store.load("sensors", 2).decision_function(X)
    assert np.array_equal(store.load("sensors", 3).decision_function(X), expected)
