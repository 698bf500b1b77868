"""Saving and loading through the core's manifest: torch_state_dict weights + npz arrays, identical scores; and
pickling a fitted detector.

The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pynomaly_torch.autoencoder import AutoEncoder
from pynomaly_torch.deep_svdd import DeepSVDD
from pynomaly_torch.vae import VAE

from pynomaly_core.persistence import load
from pynomaly_core.testing import deep_checks as kit

FAST = {"epochs": 3, "batch_size": 32}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(150, 4)), rng.normal(size=(40, 4))


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_round_trip_gives_identical_scores(cls, data, tmp_path):
    kit.check_round_trip_gives_identical_scores(cls, *data, {**FAST, "hidden_layers": [6, 3]},
                                                {"model.pt": "torch_state_dict", "state.npz": "npz"}, tmp_path)


def test_scaler_is_stored_with_the_model(data, tmp_path):
    kit.check_scaler_is_stored_with_the_model(AutoEncoder, data[0], FAST, tmp_path)


def test_weights_are_loaded_without_unpickling_code(data, tmp_path, capsys):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    payload = {"weights": kit.ExecutingPayload()}
    kit.check_replaced_artefact_is_refused(path, "model.pt", lambda target: torch.save(payload, target), r"model\.pt",
                                           capsys)


def test_weights_of_another_architecture_are_refused(data, tmp_path):
    path = AutoEncoder(**FAST, hidden_layers=[6, 3], random_state=0).fit(data[0]).save(tmp_path / "model")
    other = AutoEncoder(**FAST, hidden_layers=[8, 2], random_state=0).fit(data[0])
    weights = other.network_.state_dict()
    kit.check_replaced_artefact_is_refused(path, "model.pt", lambda target: torch.save(weights, target),
                                           "do not fit the saved parameters")


def test_loading_does_not_touch_the_global_rng(data, tmp_path):
    path = AutoEncoder(**FAST, random_state=0).fit(data[0]).save(tmp_path / "model")
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    load(path)
    assert torch.equal(torch.rand(2), expected)


@pytest.mark.parametrize("cls", [AutoEncoder, VAE, DeepSVDD], ids=lambda c: c.__name__)
def test_a_fitted_detector_pickles_with_identical_scores(cls, data):
    kit.check_pickle_round_trip_gives_identical_scores(cls, *data, FAST)


def test_a_model_fitted_for_a_missing_gpu_loads_on_the_cpu(data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    restored = kit.check_missing_gpu_loads_on_the_cpu(AutoEncoder, *data, FAST, tmp_path,
                                                      r"no CUDA device.*loading on the CPU")
    assert restored.device_ == torch.device("cpu")
