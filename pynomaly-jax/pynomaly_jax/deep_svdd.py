"""Deep SVDD (Ruff et al., 2018): distance to a fixed centre in a learned bias-free representation."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pynomaly_core.deep.design import CENTER_EPS
from pynomaly_core.deep.params import DeepSVDDParams
from pynomaly_jax.detector import JaxDetector
from pynomaly_jax.fitting import Model, map_rows
from pynomaly_jax.networks import Network


def represent(network: Network, x: jax.Array, hyper: dict[str, Any]) -> jax.Array:
    return network.linear("head", network.stack("body", x))


class DeepSVDD(DeepSVDDParams, JaxDetector):
    """One-class Deep SVDD: minimise the mean squared distance of representations to the centre ``c``.

    ``c`` is the mean initial representation of the training rows (coordinates within ±0.1 of zero pushed to
    ±0.1); the network has no biases and no batch norm, which would allow the collapsed constant solution.
    The score is the squared distance to ``c``. ``hidden_layers``' last width is the representation size.
    Same parameters, defaults and architecture as ``torch.deep_svdd``.
    """

    qualified_name = "jax.deep_svdd"
    design_key = "deep_svdd"

    def _prepare(self, model: Model, params: dict[str, Any], buffers: dict[str, Any], X_train: np.ndarray,
                 device: Any) -> None:
        representation = map_rows(represent, params, buffers, X_train, {}, device)  # float64 copy, eval mode
        center = (representation.sum(axis=0) / X_train.shape[0]).astype(np.float32)
        near_zero = np.abs(center) < CENTER_EPS
        center[near_zero] = np.where(center[near_zero] < 0, -CENTER_EPS, CENTER_EPS)
        self.center_ = center

    def _extra_hyper(self) -> dict[str, Any]:
        return {"center": self.center_}

    @staticmethod
    def _row_loss(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        return jnp.square(represent(network, batch, hyper) - hyper["center"]).sum(axis=1)

    @staticmethod
    def _row_score(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        return jnp.square(represent(network, batch, hyper) - hyper["center"]).sum(axis=1)

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {"center": self.center_}

    def _set_extra_state(self, state: dict[str, np.ndarray], device: Any) -> None:
        self.center_ = state["center"].astype(np.float32)
