"""``TFDetector``: the TensorFlow half of the deep detectors, a :class:`~pynomaly_core.deep.detector.DeepDetector`.

``DeepDetector``, the neutral half, checks parameters, seeds, scales, splits the hold-out, records the
history and writes / reads ``state.npz``; this class implements its framework hooks: TensorFlow devices, building
a Keras model and training it through the compiled, cached :class:`~pynomaly_tf.fitting.Program` of its
architecture (op determinism on), batched scoring, and weights as a ``.keras`` file (``model.keras``, read back
in safe mode, only its weights used).

An algorithm lists its parameters through its mixin of :mod:`pynomaly_core.deep.params` and implements
``_build_network``, ``_architecture``, ``_loss`` and ``_score_rows`` (plus ``_extra_spec`` / ``_extra`` /
``_prepare`` / ``_extra_state`` / ``_set_extra_state`` when it has inputs or state besides the weights, like
Deep SVDD's centre).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.deep.design import hidden_layer_sizes
from pynomaly_core.deep.detector import STATE_FILE, DeepDetector
from pynomaly_core.deep.training import History
from pynomaly_core.errors import IntegrityError
from pynomaly_tf.fitting import Program, Weights, program, score_in_batches, train
from pynomaly_tf.networks import layer_seeds
from pynomaly_tf.runtime import deterministic, keras, resolve_device, tf

__all__ = ["MODEL_FILE", "STATE_FILE", "TFDetector"]

MODEL_FILE = "model.keras"


@contextmanager
def _keras_numpy_deprecation_silenced() -> Iterator[None]:
    """Keras's saving code calls ``np.array`` on TensorFlow variables, which NumPy 2 flags as deprecated."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword",
                                category=DeprecationWarning)
        yield


class TFDetector(DeepDetector):
    """Compiled TensorFlow training with early stopping, batched scoring and ``.keras`` persistence."""

    weights_file = MODEL_FILE
    weights_format = "keras"

    # -- to implement ----------------------------------------------------------------------------------------
    def _build_network(self, n_features: int, widths: list[int], seeds: Iterator[int]) -> keras.Model:
        raise TypeError(f"{type(self).__name__} must implement _build_network")

    def _architecture(self) -> tuple:
        """The parameters besides the widths that change the network's graph (dropout, batch norm)."""
        raise TypeError(f"{type(self).__name__} must implement _architecture")

    @staticmethod
    def _loss(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        """Mean loss of a batch from the network's outputs (traced once per architecture)."""
        raise TypeError("TFDetector subclasses must implement _loss")

    @staticmethod
    def _score_rows(outputs: Any, batch: Any, extra: dict[str, Any]) -> Any:
        """Anomaly score per row from the network's outputs in inference mode (traced once per architecture)."""
        raise TypeError("TFDetector subclasses must implement _score_rows")

    def _extra_spec(self, n_features: int, widths: list[int]) -> dict[str, Any]:
        """Specs of the extra inputs of ``_loss``/``_score_rows``. Default: none."""
        return {}

    def _extra(self) -> dict[str, Any]:
        """The extra inputs themselves, as tensors."""
        return {}

    def _prepare(self, network: keras.Model, X_train: Any) -> None:
        """Set state that depends on the initial network (Deep SVDD's centre). Default: nothing."""

    # -- hooks of DeepDetector -------------------------------------------------------------------------------
    def _resolve_device(self, name: str) -> str:
        return resolve_device(name)

    def _train_network(self, X_train: np.ndarray, X_val: np.ndarray | None, widths: list[int], seed: int,
                       rng: np.random.Generator, device: str) -> History:
        n_features = X_train.shape[1]
        with tf.device(device), deterministic():
            network = self._build_network(n_features, widths, layer_seeds(seed))
            compiled = self._program(n_features, widths, device)
            train_rows = tf.constant(X_train)
            val_rows = tf.constant(X_val) if X_val is not None else None
            self._prepare(network, train_rows)
            weights, history = train(compiled, Weights.of(network), train_rows, val_rows, self._extra(),
                                     batch_size=self.batch_size, epochs=self.epochs, patience=self.patience,
                                     learning_rate=self.learning_rate, weight_decay=self.weight_decay, rng=rng,
                                     verbose=self.verbose, label=self._name())
            weights.assign_to(network)
        self.network_ = network
        return history

    def _score_batches(self, X: np.ndarray) -> np.ndarray:
        n_features = self.scaler_.mean.shape[0]
        widths = hidden_layer_sizes(n_features, self.hidden_layers)
        with tf.device(self.device_), deterministic():
            compiled = self._program(n_features, widths, self.device_)
            return score_in_batches(compiled, Weights.of(self.network_), X, self.scaler_, self._extra())

    def _save_weights(self, path: Path) -> None:
        with _keras_numpy_deprecation_silenced():
            self.network_.save(path)

    def _load_weights(self, path: Path, n_features: int, widths: list[int], device: str) -> None:
        """Rebuild the network from the parameters and take only its weights from the ``.keras`` file.

        The file is read with ``safe_mode=True`` (no lambdas or other code), and its weights must have exactly
        the shapes of the architecture the parameters describe.
        """
        with tf.device(device), _keras_numpy_deprecation_silenced():
            network = self._build_network(n_features, widths, layer_seeds(0))
            try:
                saved = keras.saving.load_model(path, compile=False, safe_mode=True)
            except Exception as exc:  # Keras raises ValueError, TypeError, OSError, KeyError… for bad files
                message = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                raise IntegrityError(f"{path}: not a loadable Keras model in safe mode ({message})") from None
            values = saved.get_weights() if isinstance(saved, keras.Model) else None
            expected = [tuple(v.shape) for v in network.weights]
            if values is None or [tuple(np.shape(v)) for v in values] != expected:
                raise IntegrityError(f"{path}: weights do not fit the saved parameters (expected shapes {expected})")
            network.set_weights(values)
        self.network_ = network

    # -- pieces ----------------------------------------------------------------------------------------------
    def _program(self, n_features: int, widths: list[int], device: str) -> Program:
        """The compiled functions of this detector's architecture (traced on first use in the process)."""
        key: Hashable = (type(self).__module__, type(self).__qualname__, n_features, tuple(widths),
                         self._architecture(), device)

        def make() -> Program:
            template = self._build_network(n_features, widths, layer_seeds(0))
            return Program(template, type(self)._loss, type(self)._score_rows, self._extra_spec(n_features, widths))

        return program(key, make)
