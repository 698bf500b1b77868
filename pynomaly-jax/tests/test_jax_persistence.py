"""Saving and loading through the core's manifest: weights and state as npz (no pickle), identical scores; and
pickling a fitted detector (joblib, ``cross_validate(n_jobs=2)``).

The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from pynomaly_jax.autoencoder import AutoEncoder
from pynomaly_jax.deep_svdd import DeepSVDD
from pynomaly_jax.networks import Architecture, init_params
from pynomaly_jax.vae import VAE

from pynomaly_core.persistence import load
from pynomaly_core.testing import deep_checks as kit

FAST = {"epochs": 3, "batch_size": 64}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 4)), rng.normal(size=(40, 4))


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_round_trip_gives_identical_scores(cls, data, tmp_path):
    kit.check_round_trip_gives_identical_scores(cls, *data, FAST, {"weights.npz": "npz", "state.npz": "npz"}, tmp_path)


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
    kit.check_scaler_is_stored_with_the_model(AutoEncoder, data[0], FAST, tmp_path)


def _write_npz(target, **arrays):
    with open(target, "wb") as handle:
        np.savez(handle, **arrays)


def test_weights_are_loaded_without_unpickling_code(data, tmp_path, capsys):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    payload = np.array([kit.ExecutingPayload()], dtype=object)
    kit.check_replaced_artefact_is_refused(path, "weights.npz", lambda target: _write_npz(target, payload=payload),
                                           r"weights\.npz", capsys)


def test_weights_of_another_architecture_are_refused(data, tmp_path):
    detector = AutoEncoder(**FAST, random_state=0).fit(data[0])
    path = detector.save(tmp_path / "model")
    other = Architecture("autoencoder", 4, (8, 2), batch_norm=detector.batch_norm)
    params, buffers = init_params(other, np.random.default_rng(0))
    arrays = {**{f"param__{k}": v for k, v in params.items()}, **{f"buffer__{k}": v for k, v in buffers.items()}}
    kit.check_replaced_artefact_is_refused(path, "weights.npz", lambda target: _write_npz(target, **arrays),
                                           "do not fit the saved parameters")


def test_extra_arrays_in_the_weights_are_refused(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    with np.load(path / "weights.npz") as weights:
        arrays = {**{k: weights[k] for k in weights.files}, "param__extra.weight": np.zeros(2, np.float32)}
    kit.check_replaced_artefact_is_refused(path, "weights.npz", lambda target: _write_npz(target, **arrays),
                                           r"unexpected 'param__extra\.weight'")


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_a_fitted_detector_pickles_with_identical_scores(cls, data):
    detector, restored = kit.check_pickle_round_trip_gives_identical_scores(cls, *data, FAST)
    assert restored.device_ == detector.device_
    assert all(p.devices() == {detector.device_} for p in restored.params_.values())


def test_unpickling_where_the_device_is_missing_uses_the_device_parameter(data):
    detector = AutoEncoder(**FAST, random_state=0).fit(data[0])
    restored = AutoEncoder.__new__(AutoEncoder)
    restored.__setstate__({**detector.__getstate__(), "device_": "gpu:99"})  # as if pickled on a GPU machine
    assert restored.device_ == jax.devices("cpu")[0]
    np.testing.assert_array_equal(restored.decision_function(data[1]), detector.decision_function(data[1]))


def test_a_model_fitted_for_a_missing_gpu_loads_on_the_cpu(data, tmp_path):
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is visible")
    restored = kit.check_missing_gpu_loads_on_the_cpu(AutoEncoder, *data, FAST, tmp_path,
                                                      r"no CUDA device.*loading on the CPU")
    assert restored.device_ == jax.devices("cpu")[0]


def test_cross_validate_in_parallel_returns_the_fitted_detectors(data):
    fitted = kit.check_cross_validate_in_parallel(AutoEncoder(epochs=1, batch_size=64, random_state=0), data[0])
    assert all(model.n_epochs_ == 1 for model in fitted)
