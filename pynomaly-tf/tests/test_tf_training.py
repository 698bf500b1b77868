"""Training behaviour: seeds, compiled-function reuse, batched scoring, early stopping, parameters, devices,
progress and the quiet TensorFlow import.

The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`; the TensorFlow-specific
ones (global seeds, compiled functions, devices, Keras layers, the import filter) are written out here.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from pynomaly_tf import fitting
from pynomaly_tf.autoencoder import AutoEncoder
from pynomaly_tf.deep_svdd import DeepSVDD
from pynomaly_tf.networks import BatchNorm, autoencoder, layer_seeds
from pynomaly_tf.runtime import _hidden, _kept_lines, keras, tf
from pynomaly_tf.vae import VAE

from pynomaly_core.deep import design
from pynomaly_core.testing import deep_checks as kit

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
    kit.check_same_seed_gives_bit_identical_scores(cls, *data, FAST)  # the autoencoder's default dropout is random too


def test_unseeded_fits_differ(data):
    kit.check_unseeded_fits_differ(AutoEncoder, *data, FAST)


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


def _score_in_batches(detector, X, batch_size):
    return fitting.score_in_batches(_compiled(detector), fitting.Weights.of(detector.network_), X, detector.scaler_,
                                    detector._extra(), batch_size=batch_size)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_batched_scoring_equals_one_batch(cls, data):
    # float32: TensorFlow's CPU matmul may round a row differently with another row count (seen: 1.2e-6 relative)
    kit.check_batched_scoring_equals_one_batch(cls, data[0], FAST, _score_in_batches, rtol=1e-5, atol=1e-6)


def test_scoring_memory_is_bounded_by_one_batch(data, monkeypatch):
    train, _ = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    compiled = _compiled(detector)
    seen: list[int] = []
    score = compiled.score
    monkeypatch.setattr(compiled, "score",
                        lambda p, s, batch, e: seen.append(int(batch.shape[0])) or score(p, s, batch, e))
    kit.check_scoring_is_bounded_by_one_batch(detector, train.shape[1], seen, last_batch=5)


def _validation_loss(detector, X_val):
    return fitting.evaluate_loss(_compiled(detector), fitting.Weights.of(detector.network_), tf.constant(X_val), {})


def test_early_stopping_stops_and_restores_the_best_epoch():
    kit.check_early_stopping_stops_and_restores_the_best_epoch(AutoEncoder, n_rows=300, n_features=4, batch_size=32,
                                                               loss_of=_validation_loss, rel=1e-6)


def test_without_validation_all_epochs_run(data):
    detector = kit.check_without_validation_all_epochs_run(AutoEncoder, data[0], {"epochs": 6})
    assert detector.history_["best_epoch"] is None


def test_training_reduces_the_loss(data):
    kit.check_training_reduces_the_loss(AutoEncoder, data[0], {"epochs": 30, "batch_size": 32, "dropout": 0.0}, 0.3)


def test_scaling_is_fitted_inside_the_detector(data):
    kit.check_scaling_is_fitted_inside_the_detector(AutoEncoder, *data, FAST)


@pytest.mark.parametrize(("params", "fragment"), kit.invalid_parameter_cases(bad_device="tpu"))
def test_invalid_parameters_are_one_line_input_errors(params, fragment, data):
    kit.check_invalid_parameters_are_one_line_input_errors(AutoEncoder, data[0], params, fragment, "tf.autoencoder")


def test_gpu_without_a_gpu_is_an_input_error(data):
    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible")
    kit.check_missing_gpu_is_an_input_error(AutoEncoder, data[0], FAST, devices=["cuda", "cuda:1", "mps"],
                                            message="TensorFlow sees no GPU")


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
    kit.check_verbose_shows_a_progress_bar(AutoEncoder, data[0], FAST, "tf.autoencoder", capsys)


def test_silent_by_default(data, capsys):
    kit.check_silent_by_default(AutoEncoder, data[0], FAST, capsys)


def test_import_noise_filter_hides_info_and_warnings_but_never_errors():
    info = b"I0000 00:00:1795693495.822084   19009 port.cc:153] oneDNN custom operations are on.\n"
    warning = b"W0000 00:00:1795693495.822084   19009 cuda.cc:12] Could not find cuda drivers.\n"
    error = b"E0000 00:00:1795693495.822084   19009 cuda_dnn.cc:8579] Unable to register cuDNN factory\n"
    preamble = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    assert _hidden(info, 1) and _hidden(info, 2) and not _hidden(info, 0)
    assert _hidden(warning, 2) and not _hidden(warning, 1)
    assert not any(_hidden(line, 3) for line in (error, b"Traceback (most recent call last):\n", b"Illegal\n"))
    # The preamble goes with what it announces (JAX's import sets level 1: two preambles, only hidden records).
    assert _kept_lines([preamble, info, preamble, info], 1) == []
    assert _kept_lines([preamble, info, warning], 1) == [preamble, warning]
    assert _kept_lines([preamble, warning], 2) == [] and _kept_lines([preamble, error], 2) == [preamble, error]
    assert _kept_lines([preamble, info], 0) == [preamble, info]
