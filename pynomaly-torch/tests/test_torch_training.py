"""Training behaviour: seeds, batched scoring, early stopping, parameters, devices, progress, neutral helpers."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch
from pynomaly_torch import fitting
from pynomaly_torch.adam import Adam
from pynomaly_torch.autoencoder import AutoEncoder
from pynomaly_torch.deep_svdd import DeepSVDD
from pynomaly_torch.vae import VAE

from pynomaly_core.deep import design
from pynomaly_core.deep.training import EarlyStopping, Standardizer, batch_slices, split_validation
from pynomaly_core.errors import InputError

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
    train, test = data
    first = cls(**FAST, random_state=7).fit(train)
    second = cls(**FAST, random_state=7).fit(train)
    np.testing.assert_array_equal(first.decision_function(test), second.decision_function(test))
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    other = cls(**FAST, random_state=8).fit(train).decision_function(test)
    assert not np.array_equal(other, first.decision_function(test))


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
    train, test = data
    first = AutoEncoder(**FAST).fit(train).decision_function(test)
    second = AutoEncoder(**FAST).fit(train).decision_function(test)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_batched_scoring_equals_one_batch(cls, data, monkeypatch):
    train, _ = data
    detector = cls(**FAST, random_state=0).fit(train)
    big = np.random.default_rng(1).normal(size=(3 * 1000 + 17, train.shape[1])) * 3
    monkeypatch.setattr(fitting, "SCORE_BATCH_SIZE", 10**9)
    one_batch = fitting.score_in_batches(detector.network_, detector._score_batch, big, detector.scaler_,
                                         batch_size=big.shape[0])
    batched = fitting.score_in_batches(detector.network_, detector._score_batch, big, detector.scaler_,
                                       batch_size=1000)
    np.testing.assert_allclose(batched, one_batch, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(detector.decision_function(big), one_batch, rtol=1e-6, atol=1e-7)


def test_scoring_memory_is_bounded_by_one_batch(data, monkeypatch):
    train, _ = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    seen: list[int] = []
    score = detector._score_batch
    monkeypatch.setattr(detector, "_score_batch", lambda net, batch: seen.append(batch.shape[0]) or score(net, batch))
    rows = 2 * design.SCORE_BATCH_SIZE + 5
    scores = detector.decision_function(np.zeros((rows, train.shape[1])))
    assert scores.shape == (rows,)
    assert seen == [design.SCORE_BATCH_SIZE, design.SCORE_BATCH_SIZE, 5]


def test_early_stopping_stops_and_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 6))
    detector = AutoEncoder(epochs=500, patience=2, batch_size=32, learning_rate=1e-2, validation_size=0.2,
                           random_state=0).fit(train)
    history = detector.history_
    assert history["stopped_early"] and detector.n_epochs_ < 500
    assert detector.n_epochs_ == history["best_epoch"] + 1 + 2
    assert history["n_train"] == 240 and len(history["validation_loss"]) == detector.n_epochs_
    best = history["validation_loss"][history["best_epoch"]]
    assert best == min(history["validation_loss"])
    X_val = torch.from_numpy(detector.scaler_.transform(train[split_validation(300, 0.2, np.random.default_rng(0))[1]]))
    assert fitting.evaluate_loss(detector.network_, detector._loss, X_val) == pytest.approx(best, rel=1e-6)


def test_without_validation_all_epochs_run(data):
    train, _ = data
    detector = AutoEncoder(epochs=6, validation_size=0.0, random_state=0).fit(train)
    assert detector.n_epochs_ == 6 and not detector.history_["stopped_early"]
    assert detector.history_["validation_loss"] == [] and detector.history_["n_train"] == train.shape[0]


def test_training_reduces_the_loss(data):
    train, _ = data
    detector = AutoEncoder(hidden_layers=[16, 8], epochs=30, batch_size=32, validation_size=0.0, dropout=0.0,
                           random_state=0)
    history = detector.fit(train).history_
    assert history["train_loss"][-1] < 0.3 * history["train_loss"][0]


def test_scaling_is_fitted_inside_the_detector(data):
    train, test = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    np.testing.assert_allclose(detector.scaler_.mean, train.mean(axis=0))
    shifted = AutoEncoder(**FAST, random_state=0).fit(train * 1000 + 5)
    np.testing.assert_allclose(shifted.decision_function(test * 1000 + 5), detector.decision_function(test),
                               rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(("params", "fragment"), [
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"hidden_layers": [8, 0]}, "hidden_layers must be"),
    ({"validation_size": 1.0}, "validation_size must be in [0, 1)"),
    ({"dropout": -0.1}, "dropout must be in [0, 1)"),
    ({"learning_rate": 0}, "learning_rate must be a positive number"),
    ({"device": "gpu"}, "device must be"),
    ({"random_state": -1}, "random_state must be"),
    ({"verbose": 1}, "verbose must be true or false"),
])
def test_invalid_parameters_are_one_line_input_errors(params, fragment, data):
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        AutoEncoder(**params).fit(data[0])
    assert "\n" not in str(info.value) and str(info.value).startswith("torch.autoencoder: ")


def test_cuda_without_a_gpu_is_an_input_error(data):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    with pytest.raises(InputError, match="no CUDA device"):
        AutoEncoder(**FAST, device="cuda").fit(data[0])


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
    AutoEncoder(**FAST, verbose=True, random_state=0).fit(data[0])
    err = capsys.readouterr().err
    assert "torch.autoencoder" in err and "loss" in err


def test_silent_by_default(data, capsys):
    AutoEncoder(**FAST, random_state=0).fit(data[0])
    assert capsys.readouterr() == ("", "")


def test_derived_layer_sizes_follow_the_feature_count():
    assert design.hidden_layer_sizes(3) == [design.MIN_WIDTH, design.MIN_WIDTH // 2]
    assert design.hidden_layer_sizes(10_000) == [design.MAX_WIDTH, design.MAX_WIDTH // 2]
    assert design.hidden_layer_sizes(7, [5]) == [5]


def test_standardizer_keeps_constant_features_finite():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    scaler = Standardizer.fit(X)
    assert scaler.scale[1] == 1.0
    scaled = scaler.transform(X)
    assert scaled.dtype == np.float32 and np.all(scaled[:, 1] == 0) and abs(scaled[:, 0].std() - 1) < 1e-6


def test_batch_slices_cover_every_row_and_avoid_single_row_batches():
    for n, size in [(10, 3), (10, 5), (7, 10), (1, 4), (9, 4)]:
        slices = batch_slices(n, size)
        assert [i for s in slices for i in range(s.start, s.stop)] == list(range(n))
        assert n == 1 or all(s.stop - s.start >= 2 for s in slices)


def test_validation_split_is_seeded_and_disjoint():
    train, val = split_validation(100, 0.1, np.random.default_rng(3))
    again = split_validation(100, 0.1, np.random.default_rng(3))
    assert np.array_equal(train, again[0]) and np.array_equal(val, again[1])
    assert val.size == 10 and not set(train) & set(val) and len(set(train) | set(val)) == 100
    assert split_validation(10, 0.1, np.random.default_rng(0))[1].size == 0  # one row is too few to validate on
    with pytest.raises(InputError, match="at least 2 training rows"):
        split_validation(1, 0.1, np.random.default_rng(0))


def test_early_stopping_rule():
    stopper = EarlyStopping(patience=2)
    assert stopper.update(0, 1.0) and stopper.update(1, 0.5)
    assert not stopper.update(2, 0.5 * (1 - design.MIN_RELATIVE_IMPROVEMENT / 2))  # too small a gain
    assert not stopper.stop and not stopper.update(3, 0.6) and stopper.stop
    assert stopper.best_epoch == 1


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
