"""Saving and loading through the core's manifest: a ``.keras`` model (safe mode) + npz arrays, identical scores;
and pickling a fitted detector.

The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from pynomaly_tf.autoencoder import AutoEncoder
from pynomaly_tf.deep_svdd import DeepSVDD
from pynomaly_tf.runtime import keras
from pynomaly_tf.vae import VAE

from pynomaly_core.persistence import load
from pynomaly_core.testing import deep_checks as kit

FAST = {"epochs": 3, "batch_size": 32}


# Keras's own saving code trips NumPy 2's __array__(copy=...) deprecation when a test calls it directly.
KERAS_SAVE_WARNING = "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(150, 4)), rng.normal(size=(40, 4))


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_round_trip_gives_identical_scores(cls, data, tmp_path):
    kit.check_round_trip_gives_identical_scores(cls, *data, FAST, {"model.keras": "keras", "state.npz": "npz"},
                                                tmp_path)


def test_the_keras_file_is_a_plain_keras_model(data, tmp_path):
    train, test = data
    detector = VAE(**FAST, random_state=0).fit(train)
    network = keras.saving.load_model(detector.save(tmp_path / "model") / "model.keras", safe_mode=True)
    scaled = detector.scaler_.transform(test)
    reconstruction = np.asarray(network(scaled, training=False)[2])
    np.testing.assert_allclose(((reconstruction - scaled) ** 2).sum(axis=1), detector.decision_function(test),
                               rtol=1e-6)


def test_scaler_and_centre_are_stored_with_the_model(data, tmp_path):
    detector, path = kit.check_scaler_is_stored_with_the_model(DeepSVDD, data[0], FAST, tmp_path)
    with np.load(path / "state.npz") as arrays:
        np.testing.assert_array_equal(arrays["extra__center"], detector.center_.numpy())


def _save_hostile_model(target):
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: print("executed") or x)(inputs)).save(target)


@pytest.mark.filterwarnings(KERAS_SAVE_WARNING)
def test_a_model_with_code_is_refused_without_running_it(data, tmp_path, capsys):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    kit.check_replaced_artefact_is_refused(path, "model.keras", _save_hostile_model,
                                           "not a loadable Keras model in safe mode", capsys)


def test_a_corrupt_model_file_is_an_integrity_error(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    error = kit.check_replaced_artefact_is_refused(path, "model.keras",
                                                   lambda target: target.write_bytes(b"PK\x03\x04 not really a zip"),
                                                   r"model\.keras")
    assert "\n" not in str(error)


@pytest.mark.filterwarnings(KERAS_SAVE_WARNING)
def test_weights_of_another_architecture_are_refused(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    other = DeepSVDD(**FAST, random_state=0).fit(data[0])
    kit.check_replaced_artefact_is_refused(path, "model.keras", other.network_.save, "do not fit the saved parameters")


def test_a_model_fitted_for_a_missing_gpu_loads_on_the_cpu(data, tmp_path):
    from pynomaly_tf.runtime import tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible")
    restored = kit.check_missing_gpu_loads_on_the_cpu(AutoEncoder, *data, FAST, tmp_path,
                                                      r"sees no GPU.*loading on the CPU")
    assert restored.device_ == "/CPU:0"


def test_loading_does_not_touch_the_global_rngs(data, tmp_path):
    path = VAE(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    python_state, numpy_state = random.getstate(), np.random.get_state()
    load(path)
    assert random.getstate() == python_state and np.array_equal(np.random.get_state()[1], numpy_state[1])


@pytest.mark.filterwarnings(KERAS_SAVE_WARNING)  # a Keras model pickles through Keras's saving code
@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_a_fitted_detector_pickles_with_identical_scores(cls, data):
    kit.check_pickle_round_trip_gives_identical_scores(cls, *data, FAST)
