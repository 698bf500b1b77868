"""Forecasting residual: an online autoregressive forecast per feature (recursive least squares with forgetting),
scored by the forecast error in units of its recent root mean square."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pynomaly_core.timeseries.base import TimeSeriesDetector, check_float, check_int

_P0 = 1e3  # initial (and reset) covariance of the coefficients
_MAX_TRACE = 1e8


class ForecastResidual(TimeSeriesDetector):
    """Each value is forecast from the ``order`` values before it (AR with intercept, fitted online by recursive
    least squares with forgetting factor ``forgetting`` and covariance resetting; values divided by the first one's
    magnitude when it exceeds 1); the score is ``|error| / rms`` with ``rms`` the exponentially weighted root mean
    square of the earlier errors (weight ``1 − error_decay`` on the newest). Maximum over features; the first
    ``2 · order + 1`` records score 0."""

    qualified_name = "builtin.forecast_residual"

    def __init__(self, order: int = 8, forgetting: float = 0.999, error_decay: float = 0.99,
                 contamination: float = 0.1):
        self.order = order
        self.forgetting = forgetting
        self.error_decay = error_decay
        self.contamination = contamination

    def _check_params(self) -> None:
        check_int(self, "order", self.order, 1)
        check_float(self, "forgetting", self.forgetting, 0.5, 1.0)
        check_float(self, "error_decay", self.error_decay, 0.0, 1.0 - 1e-12)

    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        k = self.order + 1
        self.theta_ = np.zeros((n_features, k))
        self.P_ = np.repeat(np.eye(k)[None] * _P0, n_features, axis=0)
        self.lags_ = np.zeros((n_features, self.order))
        self.scale_ = np.ones(n_features)
        self.mse_ = np.zeros(n_features)
        self.count_ = 0

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        p, lam, decay = self.order, self.forgetting, self.error_decay
        out = np.zeros(X.shape[0])
        for i, row in enumerate(X):
            if self.count_ == 0:
                self.scale_ = np.maximum(np.abs(row), 1.0)
            values = row / self.scale_
            best = 0.0
            for j in range(row.size):
                phi = np.empty(p + 1)
                phi[0] = 1.0
                phi[1:] = self.lags_[j]
                error = values[j] - float(self.theta_[j] @ phi)
                if self.count_ > 2 * p and self.mse_[j] > 0:
                    best = max(best, abs(error) / math.sqrt(self.mse_[j]))
                if self.count_ >= p:  # the lags hold real values: learn
                    P = self.P_[j]
                    Pphi = P @ phi
                    gain = Pphi / (lam + phi @ Pphi)
                    self.theta_[j] += gain * error
                    self.P_[j] = (P - np.outer(gain, Pphi)) / lam
                    if not np.isfinite(self.theta_[j]).all() or not 0 < np.trace(self.P_[j]) < _MAX_TRACE:
                        self.P_[j] = np.eye(p + 1) * _P0  # covariance resetting: no wind-up without excitation
                        self.theta_[j] = np.where(np.isfinite(self.theta_[j]), self.theta_[j], 0.0)
                    squared = error * error
                    self.mse_[j] = squared if self.count_ == p else decay * self.mse_[j] + (1 - decay) * squared
                self.lags_[j, 1:] = self.lags_[j, :-1]
                self.lags_[j, 0] = values[j]
            self.count_ += 1
            out[i] = best
        return out

    def _online_get_state(self) -> dict[str, Any]:
        return {"theta": self.theta_, "P": self.P_, "lags": self.lags_, "scale": self.scale_, "mse": self.mse_,
                "count": np.int64(self.count_)}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        self.theta_, self.P_ = np.array(state["theta"], dtype=float), np.array(state["P"], dtype=float)
        self.lags_, self.scale_ = np.array(state["lags"], dtype=float), np.array(state["scale"], dtype=float)
        self.mse_, self.count_ = np.array(state["mse"], dtype=float), int(state["count"])
