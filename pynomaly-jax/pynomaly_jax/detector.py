"""``JaxDetector``: the fit / score / save flow shared by the JAX detectors (the torch backend's ``TorchDetector``).

A subclass names its design entry (``design_key``, also the network kind) and implements the pure functions
``_row_loss`` and ``_row_score`` (per-row loss and score of a batch, see :mod:`pynomaly_jax.fitting`), plus
``_prepare`` / ``_extra_state`` / ``_set_extra_state`` / ``_extra_hyper`` when it has state besides weights.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import jax
import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.deep.design import check_params, hidden_layer_sizes
from pynomaly_core.deep.training import Standardizer, resolve_seed, split_validation
from pynomaly_core.errors import IntegrityError
from pynomaly_jax.fitting import Model, score_in_batches, train
from pynomaly_jax.networks import Architecture, Network, init_params
from pynomaly_jax.runtime import key_from_seed, resolve_device

WEIGHTS_FILE = "weights.npz"
STATE_FILE = "state.npz"
#: Stream of the seed's ``SeedSequence`` that initialises the weights (the NumPy ``Generator`` of the seed itself
#: draws the hold-out and the batch order, exactly as in the torch backend).
INIT_STREAM = 1


class JaxDetector(BaseDetector):
    """Scaling, seeding, training with early stopping, batched scoring and npz persistence."""

    design_key: ClassVar[str] = ""

    # -- to implement ----------------------------------------------------------------------------------------
    @staticmethod
    def _row_loss(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        """Per-row loss (its mean over the batch is what training minimises)."""
        raise TypeError("JaxDetector subclasses must implement _row_loss")

    @staticmethod
    def _row_score(network: Network, batch: jax.Array, hyper: dict[str, Any]) -> jax.Array:
        """Per-row anomaly score (eval mode)."""
        raise TypeError("JaxDetector subclasses must implement _row_score")

    def _prepare(self, model: Model, params: dict[str, Any], buffers: dict[str, Any], X_train: np.ndarray,
                 device: Any) -> None:
        """Set state that depends on the initial network (Deep SVDD's centre). Default: nothing."""

    def _extra_hyper(self) -> dict[str, Any]:
        """Inputs of ``_row_loss`` / ``_row_score`` besides the common ones (the VAE's beta, the SVDD centre)."""
        return {}

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`_extra_state` returned."""

    # -- pieces ----------------------------------------------------------------------------------------------
    def _architecture(self, n_features: int) -> Architecture:
        widths = tuple(hidden_layer_sizes(n_features, self.hidden_layers))
        return Architecture(self.design_key, n_features, widths, dropout=self.dropout > 0,
                            batch_norm=bool(getattr(self, "batch_norm", False)))

    def _model(self, n_features: int) -> Model:
        cls = type(self)
        return Model(self._architecture(n_features), cls._row_loss, cls._row_score)

    def _hyper(self) -> dict[str, Any]:
        """Traced inputs of the compiled programs (changing them does not recompile)."""
        common = {"learning_rate": self.learning_rate, "weight_decay": self.weight_decay, "dropout": self.dropout}
        return {**{k: np.float32(v) for k, v in common.items()}, **self._extra_hyper()}

    # -- fit and score ---------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        check_params(self._name(), self.get_params())
        device = resolve_device(self.device)
        seed = resolve_seed(self.random_state)
        rng = np.random.default_rng(seed)
        self.scaler_ = Standardizer.fit(X)
        scaled = self.scaler_.transform(X)
        train_rows, val_rows = split_validation(X.shape[0], self.validation_size, rng)
        model = self._model(X.shape[1])
        init_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(INIT_STREAM + 1)[INIT_STREAM])
        params, buffers = (jax.device_put(tree, device) for tree in init_params(model.arch, init_rng))
        X_train = scaled[train_rows]
        self._prepare(model, params, buffers, X_train, device)
        params, buffers, history = train(
            model, params, buffers, X_train, scaled[val_rows] if val_rows.size else None, hyper=self._hyper(),
            batch_size=self.batch_size, epochs=self.epochs, patience=self.patience, rng=rng,
            key=key_from_seed(seed), device=device, verbose=self.verbose, label=self._name())
        self.model_, self.params_, self.buffers_, self.device_ = model, params, buffers, device
        self.history_ = asdict(history)
        self.n_epochs_ = history.n_epochs

    def _score(self, X: np.ndarray) -> np.ndarray:
        return score_in_batches(self.model_, self.params_, self.buffers_, X, self.scaler_, self._hyper(),
                                self.device_)

    # -- persistence -----------------------------------------------------------------------------------------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        weights = {**{f"param__{k}": np.asarray(v) for k, v in self.params_.items()},
                   **{f"buffer__{k}": np.asarray(v) for k, v in self.buffers_.items()}}
        with open(directory / WEIGHTS_FILE, "wb") as handle:
            np.savez(handle, **weights)
        arrays = {"scaler_mean": self.scaler_.mean, "scaler_scale": self.scaler_.scale,
                  "decision_scores": self.decision_scores_, "threshold": np.asarray(self.threshold_),
                  **{f"extra__{k}": np.asarray(v) for k, v in self._extra_state().items()}}
        with open(directory / STATE_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        return {WEIGHTS_FILE: "npz", STATE_FILE: "npz"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        if artefacts.get(WEIGHTS_FILE) != "npz" or artefacts.get(STATE_FILE) != "npz":
            raise IntegrityError(f"{directory}: expected {WEIGHTS_FILE} (npz) and {STATE_FILE} (npz)")
        arrays = _read_npz(directory / STATE_FILE)
        weights = _read_npz(directory / WEIGHTS_FILE)
        try:
            self.scaler_ = Standardizer(arrays["scaler_mean"], arrays["scaler_scale"])
            decision_scores, threshold = arrays["decision_scores"], float(arrays["threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"{directory / STATE_FILE}: missing or malformed array ({exc})") from None
        model = self._model(int(self.scaler_.mean.shape[0]))
        params = _checked(weights, "param__", model.arch.param_shapes(), directory / WEIGHTS_FILE)
        buffers = _checked(weights, "buffer__", model.arch.buffer_shapes(), directory / WEIGHTS_FILE)
        unknown = set(weights) - {f"param__{k}" for k in params} - {f"buffer__{k}" for k in buffers}
        if unknown:
            raise IntegrityError(f"{directory / WEIGHTS_FILE}: weights do not fit the saved parameters "
                                 f"(unexpected {sorted(unknown)[0]!r})")
        device = resolve_device(self.device)
        self.model_, self.device_ = model, device
        self.params_, self.buffers_ = jax.device_put(params, device), jax.device_put(buffers, device)
        self._set_extra_state({k[len("extra__"):]: v for k, v in arrays.items() if k.startswith("extra__")})
        self.decision_scores_ = decision_scores
        self._set_threshold(self.decision_scores_, threshold=threshold)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{path}: not a plain npz archive ({str(exc).splitlines()[0][:200]})") from None


def _checked(weights: dict[str, np.ndarray], prefix: str, shapes: dict[str, tuple[int, ...]],
             path: Path) -> dict[str, np.ndarray]:
    """The arrays named ``prefix + name`` for each expected name, with exactly the expected shape (float32)."""
    out = {}
    for name, shape in shapes.items():
        array = weights.get(prefix + name)
        if array is None or array.shape != shape or array.dtype != np.float32:
            found = "missing" if array is None else f"{array.dtype}{list(array.shape)}"
            raise IntegrityError(f"{path}: weights do not fit the saved parameters "
                                 f"({name}: expected float32{list(shape)}, found {found})")
        out[name] = array
    return out
