"""``JaxDetector``: the JAX half of the deep detectors, a :class:`~pynomaly_core.deep.detector.DeepDetector`.

``DeepDetector``, the neutral half, checks parameters, seeds, scales, splits the hold-out, records the
history and writes / reads ``state.npz``; this class implements its framework hooks: JAX devices, initialising
and training the parameters with the jit-compiled programs of :mod:`pynomaly_jax.fitting`, batched scoring, and
weights as plain arrays in ``weights.npz`` (``param__*`` / ``buffer__*``, shapes checked on loading). A fitted
detector pickles (NumPy arrays and the device's name; placed back on the device when unpickled).

An algorithm names its design entry (``design_key``, also the network kind) and implements the pure functions
``_row_loss`` and ``_row_score`` (per-row loss and score of a batch, see :mod:`pynomaly_jax.fitting`), plus
``_prepare`` / ``_extra_state`` / ``_set_extra_state`` / ``_extra_hyper`` when it has state besides weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import jax
import numpy as np

from pynomaly_core.deep.detector import STATE_FILE, DeepDetector, read_npz
from pynomaly_core.deep.training import History
from pynomaly_core.errors import IntegrityError
from pynomaly_jax.fitting import Model, score_in_batches, train
from pynomaly_jax.networks import Architecture, Network, init_params
from pynomaly_jax.runtime import device_by_name, device_name, key_from_seed, resolve_device

__all__ = ["INIT_STREAM", "STATE_FILE", "WEIGHTS_FILE", "JaxDetector"]

WEIGHTS_FILE = "weights.npz"
#: Stream of the seed's ``SeedSequence`` that initialises the weights (the NumPy ``Generator`` of the seed itself
#: draws the hold-out and the batch order, exactly as in the torch backend).
INIT_STREAM = 1
#: Fitted attributes holding device arrays (pickled as NumPy).
_DEVICE_TREES = ("params_", "buffers_")


class JaxDetector(DeepDetector):
    """Jit-compiled JAX training with early stopping, batched scoring and npz persistence."""

    weights_file = WEIGHTS_FILE
    weights_format = "npz"
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

    # -- hooks of DeepDetector -------------------------------------------------------------------------------
    def _resolve_device(self, name: str) -> Any:
        return resolve_device(name)

    def _train_network(self, X_train: np.ndarray, X_val: np.ndarray | None, widths: list[int], seed: int,
                       rng: np.random.Generator, device: Any) -> History:
        model = self._model(X_train.shape[1], widths)
        init_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(INIT_STREAM + 1)[INIT_STREAM])
        params, buffers = (jax.device_put(tree, device) for tree in init_params(model.arch, init_rng))
        self._prepare(model, params, buffers, X_train, device)
        params, buffers, history = train(
            model, params, buffers, X_train, X_val, hyper=self._hyper(), batch_size=self.batch_size,
            epochs=self.epochs, patience=self.patience, rng=rng, key=key_from_seed(seed), device=device,
            verbose=self.verbose, label=self._name())
        self.model_, self.params_, self.buffers_ = model, params, buffers
        return history

    def _score_batches(self, X: np.ndarray) -> np.ndarray:
        return score_in_batches(self.model_, self.params_, self.buffers_, X, self.scaler_, self._hyper(),
                                self.device_)

    def _save_weights(self, path: Path) -> None:
        weights = {**{f"param__{k}": np.asarray(v) for k, v in self.params_.items()},
                   **{f"buffer__{k}": np.asarray(v) for k, v in self.buffers_.items()}}
        with open(path, "wb") as handle:
            np.savez(handle, **weights)

    def _load_weights(self, path: Path, n_features: int, widths: list[int], device: Any) -> None:
        weights = read_npz(path)
        model = self._model(n_features, widths)
        params = _checked(weights, "param__", model.arch.param_shapes(), path)
        buffers = _checked(weights, "buffer__", model.arch.buffer_shapes(), path)
        unknown = set(weights) - {f"param__{k}" for k in params} - {f"buffer__{k}" for k in buffers}
        if unknown:
            raise IntegrityError(f"{path}: weights do not fit the saved parameters "
                                 f"(unexpected {sorted(unknown)[0]!r})")
        self.model_ = model
        self.params_, self.buffers_ = jax.device_put(params, device), jax.device_put(buffers, device)

    # -- pickling ----------------------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The instance's attributes with device arrays as NumPy arrays and the device as its name (a
        ``jax.Device`` does not pickle)."""
        state = self.__dict__.copy()
        if "device_" in state:
            state["device_"] = device_name(state["device_"])
        for attribute in _DEVICE_TREES:
            if attribute in state:
                state[attribute] = {k: np.asarray(v) for k, v in state[attribute].items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s attributes, putting the arrays back on the device of that name (the
        ``device`` parameter's, or the CPU with a RuntimeWarning, where this process has no such device)."""
        self.__dict__.update(state)
        if "device_" in state:
            device = device_by_name(state["device_"])
            self.device_ = self._loading_device() if device is None else device
            for attribute in _DEVICE_TREES:
                if attribute in state:
                    setattr(self, attribute, jax.device_put(state[attribute], self.device_))

    # -- pieces ----------------------------------------------------------------------------------------------
    def _architecture(self, n_features: int, widths: list[int]) -> Architecture:
        return Architecture(self.design_key, n_features, tuple(widths), dropout=self.dropout > 0,
                            batch_norm=bool(getattr(self, "batch_norm", False)))

    def _model(self, n_features: int, widths: list[int]) -> Model:
        cls = type(self)
        return Model(self._architecture(n_features, widths), cls._row_loss, cls._row_score)

    def _hyper(self) -> dict[str, Any]:
        """Traced inputs of the compiled programs (changing them does not recompile)."""
        common = {"learning_rate": self.learning_rate, "weight_decay": self.weight_decay, "dropout": self.dropout}
        return {**{k: np.float32(v) for k, v in common.items()}, **self._extra_hyper()}


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
