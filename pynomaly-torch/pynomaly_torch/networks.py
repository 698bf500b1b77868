"""The torch modules of the three detectors (architecture documented in :mod:`pynomaly_core.deep.design`)."""

from __future__ import annotations

import math

import torch
from torch import nn


def linear(n_in: int, n_out: int, bias: bool = True) -> nn.Linear:
    """``Linear`` with He-uniform weights (``U(±sqrt(6 / fan_in))``) and zero biases."""
    layer = nn.Linear(n_in, n_out, bias=bias)
    bound = math.sqrt(6.0 / n_in)
    nn.init.uniform_(layer.weight, -bound, bound)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def dense_stack(widths: list[int], n_in: int, *, dropout: float = 0.0, batch_norm: bool = False,
                bias: bool = True) -> nn.Sequential:
    """One block per width: Linear → [BatchNorm] → ReLU → [Dropout]."""
    layers: list[nn.Module] = []
    for width in widths:
        layers.append(linear(n_in, width, bias=bias))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_in = width
    return nn.Sequential(*layers)


class AutoEncoderNet(nn.Module):
    """``[d, *widths, *reversed(widths[:-1]), d]``; the output layer is linear."""

    def __init__(self, n_features: int, widths: list[int], dropout: float, batch_norm: bool):
        super().__init__()
        self.encoder = dense_stack(widths, n_features, dropout=dropout, batch_norm=batch_norm)
        decoder_widths = list(reversed(widths[:-1]))
        self.decoder = dense_stack(decoder_widths, widths[-1], dropout=dropout, batch_norm=batch_norm)
        self.output = linear(decoder_widths[-1] if decoder_widths else widths[-1], n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.decoder(self.encoder(x)))


class VAENet(nn.Module):
    """Gaussian encoder (mean and log-variance heads of size ``widths[-1]``) and the autoencoder's decoder."""

    def __init__(self, n_features: int, widths: list[int], dropout: float, batch_norm: bool):
        super().__init__()
        hidden, latent = widths[:-1], widths[-1]
        self.encoder = dense_stack(hidden, n_features, dropout=dropout, batch_norm=batch_norm)
        encoded = hidden[-1] if hidden else n_features
        self.mean = linear(encoded, latent)
        self.log_var = linear(encoded, latent)
        decoder_widths = list(reversed(hidden))
        self.decoder = dense_stack(decoder_widths, latent, dropout=dropout, batch_norm=batch_norm)
        self.output = linear(decoder_widths[-1] if decoder_widths else latent, n_features)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mean(h), self.log_var(h).clamp(-10.0, 10.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.output(self.decoder(z))


class SVDDNet(nn.Module):
    """Bias-free dense blocks and a bias-free linear map to the ``widths[-1]``-dimensional representation."""

    def __init__(self, n_features: int, widths: list[int], dropout: float):
        super().__init__()
        hidden = widths[:-1]
        self.body = dense_stack(hidden, n_features, dropout=dropout, bias=False)
        self.head = linear(hidden[-1] if hidden else n_features, widths[-1], bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
