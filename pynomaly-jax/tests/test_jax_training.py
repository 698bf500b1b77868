"""Training behaviour: seeds, batched scoring, early stopping, masking, parameters, devices, progress, global state.

The data have 4 features and the fits use ``batch_size=64`` (as the conformance tests), so most tests reuse the
programs compiled by the first fit of each detector (see :mod:`pynomaly_jax.fitting`). The checks every deep
backend shares come from :mod:`pynomaly_core.testing.deep_checks`; the JAX-specific ones are written out here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pynomaly_jax import fitting
from pynomaly_jax.autoencoder import AutoEncoder
from pynomaly_jax.deep_svdd import DeepSVDD
from pynomaly_jax.networks import Architecture, Network, init_params
from pynomaly_jax.vae import VAE

from pynomaly_core.deep import design
from pynomaly_core.testing import deep_checks as kit

DETECTORS = [AutoEncoder, VAE, DeepSVDD]
FAST = {"epochs": 4, "batch_size": 64}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(4, 4))
    return rng.normal(size=(300, 4)) @ mixing, rng.normal(size=(50, 4)) @ mixing


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_same_seed_gives_bit_identical_scores(cls, data):
    first, second = kit.check_same_seed_gives_bit_identical_scores(cls, *data, FAST)
    assert first.history_ == second.history_


def test_unseeded_fits_differ(data):
    kit.check_unseeded_fits_differ(AutoEncoder, *data, FAST)


def test_seeds_beyond_32_bits_are_distinct(data):
    train, test = data
    low = AutoEncoder(**FAST, random_state=5).fit(train).decision_function(test)
    high = AutoEncoder(**FAST, random_state=5 + 2**32).fit(train).decision_function(test)
    assert not np.array_equal(low, high)


def _score_in_batches(detector, X, batch_size):
    return fitting.score_in_batches(detector.model_, detector.params_, detector.buffers_, X, detector.scaler_,
                                    detector._hyper(), detector.device_, batch_size=batch_size)


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_batched_scoring_equals_one_batch(cls, data):
    # float32 network: each padded batch shape is its own compiled program, whose matrix products may block (and
    # so round) differently, hence a few float32 ulps rather than torch's 1e-6.
    kit.check_batched_scoring_equals_one_batch(cls, data[0], FAST, _score_in_batches, rtol=1e-5, atol=1e-6)


def test_scoring_memory_is_bounded_by_one_padded_batch(data, monkeypatch):
    train, _ = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    seen: list[int] = []
    apply_rows = fitting.apply_rows

    def recording(fn, params, buffers, x, hyper):
        seen.append(x.shape[0])
        return apply_rows(fn, params, buffers, x, hyper)

    monkeypatch.setattr(fitting, "apply_rows", recording)
    kit.check_scoring_is_bounded_by_one_batch(detector, train.shape[1], seen, last_batch=fitting.MIN_SCORE_ROWS)


def test_padding_does_not_change_scores(data):
    train, test = data
    detector = AutoEncoder(**FAST, random_state=0).fit(train)
    together = detector.decision_function(test)
    one_by_one = np.concatenate([detector.decision_function(test[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(one_by_one, together[:5], rtol=1e-6)


def _validation_loss(detector, X_val):
    return fitting.evaluate_loss(detector.model_, detector.params_, detector.buffers_, X_val, detector._hyper(),
                                 detector.device_)


def test_early_stopping_stops_and_restores_the_best_epoch():
    kit.check_early_stopping_stops_and_restores_the_best_epoch(AutoEncoder, n_rows=400, n_features=4, batch_size=64,
                                                               loss_of=_validation_loss, rel=1e-5)


def test_without_validation_all_epochs_run(data):
    detector = kit.check_without_validation_all_epochs_run(AutoEncoder, data[0], {**FAST, "epochs": 6})
    assert detector.history_["best_epoch"] is None


def test_training_reduces_the_loss(data):
    kit.check_training_reduces_the_loss(AutoEncoder, data[0], {**FAST, "epochs": 40}, 0.5)


def test_scaling_is_fitted_inside_the_detector(data):
    kit.check_scaling_is_fitted_inside_the_detector(AutoEncoder, *data, FAST)


def _masked_step(arch: Architecture, row_loss, x: np.ndarray, pad: int, **network: object):
    """Loss, gradient and new buffers of one training pass over ``x`` followed by ``pad`` junk rows, masked."""
    params, buffers = init_params(arch, np.random.default_rng(0))
    padded = np.concatenate([x, np.full((pad, x.shape[1]), 50.0, dtype=np.float32)])
    mask = jnp.asarray(np.r_[np.ones(len(x)), np.zeros(pad)], dtype=jnp.float32)
    keys = jax.random.split(jax.random.key(0, impl="rbg"), 2)

    def objective(params):
        net = Network(params, buffers, train=True, key=keys, mask=mask, **network)
        return (row_loss(net, padded, {"beta": 1.0}) * mask).sum() / mask.sum(), net.new_buffers

    (loss, new_buffers), grad = jax.jit(jax.value_and_grad(objective, has_aux=True))(params)
    return float(loss), grad, new_buffers


def test_masked_padding_rows_change_nothing_in_a_training_step():
    arch = Architecture("autoencoder", 4, (8, 4), batch_norm=True)
    x = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    loss, grad, buffers = _masked_step(arch, AutoEncoder._row_loss, x, 0)
    loss_padded, grad_padded, buffers_padded = _masked_step(arch, AutoEncoder._row_loss, x, 5)
    assert loss_padded == pytest.approx(loss, rel=1e-6)
    for name in grad:
        np.testing.assert_allclose(grad_padded[name], grad[name], rtol=1e-5, atol=1e-6)
    for name in buffers:
        np.testing.assert_allclose(buffers_padded[name], buffers[name], rtol=1e-5, atol=1e-6)
    running_var = buffers["encoder.0.running_var"]
    expected = 0.9 + 0.1 * np.var(x @ init_params(arch, np.random.default_rng(0))[0]["encoder.0.weight"], axis=0,
                                  ddof=1)
    np.testing.assert_allclose(running_var, expected, rtol=1e-5)


def test_batch_norm_trains_and_scores_with_running_statistics(data):
    train, test = data
    detector = AutoEncoder(**FAST, batch_norm=True, random_state=0).fit(train)
    assert not np.allclose(detector.buffers_["encoder.0.running_mean"], 0.0)
    assert np.isfinite(detector.decision_function(test)).all()


@pytest.mark.parametrize(("params", "fragment"), kit.invalid_parameter_cases(bad_device="gpu"))
def test_invalid_parameters_are_one_line_input_errors(params, fragment, data):
    kit.check_invalid_parameters_are_one_line_input_errors(AutoEncoder, data[0], params, fragment, "jax.autoencoder")


def test_cuda_without_a_gpu_is_an_input_error(data):
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is visible")
    kit.check_missing_gpu_is_an_input_error(AutoEncoder, data[0], FAST, devices=["cuda"], message="no CUDA device")


def test_auto_device_uses_what_jax_sees(data):
    detector = AutoEncoder(**FAST, device="auto", random_state=0).fit(data[0])
    assert detector.device_ == jax.devices()[0]
    assert all(p.devices() == {jax.devices()[0]} for p in detector.params_.values())


def test_hidden_layers_shape_the_network():
    shapes = Architecture("autoencoder", 5, (12, 6, 3)).param_shapes()
    assert [shapes[k][1] for k in shapes if k.endswith(".weight")] == [12, 6, 3, 6, 12, 5]
    vae = Architecture("vae", 5, (10, 4)).param_shapes()
    assert vae["mean.weight"] == (10, 4) and vae["log_var.weight"] == (10, 4) and vae["output.weight"] == (10, 5)
    assert Architecture("vae", 5, (4,)).param_shapes()["output.weight"] == (4, 5)
    with_bn = Architecture("autoencoder", 5, (8, 4), batch_norm=True)
    assert "encoder.0.bn_weight" in with_bn.param_shapes() and "output.bn_weight" not in with_bn.param_shapes()
    assert set(with_bn.buffer_shapes()) == {f"{s}.running_{k}" for s in ("encoder.0", "encoder.1", "decoder.0")
                                            for k in ("mean", "var")}


def test_initialisation_is_he_uniform_with_zero_biases():
    params, _ = init_params(Architecture("autoencoder", 50, (64, 32)), np.random.default_rng(0))
    weight = params["encoder.0.weight"]
    bound = np.sqrt(6.0 / 50)
    assert weight.dtype == np.float32 and np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    assert weight.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    assert not params["encoder.0.bias"].any()


def test_deep_svdd_has_no_biases_and_a_centre_away_from_zero(data):
    detector = DeepSVDD(**FAST, random_state=0).fit(data[0])
    assert not any(name.endswith(".bias") for name in detector.params_)
    assert bool((np.abs(detector.center_) >= design.CENTER_EPS).all()) and detector.center_.dtype == np.float32


def test_verbose_shows_a_progress_bar(data, capsys):
    kit.check_verbose_shows_a_progress_bar(AutoEncoder, data[0], FAST, "jax.autoencoder", capsys)


def test_silent_by_default(data, capsys):
    kit.check_silent_by_default(AutoEncoder, data[0], FAST, capsys)


def test_fit_leaves_global_state_alone(data):
    train, _ = data
    np.random.seed(3)
    expected = np.random.random(3)
    np.random.seed(3)
    x64 = jax.config.jax_enable_x64
    DeepSVDD(**FAST, random_state=0).fit(train)
    assert np.array_equal(np.random.random(3), expected)
    assert jax.config.jax_enable_x64 == x64


def test_padded_sizes():
    assert [fitting.padded_size(n) for n in (1, 2, 3, 4, 5, 1000)] == [1, 2, 4, 4, 8, 1024]
    assert fitting.padded_size(3, 256) == 256
    assert fitting.score_rows(10) == fitting.MIN_SCORE_ROWS and fitting.score_rows(3000) == 4096
    assert fitting.score_rows(4096) == design.SCORE_BATCH_SIZE


def test_epoch_batches_follow_batch_slices():
    from pynomaly_core.deep.training import batch_slices

    order = np.random.default_rng(0).permutation(9)
    slices = batch_slices(9, 4)  # [0:4], [4:9]: the single last row joins the previous batch
    batches, counts = fitting._epoch_batches(order, slices, (2, 5))
    assert counts.tolist() == [4, 5]
    assert batches[0, :4].tolist() == order[:4].tolist() and batches[1].tolist() == order[4:].tolist()
