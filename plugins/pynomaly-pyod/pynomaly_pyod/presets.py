"""The roles of PyOD's models in the core's defaults, declared by this plugin (the core names no PyOD model).

``DEFAULT_ENSEMBLE``: members of ``builtin.ensemble``'s default (``detectors=None``); ``AUTOML``: candidates of AutoML's
pool; ``SEARCH_SPACE``: values AutoML's supervised search tries; ``QUICK``: settings for fast tests. The first two
were chosen by cross-validation over the shared ADBench sets (``benchmarks/bench_defaults.py``, which prints the
out-of-sample figures) and use PyOD's defaults.
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


_QUIET = {"verbose": 0}
#: The ``quick`` preset: small settings that keep tests and smoke runs fast (fewer epochs, smaller networks, members
#: and components), and LSCP's required member list.
QUICK: dict[str, dict[str, Any]] = {
    "lscp": {"detector_list": ["lof", "knn"], "local_region_size": 10},
    "sampling": {"subset_size": 5},
    "ae1svm": {"epochs": 1, "kernel_approx_features": 32, "hidden_neurons": [8, 4]},
    "alad": {"epochs": 3},
    "anogan": {"epochs": 1, "epochs_query": 1, "G_layers": [4], "D_layers": [4]},
    "auto_encoder": {"epoch_num": 1, "hidden_neuron_list": [8, 4], "batch_size": 8, **_QUIET},
    "deep_svdd": {"epochs": 1, "hidden_neurons": [8, 4], **_QUIET},
    "dif": {"n_ensemble": 8, "n_estimators": 4},
    "kpca": {"n_components": 20},
    "lunar": {"n_epochs": 5},
    "mo_gaal": {"k": 2, "stop_epochs": 3},
    "rgraph": {"maxiter": 5, "transition_steps": 3, "support_size": 20, "blocksize_test_data": 100, "verbose": False},
    "so_gaal": {"stop_epochs": 3},
    "so_gaal_new": {"epoch_num": 3, **_QUIET},
    "vae": {"epoch_num": 1, "encoder_neuron_list": [8], "decoder_neuron_list": [8], "batch_size": 8, **_QUIET},
}


def presets_of(name: str) -> dict[str, dict[str, Any]]:
    """The ``presets`` of ``pyod.<name>``'s spec."""
    roles = {"default_ensemble": DEFAULT_ENSEMBLE, "automl": AUTOML, "quick": QUICK}
    return {role: dict(table[name]) for role, table in roles.items() if name in table}
