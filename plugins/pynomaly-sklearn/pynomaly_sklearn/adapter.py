"""The base of the five adapters: one fitted scikit-learn estimator behind the pynomaly detector contract.

Scores are ``-estimator.score_samples(X)`` (scikit-learn: higher = more normal; pynomaly: higher = more
anomalous); negation is exact, so they equal a direct call bit for bit. ``contamination`` is pynomaly's: it sets
``threshold_`` from the training scores and is never passed to scikit-learn (it would only move the estimator's
own ``offset_``, which pynomaly does not use).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError, first_line


class SklearnAdapter(BaseDetector):
    """Builds ``estimator_class(**params)`` from the detector's parameters (all but ``contamination``).

    Subclasses set ``estimator_class`` (and ``fixed_params`` for settings the adapter does not expose). ``_fit``
    returns None, so the base class scores the training rows for ``threshold_``; a subclass whose estimator
    already computed them during ``fit`` returns them instead.
    """

    estimator_class: ClassVar[type]
    #: Constructor arguments the adapter always passes (e.g. ``novelty=True`` for LOF).
    fixed_params: ClassVar[dict[str, Any]] = {}

    def estimator_params(self) -> dict[str, Any]:
        """The keyword arguments of the scikit-learn estimator."""
        params = {name: getattr(self, name) for name in self._get_param_names() if name != "contamination"}
        return {**params, **self.fixed_params}

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray | None:
        """Fit a new estimator (or, with ``warm_start``, the previous one); None: score the training rows."""
        previous = getattr(self, "estimator_", None)
        if getattr(self, "warm_start", False) and previous is not None:
            estimator = previous.set_params(**self.estimator_params())
        else:
            estimator = self.estimator_class(**self.estimator_params())
        with user_errors(self._name()):
            self.estimator_ = estimator.fit(X)
        return None

    def _score(self, X: np.ndarray) -> np.ndarray:
        return -self.estimator_.score_samples(X)


@contextmanager
def user_errors(name: str) -> Iterator[None]:
    """Re-raise scikit-learn's ValueError (a bad parameter or bad data) as a one-line :class:`InputError`."""
    try:
        yield
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(f"{name}: {first_line(exc)}") from exc
