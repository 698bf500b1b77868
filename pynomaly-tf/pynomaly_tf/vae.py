"""Variational autoencoder: the score is the squared reconstruction error of the decoded posterior mean."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynomaly_core.deep.design import PARAMS
from pynomaly_tf import networks
from pynomaly_tf.detector import TFDetector
from pynomaly_tf.runtime import keras, tf

_D = PARAMS["vae"]


class VAE(TFDetector):
    """Gaussian VAE with latent size ``widths[-1]``, trained on squared error + ``beta`` · KL per row.

    Scoring is deterministic: the row is encoded to its posterior mean, decoded, and scored by the squared
    reconstruction error. Training, seeding and devices as in :class:`~pynomaly_tf.autoencoder.AutoEncoder`.
    Same parameters, defaults and design as ``torch.vae``.
    """

    detector_name = "tf.vae"

    def __init__(self, hidden_layers: list[int] | None = _D["hidden_layers"], beta: float = _D["beta"],
                 dropout: float = _D["dropout"], batch_norm: bool = _D["batch_norm"],
                 batch_size: int = _D["batch_size"], epochs: int = _D["epochs"],
                 learning_rate: float = _D["learning_rate"], weight_decay: float = _D["weight_decay"],
                 validation_size: float = _D["validation_size"], patience: int = _D["patience"],
                 contamination: float = _D["contamination"], device: str = _D["device"],
                 verbose: bool = _D["verbose"], random_state: int | None = _D["random_state"]):
        self.hidden_layers = hidden_layers
        self.beta = beta
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_size = validation_size
        self.patience = patience
        self.contamination = contamination
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

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
