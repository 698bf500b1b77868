"""Training behaviour: seeds, batched scoring, early stopping, parameters, devices, progress.

The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`; the torch-specific
ones (global torch state, devices, module shapes, the Adam update) are written out here.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from pynomaly_torch import fitting
from pynomaly_torch.adam import Adam
from pynomaly_torch.autoencoder import AutoEncoder
from pynomaly_torch.deep_svdd import DeepSVDD
from pynomaly_torch.vae import VAE

from pynomaly_core.deep import design
from pynomaly_core.testing import deep_checks as kit

DETECTORS = [AutoEncoder, VAE, DeepSVDD]
FAST = {"epochs": 4, "batch_size": 32}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 5)) @ rng.normal(size=(5, 5))
    test = rng.normal(size=(50, 5)) @ rng.normal(size=(5, 5))
    return train, test


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_same_seed_gives_bit_identical_scores(cls, data):
    kit.check_same_seed_gives_bit_identical_scores(cls, *data, FAST)


def test_fit_leaves_global_rng_and_torch_settings_alone(data):
    train, _ = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(123)
    AutoEncoder(**FAST, random_state=0).fit(train)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_unseeded_fits_differ(data):
    kit.check_unseeded_fits_differ(AutoEncoder, *data, FAST)


def _score_in_batches(detector, X, batch_size):
    return fitting.score_in_batches(detector.network_, detector._score_batch, X, detector.scaler_,
                                    batch_size=batch_size)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_batched_scoring_equals_one_batch(cls, data, monkeypatch):
    monkeypatch.setattr(fitting, "SCORE_BATCH_SIZE", 10**9)
    kit.check_batched_scoring_equals_one_batch(cls, data[0], FAST, _score_in_batches, rtol=1e-6, atol=1e-7)


def test_scoring_memory_is_bounded_by_one_batch(data, monkeypatch):
    train, _ = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    seen: list[int] = []
    score = detector._score_batch
    monkeypatch.setattr(detector, "_score_batch", lambda net, batch: seen.append(batch.shape[0]) or score(net, batch))
    kit.check_scoring_is_bounded_by_one_batch(detector, train.shape[1], seen, last_batch=5)


def _validation_loss(detector, X_val):
    return fitting.evaluate_loss(detector.network_, detector._loss, torch.from_numpy(X_val))


def test_early_stopping_stops_and_restores_the_best_epoch():
    kit.check_early_stopping_stops_and_restores_the_best_epoch(AutoEncoder, n_rows=300, n_features=6, batch_size=32,
                                                               loss_of=_validation_loss, rel=1e-6)


def test_without_validation_all_epochs_run(data):
    kit.check_without_validation_all_epochs_run(AutoEncoder, data[0], {"epochs": 6})


def test_training_reduces_the_loss(data):
    kit.check_training_reduces_the_loss(AutoEncoder, data[0],
                                        {"hidden_layers": [16, 8], "epochs": 30, "batch_size": 32, "dropout": 0.0}, 0.3)


def test_scaling_is_fitted_inside_the_detector(data):
    kit.check_scaling_is_fitted_inside_the_detector(AutoEncoder, *data, FAST)


@pytest.mark.parametrize(("params", "fragment"), kit.invalid_parameter_cases(bad_device="gpu"))
def test_invalid_parameters_are_one_line_input_errors(params, fragment, data):
    kit.check_invalid_parameters_are_one_line_input_errors(AutoEncoder, data[0], params, fragment, "torch.autoencoder")


def test_cuda_without_a_gpu_is_an_input_error(data):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    kit.check_missing_gpu_is_an_input_error(AutoEncoder, data[0], FAST, devices=["cuda"], message="no CUDA device")


def test_auto_device_uses_what_torch_sees(data):
    detector = AutoEncoder(**FAST, device="auto", random_state=0).fit(data[0])
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(detector.network_.parameters()).device.type == expected


def test_hidden_layers_shape_the_network(data):
    detector = AutoEncoder(**FAST, hidden_layers=[12, 6, 3], random_state=0).fit(data[0])
    widths = [m.out_features for m in detector.network_.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [12, 6, 3, 6, 12, 5]
    vae = VAE(**FAST, hidden_layers=[10, 4], random_state=0).fit(data[0])
    assert vae.network_.mean.out_features == 4 and vae.network_.output.out_features == 5


def test_deep_svdd_has_no_biases_and_a_centre_away_from_zero(data):
    detector = DeepSVDD(**FAST, random_state=0).fit(data[0])
    assert all(m.bias is None for m in detector.network_.modules() if isinstance(m, torch.nn.Linear))
    assert bool((detector.center_.abs() >= design.CENTER_EPS).all())


def test_verbose_shows_a_progress_bar(data, capsys):
    kit.check_verbose_shows_a_progress_bar(AutoEncoder, data[0], FAST, "torch.autoencoder", capsys)


def test_silent_by_default(data, capsys):
    kit.check_silent_by_default(AutoEncoder, data[0], FAST, capsys)


def test_adam_matches_torch_optim_adam():
    torch.manual_seed(0)
    ours = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 5))
    reference = copy.deepcopy(ours)
    X = torch.randn(64, 5)
    for network, optimizer in ((ours, Adam(list(ours.parameters()), lr=1e-2, weight_decay=1e-3)),
                               (reference, torch.optim.Adam(reference.parameters(), lr=1e-2, weight_decay=1e-3))):
        for _ in range(20):
            optimizer.zero_grad()
            (network(X) - X).square().mean().backward()
            optimizer.step()
    for a, b in zip(ours.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
