"""Entry point of the SHAP plugin: specs only, so registering it imports neither SHAP nor NumPy."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import ExplainerSpec


@hookimpl
def register_explainers(register):
    register(ExplainerSpec(
        name="kernel",
        summary="Kernel SHAP on the detector's scores with a k-means background summary: any detector.",
        target="pynomaly_shap.kernel:KernelShapExplainer",
        params={"n_background": 20, "n_samples": "auto", "random_state": 0},
        capabilities={"deterministic_with_seed"},
    ))
    register(ExplainerSpec(
        name="tree",
        summary="Tree SHAP (exact, path-dependent) for isolation forests (sklearn.iforest, pyod.iforest).",
        target="pynomaly_shap.tree:TreeShapExplainer",
        params={},
        capabilities={"deterministic_with_seed"},
    ))
