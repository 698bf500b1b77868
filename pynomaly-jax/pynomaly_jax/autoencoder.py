"""Dense autoencoder: the anomaly score is the squared reconstruction error of the standardised row."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from pynomaly_core.deep.params import AutoEncoderParams
from pynomaly_jax.detector import JaxDetector
from pynomaly_jax.networks import Network


def reconstruct(network: Network, x: jax.Array) -> jax.Array:
    return network.linear("output", network.stack("decoder", network.stack("encoder", x)))


class AutoEncoder(AutoEncoderParams, JaxDetector):
    """Dense autoencoder ``[d, *widths, *reversed(widths[:-1]), d]`` trained on the MSE of standardised rows.

    ``hidden_layers=None`` derives the widths from the number of features (see
    :func:`pynomaly_core.deep.design.hidden_layer_sizes`). Training: Adam, mini-batches with a jit-compiled step, early
    stopping on a ``validation_size`` hold-out with ``patience``; ``random_state`` makes CPU runs bit-identical;
    ``device="auto"`` uses JAX's default accelerator when there is one; ``verbose=True`` shows a progress bar.
    Same parameters, defaults and architecture as ``torch.autoencoder``.
    """

    qualified_name = "jax.autoencoder"
    design_key = "autoencoder"

    @staticmethod
    def _row_loss(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        return jnp.square(reconstruct(network, batch) - batch).mean(axis=1)

    @staticmethod
    def _row_score(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        return jnp.square(reconstruct(network, batch) - batch).sum(axis=1)
