"""Deep SVDD (Ruff et al., 2018): distance to a fixed centre in a learned bias-free representation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pynomaly_core.deep.design import CENTER_EPS, SCORE_BATCH_SIZE
from pynomaly_core.deep.params import DeepSVDDParams
from pynomaly_tf import networks
from pynomaly_tf.detector import TFDetector
from pynomaly_tf.runtime import keras, tf


class DeepSVDD(DeepSVDDParams, TFDetector):
    """One-class Deep SVDD: minimise the mean squared distance of representations to the centre ``c``.

    ``c`` is the mean initial representation of the training rows (coordinates within ±0.1 of zero pushed to
    ±0.1); the network has no biases and no batch norm, which would allow the collapsed constant solution.
    The score is the squared distance to ``c``. ``hidden_layers``' last width is the representation size.
    Same parameters, defaults and design as ``torch.deep_svdd``.
    """

    qualified_name = "tf.deep_svdd"

    def _build_network(self, n_features: int, widths: list[int], seeds: Iterator[int]) -> keras.Model:
        return networks.svdd(n_features, widths, seeds, self.dropout)

    def _architecture(self) -> tuple:
        return (float(self.dropout),)

    def _extra_spec(self, n_features: int, widths: list[int]) -> dict[str, Any]:
        return {"center": tf.TensorSpec([widths[-1]], tf.float32)}

    def _extra(self) -> dict[str, Any]:
        return {"center": self.center_}

    def _prepare(self, network: keras.Model, X_train: Any) -> None:
        total = np.zeros(network.outputs[0].shape[-1], dtype=np.float64)
        for start in range(0, int(X_train.shape[0]), SCORE_BATCH_SIZE):
            representation = network(X_train[start:start + SCORE_BATCH_SIZE], training=False)
            total += np.asarray(representation, dtype=np.float64).sum(axis=0)
        center = (total / int(X_train.shape[0])).astype(np.float32)
        near_zero = np.abs(center) < CENTER_EPS
        center[near_zero] = np.where(center[near_zero] < 0, -CENTER_EPS, CENTER_EPS)
        self.center_ = tf.constant(center)

    @staticmethod
    def _loss(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        return tf.reduce_mean(tf.reduce_sum(tf.square(outputs - extra["center"]), axis=1))

    @staticmethod
    def _score_rows(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        return tf.reduce_sum(tf.square(outputs - extra["center"]), axis=1)

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {"center": self.center_.numpy()}

    def _set_extra_state(self, state: dict[str, np.ndarray], device: str) -> None:
        with tf.device(device):
            self.center_ = tf.constant(state["center"].astype(np.float32))
