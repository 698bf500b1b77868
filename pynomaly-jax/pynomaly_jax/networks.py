"""The three networks as plain JAX functions over a flat ``{name: array}`` parameter dict.

Same architecture as the torch backend (documented in :mod:`pynomaly_core.deep.design`): dense blocks
``Linear → [BatchNorm] → ReLU → [Dropout]``, He-uniform weights (``U(±sqrt(6 / fan_in))``), zero biases, batch norm
as ``torch.nn.BatchNorm1d`` (momentum 0.1, eps 1e-5, batch statistics with the biased variance in training, running
statistics updated with the unbiased one, running statistics in eval), inverted dropout.

Parameter names: ``{layer}.weight`` (``(n_in, n_out)``, i.e. torch's weight transposed), ``{layer}.bias``,
``{layer}.bn_weight`` and ``{layer}.bn_bias``; buffers ``{layer}.running_mean`` and ``{layer}.running_var``. Dense
blocks are named ``{stack}.{i}`` (``encoder.0``, ``decoder.1``, ``body.0``), the linear heads ``output``, ``mean``,
``log_var`` and ``head``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

BN_MOMENTUM = 0.1
BN_EPS = 1e-5
KINDS = ("autoencoder", "vae", "deep_svdd")
_BLOCK_WEIGHT = re.compile(r"\.\d+\.weight$")  # the weight of a dense block ({stack}.{i}), not of a head


@dataclass(frozen=True)
class Layer:
    name: str
    n_in: int
    n_out: int
    bias: bool = True
    batch_norm: bool = False


@dataclass(frozen=True)
class Architecture:
    """What a network looks like; hashable, so compiled functions are cached per architecture.

    ``dropout`` says whether dropout layers exist (the rate itself is a traced input, so changing it does not
    recompile).
    """

    kind: str
    n_features: int
    widths: tuple[int, ...]
    dropout: bool = False
    batch_norm: bool = False

    def layers(self) -> list[Layer]:
        d, widths = self.n_features, list(self.widths)
        if self.kind == "autoencoder":
            encoder, n = _stack("encoder", widths, d, batch_norm=self.batch_norm)
            decoder, n = _stack("decoder", widths[-2::-1], n, batch_norm=self.batch_norm)
            return [*encoder, *decoder, Layer("output", n, d)]
        if self.kind == "vae":
            encoder, n = _stack("encoder", widths[:-1], d, batch_norm=self.batch_norm)
            heads = [Layer("mean", n, widths[-1]), Layer("log_var", n, widths[-1])]
            decoder, n = _stack("decoder", widths[-2::-1], widths[-1], batch_norm=self.batch_norm)
            return [*encoder, *heads, *decoder, Layer("output", n, d)]
        if self.kind == "deep_svdd":  # bias-free and without batch norm: both allow the collapsed solution
            body, n = _stack("body", widths[:-1], d, bias=False)
            return [*body, Layer("head", n, widths[-1], bias=False)]
        raise ValueError(f"unknown network kind {self.kind!r}; known: {', '.join(KINDS)}")

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in self.layers():
            shapes[f"{layer.name}.weight"] = (layer.n_in, layer.n_out)
            if layer.bias:
                shapes[f"{layer.name}.bias"] = (layer.n_out,)
            if layer.batch_norm:
                shapes[f"{layer.name}.bn_weight"] = (layer.n_out,)
                shapes[f"{layer.name}.bn_bias"] = (layer.n_out,)
        return shapes

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in self.layers():
            if layer.batch_norm:
                shapes[f"{layer.name}.running_mean"] = (layer.n_out,)
                shapes[f"{layer.name}.running_var"] = (layer.n_out,)
        return shapes


def _stack(prefix: str, widths: list[int], n_in: int, *, bias: bool = True,
           batch_norm: bool = False) -> tuple[list[Layer], int]:
    layers = []
    for i, width in enumerate(widths):
        layers.append(Layer(f"{prefix}.{i}", n_in, width, bias, batch_norm))
        n_in = width
    return layers, n_in


def init_params(arch: Architecture, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(parameters, buffers) as float32 NumPy arrays: He-uniform weights, zero biases, unit/zero batch norm."""
    params: dict[str, np.ndarray] = {}
    for name, shape in arch.param_shapes().items():
        if name.endswith(".weight"):
            bound = math.sqrt(6.0 / shape[0])
            params[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        elif name.endswith(".bn_weight"):
            params[name] = np.ones(shape, dtype=np.float32)
        else:
            params[name] = np.zeros(shape, dtype=np.float32)
    buffers = {name: (np.zeros if name.endswith("mean") else np.ones)(shape, dtype=np.float32)
               for name, shape in arch.buffer_shapes().items()}
    return params, buffers


class Network:
    """One forward pass over ``params`` in training (dropout, batch statistics, noise) or eval mode.

    ``key``: two PRNG keys (dropout masks, noise) in training. ``dropout``: the rate (a traced scalar) when the
    architecture has dropout layers, else ``None``. In training,
    ``mask`` (1.0 for the rows of the batch, 0.0 for padding) restricts the batch-norm statistics to
    the real rows, and the updated running statistics are collected in :attr:`new_buffers`.
    """

    def __init__(self, params: dict[str, Any], buffers: dict[str, Any], *, train: bool = False,
                 key: Any = None, dropout: Any = None, mask: Any = None):
        self.params = params
        self.buffers = buffers
        self.new_buffers = dict(buffers)
        self.train = train
        self.key = key
        self.dropout = dropout
        self.mask = mask
        self._uniform: jax.Array | None = None
        self._used = 0

    def linear(self, name: str, x: jax.Array) -> jax.Array:
        x = x @ self.params[f"{name}.weight"]
        bias = self.params.get(f"{name}.bias")
        return x if bias is None else x + bias

    def block(self, name: str, x: jax.Array) -> jax.Array:
        x = self.linear(name, x)
        if f"{name}.bn_weight" in self.params:
            x = self._batch_norm(name, x)
        x = jax.nn.relu(x)
        if self.train and self.dropout is not None:
            x = self._dropout(x)
        return x

    def stack(self, prefix: str, x: jax.Array) -> jax.Array:
        i = 0
        while f"{prefix}.{i}.weight" in self.params:
            x = self.block(f"{prefix}.{i}", x)
            i += 1
        return x

    def normal(self, shape: tuple[int, ...]) -> jax.Array:
        """Standard normal noise (training only: the VAE's reparameterisation)."""
        return jax.random.normal(self.key[1], shape, dtype=jnp.float32)

    def _dropout(self, x: jax.Array) -> jax.Array:
        # One uniform draw per pass covers every dropout layer (one random-bits op to compile, not one per layer).
        if self._uniform is None:
            width = sum(w.shape[1] for name, w in self.params.items() if _BLOCK_WEIGHT.search(name))
            self._uniform = jax.random.uniform(self.key[0], (x.shape[0], width))
        keep = self._uniform[:, self._used:self._used + x.shape[1]] >= self.dropout
        self._used += x.shape[1]
        return jnp.where(keep, x / (1.0 - self.dropout), 0.0)

    def _batch_norm(self, name: str, x: jax.Array) -> jax.Array:
        if self.train:
            weights = self.mask[:, None]
            count = self.mask.sum()
            mean = (x * weights).sum(axis=0) / count
            var = (jnp.square(x - mean) * weights).sum(axis=0) / count
            self.new_buffers[f"{name}.running_mean"] = (
                (1 - BN_MOMENTUM) * self.buffers[f"{name}.running_mean"] + BN_MOMENTUM * mean)
            self.new_buffers[f"{name}.running_var"] = (
                (1 - BN_MOMENTUM) * self.buffers[f"{name}.running_var"] + BN_MOMENTUM * var * count / (count - 1))
        else:
            mean, var = self.buffers[f"{name}.running_mean"], self.buffers[f"{name}.running_var"]
        normalised = (x - mean) * jax.lax.rsqrt(var + BN_EPS)
        return normalised * self.params[f"{name}.bn_weight"] + self.params[f"{name}.bn_bias"]
