"""Variational autoencoder: the score is the squared reconstruction error of the decoded posterior mean."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pynomaly_core.deep.params import VAEParams
from pynomaly_jax.detector import JaxDetector
from pynomaly_jax.networks import Network


def encode(network: Network, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    h = network.stack("encoder", x)
    return network.linear("mean", h), jnp.clip(network.linear("log_var", h), -10.0, 10.0)


def decode(network: Network, z: jax.Array) -> jax.Array:
    return network.linear("output", network.stack("decoder", z))


class VAE(VAEParams, JaxDetector):
    """Gaussian VAE with latent size ``widths[-1]``, trained on squared error + ``beta`` · KL per row.

    Scoring is deterministic: the row is encoded to its posterior mean, decoded, and scored by the squared
    reconstruction error. Training, seeding and devices as in :class:`~pynomaly_jax.autoencoder.AutoEncoder`;
    same parameters, defaults and architecture as ``torch.vae``.
    """

    qualified_name = "jax.vae"
    design_key = "vae"

    def _extra_hyper(self) -> dict[str, Any]:
        return {"beta": np.float32(self.beta)}

    @staticmethod
    def _row_loss(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        mean, log_var = encode(network, batch)
        z = mean + jnp.exp(0.5 * log_var) * network.normal(mean.shape) if network.train else mean
        squared_error = jnp.square(decode(network, z) - batch).sum(axis=1)
        kl = -0.5 * (1.0 + log_var - jnp.square(mean) - jnp.exp(log_var)).sum(axis=1)
        return squared_error + hyper["beta"] * kl

    @staticmethod
    def _row_score(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        mean, _ = encode(network, batch)
        return jnp.square(decode(network, mean) - batch).sum(axis=1)
