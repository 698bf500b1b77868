"""AutoML: pick a detector (or an ensemble) for a dataset.

With labels, a stratified K-fold search over a detector/parameter grid within a time budget; without labels, a
consensus selection: every candidate is fitted and ranked by how well its scores agree with the others', and the
most agreeing ones join the default ensemble's members in a z-score-averaging ensemble. The candidates are what the
installed plugins declare (``automl`` presets, search spaces); how many join was chosen by cross-validation over
the ADBench sets (``benchmarks/bench_defaults.py``).

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

from pynomaly_core.automl.candidates import Candidate, parse_candidates, supervised_grid, unsupervised_pool
from pynomaly_core.automl.search import AutoMLResult, consensus_scores, supervised_search, unsupervised_selection
from pynomaly_core.builtin.ensemble import default_members
from pynomaly_core.errors import InputError

__all__ = ["AutoMLResult", "Candidate", "automl", "consensus_scores"]

#: Candidates added to the default ensemble's members by consensus (chosen out of sample in bench_defaults.py).
DEFAULT_TOP_K = 3
#: Leaders combined when the candidates are named.
NAMED_TOP_K = 5


def automl(data: Any, y: Any = None, *, budget_s: float = 60.0, candidates: list[Any] | None = None,
           n_splits: int = 3, top_k: int | None = None, random_state: int | None = 0) -> AutoMLResult:
    """Choose a detector for ``data`` (array-like, :class:`Dataset` or path). With labels ``y`` (or labels in the
    dataset) run the supervised search, else the unsupervised selection.

    ``candidates``: detector names or ``{"name", "params"}``. By default the plugins' presets decide: the supervised
    search tries every ``automl`` preset and ``search_space`` variant; the unsupervised selection starts from the
    default ensemble's members and adds the ``top_k`` (default 3) candidates of the ``automl`` pool whose scores
    agree most with the others'. With ``candidates`` given, the unsupervised selection combines the ``top_k``
    (default 5) most agreeing of them. Both defaults were chosen out of sample (``benchmarks/bench_defaults.py``).
    """
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
        pool = parse_candidates(candidates) if candidates else supervised_grid()
        return supervised_search(X, y.astype(np.int64), pool, budget_s, n_splits=n_splits, random_state=random_state)
    if candidates:
        return unsupervised_selection(X, parse_candidates(candidates), budget_s,
                                      top_k=NAMED_TOP_K if top_k is None else top_k, random_state=random_state)
    base = [Candidate(m["name"], m["params"]) for m in default_members()]
    return unsupervised_selection(X, unsupervised_pool(), budget_s, top_k=DEFAULT_TOP_K if top_k is None else top_k,
                                  random_state=random_state, base=base)


class _CallableModule(types.ModuleType):
    """Importing ``pynomaly_core.automl`` binds this package to ``pynomaly_core.automl``, shadowing the SDK
    function of the same name; calling the package calls :func:`automl`, so ``pn.automl(X)`` always works."""

    def __call__(self, *args: Any, **kwargs: Any) -> AutoMLResult:
        return automl(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
