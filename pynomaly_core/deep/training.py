"""Backend-neutral training helpers (NumPy only): scaling, seeds, hold-out split, batching, early stopping.

Every backend uses these (same seeds → same hold-out rows and batch order), so the only difference between
backends is the framework's arithmetic. See :mod:`pynomaly_core.deep.design`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pynomaly_core.deep.design import MIN_RELATIVE_IMPROVEMENT
from pynomaly_core.errors import InputError
from pynomaly_core.preprocessing import Standardizer

__all__ = ["EarlyStopping", "History", "Standardizer", "batch_slices", "resolve_seed", "split_validation"]


def resolve_seed(random_state: int | None) -> int:
    """The seed of one fit: ``random_state`` itself, or fresh entropy when it is ``None``."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    return int(random_state)


def split_validation(n_rows: int, validation_size: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows): a seeded hold-out of ``floor(validation_size · n_rows)`` rows.

    No hold-out (and so no early stopping) when that is under 2 rows or would leave fewer than 2 for training.
    """
    if n_rows < 2:
        # names samples: scikit-learn's check_fit2d_1sample wants "1 sample" in the message
        raise InputError(f"need at least 2 training rows (samples), got {n_rows} sample{'' if n_rows == 1 else 's'}")
    n_val = int(validation_size * n_rows)
    order = rng.permutation(n_rows)
    if n_val < 2 or n_rows - n_val < 2:
        return np.arange(n_rows), np.empty(0, dtype=np.int64)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def batch_slices(n_rows: int, batch_size: int) -> list[slice]:
    """Consecutive slices of ``batch_size`` rows; a last batch of a single row joins the previous one."""
    starts = list(range(0, n_rows, batch_size))
    if len(starts) > 1 and n_rows - starts[-1] == 1:
        starts.pop()
    ends = [*starts[1:], n_rows]
    return [slice(a, b) for a, b in zip(starts, ends, strict=True)]


@dataclass
class EarlyStopping:
    """Tracks the validation loss; ``update`` says whether the epoch is the best so far, ``stop`` when to end."""

    patience: int
    best: float = float("inf")
    best_epoch: int = -1
    waited: int = 0
    history: list[float] = field(default_factory=list)

    def update(self, epoch: int, loss: float) -> bool:
        self.history.append(loss)
        if loss < self.best - MIN_RELATIVE_IMPROVEMENT * abs(self.best) or self.best_epoch < 0:
            self.best, self.best_epoch, self.waited = loss, epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def stop(self) -> bool:
        return self.waited >= self.patience


@dataclass
class History:
    """What one fit did: losses per epoch, epochs run, the best epoch and whether early stopping ended it."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int | None = None
    stopped_early: bool = False
    n_train: int = 0
