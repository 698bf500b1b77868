"""The JAX training loop (mini-batches, early stopping, progress bar) and batched scoring.

Compilation is what costs time with XLA on a CPU (seconds per program), so each fit compiles as little as
possible and reuses what an earlier fit compiled:

* one jit-compiled **epoch** program runs every mini-batch step of an epoch (a ``fori_loop`` over a jit-compiled
  train step: forward, backward, Adam) and then the validation loss, with one host round trip per epoch;
* every batch has the same shape, ``min(batch_size + 1, rows)`` rows with a 0/1 row mask, which covers the
  regular batches, a short last batch and the ``batch_size + 1`` batch of
  :func:`~pynomaly_core.deep.training.batch_slices`;
  masked rows count neither in the loss nor in the batch-norm statistics, so a step is exactly the unpadded one;
* the training rows, the number of steps and the validation chunks are padded to powers of two, so fits of a
  similar size (and the same architecture and batch size) share one compiled program;
* scoring pads to power-of-two batches of at most :data:`~pynomaly_core.deep.design.SCORE_BATCH_SIZE` rows (at least
  :data:`MIN_SCORE_ROWS`): memory is bounded by one batch, and at most five shapes are ever compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from pynomaly_core.deep.design import SCORE_BATCH_SIZE
from pynomaly_core.deep.progress import epoch_progress
from pynomaly_core.deep.training import EarlyStopping, History, Standardizer, batch_slices
from pynomaly_jax.networks import Architecture, Network

#: Smallest padded scoring batch: scoring a few rows costs no more than scoring this many.
MIN_SCORE_ROWS = 256
#: Adam's constants, as ``torch.optim.Adam``'s defaults.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

#: ``row_loss(network, batch, hyper) -> (rows,)``: per-row loss (training or eval mode, as ``network.train``).
RowFn = Callable[[Network, jax.Array, dict[str, Any]], jax.Array]


@dataclass(frozen=True)
class Model:
    """An architecture with its per-row loss and score functions: the static part of every compiled program."""

    arch: Architecture
    row_loss: RowFn
    row_score: RowFn


def padded_size(n: int, minimum: int = 1) -> int:
    """The power of two at or above ``max(n, minimum)``."""
    return 1 << max(0, (max(n, minimum) - 1).bit_length())


def score_rows(n: int) -> int:
    """Rows of the padded batch that scores ``n`` rows (``n`` at most one scoring batch)."""
    return min(SCORE_BATCH_SIZE, padded_size(n, MIN_SCORE_ROWS))


# -- compiled programs ---------------------------------------------------------------------------------------
def _adam(flat: jax.Array, grad: jax.Array, m: jax.Array, v: jax.Array, step: jax.Array,
          hyper: dict[str, Any]) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One step of ``torch.optim.Adam`` (L2 weight decay added to the gradient) on the flat parameter vector."""
    beta1, beta2 = ADAM_BETAS
    grad = grad + hyper["weight_decay"] * flat
    m = beta1 * m + (1.0 - beta1) * grad
    v = beta2 * v + (1.0 - beta2) * jnp.square(grad)
    t = step.astype(jnp.float32)
    step_size = hyper["learning_rate"] / (1.0 - beta1**t)
    denom = jnp.sqrt(v) / jnp.sqrt(1.0 - beta2**t) + ADAM_EPS
    return flat - step_size * m / denom, m, v


@partial(jax.jit, static_argnames=("model",))
def _epoch(model: Model, state: dict[str, Any], X: jax.Array, batches: jax.Array, counts: jax.Array,
           n_steps: jax.Array, key: jax.Array, X_val: jax.Array | None, val_counts: jax.Array | None,
           hyper: dict[str, Any]) -> tuple[dict[str, Any], jax.Array, jax.Array | None]:
    """Train on ``n_steps`` batches (rows ``batches[i, :counts[i]]`` of ``X``), then sum the validation losses.

    Returns the new state, the loss of each step (zero past ``n_steps``) and the summed eval-mode loss of each
    validation chunk (``None`` without validation rows).
    """
    flat, unravel = ravel_pytree(state["params"])
    rows = batches.shape[1]
    dropout = hyper["dropout"] if model.arch.dropout else None

    def train_step(i: jax.Array, carry: tuple) -> tuple:
        flat, buffers, m, v, step, losses = carry
        mask = (jnp.arange(rows) < counts[i]).astype(jnp.float32)
        batch = X[batches[i]]
        step_key = step_keys[i]

        def objective(flat: jax.Array) -> tuple[jax.Array, dict[str, Any]]:
            network = Network(unravel(flat), buffers, train=True, key=step_key, dropout=dropout, mask=mask)
            loss = (model.row_loss(network, batch, hyper) * mask).sum() / mask.sum()
            return loss, network.new_buffers

        (loss, buffers), grad = jax.value_and_grad(objective, has_aux=True)(flat)
        step = step + 1
        flat, m, v = _adam(flat, grad, m, v, step, hyper)
        return flat, buffers, m, v, step, losses.at[i].set(loss)

    step_keys = jax.random.split(key, (batches.shape[0], 2))  # split once: no key derivation inside the loop
    losses = jnp.zeros(batches.shape[0], dtype=jnp.float32)
    carry = (flat, state["buffers"], state["m"], state["v"], state["step"], losses)
    flat, buffers, m, v, step, losses = jax.lax.fori_loop(0, n_steps, train_step, carry)
    params = unravel(flat)
    new_state = {"params": params, "buffers": buffers, "m": m, "v": v, "step": step}
    if X_val is None or val_counts is None:
        return new_state, losses, None

    def chunk_loss(chunk: jax.Array, count: jax.Array) -> jax.Array:
        mask = jnp.arange(chunk.shape[0]) < count
        return jnp.where(mask, model.row_loss(Network(params, buffers), chunk, hyper), 0.0).sum()

    return new_state, losses, jax.lax.map(lambda args: chunk_loss(*args), (X_val, val_counts))


@partial(jax.jit, static_argnames=("fn",))
def apply_rows(fn: RowFn, params: dict[str, Any], buffers: dict[str, Any], x: jax.Array,
               hyper: dict[str, Any]) -> jax.Array:
    """``fn`` (a model's per-row loss or score) on one padded batch, in eval mode."""
    return fn(Network(params, buffers), x, hyper)


# -- host side -----------------------------------------------------------------------------------------------
def _put(array: np.ndarray, device: Any) -> jax.Array:
    return jax.device_put(array, device)


def _padded_rows(X: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows, X.shape[1]), dtype=X.dtype)
    out[:X.shape[0]] = X
    return out


def _validation_chunks(X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X_val`` as zero-padded chunks ``(n_chunks, chunk, d)`` and the real rows of each chunk."""
    chunk = score_rows(min(X_val.shape[0], SCORE_BATCH_SIZE))
    n_chunks = -(-X_val.shape[0] // chunk)
    total = padded_size(n_chunks) * chunk
    padded = _padded_rows(X_val, total).reshape(-1, chunk, X_val.shape[1])
    counts = np.clip(X_val.shape[0] - chunk * np.arange(padded.shape[0]), 0, chunk).astype(np.int32)
    return padded, counts


def _epoch_batches(order: np.ndarray, slices: list[slice], shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of each batch of one epoch as a padded index matrix, and how many are real in each."""
    batches = np.zeros(shape, dtype=np.int32)
    counts = np.zeros(shape[0], dtype=np.int32)
    for i, rows in enumerate(slices):
        batches[i, :rows.stop - rows.start] = order[rows]
        counts[i] = rows.stop - rows.start
    return batches, counts


def train(model: Model, params: dict[str, Any], buffers: dict[str, Any], X_train: np.ndarray,
          X_val: np.ndarray | None, *, hyper: dict[str, Any], batch_size: int, epochs: int, patience: int,
          rng: np.random.Generator, key: jax.Array, device: Any, verbose: bool = False,
          label: str = "training") -> tuple[dict[str, Any], dict[str, Any], History]:
    """Adam on shuffled mini-batches (order from ``rng``, as the torch backend); with ``X_val``, stop after
    ``patience`` epochs without improvement and return the best epoch's parameters and buffers."""
    n_rows = X_train.shape[0]
    slices = batch_slices(n_rows, batch_size)
    padded_rows = padded_size(n_rows)
    batch_shape = (padded_size(len(slices)), min(batch_size + 1, padded_rows))
    X_device = _put(_padded_rows(X_train, padded_rows), device)
    val_chunks = val_counts = None
    if X_val is not None:
        chunks, counts = _validation_chunks(X_val)
        val_chunks, val_counts = _put(chunks, device), _put(counts, device)
    n_params = sum(int(np.prod(p.shape)) for p in params.values())
    # Inputs committed to the device, whatever the caller passed: one cached program per shape.
    params, buffers, key = jax.device_put(params, device), jax.device_put(buffers, device), jax.device_put(key, device)
    state = {"params": params, "buffers": buffers, "m": _put(np.zeros(n_params, np.float32), device),
             "v": _put(np.zeros(n_params, np.float32), device), "step": _put(np.zeros((), np.int32), device)}
    n_steps = _put(np.asarray(len(slices), dtype=np.int32), device)
    sizes = np.array([s.stop - s.start for s in slices], dtype=np.float64)
    stopper = EarlyStopping(patience) if X_val is not None else None
    history = History(n_train=n_rows)
    best = (state["params"], state["buffers"])
    with epoch_progress(verbose, label, epochs) as report:
        for epoch in range(epochs):
            batches, counts = _epoch_batches(rng.permutation(n_rows), slices, batch_shape)
            state, losses, val_sums = _epoch(model, state, X_device, _put(batches, device), _put(counts, device),
                                             n_steps, jax.random.fold_in(key, epoch), val_chunks, val_counts, hyper)
            step_losses = np.asarray(losses, dtype=np.float64)[:len(slices)]
            history.train_loss.append(float(step_losses @ sizes) / n_rows)
            history.n_epochs = epoch + 1
            if stopper is not None and X_val is not None:
                val_loss = float(np.asarray(val_sums, dtype=np.float64).sum()) / X_val.shape[0]
                history.validation_loss.append(val_loss)
                if stopper.update(epoch, val_loss):
                    best = (state["params"], state["buffers"])
            report(epoch, history)
            if stopper is not None and stopper.stop:
                history.stopped_early = epoch + 1 < epochs
                break
    if stopper is not None:
        history.best_epoch = stopper.best_epoch
        return best[0], best[1], history
    return state["params"], state["buffers"], history


def evaluate_loss(model: Model, params: dict[str, Any], buffers: dict[str, Any], X: np.ndarray,
                  hyper: dict[str, Any], device: Any) -> float:
    """Mean eval-mode loss over scaled rows ``X`` (what early stopping compares)."""
    losses = map_rows(model.row_loss, params, buffers, X, hyper, device)
    return float(losses.sum()) / X.shape[0]


def map_rows(fn: RowFn, params: dict[str, Any], buffers: dict[str, Any], X: np.ndarray,
             hyper: dict[str, Any], device: Any, batch_size: int = SCORE_BATCH_SIZE,
             transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """``fn`` over the rows of ``X`` in padded batches of at most ``batch_size`` rows (float64, one entry per row).

    ``transform`` (the scaler) is applied one batch at a time, so memory is bounded by one batch.
    """
    pieces = []
    for start in range(0, X.shape[0], batch_size):
        batch = X[start:start + batch_size]
        if transform is not None:
            batch = transform(batch)
        rows = padded_size(batch.shape[0], MIN_SCORE_ROWS)
        values = apply_rows(fn, params, buffers, _put(_padded_rows(batch, rows), device), hyper)
        pieces.append(np.asarray(values, dtype=np.float64)[:batch.shape[0]])
    return np.concatenate(pieces)


def score_in_batches(model: Model, params: dict[str, Any], buffers: dict[str, Any], X: np.ndarray,
                     scaler: Standardizer, hyper: dict[str, Any], device: Any,
                     batch_size: int = SCORE_BATCH_SIZE) -> np.ndarray:
    """Scores of raw float64 rows ``X``: scaled and scored ``batch_size`` rows at a time (bounded memory)."""
    return map_rows(model.row_score, params, buffers, X, hyper, device, batch_size, scaler.transform)
