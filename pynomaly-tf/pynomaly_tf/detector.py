"""``TFDetector``: the fit / score / save flow shared by the TensorFlow detectors.

A subclass lists its parameters in ``__init__`` (defaults from :data:`pynomaly_core.deep.design.PARAMS`) and implements
``_build_network``, ``_architecture``, ``_loss`` and ``_score_rows`` (plus ``_extra_spec`` / ``_extra`` /
``_prepare`` / ``_extra_state`` / ``_set_extra_state`` when it has inputs or state besides the weights, like
Deep SVDD's centre).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.deep.design import check_params, hidden_layer_sizes
from pynomaly_core.deep.training import Standardizer, resolve_seed, split_validation
from pynomaly_core.errors import InputError, IntegrityError
from pynomaly_tf.fitting import Program, Weights, program, score_in_batches, train
from pynomaly_tf.networks import layer_seeds
from pynomaly_tf.runtime import deterministic, keras, resolve_device, tf

MODEL_FILE = "model.keras"
STATE_FILE = "state.npz"


@contextmanager
def _keras_numpy_deprecation_silenced() -> Iterator[None]:
    """Keras's saving code calls ``np.array`` on TensorFlow variables, which NumPy 2 flags as deprecated."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword",
                                category=DeprecationWarning)
        yield


class TFDetector(BaseDetector):
    """Scaling, seeding, compiled training with early stopping, batched scoring and ``.keras`` persistence."""

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

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_extra_state` returned."""

    # -- fit and score ---------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        check_params(self._name(), self.get_params())
        device = resolve_device(self.device)
        seed = resolve_seed(self.random_state)
        rng = np.random.default_rng(seed)
        self.scaler_ = Standardizer.fit(X)
        scaled = self.scaler_.transform(X)
        train_rows, val_rows = split_validation(X.shape[0], self.validation_size, rng)
        widths = hidden_layer_sizes(X.shape[1], self.hidden_layers)
        with tf.device(device), deterministic():
            network = self._build_network(X.shape[1], widths, layer_seeds(seed))
            compiled = self._program(X.shape[1], widths, device)
            X_train = tf.constant(scaled[train_rows])
            X_val = tf.constant(scaled[val_rows]) if val_rows.size else None
            self._prepare(network, X_train)
            weights, history = train(compiled, Weights.of(network), X_train, X_val, self._extra(),
                                     batch_size=self.batch_size, epochs=self.epochs, patience=self.patience,
                                     learning_rate=self.learning_rate, weight_decay=self.weight_decay, rng=rng,
                                     verbose=self.verbose, label=self._name())
            weights.assign_to(network)
        self.network_ = network
        self.device_ = device
        self.history_ = asdict(history)
        self.n_epochs_ = history.n_epochs

    def _score(self, X: np.ndarray) -> np.ndarray:
        n_features = self.scaler_.mean.shape[0]
        widths = hidden_layer_sizes(n_features, self.hidden_layers)
        with tf.device(self.device_), deterministic():
            compiled = self._program(n_features, widths, self.device_)
            return score_in_batches(compiled, Weights.of(self.network_), X, self.scaler_, self._extra())

    def _program(self, n_features: int, widths: list[int], device: str) -> Program:
        """The compiled functions of this detector's architecture (traced on first use in the process)."""
        key: Hashable = (type(self).__module__, type(self).__qualname__, n_features, tuple(widths),
                         self._architecture(), device)

        def make() -> Program:
            template = self._build_network(n_features, widths, layer_seeds(0))
            return Program(template, type(self)._loss, type(self)._score_rows, self._extra_spec(n_features, widths))

        return program(key, make)

    # -- persistence -----------------------------------------------------------------------------------------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        with _keras_numpy_deprecation_silenced():
            self.network_.save(directory / MODEL_FILE)
        arrays = {"scaler_mean": self.scaler_.mean, "scaler_scale": self.scaler_.scale,
                  "decision_scores": self.decision_scores_, "threshold": np.asarray(self.threshold_),
                  **{f"extra__{k}": np.asarray(v) for k, v in self._extra_state().items()}}
        with open(directory / STATE_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        return {MODEL_FILE: "keras", STATE_FILE: "npz"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        """Rebuild the network from the parameters and take only its weights from the ``.keras`` file.

        The file is read with ``safe_mode=True`` (no lambdas or other code), and its weights must have exactly
        the shapes of the architecture the parameters describe.
        """
        if artefacts.get(MODEL_FILE) != "keras" or artefacts.get(STATE_FILE) != "npz":
            raise IntegrityError(f"{directory}: expected {MODEL_FILE} (keras) and {STATE_FILE} (npz)")
        with np.load(directory / STATE_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        self.scaler_ = Standardizer(arrays["scaler_mean"], arrays["scaler_scale"])
        n_features = self.scaler_.mean.shape[0]
        try:
            device = resolve_device(self.device)
        except InputError as exc:  # e.g. trained on a GPU, loaded where there is none
            warnings.warn(f"{self._name()}: {exc}; loading on the CPU", RuntimeWarning, stacklevel=3)
            device = "/CPU:0"
        path = directory / MODEL_FILE
        with tf.device(device), _keras_numpy_deprecation_silenced():
            network = self._build_network(n_features, hidden_layer_sizes(n_features, self.hidden_layers),
                                          layer_seeds(0))
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
        self.device_ = device
        self._set_extra_state({k[len("extra__"):]: v for k, v in arrays.items() if k.startswith("extra__")})
        self.decision_scores_ = arrays["decision_scores"]
        self._set_threshold(self.decision_scores_, threshold=float(arrays["threshold"]))
