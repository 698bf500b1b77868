"""Variational autoencoder: the score is the squared reconstruction error of the decoded posterior mean."""

from __future__ import annotations

import torch
from torch import nn

from pynomaly_core.deep.params import VAEParams
from pynomaly_torch.detector import TorchDetector
from pynomaly_torch.networks import VAENet


class VAE(VAEParams, TorchDetector):
    """Gaussian VAE with latent size ``widths[-1]``, trained on squared error + ``beta`` · KL per row.

    Scoring is deterministic: the row is encoded to its posterior mean, decoded, and scored by the squared
    reconstruction error. Training, seeding and devices as in :class:`~pynomaly_torch.autoencoder.AutoEncoder`.
    """

    qualified_name = "torch.vae"

    def _build_network(self, n_features: int, widths: list[int]) -> nn.Module:
        return VAENet(n_features, widths, self.dropout, self.batch_norm)

    def _loss(self, network: nn.Module, batch: torch.Tensor, training: bool) -> torch.Tensor:
        mean, log_var = network.encode(batch)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean) if training else mean
        squared_error = (network.decode(z) - batch).square().sum(dim=1)
        kl = -0.5 * (1.0 + log_var - mean.square() - log_var.exp()).sum(dim=1)
        return (squared_error + self.beta * kl).mean()

    def _score_batch(self, network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        mean, _ = network.encode(batch)
        return (network.decode(mean) - batch).square().sum(dim=1)
