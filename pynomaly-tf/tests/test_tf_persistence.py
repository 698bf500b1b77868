"""Saving and loading through the core's manifest: a ``.keras`` model (safe mode) + npz arrays, identical scores."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from pynomaly_tf.autoencoder import AutoEncoder
from pynomaly_tf.deep_svdd import DeepSVDD
from pynomaly_tf.runtime import keras
from pynomaly_tf.vae import VAE

from pynomaly_core.errors import IntegrityError
from pynomaly_core.persistence import MANIFEST, load, sha256_of

FAST = {"epochs": 3, "batch_size": 32}


# Keras's own saving code trips NumPy 2's __array__(copy=...) deprecation when a test calls it directly.
KERAS_SAVE_WARNING = "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(150, 4)), rng.normal(size=(40, 4))


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_round_trip_gives_identical_scores(cls, data, tmp_path):
    train, test = data
    detector = cls(**FAST, random_state=0).fit(train)
    path = detector.save(tmp_path / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    assert {k: v["format"] for k, v in manifest["artefacts"].items()} == {"model.keras": "keras", "state.npz": "npz"}
    restored = load(path)
    assert type(restored) is cls and restored.get_params() == detector.get_params()
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))
    np.testing.assert_array_equal(restored.predict(test), detector.predict(test))
    assert restored.threshold_ == detector.threshold_


def test_the_keras_file_is_a_plain_keras_model(data, tmp_path):
    train, test = data
    detector = VAE(**FAST, random_state=0).fit(train)
    network = keras.saving.load_model(detector.save(tmp_path / "model") / "model.keras", safe_mode=True)
    scaled = detector.scaler_.transform(test)
    reconstruction = np.asarray(network(scaled, training=False)[2])
    np.testing.assert_allclose(((reconstruction - scaled) ** 2).sum(axis=1), detector.decision_function(test),
                               rtol=1e-6)


def test_scaler_and_centre_are_stored_with_the_model(data, tmp_path):
    train, _ = data
    detector = DeepSVDD(**FAST, random_state=0).fit(train * 50 + 3)
    with np.load(detector.save(tmp_path / "model") / "state.npz") as arrays:
        np.testing.assert_array_equal(arrays["scaler_mean"], detector.scaler_.mean)
        np.testing.assert_array_equal(arrays["scaler_scale"], detector.scaler_.scale)
        np.testing.assert_array_equal(arrays["extra__center"], detector.center_.numpy())


def _rehash(path, name):
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["artefacts"][name]["sha256"] = sha256_of(path / name)
    (path / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.filterwarnings(KERAS_SAVE_WARNING)
def test_a_model_with_code_is_refused_without_running_it(data, tmp_path, capsys):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    inputs = keras.Input((4,))
    hostile = keras.Model(inputs, keras.layers.Lambda(lambda x: print("executed") or x)(inputs))
    hostile.save(path / "model.keras")
    capsys.readouterr()
    _rehash(path, "model.keras")  # an attacker who can also rewrite the manifest
    with pytest.raises(IntegrityError, match="not a loadable Keras model in safe mode"):
        load(path)
    assert "executed" not in capsys.readouterr().out


def test_a_corrupt_model_file_is_an_integrity_error(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    (path / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    _rehash(path, "model.keras")
    with pytest.raises(IntegrityError, match=r"model\.keras") as info:
        load(path)
    assert "\n" not in str(info.value)


@pytest.mark.filterwarnings(KERAS_SAVE_WARNING)
def test_weights_of_another_architecture_are_refused(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    other = DeepSVDD(**FAST, random_state=0).fit(data[0])
    other.network_.save(path / "model.keras")
    _rehash(path, "model.keras")
    with pytest.raises(IntegrityError, match="do not fit the saved parameters"):
        load(path)


def test_a_model_fitted_for_a_missing_gpu_loads_on_the_cpu(data, tmp_path):
    from pynomaly_tf.runtime import tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible")
    train, test = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    path = detector.save(tmp_path / "model")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["params"]["device"] = "cuda"  # as if saved on a machine with a GPU
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(RuntimeWarning, match=r"sees no GPU.*loading on the CPU"):
        restored = load(path)
    assert restored.device_ == "/CPU:0"
    np.testing.assert_array_equal(restored.decision_function(test), detector.decision_function(test))


def test_loading_does_not_touch_the_global_rngs(data, tmp_path):
    path = VAE(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    python_state, numpy_state = random.getstate(), np.random.get_state()
    load(path)
    assert random.getstate() == python_state and np.array_equal(np.random.get_state()[1], numpy_state[1])
