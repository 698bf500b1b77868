"""scikit-learn's estimator checks over registered detectors: which ones run, and which checks are expected to fail.

The one place that says why a registered tabular detector, wrapped by :func:`~pynomaly_sklearn.as_sklearn`, does not
pass one of ``sklearn.utils.estimator_checks``' checks. Most reasons follow from what the detector's spec declares:

* ``transductive``, ``supervised`` or ``single_feature`` detectors are not checked at all (:func:`excluded_reason`):
  scikit-learn's outlier checks fit unlabelled data with several features and predict new rows;
* a ``batch_dependent`` detector is expected to fail the checks that score subsets or reordered batches, a
  ``float32`` one the subset check (its tolerance is below float32 precision), one that saves neither safely nor
  with pickle the pickling checks;

and the few left are properties of one library model, measured and named in :data:`BY_DETECTOR`. Use it with
``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)``.
"""

from __future__ import annotations

from typing import Any

#: Capabilities that keep a detector out of the checks, with the reason.
EXCLUDING = {
    "transductive": "it scores only the rows it was fitted on, and the checks predict new rows",
    "supervised": "it needs labels in fit, and the outlier checks fit without them",
    "single_feature": "it fits one feature only, and the checks fit several",
}

#: Checks a capability makes fail, with the reason.
BY_CAPABILITY = {
    "batch_dependent": {
        "check_methods_subset_invariance": "declared batch_dependent: a row's score depends on the other rows scored "
                                           "with it, so scoring a subset changes it",
        "check_methods_sample_order_invariance": "declared batch_dependent: a row's score depends on the rows scored "
                                                 "with it and their order",
    },
    "float32": {
        "check_methods_subset_invariance": "declared float32: a row scored in a batch of another size can differ in "
                                           "the last float32 bits (a few 1e-7), above the check's 1e-7 tolerance",
        "check_methods_sample_order_invariance": "declared float32: a row scored at another place in the batch can "
                                                 "differ in the last float32 bits, above the check's 1e-7 tolerance",
    },
}

#: Checks a detector fails when it has neither the ``save`` nor the ``pickle_save`` capability.
UNPICKLABLE = {
    "check_estimators_pickle": "its fitted state cannot be pickled (it declares neither save nor pickle_save)",
    "check_estimators_pickle(readonly_memmap=True)": "its fitted state cannot be pickled (it declares neither save "
                                                     "nor pickle_save)",
}

#: Checks single models fail for reasons of their library, measured with PyOD 3.6.7.
BY_DETECTOR: dict[str, dict[str, str]] = {
    "pyod.ae1svm": {
        "check_methods_subset_invariance": "PyOD's AE1SVM cannot score a single row (NumPy: 'setting an array "
                                           "element with a sequence')",
    },
    "pyod.cd": {
        "check_fit2d_1feature": "PyOD's CD regresses each feature on the others, so one feature leaves none; its "
                                "error names LinearRegression's 0 features instead of the 1 given",
    },
    "pyod.kpca": {
        "check_methods_subset_invariance": "its scores of a row differ by an ulp between batch sizes, and on the "
                                           "check's small sample several training rows score at the threshold, so "
                                           "that ulp flips their labels",
    },
    "pyod.rgraph": {
        "check_outliers_train": "PyOD's RGraph gives most training rows exactly the same score, so no percentile "
                                "threshold labels a contamination share of them",
        "check_outliers_train(readonly_memmap=True)": "as check_outliers_train",
        "check_outliers_fit_predict": "as check_outliers_train: tied training scores",
    },
}


def spec_of(estimator: Any) -> Any:
    """The registry spec of the detector an ``as_sklearn`` estimator wraps (``None`` when it is not registered)."""
    from pynomaly_core.registry import get_registry

    return get_registry().spec_of(getattr(estimator, "detector", estimator))


def excluded_reason(name: str) -> str | None:
    """Why the detector ``name`` is not run through the checks at all, or ``None``."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().detector(name)
    if "tabular" not in spec.data_kinds:
        return f"it works on {', '.join(sorted(spec.data_kinds))} data, not on tables"
    for capability, reason in EXCLUDING.items():
        if capability in spec.capabilities:
            return reason
    return None


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """``{check name: reason}`` of the checks the wrapped detector is expected to fail (scikit-learn's
    ``expected_failed_checks`` callable)."""
    spec = spec_of(estimator)
    if spec is None:
        return {}
    expected: dict[str, str] = {}
    for capability, checks in BY_CAPABILITY.items():
        if capability in spec.capabilities:
            expected.update(checks)
    if not {"save", "pickle_save"} & spec.capabilities:
        expected.update(UNPICKLABLE)
    expected.update(BY_DETECTOR.get(spec.qualified_name, {}))
    return expected
