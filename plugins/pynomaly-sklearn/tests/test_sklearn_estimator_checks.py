"""scikit-learn's ``check_estimator`` battery over every registered tabular detector, through ``as_sklearn``.

Each detector runs with its ``quick`` preset (fewer epochs or members) and a seed; what is expected to fail, and why,
is declared once, in :mod:`pynomaly_sklearn.checks` (mostly derived from the spec's capabilities). Detectors that
cannot take part (transductive, supervised, one feature only, or an optional package missing) are listed in
:func:`test_every_registered_tabular_detector_is_checked_or_excluded_with_a_reason`.
"""

from __future__ import annotations

import pytest
from pynomaly_sklearn import as_sklearn
from pynomaly_sklearn.checks import excluded_reason, expected_failed_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from pynomaly_core.registry import get_registry


def missing_packages(name: str) -> list[str]:
    """Optional packages a PyOD model needs that are not installed (other plugins declare theirs as dependencies)."""
    if not name.startswith("pyod."):
        return []
    from pynomaly_pyod import catalog
    from pynomaly_pyod.dependencies import missing_packages as missing

    return missing(catalog.get(name))


def plan() -> tuple[dict[str, dict], dict[str, str]]:
    """``({name: constructor params}, {name: why it is not checked})`` over every registered tabular detector."""
    checked, excluded = {}, {}
    for spec in get_registry().detectors(data_kind="tabular"):
        if spec.qualified_name == "builtin.ensemble":
            excluded[spec.qualified_name] = "its members are each checked here"
            continue
        reason = excluded_reason(spec.qualified_name)
        if reason is None and missing_packages(spec.qualified_name):
            reason = f"needs {', '.join(missing_packages(spec.qualified_name))}, not installed"
        if reason is not None:
            excluded[spec.qualified_name] = reason
            continue
        params = dict(spec.presets.get("quick", {}))
        if "random_state" in spec.params:
            params.setdefault("random_state", 0)  # checks that compare two fits need a seeded detector
        checked[spec.qualified_name] = params
    return checked, excluded


CHECKED, EXCLUDED = plan()


def test_every_registered_tabular_detector_is_checked_or_excluded_with_a_reason():
    names = {spec.qualified_name for spec in get_registry().detectors(data_kind="tabular")}
    assert set(CHECKED) | set(EXCLUDED) == names and not set(CHECKED) & set(EXCLUDED)
    assert all(reason for reason in EXCLUDED.values())
    assert {"builtin.ecod", "builtin.hbos", "builtin.mahalanobis", "builtin.robust_zscore", "sklearn.lof",
            "pyod.iforest", "pyod.ecod"} <= set(CHECKED)
    assert EXCLUDED["pyod.cof"].startswith("it scores only the rows it was fitted on")
    assert EXCLUDED["pyod.mad"] == "it fits one feature only, and the checks fit several"


def test_expected_failures_follow_the_capabilities():
    assert "check_methods_subset_invariance" in expected_failed_checks(as_sklearn("builtin.ecod").detector) or \
        "batch_dependent" not in get_registry().detector("builtin.ecod").capabilities
    assert set(expected_failed_checks(as_sklearn("pyod.ecod"))) == {"check_methods_subset_invariance",
                                                                     "check_methods_sample_order_invariance"}
    assert expected_failed_checks(as_sklearn("sklearn.lof")) == {}


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning", "ignore::FutureWarning")
@parametrize_with_checks([as_sklearn(name, **params) for name, params in CHECKED.items()],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
