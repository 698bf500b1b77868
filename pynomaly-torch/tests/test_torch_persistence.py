"""Saving and loading through the core's manifest: torch_state_dict weights + npz arrays, identical scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from pynomaly_torch.autoencoder import AutoEncoder
from pynomaly_torch.deep_svdd import DeepSVDD
from pynomaly_torch.vae import VAE

from pynomaly_core.errors import IntegrityError
from pynomaly_core.persistence import MANIFEST, load, sha256_of

FAST = {"epochs": 3, "batch_size": 32}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(150, 4)), rng.normal(size=(40, 4))


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_round_trip_gives_identical_scores(cls, data, tmp_path):
    train, test = data
    detector = cls(**FAST, hidden_layers=[6, 3], random_state=0).fit(train)
    path = detector.save(tmp_path / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    assert {k: v["format"] for k, v in manifest["artefacts"].items()} == {"model.pt": "torch_state_dict",
                                                                          "state.npz": "npz"}
    restored = load(path)
    assert type(restored) is cls and restored.get_params() == detector.get_params()
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))
    assert restored.threshold_ == detector.threshold_


def test_scaler_is_stored_with_the_model(data, tmp_path):
    train, _ = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train * 50 + 3)
    with np.load(detector.save(tmp_path / "model") / "state.npz") as arrays:
        np.testing.assert_array_equal(arrays["scaler_mean"], detector.scaler_.mean)
        np.testing.assert_array_equal(arrays["scaler_scale"], detector.scaler_.scale)


def _rehash(path, name):
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["artefacts"][name]["sha256"] = sha256_of(path / name)
    (path / MANIFEST).write_text(json.dumps(manifest))


class _Payload:
    def __reduce__(self):
        return (print, ("executed",))


def test_weights_are_loaded_without_unpickling_code(data, tmp_path, capsys):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    torch.save({"weights": _Payload()}, path / "model.pt")
    _rehash(path, "model.pt")  # an attacker who can also rewrite the manifest
    with pytest.raises(IntegrityError, match=r"model\.pt"):
        load(path)
    assert "executed" not in capsys.readouterr().out


def test_weights_of_another_architecture_are_refused(data, tmp_path):
    path = AutoEncoder(**FAST, hidden_layers=[6, 3], random_state=0).fit(data[0]).save(tmp_path / "model")
    other = AutoEncoder(**FAST, hidden_layers=[8, 2], random_state=0).fit(data[0])
    torch.save(other.network_.state_dict(), path / "model.pt")
    _rehash(path, "model.pt")
    with pytest.raises(IntegrityError, match="do not fit the saved parameters"):
        load(path)


def test_loading_does_not_touch_the_global_rng(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    load(path)
    assert torch.equal(torch.rand(2), expected)
