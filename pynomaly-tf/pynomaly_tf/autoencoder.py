"""Dense autoencoder: the anomaly score is the squared reconstruction error of the standardised row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynomaly_core.deep.params import AutoEncoderParams
from pynomaly_tf import networks
from pynomaly_tf.detector import TFDetector
from pynomaly_tf.runtime import keras, tf


class AutoEncoder(AutoEncoderParams, TFDetector):
    """Dense autoencoder ``[d, *widths, *reversed(widths[:-1]), d]`` trained on the MSE of standardised rows.

    ``hidden_layers=None`` derives the widths from the number of features (see
    :func:`pynomaly_core.deep.design.hidden_layer_sizes`). Training: Adam, mini-batches, early stopping on a
    ``validation_size`` hold-out with ``patience``; ``random_state`` makes CPU runs bit-identical;
    ``device="auto"`` uses a GPU when TensorFlow sees one; ``verbose=True`` shows a progress bar.
    Same parameters, defaults and design as ``torch.autoencoder``.
    """

    qualified_name = "tf.autoencoder"

    def _build_network(self, n_features: int, widths: list[int], seeds: Iterator[int]) -> keras.Model:
        return networks.autoencoder(n_features, widths, seeds, self.dropout, self.batch_norm)

    def _architecture(self) -> tuple:
        return float(self.dropout), bool(self.batch_norm)

    @staticmethod
    def _loss(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        return tf.reduce_mean(tf.square(outputs - batch))

    @staticmethod
    def _score_rows(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        return tf.reduce_sum(tf.square(outputs - batch), axis=1)
