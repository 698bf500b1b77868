"""Training behaviour: seeds, compiled-function reuse, batched scoring, early stopping, parameters, devices,
progress, the neutral helpers and the quiet TensorFlow import."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from pynomaly_tf import fitting
from pynomaly_tf.autoencoder import AutoEncoder
from pynomaly_tf.deep_svdd import DeepSVDD
from pynomaly_tf.networks import BatchNorm, autoencoder, layer_seeds
from pynomaly_tf.runtime import _hidden, keras, tf
from pynomaly_tf.vae import VAE

from pynomaly_core.deep import design
from pynomaly_core.deep.training import EarlyStopping, Standardizer, batch_slices, split_validation
from pynomaly_core.errors import InputError

DETECTORS = [AutoEncoder, VAE, DeepSVDD]
FAST = {"epochs": 4, "batch_size": 32}
# Four features and default architectures, as in the conformance tests: each new architecture costs a trace.


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(4, 4))
    return rng.normal(size=(200, 4)) @ mixing, rng.normal(size=(50, 4)) @ mixing


def _compiled(detector):
    n_features = detector.scaler_.mean.shape[0]
    return detector._program(n_features, design.hidden_layer_sizes(n_features, detector.hidden_layers),
                             detector.device_)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_same_seed_gives_bit_identical_scores(cls, data):
    train, test = data
    first = cls(**FAST, random_state=7).fit(train)  # the autoencoder's default dropout is random too
    second = cls(**FAST, random_state=7).fit(train)
    np.testing.assert_array_equal(first.decision_function(test), second.decision_function(test))
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    other = cls(**FAST, random_state=8).fit(train).decision_function(test)
    assert not np.array_equal(other, first.decision_function(test))


def test_unseeded_fits_differ(data):
    train, test = data
    first = AutoEncoder(**FAST).fit(train).decision_function(test)
    second = AutoEncoder(**FAST).fit(train).decision_function(test)
    assert not np.array_equal(first, second)


def test_fit_leaves_global_rngs_and_op_determinism_alone(data):
    from tensorflow.python.framework import config as tf_config

    train, _ = data
    python_state, numpy_state = random.getstate(), np.random.get_state()
    determinism = tf_config.is_op_determinism_enabled()
    VAE(**FAST, random_state=0).fit(train)
    AutoEncoder(**FAST, random_state=None).fit(train)
    assert random.getstate() == python_state
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:]
    assert tf_config.is_op_determinism_enabled() == determinism


def test_seeded_fits_do_not_depend_on_global_seeds(data):
    train, test = data
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        scores = []
        for global_seed in (1, 2):
            keras.utils.set_random_seed(global_seed)  # Python, NumPy and TensorFlow global seeds
            scores.append(VAE(**FAST, random_state=3).fit(train).decision_function(test))
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    np.testing.assert_array_equal(*scores)


def test_refits_reuse_the_compiled_functions(data):
    train, _ = data
    first = VAE(**FAST, random_state=0).fit(train)
    compiled = _compiled(first)
    traces = (compiled.train_epoch.experimental_get_tracing_count(), compiled.score.experimental_get_tracing_count())
    # other hyper-parameters, batch size, row count and epochs: same architecture, same compiled functions
    second = VAE(epochs=2, batch_size=17, learning_rate=0.01, weight_decay=0.0, beta=0.5, random_state=1).fit(
        train[:150])
    assert _compiled(second) is compiled
    assert (compiled.train_epoch.experimental_get_tracing_count(),
            compiled.score.experimental_get_tracing_count()) == traces
    assert _compiled(VAE(**FAST, dropout=0.3, random_state=0).fit(train[:20])) is not compiled


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_batched_scoring_equals_one_batch(cls, data):
    train, _ = data
    detector = cls(**FAST, random_state=0).fit(train)
    big = np.random.default_rng(1).normal(size=(3 * 1000 + 17, train.shape[1])) * 3
    compiled, weights = _compiled(detector), fitting.Weights.of(detector.network_)
    one_batch = fitting.score_in_batches(compiled, weights, big, detector.scaler_, detector._extra(),
                                         batch_size=big.shape[0])
    batched = fitting.score_in_batches(compiled, weights, big, detector.scaler_, detector._extra(), batch_size=1000)
    # float32: TensorFlow's CPU matmul may round a row differently with another row count (seen: 1.2e-6 relative)
    np.testing.assert_allclose(batched, one_batch, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(detector.decision_function(big), one_batch, rtol=1e-5, atol=1e-6)


def test_scoring_memory_is_bounded_by_one_batch(data, monkeypatch):
    train, _ = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    compiled = _compiled(detector)
    seen: list[int] = []
    score = compiled.score
    monkeypatch.setattr(compiled, "score",
                        lambda p, s, batch, e: seen.append(int(batch.shape[0])) or score(p, s, batch, e))
    rows = 2 * design.SCORE_BATCH_SIZE + 5
    scores = detector.decision_function(np.zeros((rows, train.shape[1])))
    assert scores.shape == (rows,)
    assert seen == [design.SCORE_BATCH_SIZE, design.SCORE_BATCH_SIZE, 5]


def test_early_stopping_stops_and_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 4))
    detector = AutoEncoder(epochs=500, patience=2, batch_size=32, learning_rate=1e-2, validation_size=0.2,
                           random_state=0).fit(train)
    history = detector.history_
    assert history["stopped_early"] and detector.n_epochs_ < 500
    assert detector.n_epochs_ == history["best_epoch"] + 1 + 2
    assert history["n_train"] == 240 and len(history["validation_loss"]) == detector.n_epochs_
    best = history["validation_loss"][history["best_epoch"]]
    assert best == min(history["validation_loss"])
    X_val = tf.constant(detector.scaler_.transform(train[split_validation(300, 0.2, np.random.default_rng(0))[1]]))
    restored = fitting.evaluate_loss(_compiled(detector), fitting.Weights.of(detector.network_), X_val, {})
    assert restored == pytest.approx(best, rel=1e-6)


def test_without_validation_all_epochs_run(data):
    train, _ = data
    detector = AutoEncoder(epochs=6, validation_size=0.0, random_state=0).fit(train)
    assert detector.n_epochs_ == 6 and not detector.history_["stopped_early"]
    assert detector.history_["validation_loss"] == [] and detector.history_["n_train"] == train.shape[0]
    assert detector.history_["best_epoch"] is None


def test_training_reduces_the_loss(data):
    train, _ = data
    detector = AutoEncoder(epochs=30, batch_size=32, validation_size=0.0, dropout=0.0, random_state=0)
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
    ({"device": "tpu"}, "device must be"),
    ({"random_state": -1}, "random_state must be"),
    ({"verbose": 1}, "verbose must be true or false"),
])
def test_invalid_parameters_are_one_line_input_errors(params, fragment, data):
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        AutoEncoder(**params).fit(data[0])
    assert "\n" not in str(info.value) and str(info.value).startswith("tf.autoencoder: ")


def test_gpu_without_a_gpu_is_an_input_error(data):
    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible")
    for device in ("cuda", "cuda:1", "mps"):
        with pytest.raises(InputError, match="TensorFlow sees no GPU"):
            AutoEncoder(**FAST, device=device).fit(data[0])


def test_auto_device_uses_what_tensorflow_sees(data):
    detector = AutoEncoder(**FAST, device="auto", random_state=0).fit(data[0])
    expected = "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
    assert detector.device_ == f"/{expected}:0"
    assert expected in detector.network_.trainable_variables[0].value.device


def _network(detector, n_features):
    return detector._build_network(n_features, design.hidden_layer_sizes(n_features, detector.hidden_layers),
                                   layer_seeds(0))


def test_hidden_layers_shape_the_network():
    network = _network(AutoEncoder(hidden_layers=[12, 6, 3]), 5)
    assert [layer.units for layer in network.layers if isinstance(layer, keras.layers.Dense)] == [12, 6, 3, 6, 12, 5]
    vae = _network(VAE(hidden_layers=[10, 4]), 5)
    assert vae.get_layer("mean").units == vae.get_layer("log_var_raw").units == 4
    assert vae.get_layer("output").units == 5 and [o.shape[-1] for o in vae.outputs] == [4, 4, 5]
    assert _network(DeepSVDD(hidden_layers=[7]), 5).outputs[0].shape[-1] == 7


def test_batch_norm_and_dropout_layers_follow_the_parameters():
    network = _network(AutoEncoder(batch_norm=True, dropout=0.2), 4)
    norms = [layer for layer in network.layers if isinstance(layer, BatchNorm)]
    dropouts = [layer for layer in network.layers if isinstance(layer, keras.layers.Dropout)]
    assert len(norms) == len(dropouts) == 3  # two encoder blocks and one decoder block
    assert norms[0].momentum == 0.1 and norms[0].epsilon == 1e-5 and dropouts[0].rate == 0.2
    assert not any(isinstance(layer, keras.layers.Dropout | BatchNorm)
                   for layer in _network(AutoEncoder(dropout=0.0, batch_norm=False), 4).layers)


def test_batch_norm_follows_torch_batchnorm1d():
    layer = BatchNorm()
    x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32) * [1, 2, 3] + [0, 1, -1]
    out = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)),
                               (x - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-5),
                               rtol=1e-5, atol=1e-6)


def test_initial_weights_are_he_uniform_with_zero_biases():
    network = autoencoder(100, [64, 32], layer_seeds(3), 0.0, False)
    kernel = network.get_layer("encoder0_dense").kernel.numpy()
    bound = np.sqrt(6 / 100)
    assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.95 * bound
    assert abs(kernel.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert not np.array_equal(kernel[:32, :32], network.get_layer("encoder1_dense").kernel.numpy()[:32, :32])
    assert all(not layer.bias.numpy().any() for layer in network.layers if isinstance(layer, keras.layers.Dense))


def test_deep_svdd_has_no_biases_and_a_centre_away_from_zero(data):
    detector = DeepSVDD(**FAST, random_state=0).fit(data[0])
    assert all(not layer.use_bias for layer in detector.network_.layers if isinstance(layer, keras.layers.Dense))
    assert bool((np.abs(detector.center_.numpy()) >= design.CENTER_EPS).all())


def test_verbose_shows_a_progress_bar(data, capsys):
    AutoEncoder(**FAST, verbose=True, random_state=0).fit(data[0])
    err = capsys.readouterr().err
    assert "tf.autoencoder" in err and "loss" in err


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


def test_import_noise_filter_hides_info_and_warnings_but_never_errors():
    info = b"I0000 00:00:1795693495.822084   19009 port.cc:153] oneDNN custom operations are on.\n"
    warning = b"W0000 00:00:1795693495.822084   19009 cuda.cc:12] Could not find cuda drivers.\n"
    error = b"E0000 00:00:1795693495.822084   19009 cuda_dnn.cc:8579] Unable to register cuDNN factory\n"
    preamble = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    assert _hidden(info, 1) and _hidden(info, 2) and not _hidden(info, 0)
    assert _hidden(warning, 2) and not _hidden(warning, 1) and _hidden(preamble, 2) and not _hidden(preamble, 1)
    assert not any(_hidden(line, 3) for line in (error, b"Traceback (most recent call last):\n", b"Illegal\n"))
