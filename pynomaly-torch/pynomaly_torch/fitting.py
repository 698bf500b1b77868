"""The torch training loop (mini-batches, early stopping, progress bar) and batched scoring."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from pynomaly_core.deep.design import SCORE_BATCH_SIZE
from pynomaly_core.deep.progress import epoch_progress
from pynomaly_core.deep.training import EarlyStopping, History, Standardizer, batch_slices
from pynomaly_torch.adam import Adam

#: ``loss(network, batch, training) -> scalar``: the mean loss of a batch.
LossFn = Callable[[nn.Module, torch.Tensor, bool], torch.Tensor]
#: ``score(network, batch) -> (rows,)``: anomaly scores of a batch.
ScoreFn = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def train(network: nn.Module, loss: LossFn, X_train: torch.Tensor, X_val: torch.Tensor | None, *,
          batch_size: int, epochs: int, patience: int, learning_rate: float, weight_decay: float,
          rng: np.random.Generator, verbose: bool = False, label: str = "training") -> History:
    """Adam on shuffled mini-batches; with ``X_val``, stop after ``patience`` epochs without improvement and
    restore the best epoch's weights. Leaves ``network`` in eval mode."""
    optimizer = Adam(list(network.parameters()), lr=learning_rate, weight_decay=weight_decay)
    n_rows = X_train.shape[0]
    slices = batch_slices(n_rows, batch_size)
    stopper = EarlyStopping(patience) if X_val is not None else None
    history = History(n_train=n_rows)
    best_state: dict[str, torch.Tensor] | None = None
    with epoch_progress(verbose, label, epochs) as report:
        for epoch in range(epochs):
            network.train()
            order = torch.from_numpy(rng.permutation(n_rows)).to(X_train.device)
            total = torch.zeros((), dtype=torch.float64, device=X_train.device)
            for rows in slices:
                batch_loss = loss(network, X_train.index_select(0, order[rows]), True)
                optimizer.zero_grad()
                batch_loss.backward()
                optimizer.step()
                total += batch_loss.detach().double() * (rows.stop - rows.start)
            history.train_loss.append(total.item() / n_rows)
            history.n_epochs = epoch + 1
            if stopper is not None and X_val is not None:
                val_loss = evaluate_loss(network, loss, X_val)
                history.validation_loss.append(val_loss)
                if stopper.update(epoch, val_loss):
                    best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
            report(epoch, history)
            if stopper is not None and stopper.stop:
                history.stopped_early = epoch + 1 < epochs
                break
    if best_state is not None and stopper is not None:
        network.load_state_dict(best_state)
        history.best_epoch = stopper.best_epoch
    network.eval()
    return history


def evaluate_loss(network: nn.Module, loss: LossFn, X: torch.Tensor) -> float:
    """Mean loss over ``X`` in eval mode, in scoring-size batches."""
    network.eval()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, X.shape[0], SCORE_BATCH_SIZE):
            batch = X[start:start + SCORE_BATCH_SIZE]
            total += float(loss(network, batch, False)) * batch.shape[0]
    return total / X.shape[0]


def score_in_batches(network: nn.Module, score: ScoreFn, X: np.ndarray, scaler: Standardizer,
                     batch_size: int = SCORE_BATCH_SIZE) -> np.ndarray:
    """Scores of raw float64 rows ``X``: scaled and scored ``batch_size`` rows at a time (bounded memory)."""
    device = next(network.parameters()).device
    scores = np.empty(X.shape[0], dtype=np.float64)
    network.eval()
    with torch.inference_mode():
        for start in range(0, X.shape[0], batch_size):
            batch = torch.from_numpy(scaler.transform(X[start:start + batch_size])).to(device)
            scores[start:start + batch.shape[0]] = score(network, batch).double().cpu().numpy()
    return scores
