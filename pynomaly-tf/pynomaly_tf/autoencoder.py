"""Dense autoencoder: the anomaly score is the squared reconstruction error of the standardised row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynomaly_core.deep.design import PARAMS
from pynomaly_tf import networks
from pynomaly_tf.detector import TFDetector
from pynomaly_tf.runtime import keras, tf

_D = PARAMS["autoencoder"]


class AutoEncoder(TFDetector):
    """Dense autoencoder ``[d, *widths, *reversed(widths[:-1]), d]`` trained on the MSE of standardised rows.

    ``hidden_layers=None`` derives the widths from the number of features (see
    :func:`pynomaly_core.deep.design.hidden_layer_sizes`). Training: Adam, mini-batches, early stopping on a
    ``validation_size`` hold-out with ``patience``; ``random_state`` makes CPU runs bit-identical;
    ``device="auto"`` uses a GPU when TensorFlow sees one; ``verbose=True`` shows a progress bar.
    Same parameters, defaults and design as ``torch.autoencoder``.
    """

    detector_name = "tf.autoencoder"

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
