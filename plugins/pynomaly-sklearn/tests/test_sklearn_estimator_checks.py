"""``as_sklearn`` passes scikit-learn's ``check_estimator`` battery for the built-in and the sklearn detectors.

With scikit-learn 1.9.1 every check passes for all nine, so none is passed as ``expected_failed_checks``
(``check_array_api_input`` skips itself unless SCIPY_ARRAY_API=1 is set).
"""

from __future__ import annotations

import pytest
from pynomaly_sklearn import as_sklearn
from sklearn.utils.estimator_checks import parametrize_with_checks

#: Small but real settings; seeded so that checks comparing two fits (idempotence, pickling) are meaningful.
DETECTORS = {
    "builtin.ecod": {},
    "builtin.hbos": {},
    "builtin.robust_zscore": {},
    "builtin.mahalanobis": {},
    "sklearn.iforest": {"n_estimators": 20, "random_state": 0},
    "sklearn.lof": {},
    "sklearn.ocsvm": {},
    "sklearn.sgd_ocsvm": {"random_state": 0},
    "sklearn.elliptic_envelope": {"random_state": 0},
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")  # degenerate check data in sklearn
@parametrize_with_checks([as_sklearn(name, **params) for name, params in DETECTORS.items()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
