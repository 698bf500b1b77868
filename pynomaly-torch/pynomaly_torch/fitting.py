"""The torch training loop (mini-batches, early stopping, progress bar) and batched scoring."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from pynomaly_core.deep.design import SCORE_BATCH_SIZE
from pynomaly_core.deep.training import EarlyStopping, Standardizer, batch_slices
from pynomaly_torch.adam import Adam

#: ``loss(network, batch, training) -> scalar``: the mean loss of a batch.
LossFn = Callable[[nn.Module, torch.Tensor, bool], torch.Tensor]
#: ``score(network, batch) -> (rows,)``: anomaly scores of a batch.
ScoreFn = Callable[[nn.Module, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """What one fit did: losses per epoch, epochs run, the best epoch and whether early stopping ended it."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int | None = None
    stopped_early: bool = False
    n_train: int = 0


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
    with _progress(verbose, label, epochs) as report:
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


@contextmanager
def _progress(verbose: bool, label: str, epochs: int) -> Iterator[Callable[[int, History], None]]:
    """A rich progress bar on stderr when ``verbose``; otherwise a no-op reporter (rich is not imported)."""
    if not verbose:
        yield lambda epoch, history: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[losses]}"))
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=epochs, losses="")

        def report(epoch: int, history: History) -> None:
            losses = f"loss {history.train_loss[-1]:.4g}"
            if history.validation_loss:
                losses += f"  val {history.validation_loss[-1]:.4g}"
            bar.update(task, completed=epoch + 1, losses=losses)

        yield report
