"""``DeepDetector``: the backend-neutral fit / score / save / load skeleton of every deep detector.

The split follows alibi-detect's ``cd/base.py``: this class does everything that needs no framework (parameter
checks, the seed and its NumPy generator, standardisation, the hold-out split, layer widths, the fit history,
``state.npz`` with the scaler, training scores, threshold and extra state, the artefact-format checks and the CPU
fallback on loading), and a backend's ``TorchDetector`` / ``TFDetector`` / ``JaxDetector`` overrides only the
framework hooks:

========================  ==========================================================================================
``_resolve_device``       a ``device`` parameter (``"cpu"``, ``"auto"``, ``"cuda:N"``, ``"mps"``) → the framework's
``_train_network``        build and train the network on scaled float32 rows; keep it on ``self``; return the history
``_score_batches``        scores of raw (unscaled) rows, scaled with ``self.scaler_`` one batch at a time
``_save_weights``         write the network's weights to ``weights_file`` (format ``weights_format``)
``_load_weights``         rebuild the network from the parameters and read only its weights back, checked
========================  ==========================================================================================

plus, for a detector with state besides its weights (Deep SVDD's centre), ``_extra_state`` /
``_set_extra_state(state, device)``. An algorithm (autoencoder, VAE, Deep SVDD) is then a subclass of its
backend's class and its parameter mixin from :mod:`pynomaly_core.deep.params`.

Imports NumPy and pynomaly only, never a framework.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.deep.design import check_params, hidden_layer_sizes
from pynomaly_core.deep.training import History, Standardizer, resolve_seed, split_validation
from pynomaly_core.errors import InputError, IntegrityError, first_line

__all__ = ["EXTRA_PREFIX", "STATE_FILE", "DeepDetector", "read_npz"]

#: The artefact holding the scaler, training scores, threshold and extra state (the same in every backend).
STATE_FILE = "state.npz"
#: Prefix of the extra-state arrays (``_extra_state``) in :data:`STATE_FILE`.
EXTRA_PREFIX = "extra__"


class DeepDetector(BaseDetector):
    """Seeding, scaling, hold-out split, fit history and ``state.npz`` persistence; the framework parts are hooks.

    A backend sets :attr:`weights_file` and :attr:`weights_format` and implements the hooks below. ``fit`` sets
    ``scaler_``, ``device_``, ``history_`` and ``n_epochs_`` (plus what ``_train_network`` keeps); loading sets
    the same but the history.
    """

    #: File name of the framework's weights artefact (``model.pt``, ``model.keras``, ``weights.npz``).
    weights_file: ClassVar[str] = ""
    #: Its artefact format in the manifest (``torch_state_dict``, ``keras``, ``npz``).
    weights_format: ClassVar[str] = ""

    # -- hooks of a backend ----------------------------------------------------------------------------------
    def _resolve_device(self, name: str) -> Any:
        """The framework's device for a ``device`` parameter; an unavailable one is an :class:`InputError`."""
        raise TypeError(f"{type(self).__name__} must implement _resolve_device")

    def _train_network(self, X_train: np.ndarray, X_val: np.ndarray | None, widths: list[int], seed: int,
                       rng: np.random.Generator, device: Any) -> History:
        """Build the network for ``widths`` and train it on the scaled float32 rows ``X_train`` (early stopping on
        ``X_val``, ``None`` without a hold-out), on ``device``; keep the fitted network on ``self``.

        ``seed`` seeds the framework (initial weights, dropout, noise); ``rng``, already used for the hold-out,
        draws the batch order. Returns the fit's :class:`~pynomaly_core.deep.training.History`.
        """
        raise TypeError(f"{type(self).__name__} must implement _train_network")

    def _score_batches(self, X: np.ndarray) -> np.ndarray:
        """Scores (float64) of raw float64 rows ``X``, scaled with ``self.scaler_`` and scored batch by batch."""
        raise TypeError(f"{type(self).__name__} must implement _score_batches")

    def _save_weights(self, path: Path) -> None:
        """Write the fitted network's weights to ``path`` (:attr:`weights_file`, in :attr:`weights_format`)."""
        raise TypeError(f"{type(self).__name__} must implement _save_weights")

    def _load_weights(self, path: Path, n_features: int, widths: list[int], device: Any) -> None:
        """Rebuild the network of the parameters (``n_features`` inputs, ``widths``) on ``device`` and set it
        on ``self`` with the weights read from ``path``; weights that are not exactly that network's (or a file
        that is not plain data) are an :class:`IntegrityError` naming ``path``. Must not run code from the file.
        """
        raise TypeError(f"{type(self).__name__} must implement _load_weights")

    def _extra_state(self) -> dict[str, np.ndarray]:
        """Fitted state besides the weights, as arrays (saved in ``state.npz``). Default: none."""
        return {}

    def _set_extra_state(self, state: dict[str, np.ndarray], device: Any) -> None:
        """Restore what :meth:`_extra_state` returned, for a network on ``device``. Default: nothing."""

    # -- fit and score ---------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        check_params(self._name(), self.get_params())
        device = self._resolve_device(self.device)
        seed = resolve_seed(self.random_state)
        rng = np.random.default_rng(seed)
        self.scaler_ = Standardizer.fit(X)
        scaled = self.scaler_.transform(X)
        train_rows, val_rows = split_validation(X.shape[0], self.validation_size, rng)
        widths = hidden_layer_sizes(X.shape[1], self.hidden_layers)
        history = self._train_network(scaled[train_rows], scaled[val_rows] if val_rows.size else None, widths,
                                      seed, rng, device)
        self.device_ = device
        self.history_ = asdict(history)
        self.n_epochs_ = history.n_epochs

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._score_batches(X)

    # -- persistence -----------------------------------------------------------------------------------------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        self._save_weights(directory / self.weights_file)
        arrays = {"scaler_mean": self.scaler_.mean, "scaler_scale": self.scaler_.scale,
                  "decision_scores": self.decision_scores_, "threshold": np.asarray(self.threshold_),
                  **{f"{EXTRA_PREFIX}{k}": np.asarray(v) for k, v in self._extra_state().items()}}
        with open(directory / STATE_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        return {self.weights_file: self.weights_format, STATE_FILE: "npz"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        """Check the artefact formats, read ``state.npz``, then rebuild the network and take its weights."""
        if artefacts.get(self.weights_file) != self.weights_format or artefacts.get(STATE_FILE) != "npz":
            raise IntegrityError(f"{directory}: expected {self.weights_file} ({self.weights_format}) and "
                                 f"{STATE_FILE} (npz)")
        arrays = read_npz(directory / STATE_FILE)
        try:
            scaler = Standardizer(arrays["scaler_mean"], arrays["scaler_scale"])
            decision_scores, threshold = arrays["decision_scores"], float(arrays["threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"{directory / STATE_FILE}: missing or malformed array ({exc})") from None
        self.scaler_ = scaler
        n_features = int(scaler.mean.shape[0])
        device = self._loading_device()
        self._load_weights(directory / self.weights_file, n_features,
                           hidden_layer_sizes(n_features, self.hidden_layers), device)
        self.device_ = device
        self._set_extra_state({k[len(EXTRA_PREFIX):]: v for k, v in arrays.items() if k.startswith(EXTRA_PREFIX)},
                              device)
        self.decision_scores_ = decision_scores
        self._set_threshold(self.decision_scores_, threshold=threshold)

    def _loading_device(self) -> Any:
        """The device of the ``device`` parameter, or the CPU (with a RuntimeWarning) where it is unavailable:
        a model trained on a GPU still loads on a machine without one."""
        try:
            return self._resolve_device(self.device)
        except InputError as exc:
            warnings.warn(f"{self._name()}: {exc}; loading on the CPU", RuntimeWarning, stacklevel=4)
            return self._resolve_device("cpu")


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the npz file ``path``, read without unpickling; anything else is an IntegrityError."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{path}: not a plain npz archive ({first_line(exc)[:200]})") from None
