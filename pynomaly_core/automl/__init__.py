"""AutoML: pick a detector (or an ensemble) for a dataset.

With labels, a stratified K-fold search over a detector/parameter grid within a time budget; without labels, a
consensus selection: every candidate is fitted, ranked by how well its scores agree with the others', and the
five most agreeing ones are combined in a z-score-averaging ensemble (measured on ADBench in
``benchmarks/bench_ensemble_automl.py``).

>>> import numpy as np, pynomaly_core as pn
>>> X = np.random.default_rng(0).normal(size=(300, 3)); X[:5] += 6
>>> result = pn.automl(X, budget_s=30)
>>> result.mode, int(np.argsort(-result.best_model.decision_scores_)[:5].max())
('unsupervised', 4)
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

from pynomaly_core.automl.candidates import SUPERVISED_GRID, UNSUPERVISED_POOL, Candidate, installed, parse_candidates
from pynomaly_core.automl.search import AutoMLResult, consensus_scores, supervised_search, unsupervised_selection
from pynomaly_core.errors import InputError

__all__ = ["AutoMLResult", "Candidate", "automl", "consensus_scores"]


def automl(data: Any, y: Any = None, *, budget_s: float = 60.0, candidates: list[Any] | None = None,
           n_splits: int = 3, top_k: int = 5, random_state: int | None = 0) -> AutoMLResult:
    """Choose a detector for ``data`` (array-like, :class:`Dataset` or path). With labels ``y`` (or labels in the
    dataset) run the supervised search, else the unsupervised selection. ``candidates``: detector names or
    ``{"name", "params"}`` (default: the installed part of a built-in grid)."""
    from pynomaly_core.data import Dataset
    from pynomaly_core.sdk import load_data
    from pynomaly_core.validation import check_array

    if isinstance(data, str):
        data = load_data(data)
    if isinstance(data, Dataset):
        y = data.y if y is None else y
        data = data.X
    X = check_array(data)
    if budget_s <= 0:
        raise InputError(f"automl: budget must be positive, got {budget_s}")
    if y is not None:
        y = np.asarray(y).reshape(-1)
        if y.size != X.shape[0]:
            raise InputError(f"automl: labels have {y.size} rows but the data has {X.shape[0]}")
        if not set(np.unique(y).tolist()) <= {0, 1}:
            raise InputError("automl: labels must be 0/1")
        pool = parse_candidates(candidates) if candidates else installed(SUPERVISED_GRID)
        return supervised_search(X, y.astype(np.int64), pool, budget_s, n_splits=n_splits, random_state=random_state)
    pool = parse_candidates(candidates) if candidates else installed(UNSUPERVISED_POOL)
    return unsupervised_selection(X, pool, budget_s, top_k=top_k, random_state=random_state)


class _CallableModule(types.ModuleType):
    """Importing ``pynomaly_core.automl`` binds this package to ``pynomaly_core.automl``, shadowing the SDK
    function of the same name; calling the package calls :func:`automl`, so ``pn.automl(X)`` always works."""

    def __call__(self, *args: Any, **kwargs: Any) -> AutoMLResult:
        return automl(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
