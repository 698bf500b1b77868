"""``TorchDetector``: the fit / score / save flow shared by the torch detectors.

A subclass lists its parameters in ``__init__`` (defaults from :data:`pynomaly_core.deep.design.PARAMS`) and implements
``_build_network``, ``_loss`` and ``_score_batch`` (plus ``_prepare`` / ``_extra_state`` / ``_set_extra_state``
when it has state besides the weights, like Deep SVDD's centre).
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pynomaly_core.base import BaseDetector
from pynomaly_core.deep.design import check_params, hidden_layer_sizes
from pynomaly_core.deep.training import Standardizer, resolve_seed, split_validation
from pynomaly_core.errors import InputError, IntegrityError
from pynomaly_torch.fitting import score_in_batches, train
from pynomaly_torch.runtime import cpu_threads, resolve_device, seeded

WEIGHTS_FILE = "model.pt"
STATE_FILE = "state.npz"


class TorchDetector(BaseDetector):
    """Scaling, seeding, training with early stopping, batched scoring and ``torch_state_dict`` persistence."""


    # -- to implement ----------------------------------------------------------------------------------------
    def _build_network(self, n_features: int, widths: list[int]) -> nn.Module:
        raise TypeError(f"{type(self).__name__} must implement _build_network")

    def _loss(self, network: nn.Module, batch: torch.Tensor, training: bool) -> torch.Tensor:
        raise TypeError(f"{type(self).__name__} must implement _loss")

    def _score_batch(self, network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        raise TypeError(f"{type(self).__name__} must implement _score_batch")

    def _prepare(self, network: nn.Module, X_train: torch.Tensor) -> None:
        """Set state that depends on the initial network (Deep SVDD's centre). Default: nothing."""

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_extra_state(self, state: dict[str, np.ndarray], device: torch.device) -> None:
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
        with seeded(seed, device), cpu_threads(device):
            network = self._build_network(X.shape[1], widths).to(device)
            X_train = torch.from_numpy(scaled[train_rows]).to(device)
            X_val = torch.from_numpy(scaled[val_rows]).to(device) if val_rows.size else None
            self._prepare(network, X_train)
            history = train(network, self._loss, X_train, X_val, batch_size=self.batch_size, epochs=self.epochs,
                            patience=self.patience, learning_rate=self.learning_rate,
                            weight_decay=self.weight_decay, rng=rng, verbose=self.verbose, label=self._name())
        self.network_ = network
        self.history_ = asdict(history)
        self.n_epochs_ = history.n_epochs

    def _score(self, X: np.ndarray) -> np.ndarray:
        with cpu_threads(next(self.network_.parameters()).device):
            return score_in_batches(self.network_, self._score_batch, X, self.scaler_)

    # -- persistence -----------------------------------------------------------------------------------------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        weights = {key: value.detach().cpu() for key, value in self.network_.state_dict().items()}
        torch.save(weights, directory / WEIGHTS_FILE)
        arrays = {"scaler_mean": self.scaler_.mean, "scaler_scale": self.scaler_.scale,
                  "decision_scores": self.decision_scores_, "threshold": np.asarray(self.threshold_),
                  **{f"extra__{k}": np.asarray(v) for k, v in self._extra_state().items()}}
        with open(directory / STATE_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        return {WEIGHTS_FILE: "torch_state_dict", STATE_FILE: "npz"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        if artefacts.get(WEIGHTS_FILE) != "torch_state_dict" or artefacts.get(STATE_FILE) != "npz":
            raise IntegrityError(f"{directory}: expected {WEIGHTS_FILE} (torch_state_dict) and {STATE_FILE} (npz)")
        with np.load(directory / STATE_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        self.scaler_ = Standardizer(arrays["scaler_mean"], arrays["scaler_scale"])
        n_features = self.scaler_.mean.shape[0]
        try:
            device = resolve_device(self.device)
        except InputError as exc:  # e.g. trained on a GPU, loaded where there is none: weights are stored on the CPU
            warnings.warn(f"{self._name()}: {exc}; loading on the CPU", RuntimeWarning, stacklevel=3)
            device = torch.device("cpu")
        with torch.random.fork_rng(devices=[]):  # building initialises weights: keep the caller's RNG as it was
            network = self._build_network(n_features, hidden_layer_sizes(n_features, self.hidden_layers))
        try:
            weights = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
            raise IntegrityError(f"{directory / WEIGHTS_FILE}: not a plain torch state dict "
                                 f"({str(exc).strip().splitlines()[0][:200]})") from None
        if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
            raise IntegrityError(f"{directory / WEIGHTS_FILE}: not a state dict of tensors")
        try:
            network.load_state_dict(weights)
        except RuntimeError as exc:
            raise IntegrityError(f"{directory / WEIGHTS_FILE}: weights do not fit the saved parameters "
                                 f"({str(exc).splitlines()[0]})") from None
        self.network_ = network.to(device).eval()
        self._set_extra_state({k[len("extra__"):]: v for k, v in arrays.items() if k.startswith("extra__")}, device)
        self.decision_scores_ = arrays["decision_scores"]
        self._set_threshold(self.decision_scores_, threshold=float(arrays["threshold"]))
