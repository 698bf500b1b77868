"""The roles of PyOD's models in the core's defaults, declared by this plugin (the core names no PyOD model).

``DEFAULT_ENSEMBLE``: members of ``builtin.ensemble``'s default (``detectors=None``); ``AUTOML``: candidates of AutoML's
pool; ``SEARCH_SPACE``: values AutoML's supervised search tries. Both roles were chosen by cross-validation over the
shared ADBench sets (``benchmarks/bench_defaults.py``, which prints the out-of-sample figures). Every entry uses
PyOD's defaults.
"""

from __future__ import annotations

from typing import Any

#: Forward selection on top of the core's four members, among the detectors that save without pickle and score each
#: row on its own, cross-validated over the 30 sets (3 seeds): PyOD's INNE (and scikit-learn's LOF, declared by
#: pynomaly-sklearn). Out of sample the ensemble's mean ROC-AUC is 0.808, the best single PyOD default's 0.786.
DEFAULT_ENSEMBLE: dict[str, dict[str, Any]] = {"inne": {}}

#: Fast, scale-robust defaults of diverse families (isolation, neighbours, density, clustering, copula). Models whose
#: defaults depend on the feature scale (OCSVM's gamma, PCA's components, LODA's bins) are left to the supervised
#: search: with raw features they often give constant scores, which dilute the consensus.
#: PyOD's ECOD and HBOS would repeat the core's; KDE takes minutes on the larger sets.
AUTOML: dict[str, dict[str, Any]] = {name: {} for name in (
    "cblof", "copod", "gmm", "iforest", "inne", "knn", "lof", "sampling",
)}

SEARCH_SPACE: dict[str, dict[str, list[Any]]] = {
    "knn": {"n_neighbors": [10, 20, 50], "method": ["mean"]},
    "lof": {"n_neighbors": [10, 50]},
    "iforest": {"n_estimators": [300], "max_features": [0.5]},
    "ocsvm": {"nu": [0.1, 0.9]},
    "pca": {"n_components": [0.9]},
    "loda": {"n_bins": [5, 20]},
}


def presets_of(name: str) -> dict[str, dict[str, Any]]:
    """The ``presets`` of ``pyod.<name>``'s spec."""
    roles = {"default_ensemble": DEFAULT_ENSEMBLE, "automl": AUTOML}
    return {role: dict(table[name]) for role, table in roles.items() if name in table}
