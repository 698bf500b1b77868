"""Every sklearn detector passes pynomaly's conformance kit."""

from pynomaly_core.testing import parametrize_plugin_checks

SKIP = {
    "sklearn.sgd_ocsvm::partial_fit": (
        "one SGD epoch per batch leaves a linear one-class SVM unable to rank the kit's outlier first "
        "(scikit-learn's own partial_fit behaves the same); test_sklearn_detectors checks partial_fit "
        "against scikit-learn instead"
    ),
}


@parametrize_plugin_checks("sklearn", skip=SKIP)
def test_sklearn_conformance(check):
    check()
