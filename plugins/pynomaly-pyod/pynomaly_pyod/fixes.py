"""Repairs of PyOD results that would break the detector contract, applied right after PyOD's ``fit``.

PCA (``pyod.pca``): PyOD divides each row's distance to a principal axis by that axis's explained-variance
ratio. A component with zero variance (a constant feature, or fewer distinct rows than features) has ratio 0,
so every score of PyOD 3.6 is ``inf`` (ADBench ``6_cardio``, ``24_mnist``, ``26_optdigits`` with the 70/30
protocol split). Such zero ratios are raised to the smallest positive ratio of the model (1.0 when there is
none, i.e. constant data), which keeps PyOD's ordering of the axes and gives finite scores. Nothing changes
when no ratio is zero, so the scores equal PyOD's wherever PyOD's are finite.

ALAD (``pyod.alad``): PyOD leaves its networks in training mode after ``fit``, so dropout makes every
``decision_function`` call return different scores. The networks are switched to evaluation mode and the
training rows rescored, as for PyOD's other deep models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def floor_pca_weights(estimator: Any, X: np.ndarray) -> None:
    """Raise PyOD PCA's zero (or NaN) component weights to its smallest positive weight and rescore ``X``."""
    weights = np.asarray(estimator.w_components_, dtype=np.float64)
    if np.all(estimator.selected_w_components_ > 0):
        return
    positive = weights[weights > 0]
    floor = positive.min() if positive.size else 1.0
    estimator.w_components_ = np.where(weights > 0, weights, floor)
    estimator.selected_w_components_ = estimator.w_components_[-estimator.n_selected_components_:]
    estimator.decision_scores_ = estimator.decision_function(X)
    estimator._process_decision_scores()  # keep PyOD's own threshold_/labels_ consistent


def torch_eval_mode(estimator: Any, X: np.ndarray) -> None:
    """Switch the torch networks PyOD left in training mode to evaluation mode and rescore ``X``."""
    import torch

    modules = [value for value in vars(estimator).values() if isinstance(value, torch.nn.Module) and value.training]
    if not modules:
        return
    for module in modules:
        module.eval()
    estimator.decision_scores_ = estimator.decision_function(X)
    estimator._process_decision_scores()


AFTER_FIT: dict[str, Callable[[Any, np.ndarray], None]] = {"alad": torch_eval_mode, "pca": floor_pca_weights}


def after_fit(model_name: str, estimator: Any, X: np.ndarray) -> None:
    """Apply the repair registered for ``model_name``, if any."""
    repair = AFTER_FIT.get(model_name)
    if repair is not None:
        repair(estimator, X)
