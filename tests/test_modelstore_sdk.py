"""The SDK side of the model store: train_model / register_model / list_models / get_model / load /
delete_model, lazily exported from ``pynomaly_core``."""

from __future__ import annotations

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core.errors import InputError
from pynomaly_core.modelstore import ModelNotFoundError, ModelStore

from .conftest import EXAMPLES

SENSORS = str(EXAMPLES / "sensors.csv")


@pytest.fixture
def store(tmp_path):
    with ModelStore(url=f"sqlite:///{tmp_path / 'r.db'}", home=tmp_path / "home") as opened:
        yield opened


def test_train_model_records_fingerprint_metrics_and_timing(store, cardio):
    X, y = cardio
    trained = pn.train_model(X, "hbos", name="cardio", y=y, store=store, n_bins=12)
    expected = pn.detect(X, "hbos", y=y, n_bins=12)
    assert trained.ref == "cardio@1" and trained.params["n_bins"] == 12
    assert trained.metrics == pytest.approx(expected.metrics, abs=1e-12) and trained.metrics["roc_auc"] > 0.5
    assert trained.fingerprint["n_rows"] == X.shape[0] and trained.fingerprint["n_features"] == X.shape[1]
    assert trained.training_s > 0
    model = pn.load("cardio", store=store)
    np.testing.assert_array_equal(model.decision_function(X), expected.scores)


def test_register_from_a_path_and_manage_versions(store, tmp_path):
    dataset = pn.load_data(SENSORS, labels="label")
    model = pn.create_detector("ecod").fit(dataset.features())
    first = pn.register_model("s", model, data=SENSORS, store=store)
    assert first.fingerprint["source"] == SENSORS and first.fingerprint["columns"][0] == "temperature"
    assert first.fingerprint["n_features"] == 6  # read without labels: 'label' is a column here
    second = pn.register_model("s", model, data=dataset, parent=first, store=store)
    assert second.fingerprint["n_features"] == 5 and second.parent == "s@1"
    assert [v.ref for v in pn.list_models(store=store)] == ["s@2", "s@1"]
    assert pn.get_model("s@1", store=store) == first and pn.get_model("s", store=store) == second
    directory = model.save(tmp_path / "dir")
    assert type(pn.load(directory)).__name__ == type(model).__name__
    with pytest.raises(InputError, match="name the version to delete, as s@VERSION"):
        pn.delete_model("s", store=store)
    pn.delete_model("s@1", store=store)
    with pytest.raises(ModelNotFoundError, match="versions: 2"):
        pn.get_model("s@1", store=store)
    assert isinstance(pn.ModelStore, type) and pn.ModelVersion.__name__ == "ModelVersion"
