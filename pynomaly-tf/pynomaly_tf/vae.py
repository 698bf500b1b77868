"""Variational autoencoder: the score is the squared reconstruction error of the decoded posterior mean."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynomaly_core.deep.params import VAEParams
from pynomaly_tf import networks
from pynomaly_tf.detector import TFDetector
from pynomaly_tf.runtime import keras, tf


class VAE(VAEParams, TFDetector):
    """Gaussian VAE with latent size ``widths[-1]``, trained on squared error + ``beta`` · KL per row.

    Scoring is deterministic: the row is encoded to its posterior mean, decoded, and scored by the squared
    reconstruction error. Training, seeding and devices as in :class:`~pynomaly_tf.autoencoder.AutoEncoder`.
    Same parameters, defaults and design as ``torch.vae``.
    """

    qualified_name = "tf.vae"

    def _build_network(self, n_features: int, widths: list[int], seeds: Iterator[int]) -> keras.Model:
        return networks.vae(n_features, widths, seeds, self.dropout, self.batch_norm)

    def _architecture(self) -> tuple:
        return float(self.dropout), bool(self.batch_norm)

    def _extra_spec(self, n_features: int, widths: list[int]) -> dict[str, Any]:
        return {"beta": tf.TensorSpec([], tf.float32)}

    def _extra(self) -> dict[str, Any]:
        return {"beta": tf.constant(self.beta, tf.float32)}

    @staticmethod
    def _loss(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        mean, log_var, reconstruction = outputs
        squared_error = tf.reduce_sum(tf.square(reconstruction - batch), axis=1)
        kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=1)
        return tf.reduce_mean(squared_error + extra["beta"] * kl)

    @staticmethod
    def _score_rows(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        _, _, reconstruction = outputs  # in inference mode the network decodes the posterior mean
        return tf.reduce_sum(tf.square(reconstruction - batch), axis=1)
