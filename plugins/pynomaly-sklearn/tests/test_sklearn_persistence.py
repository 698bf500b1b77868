"""Saving and loading: npz where the fitted state is plain arrays, trusted joblib otherwise."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from pynomaly_sklearn.persistence import ESTIMATOR_FILE, load_pickled
from sklearn.ensemble import IsolationForest

from pynomaly_core.errors import IntegrityError, UntrustedArtefactError
from pynomaly_core.persistence import MANIFEST, load
from pynomaly_core.sdk import create_detector

SAFE = ["sklearn.lof", "sklearn.sgd_ocsvm", "sklearn.elliptic_envelope"]
PICKLED = ["sklearn.iforest", "sklearn.ocsvm"]


def _formats(path: Path) -> dict[str, str]:
    manifest = json.loads((path / MANIFEST).read_text())
    return {name: entry["format"] for name, entry in manifest["artefacts"].items()}


def _rehash(path: Path, name: str) -> None:
    """Update the manifest's sha256 of ``name`` (what a deliberate forger would do)."""
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["artefacts"][name]["sha256"] = hashlib.sha256((path / name).read_bytes()).hexdigest()
    (path / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize("name", SAFE)
def test_safe_models_round_trip_without_trust(name, blobs, tmp_path):
    train, test = blobs
    detector = create_detector(name, random_state=0) if name != "sklearn.lof" else create_detector(name)
    detector.fit(train)
    path = detector.save(tmp_path / "model")
    assert set(_formats(path).values()) == {"npz"}
    restored = load(path)
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    assert restored.threshold_ == detector.threshold_
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))


@pytest.mark.parametrize("name", PICKLED)
def test_pickled_models_need_trust(name, blobs, tmp_path):
    train, test = blobs
    detector = create_detector(name, random_state=0) if name == "sklearn.iforest" else create_detector(name)
    path = detector.fit(train).save(tmp_path / "model")
    assert _formats(path) == {ESTIMATOR_FILE: "joblib", "state.npz": "npz"}
    with pytest.raises(UntrustedArtefactError, match="trust"):
        load(path)
    restored = load(path, trust=True)
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))


def test_load_pickled_never_unpickles_without_trust(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return Path.touch, (marker,)

    (tmp_path / ESTIMATOR_FILE).write_bytes(pickle.dumps(Payload()))
    artefacts = {ESTIMATOR_FILE: "joblib"}
    with pytest.raises(UntrustedArtefactError):
        load_pickled(tmp_path, artefacts, False, IsolationForest, "sklearn.iforest")
    assert not marker.exists()
    with pytest.raises(IntegrityError, match="expected IsolationForest"):
        load_pickled(tmp_path, artefacts, True, IsolationForest, "sklearn.iforest")
    assert marker.exists()  # trusted: the pickle did run, as pickles do


def test_pickled_model_must_match_manifest_params(blobs, tmp_path):
    path = create_detector("sklearn.iforest", n_estimators=10, random_state=0).fit(blobs[0]).save(tmp_path / "m")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["params"]["n_estimators"] = 11
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="differ from the manifest"):
        load(path, trust=True)


def test_lof_refit_must_reproduce_the_saved_scores(blobs, tmp_path):
    path = create_detector("sklearn.lof").fit(blobs[0]).save(tmp_path / "model")
    with np.load(path / "state.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["state__fit_rows"][5] += 1.0
    with open(path / "state.npz", "wb") as handle:
        np.savez(handle, **arrays)
    _rehash(path, "state.npz")
    with pytest.raises(IntegrityError, match="does not reproduce the saved training scores"):
        load(path)


@pytest.mark.parametrize("average", [False, True])
def test_sgd_partial_fit_continues_after_load(average, blobs, tmp_path):
    train, test = blobs
    detector = create_detector("sklearn.sgd_ocsvm", random_state=0, average=average).partial_fit(train[:100])
    restored = load(detector.save(tmp_path / "model"))
    detector.partial_fit(train[100:])
    restored.partial_fit(train[100:])
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))


def test_elliptic_envelope_without_stored_precision(blobs, tmp_path):
    train, test = blobs
    detector = create_detector("sklearn.elliptic_envelope", store_precision=False, random_state=0).fit(train)
    restored = load(detector.save(tmp_path / "model"))
    assert restored.estimator_.precision_ is None
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
