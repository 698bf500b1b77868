"""The compiled training loop (mini-batches, Adam, early stopping, progress bar) and batched scoring.

A fit never traces TensorFlow functions of its own: the train-epoch, loss and score functions of an architecture
are traced once per process (a :class:`Program`, cached by architecture) and are *stateless* — they take the
network's weights and optimiser moments as tensors and return the new ones, through Keras's
``Model.stateless_call``. Tracing costs seconds, a fit of a small network a fraction of that, so refits (cross-
validation, benchmarks, a test suite) run at the speed of the arithmetic. One epoch is one ``tf.function`` call
whose loop over the mini-batches runs inside the graph.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pynomaly_core.deep.design import SCORE_BATCH_SIZE
from pynomaly_core.deep.progress import epoch_progress
from pynomaly_core.deep.training import EarlyStopping, History, Standardizer, batch_slices
from pynomaly_tf.runtime import keras, tf

#: ``loss(outputs, batch, extra) -> scalar``: the mean loss of a batch from the network's outputs.
LossFn = Callable[[Any, Any, dict], Any]
#: ``score(outputs, batch, extra) -> (rows,)``: anomaly scores of a batch from the network's outputs.
ScoreFn = Callable[[Any, Any, dict], Any]
#: Adam's constants (``torch.optim.Adam``'s defaults).
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8
#: Architectures whose compiled functions are kept (least recently used dropped first).
MAX_PROGRAMS = 32


@dataclass
class Weights:
    """A network's weights as tensors: ``params`` (trainable) and ``state`` (batch-norm statistics, RNG state)."""

    params: list[Any]
    state: list[Any]

    @classmethod
    def of(cls, network: keras.Model) -> Weights:
        return cls([tf.convert_to_tensor(v.value) for v in network.trainable_variables],
                   [tf.convert_to_tensor(v.value) for v in network.non_trainable_variables])

    def assign_to(self, network: keras.Model) -> None:
        for variable, value in zip(network.trainable_variables, self.params, strict=True):
            variable.assign(value)
        for variable, value in zip(network.non_trainable_variables, self.state, strict=True):
            variable.assign(value)


def adam(params: list, grads: list, moments: tuple, learning_rate: Any, weight_decay: Any) -> tuple[list, tuple]:
    """One step of ``torch.optim.Adam``: L2 ``weight_decay`` added to the gradient, epsilon after bias correction.

    (Keras's Adam adds epsilon before bias correction and decays weights decoupled, as AdamW; and its stateless
    form is not available with the TensorFlow backend.)
    """
    step, first, second = moments
    step = step + 1.0
    step_size = learning_rate / (1.0 - tf.pow(BETA_1, step))
    root_correction = tf.sqrt(1.0 - tf.pow(BETA_2, step))
    new_params, new_first, new_second = [], [], []
    for p, g, m, v in zip(params, grads, first, second, strict=True):
        g = g + weight_decay * p
        m = BETA_1 * m + (1.0 - BETA_1) * g
        v = BETA_2 * v + (1.0 - BETA_2) * tf.square(g)
        new_params.append(p - step_size * m / (tf.sqrt(v) / root_correction + EPSILON))
        new_first.append(m)
        new_second.append(v)
    return new_params, (step, new_first, new_second)


class Program:
    """The compiled, stateless train-epoch / loss / score functions of one architecture and objective.

    ``template`` is a network of that architecture: its structure is traced, its own weights are never used.
    ``extra`` names the objective's extra inputs (Deep SVDD's centre, the VAE's ``beta``) with their specs.
    """

    def __init__(self, template: keras.Model, loss: LossFn, score: ScoreFn, extra: dict[str, Any]):
        self.template = template
        self._loss_fn, self._score_fn = loss, score
        params = [tf.TensorSpec(v.shape, v.dtype) for v in template.trainable_variables]
        state = [tf.TensorSpec(v.shape, v.dtype) for v in template.non_trainable_variables]
        rows = tf.TensorSpec([None, template.inputs[0].shape[-1]], tf.float32)
        index = tf.TensorSpec([None], tf.int32)
        scalar = tf.TensorSpec([], tf.float32)
        moments = (scalar, params, params)
        self.train_epoch = tf.function(self._train_epoch, input_signature=[
            params, state, moments, rows, index, index, scalar, scalar, extra])
        self.loss = tf.function(self._loss, input_signature=[params, state, rows, extra])
        self.score = tf.function(self._score, input_signature=[params, state, rows, extra])
        for function in (self.train_epoch, self.loss, self.score):
            # Fixed input signatures: each traces once per Program. TensorFlow's retracing warning counts traces
            # per code object, shared by every Program, so fitting five architectures would trip it falsely.
            function._omit_frequent_tracing_warning = True

    def _train_epoch(self, params, state, moments, X, order, bounds, learning_rate, weight_decay, extra):
        """One epoch: the batches ``order[bounds[i]:bounds[i + 1]]`` of ``X`` in turn; returns the new weights,
        moments and the sum over batches of loss × rows (float64)."""
        total = tf.zeros([], tf.float64)
        for i in tf.range(tf.shape(bounds)[0] - 1):
            batch = tf.gather(X, order[bounds[i]:bounds[i + 1]])
            with tf.GradientTape() as tape:
                tape.watch(params)
                outputs, state = self.template.stateless_call(params, state, batch, training=True)
                loss = self._loss_fn(outputs, batch, extra)
            grads = tape.gradient(loss, params)
            params, moments = adam(params, grads, moments, learning_rate, weight_decay)
            total += tf.cast(loss, tf.float64) * tf.cast(tf.shape(batch)[0], tf.float64)
        return params, state, moments, total

    def _loss(self, params, state, X, extra):
        outputs, _ = self.template.stateless_call(params, state, X, training=False)
        return self._loss_fn(outputs, X, extra)

    def _score(self, params, state, X, extra):
        outputs, _ = self.template.stateless_call(params, state, X, training=False)
        return self._score_fn(outputs, X, extra)


_PROGRAMS: OrderedDict[Hashable, Program] = OrderedDict()
_PROGRAMS_LOCK = threading.Lock()


def program(key: Hashable, make: Callable[[], Program]) -> Program:
    """The cached :class:`Program` of ``key`` (architecture, objective, device), made on first use."""
    with _PROGRAMS_LOCK:
        found = _PROGRAMS.get(key)
        if found is None:
            found = _PROGRAMS[key] = make()
            while len(_PROGRAMS) > MAX_PROGRAMS:
                _PROGRAMS.popitem(last=False)
        else:
            _PROGRAMS.move_to_end(key)
        return found


def train(compiled: Program, weights: Weights, X_train: Any, X_val: Any | None, extra: dict[str, Any], *,
          batch_size: int, epochs: int, patience: int, learning_rate: float, weight_decay: float,
          rng: np.random.Generator, verbose: bool = False, label: str = "training") -> tuple[Weights, History]:
    """Adam on shuffled mini-batches; with ``X_val``, stop after ``patience`` epochs without improvement and
    return the best epoch's weights (otherwise the last epoch's)."""
    n_rows = int(X_train.shape[0])
    slices = batch_slices(n_rows, batch_size)
    bounds = tf.constant([s.start for s in slices] + [slices[-1].stop], dtype=tf.int32)
    hyper = tf.constant(learning_rate, tf.float32), tf.constant(weight_decay, tf.float32)
    moments = (tf.zeros([], tf.float32), [tf.zeros_like(p) for p in weights.params],
               [tf.zeros_like(p) for p in weights.params])
    stopper = EarlyStopping(patience) if X_val is not None else None
    history = History(n_train=n_rows)
    params, state = weights.params, weights.state
    best: Weights | None = None
    with epoch_progress(verbose, label, epochs) as report:
        for epoch in range(epochs):
            order = tf.constant(rng.permutation(n_rows).astype(np.int32))
            params, state, moments, total = compiled.train_epoch(params, state, moments, X_train, order, bounds,
                                                                 *hyper, extra)
            history.train_loss.append(float(total) / n_rows)
            history.n_epochs = epoch + 1
            if stopper is not None and X_val is not None:
                val_loss = evaluate_loss(compiled, Weights(params, state), X_val, extra)
                history.validation_loss.append(val_loss)
                if stopper.update(epoch, val_loss):
                    best = Weights(params, state)  # tensors are immutable: keeping them is a snapshot
            report(epoch, history)
            if stopper is not None and stopper.stop:
                history.stopped_early = epoch + 1 < epochs
                break
    if best is not None and stopper is not None:
        history.best_epoch = stopper.best_epoch
        return best, history
    return Weights(params, state), history


def evaluate_loss(compiled: Program, weights: Weights, X: Any, extra: dict[str, Any]) -> float:
    """Mean loss over ``X`` in inference mode, in scoring-size batches."""
    total = 0.0
    n_rows = int(X.shape[0])
    for start in range(0, n_rows, SCORE_BATCH_SIZE):
        batch = X[start:start + SCORE_BATCH_SIZE]
        total += float(compiled.loss(weights.params, weights.state, batch, extra)) * int(batch.shape[0])
    return total / n_rows


def score_in_batches(compiled: Program, weights: Weights, X: np.ndarray, scaler: Standardizer,
                     extra: dict[str, Any], batch_size: int = SCORE_BATCH_SIZE) -> np.ndarray:
    """Scores of raw float64 rows ``X``: scaled and scored ``batch_size`` rows at a time (bounded memory)."""
    scores = np.empty(X.shape[0], dtype=np.float64)
    for start in range(0, X.shape[0], batch_size):
        batch = tf.constant(scaler.transform(X[start:start + batch_size]))
        scores[start:start + batch.shape[0]] = compiled.score(weights.params, weights.state, batch, extra).numpy()
    return scores
