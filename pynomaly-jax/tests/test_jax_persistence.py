"""Saving and loading through the core's manifest: weights and state as npz (no pickle), identical scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pynomaly_jax.autoencoder import AutoEncoder
from pynomaly_jax.deep_svdd import DeepSVDD
from pynomaly_jax.networks import Architecture, init_params
from pynomaly_jax.vae import VAE

from pynomaly_core.errors import IntegrityError
from pynomaly_core.persistence import MANIFEST, load, sha256_of

FAST = {"epochs": 3, "batch_size": 64}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 4)), rng.normal(size=(40, 4))


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_round_trip_gives_identical_scores(cls, data, tmp_path):
    train, test = data
    detector = cls(**FAST, random_state=0).fit(train)
    path = detector.save(tmp_path / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    assert {k: v["format"] for k, v in manifest["artefacts"].items()} == {"weights.npz": "npz", "state.npz": "npz"}
    restored = load(path)
    assert type(restored) is cls and restored.get_params() == detector.get_params()
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))
    assert restored.threshold_ == detector.threshold_


def test_batch_norm_statistics_and_centre_are_saved(data, tmp_path):
    train, test = data
    detector = AutoEncoder(**FAST, batch_norm=True, random_state=0).fit(train)
    with np.load(detector.save(tmp_path / "ae") / "weights.npz") as weights:
        np.testing.assert_array_equal(weights["buffer__encoder.0.running_var"],
                                      np.asarray(detector.buffers_["encoder.0.running_var"]))
    np.testing.assert_array_equal(load(tmp_path / "ae").decision_function(test), detector.decision_function(test))
    svdd = DeepSVDD(**FAST, random_state=0).fit(train)
    with np.load(svdd.save(tmp_path / "svdd") / "state.npz") as state:
        np.testing.assert_array_equal(state["extra__center"], svdd.center_)


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
    with open(path / "weights.npz", "wb") as handle:
        np.savez(handle, payload=np.array([_Payload()], dtype=object))
    _rehash(path, "weights.npz")  # an attacker who can also rewrite the manifest
    with pytest.raises(IntegrityError, match=r"weights\.npz"):
        load(path)
    assert "executed" not in capsys.readouterr().out


def test_weights_of_another_architecture_are_refused(data, tmp_path):
    detector = AutoEncoder(**FAST, random_state=0).fit(data[0])
    path = detector.save(tmp_path / "model")
    other = Architecture("autoencoder", 4, (8, 2), batch_norm=detector.batch_norm)
    params, buffers = init_params(other, np.random.default_rng(0))
    with open(path / "weights.npz", "wb") as handle:
        np.savez(handle, **{f"param__{k}": v for k, v in params.items()},
                 **{f"buffer__{k}": v for k, v in buffers.items()})
    _rehash(path, "weights.npz")
    with pytest.raises(IntegrityError, match="do not fit the saved parameters"):
        load(path)


def test_extra_arrays_in_the_weights_are_refused(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    with np.load(path / "weights.npz") as weights:
        arrays = {**{k: weights[k] for k in weights.files}, "param__extra.weight": np.zeros(2, np.float32)}
    with open(path / "weights.npz", "wb") as handle:
        np.savez(handle, **arrays)
    _rehash(path, "weights.npz")
    with pytest.raises(IntegrityError, match=r"unexpected 'param__extra\.weight'"):
        load(path)
