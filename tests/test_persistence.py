"""Save/load: manifest contents, hash checks, trust for pickle, version warnings, atomic replacement."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pynomaly_core import load
from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import IntegrityError, PynomalyError, UntrustedArtefactError
from pynomaly_core.persistence import VersionMismatchWarning, sha256_of
from pynomaly_core.sdk import create_detector
from pynomaly_core.specs import DetectorSpec


@pytest.fixture
def fitted(rng):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    return create_detector("ecod", contamination=0.05).fit(frame), frame


def test_manifest_records_everything(fitted, tmp_path):
    model, _ = fitted
    path = model.save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["detector"] == "builtin.ecod" and manifest["plugin"] == "builtin"
    assert manifest["params"] == {"contamination": 0.05, "combine": "per_feature", "n_jobs": None}
    assert manifest["feature_names"] == ["a", "b", "c"] and manifest["n_features"] == 3
    assert manifest["pynomaly_version"] == manifest["plugin_version"] == "0.1.0"
    assert manifest["artefacts"]["state.npz"] == {"format": "npz", "sha256": sha256_of(path / "state.npz")}


def test_round_trip_is_bit_identical_and_keeps_columns(fitted, tmp_path):
    model, frame = fitted
    restored = load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(restored.decision_function(frame), model.decision_function(frame))
    assert list(restored.feature_names_in_) == ["a", "b", "c"]
    assert restored.threshold_ == model.threshold_


def test_tampered_or_missing_artefacts_are_refused(fitted, tmp_path):
    model, _ = fitted
    path = model.save(tmp_path / "m")
    data = bytearray((path / "state.npz").read_bytes())
    data[-10] ^= 0xFF
    (path / "state.npz").write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        load(path)
    (path / "state.npz").unlink()
    with pytest.raises(IntegrityError, match=r"artefact 'state\.npz' is missing"):
        load(path)
    with pytest.raises(IntegrityError, match="not a saved pynomaly model"):
        load(tmp_path)


def test_version_mismatch_warns(fitted, tmp_path):
    model, frame = fitted
    path = model.save(tmp_path / "m")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["pynomaly_version"] = "0.0.1"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(VersionMismatchWarning, match="saved by pynomaly 0.0.1"):
        restored = load(path)
    np.testing.assert_array_equal(restored.decision_function(frame), model.decision_function(frame))


def test_existing_model_is_kept_unless_overwrite(fitted, tmp_path, rng):
    model, _ = fitted
    path = model.save(tmp_path / "m")
    with pytest.raises(PynomalyError, match="already exists"):
        model.save(path)
    other = create_detector("ecod").fit(rng.normal(size=(50, 3)))
    other.save(path, overwrite=True)
    assert json.loads((path / "manifest.json").read_text())["params"]["contamination"] == 0.1
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no staging or backup folders left


class FailsWhileSaving(BaseDetector):
    qualified_name = "pickled.fails"

    def __init__(self, contamination: float = 0.1):
        self.contamination = contamination

    def _fit(self, X, y):
        self.mean_ = X.mean(axis=0)

    def _score(self, X):
        return np.abs(X - self.mean_).sum(axis=1)

    def _save_artefacts(self, directory):
        (directory / "partial.bin").write_bytes(b"half")
        raise OSError("disk full")


class Pickled(FailsWhileSaving):
    qualified_name = "pickled.model"

    def _save_artefacts(self, directory):
        (directory / "model.pkl").write_bytes(self.mean_.tobytes())  # labelled "pickle": an unsafe format
        return {"model.pkl": "pickle"}

    def _load_artefacts(self, directory, artefacts, trust):
        assert trust, "the core must refuse before calling this"
        self.mean_ = np.frombuffer((directory / "model.pkl").read_bytes())
        self._set_threshold(self._score(np.zeros((1, self.mean_.size))))


class PickledPlugin:
    from pynomaly_core import hookimpl

    @hookimpl
    def register_detectors(self, register):
        for name, cls in (("model", "Pickled"), ("fails", "FailsWhileSaving")):
            register(DetectorSpec(name=name, summary="Test.", target=f"tests.test_persistence:{cls}",
                                  params={"contamination": 0.1}, capabilities={"pickle_save"}))


def test_pickle_needs_trust_and_failed_save_leaves_nothing(pynomaly_registry, tmp_path, rng):
    pynomaly_registry.add_plugin(PickledPlugin(), "pickled")
    X = rng.normal(size=(30, 2))
    path = Pickled().fit(X).save(tmp_path / "p")
    with pytest.raises(UntrustedArtefactError, match="'pickle', which can run code"):
        load(path)
    assert load(path, trust=True).mean_.tolist() == X.mean(axis=0).tolist()
    good = Pickled().fit(X).save(tmp_path / "keep")
    before = (good / "manifest.json").read_text()
    with pytest.raises(OSError, match="disk full"):
        FailsWhileSaving().fit(X).save(good, overwrite=True)
    assert (good / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep", "p"]
