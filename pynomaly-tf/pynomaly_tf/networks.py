"""The Keras networks of the three detectors (architecture documented in :mod:`pynomaly_core.deep.design`).

All three are functional Keras models built from standard layers plus three small registered layers (torch's
batch norm, the VAE's clamp and sampling), so a fitted network saves to and loads from Keras's native ``.keras``
format with ``safe_mode=True``. Every random choice (initial weights, dropout masks, VAE noise) takes its seed from
``seeds``, an iterator of integers derived from the fit's ``random_state``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pynomaly_tf.runtime import keras

layers = keras.layers
ops = keras.ops
#: Batch-norm constants of ``torch.nn.BatchNorm1d``.
BN_MOMENTUM, BN_EPSILON = 0.1, 1e-5
#: The VAE's log-variance is clamped to ±this.
LOG_VAR_LIMIT = 10.0


def layer_seeds(seed: int) -> Iterator[int]:
    """Seeds of the layers of one fit: a stream independent of the hold-out/batch-order generator of ``seed``."""
    rng = np.random.default_rng([seed, 1])
    while True:
        yield int(rng.integers(0, 2**31 - 1))


def dense(units: int, seeds: Iterator[int], *, bias: bool = True, name: str | None = None) -> layers.Dense:
    """``Dense`` with He-uniform weights (``U(±sqrt(6 / fan_in))``) and zero biases."""
    return layers.Dense(units, use_bias=bias, kernel_initializer=keras.initializers.HeUniform(seed=next(seeds)),
                        bias_initializer="zeros", name=name)


def dense_stack(x, widths: list[int], seeds: Iterator[int], *, dropout: float = 0.0, batch_norm: bool = False,
                bias: bool = True, prefix: str = "block"):
    """One block per width: Dense → [BatchNormalization] → ReLU → [Dropout]."""
    for i, width in enumerate(widths):
        x = dense(width, seeds, bias=bias, name=f"{prefix}{i}_dense")(x)
        if batch_norm:
            x = BatchNorm(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{prefix}{i}_norm")(x)
        x = layers.ReLU(name=f"{prefix}{i}_relu")(x)
        if dropout > 0:
            x = layers.Dropout(dropout, seed=next(seeds), name=f"{prefix}{i}_dropout")(x)
    return x


@keras.saving.register_keras_serializable(package="pynomaly_tf")
class BatchNorm(layers.Layer):
    """``torch.nn.BatchNorm1d``: batch statistics in training (biased variance for normalising, unbiased for the
    running variance, which ``keras.layers.BatchNormalization`` keeps biased), running statistics otherwise;
    ``running ← (1 − momentum) · running + momentum · batch``."""

    def __init__(self, momentum: float = BN_MOMENTUM, epsilon: float = BN_EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)

    def build(self, input_shape) -> None:
        shape = (input_shape[-1],)
        self.gamma = self.add_weight(shape=shape, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=shape, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=shape, initializer="ones", trainable=False,
                                               name="moving_variance")

    def call(self, inputs, training=False):
        if training:
            mean, variance = ops.moments(inputs, axes=[0])
            rows = ops.cast(ops.shape(inputs)[0], inputs.dtype)
            self.moving_mean.assign(self.moving_mean * (1.0 - self.momentum) + mean * self.momentum)
            self.moving_variance.assign(self.moving_variance * (1.0 - self.momentum)
                                        + variance * (rows / (rows - 1.0)) * self.momentum)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return (inputs - mean) * ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="pynomaly_tf")
class Clamp(layers.Layer):
    """Clips its input to ``[-limit, limit]`` (the VAE's log-variance)."""

    def __init__(self, limit: float = LOG_VAR_LIMIT, **kwargs):
        super().__init__(**kwargs)
        self.limit = float(limit)

    def call(self, inputs):
        return keras.ops.clip(inputs, -self.limit, self.limit)

    def get_config(self) -> dict:
        return {**super().get_config(), "limit": self.limit}


@keras.saving.register_keras_serializable(package="pynomaly_tf")
class GaussianSample(layers.Layer):
    """``z = mean + exp(log_var / 2) · eps`` with ``eps ~ N(0, I)`` in training; ``z = mean`` otherwise."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        mean, log_var = inputs
        if not training:
            return mean
        noise = keras.random.normal(keras.ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * noise

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def autoencoder(n_features: int, widths: list[int], seeds: Iterator[int], dropout: float,
                batch_norm: bool) -> keras.Model:
    """``[d, *widths, *reversed(widths[:-1]), d]``; the output layer is linear. Output: the reconstruction."""
    inputs = keras.Input((n_features,), name="x")
    code = dense_stack(inputs, widths, seeds, dropout=dropout, batch_norm=batch_norm, prefix="encoder")
    hidden = dense_stack(code, list(reversed(widths[:-1])), seeds, dropout=dropout, batch_norm=batch_norm,
                         prefix="decoder")
    return keras.Model(inputs, dense(n_features, seeds, name="output")(hidden), name="autoencoder")


def vae(n_features: int, widths: list[int], seeds: Iterator[int], dropout: float, batch_norm: bool) -> keras.Model:
    """Gaussian encoder (mean and log-variance heads of size ``widths[-1]``) and the autoencoder's decoder.

    Outputs ``[mean, log_var, reconstruction]``; the reconstruction decodes a sample in training and the mean
    otherwise.
    """
    hidden, latent = widths[:-1], widths[-1]
    inputs = keras.Input((n_features,), name="x")
    encoded = dense_stack(inputs, hidden, seeds, dropout=dropout, batch_norm=batch_norm, prefix="encoder")
    mean = dense(latent, seeds, name="mean")(encoded)
    log_var = Clamp(LOG_VAR_LIMIT, name="log_var")(dense(latent, seeds, name="log_var_raw")(encoded))
    z = GaussianSample(seed=next(seeds), name="z")([mean, log_var])
    decoded = dense_stack(z, list(reversed(hidden)), seeds, dropout=dropout, batch_norm=batch_norm,
                          prefix="decoder")
    reconstruction = dense(n_features, seeds, name="output")(decoded)
    return keras.Model(inputs, [mean, log_var, reconstruction], name="vae")


def svdd(n_features: int, widths: list[int], seeds: Iterator[int], dropout: float) -> keras.Model:
    """Bias-free dense blocks and a bias-free linear map to the ``widths[-1]``-dimensional representation."""
    inputs = keras.Input((n_features,), name="x")
    body = dense_stack(inputs, widths[:-1], seeds, dropout=dropout, bias=False, prefix="body")
    return keras.Model(inputs, dense(widths[-1], seeds, bias=False, name="head")(body), name="deep_svdd")
