"""Dense autoencoder: the anomaly score is the squared reconstruction error of the standardised row."""

from __future__ import annotations

import torch
from torch import nn

from pynomaly_core.deep.params import AutoEncoderParams
from pynomaly_torch.detector import TorchDetector
from pynomaly_torch.networks import AutoEncoderNet


class AutoEncoder(AutoEncoderParams, TorchDetector):
    """Dense autoencoder ``[d, *widths, *reversed(widths[:-1]), d]`` trained on the MSE of standardised rows.

    ``hidden_layers=None`` derives the widths from the number of features (see
    :func:`pynomaly_core.deep.design.hidden_layer_sizes`). Training: Adam, mini-batches, early stopping on a
    ``validation_size`` hold-out with ``patience``; ``random_state`` makes CPU runs bit-identical;
    ``device="auto"`` uses CUDA when torch sees it; ``verbose=True`` shows a progress bar.
    """

    qualified_name = "torch.autoencoder"

    def _build_network(self, n_features: int, widths: list[int]) -> nn.Module:
        return AutoEncoderNet(n_features, widths, self.dropout, self.batch_norm)

    def _loss(self, network: nn.Module, batch: torch.Tensor, training: bool) -> torch.Tensor:
        return (network(batch) - batch).square().mean()

    def _score_batch(self, network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return (network(batch) - batch).square().sum(dim=1)
