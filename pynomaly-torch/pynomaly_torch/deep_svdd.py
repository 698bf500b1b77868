"""Deep SVDD (Ruff et al., 2018): distance to a fixed centre in a learned bias-free representation."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pynomaly_core.deep.design import CENTER_EPS, SCORE_BATCH_SIZE
from pynomaly_core.deep.params import DeepSVDDParams
from pynomaly_torch.detector import TorchDetector
from pynomaly_torch.networks import SVDDNet


class DeepSVDD(DeepSVDDParams, TorchDetector):
    """One-class Deep SVDD: minimise the mean squared distance of representations to the centre ``c``.

    ``c`` is the mean initial representation of the training rows (coordinates within ±0.1 of zero pushed to
    ±0.1); the network has no biases and no batch norm, which would allow the collapsed constant solution.
    The score is the squared distance to ``c``. ``hidden_layers``' last width is the representation size.
    """

    qualified_name = "torch.deep_svdd"

    def _build_network(self, n_features: int, widths: list[int]) -> nn.Module:
        return SVDDNet(n_features, widths, self.dropout)

    def _prepare(self, network: nn.Module, X_train: torch.Tensor) -> None:
        network.eval()
        total = torch.zeros(network.head.out_features, dtype=torch.float64, device=X_train.device)
        with torch.no_grad():
            for start in range(0, X_train.shape[0], SCORE_BATCH_SIZE):
                total += network(X_train[start:start + SCORE_BATCH_SIZE]).double().sum(dim=0)
        center = (total / X_train.shape[0]).float()
        near_zero = center.abs() < CENTER_EPS
        center[near_zero] = torch.where(center[near_zero] < 0, -CENTER_EPS, CENTER_EPS)
        self.center_ = center

    def _loss(self, network: nn.Module, batch: torch.Tensor, training: bool) -> torch.Tensor:
        return (network(batch) - self.center_).square().sum(dim=1).mean()

    def _score_batch(self, network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return (network(batch) - self.center_).square().sum(dim=1)

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {"center": self.center_.cpu().numpy()}

    def _set_extra_state(self, state: dict[str, np.ndarray], device: torch.device) -> None:
        self.center_ = torch.from_numpy(state["center"]).to(device)
