"""Dense autoencoder: the anomaly score is the squared reconstruction error of the standardised row."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from pynomaly_core.deep.design import PARAMS
from pynomaly_jax.detector import JaxDetector
from pynomaly_jax.networks import Network

_D = PARAMS["autoencoder"]


def reconstruct(network: Network, x: jax.Array) -> jax.Array:
    return network.linear("output", network.stack("decoder", network.stack("encoder", x)))


class AutoEncoder(JaxDetector):
    """Dense autoencoder ``[d, *widths, *reversed(widths[:-1]), d]`` trained on the MSE of standardised rows.

    ``hidden_layers=None`` derives the widths from the number of features (see
    :func:`pynomaly_core.deep.design.hidden_layer_sizes`). Training: Adam, mini-batches with a jit-compiled step, early
    stopping on a ``validation_size`` hold-out with ``patience``; ``random_state`` makes CPU runs bit-identical;
    ``device="auto"`` uses JAX's default accelerator when there is one; ``verbose=True`` shows a progress bar.
    Same parameters, defaults and architecture as ``torch.autoencoder``.
    """

    detector_name = "jax.autoencoder"
    design_key = "autoencoder"

    def __init__(self, hidden_layers: list[int] | None = _D["hidden_layers"], dropout: float = _D["dropout"],
                 batch_norm: bool = _D["batch_norm"], batch_size: int = _D["batch_size"],
                 epochs: int = _D["epochs"], learning_rate: float = _D["learning_rate"],
                 weight_decay: float = _D["weight_decay"], validation_size: float = _D["validation_size"],
                 patience: int = _D["patience"], contamination: float = _D["contamination"],
                 device: str = _D["device"], verbose: bool = _D["verbose"],
                 random_state: int | None = _D["random_state"]):
        self.hidden_layers = hidden_layers
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

    @staticmethod
    def _row_loss(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        return jnp.square(reconstruct(network, batch) - batch).mean(axis=1)

    @staticmethod
    def _row_score(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        return jnp.square(reconstruct(network, batch) - batch).sum(axis=1)
