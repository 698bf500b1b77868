"""The SHAP explainers pass pynomaly's conformance kit (light registration, the explainer check)."""

from pynomaly_core.testing import parametrize_plugin_checks

SKIP = {
    "shap.tree::explainer": (
        "the kit's explainer check uses builtin.mahalanobis, which has no trees; test_shap_explainers runs the "
        "same one-feature-anomaly check on sklearn.iforest (and checks that non-tree detectors are refused)"
    ),
}


@parametrize_plugin_checks("shap", skip=SKIP)
def test_shap_conformance(check):
    check()
