"""Saving and loading through the core's manifest: weights and state as npz (no pickle), identical scores.

The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`.
"""

from __future__ import annotations

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
