"""``TorchDetector``: the torch half of the deep detectors, a :class:`~pynomaly_core.deep.detector.DeepDetector`.

``DeepDetector``, the neutral half, checks parameters, seeds, scales, splits the hold-out, records the
history and writes / reads ``state.npz``; this class implements its framework hooks: torch devices, building and
training an ``nn.Module`` (seeded, one CPU thread), batched scoring, and weights as a ``torch_state_dict`` in
``model.pt`` (read back with ``torch.load(weights_only=True)``).

An algorithm lists its parameters through its mixin of :mod:`pynomaly_core.deep.params` and implements
``_build_network``, ``_loss`` and ``_score_batch`` (plus ``_prepare`` / ``_extra_state`` / ``_set_extra_state``
when it has state besides the weights, like Deep SVDD's centre).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pynomaly_core.deep.detector import STATE_FILE, DeepDetector
from pynomaly_core.deep.training import History
from pynomaly_core.errors import IntegrityError
from pynomaly_torch.fitting import score_in_batches, train
from pynomaly_torch.runtime import cpu_threads, resolve_device, seeded

__all__ = ["STATE_FILE", "WEIGHTS_FILE", "TorchDetector"]

WEIGHTS_FILE = "model.pt"


class TorchDetector(DeepDetector):
    """Seeded torch training with early stopping, batched scoring and ``torch_state_dict`` persistence."""

    weights_file = WEIGHTS_FILE
    weights_format = "torch_state_dict"

    # -- to implement ----------------------------------------------------------------------------------------
    def _build_network(self, n_features: int, widths: list[int]) -> nn.Module:
        raise TypeError(f"{type(self).__name__} must implement _build_network")

    def _loss(self, network: nn.Module, batch: torch.Tensor, training: bool) -> torch.Tensor:
        raise TypeError(f"{type(self).__name__} must implement _loss")

    def _score_batch(self, network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        raise TypeError(f"{type(self).__name__} must implement _score_batch")

    def _prepare(self, network: nn.Module, X_train: torch.Tensor) -> None:
        """Set state that depends on the initial network (Deep SVDD's centre). Default: nothing."""

    # -- hooks of DeepDetector -------------------------------------------------------------------------------
    def _resolve_device(self, name: str) -> torch.device:
        return resolve_device(name)

    def _train_network(self, X_train: np.ndarray, X_val: np.ndarray | None, widths: list[int], seed: int,
                       rng: np.random.Generator, device: torch.device) -> History:
        n_features = X_train.shape[1]
        with seeded(seed, device), cpu_threads(device):
            network = self._build_network(n_features, widths).to(device)
            train_rows = torch.from_numpy(X_train).to(device)
            val_rows = torch.from_numpy(X_val).to(device) if X_val is not None else None
            self._prepare(network, train_rows)
            history = train(network, self._loss, train_rows, val_rows, batch_size=self.batch_size,
                            epochs=self.epochs, patience=self.patience, learning_rate=self.learning_rate,
                            weight_decay=self.weight_decay, rng=rng, verbose=self.verbose, label=self._name())
        self.network_ = network
        return history

    def _score_batches(self, X: np.ndarray) -> np.ndarray:
        with cpu_threads(next(self.network_.parameters()).device):
            return score_in_batches(self.network_, self._score_batch, X, self.scaler_)

    def _save_weights(self, path: Path) -> None:
        torch.save({key: value.detach().cpu() for key, value in self.network_.state_dict().items()}, path)

    def _load_weights(self, path: Path, n_features: int, widths: list[int], device: torch.device) -> None:
        with torch.random.fork_rng(devices=[]):  # building initialises weights: keep the caller's RNG as it was
            network = self._build_network(n_features, widths)
        try:
            weights = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
            raise IntegrityError(f"{path}: not a plain torch state dict "
                                 f"({str(exc).strip().splitlines()[0][:200]})") from None
        if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
            raise IntegrityError(f"{path}: not a state dict of tensors")
        try:
            network.load_state_dict(weights)
        except RuntimeError as exc:
            raise IntegrityError(f"{path}: weights do not fit the saved parameters "
                                 f"({str(exc).splitlines()[0]})") from None
        self.network_ = network.to(device).eval()
