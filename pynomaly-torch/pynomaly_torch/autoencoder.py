"""Dense autoencoder: the anomaly score is the squared reconstruction error of the standardised row."""

from __future__ import annotations

import torch
from torch import nn

from pynomaly_core.deep.design import PARAMS
from pynomaly_torch.detector import TorchDetector
from pynomaly_torch.networks import AutoEncoderNet

_D = PARAMS["autoencoder"]


class AutoEncoder(TorchDetector):
    """Dense autoencoder ``[d, *widths, *reversed(widths[:-1]), d]`` trained on the MSE of standardised rows.

    ``hidden_layers=None`` derives the widths from the number of features (see
    :func:`pynomaly_core.deep.design.hidden_layer_sizes`). Training: Adam, mini-batches, early stopping on a
    ``validation_size`` hold-out with ``patience``; ``random_state`` makes CPU runs bit-identical;
    ``device="auto"`` uses CUDA when torch sees it; ``verbose=True`` shows a progress bar.
    """

    detector_name = "torch.autoencoder"

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

    def _build_network(self, n_features: int, widths: list[int]) -> nn.Module:
        return AutoEncoderNet(n_features, widths, self.dropout, self.batch_norm)

    def _loss(self, network: nn.Module, batch: torch.Tensor, training: bool) -> torch.Tensor:
        return (network(batch) - batch).square().mean()

    def _score_batch(self, network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return (network(batch) - batch).square().sum(dim=1)
