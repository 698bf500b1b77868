"""Spectral residual (Ren et al., KDD 2019, "Time-Series Anomaly Detection Service at Microsoft"), online.

For each record, the last ``window`` values (the record last) are extended by ``n_estimates`` copies of an estimated
point (:func:`extend`), so the record is not at the edge of the transform. The saliency map is
``|IFFT(exp(R + iP))|`` with ``P`` the phase and ``R = log A − h_q * log A`` the spectral residual (``h_q``: a
``q``-point moving average). The score is ``(S − mean S_z) / mean S_z``: the record's saliency against the mean of
the ``z`` saliencies before it. Per feature (each window centred), maximum over features; records before a full
window score 0.
"""

from __future__ import annotations

import numpy as np

from pynomaly_core.timeseries.base import check_int
from pynomaly_core.timeseries.history import HistoryDetector, blocks, trailing_windows

_EPS = 1e-8


def saliency(windows: np.ndarray, q: int) -> np.ndarray:
    """Saliency maps of the rows of ``windows`` (``(k, n)``): Ren et al.'s spectral residual, row by row."""
    spectrum = np.fft.fft(windows, axis=1)
    amplitude = np.abs(spectrum)
    log_amplitude = np.log(np.maximum(amplitude, _EPS))
    padded = np.concatenate([np.repeat(log_amplitude[:, :1], q // 2, axis=1), log_amplitude,
                             np.repeat(log_amplitude[:, -1:], q - 1 - q // 2, axis=1)], axis=1)
    kernel = np.lib.stride_tricks.sliding_window_view(padded, q, axis=1).mean(axis=2)
    residual = log_amplitude - kernel
    phase = spectrum / np.maximum(amplitude, _EPS)
    return np.abs(np.fft.ifft(np.exp(residual) * phase, axis=1))


def extend(windows: np.ndarray, m: int) -> np.ndarray:
    """Each row followed by ``m`` copies of an estimated point (Ren et al., eq. 5-6): ``x[n-m] + m · g`` with ``g``
    the mean slope from ``x[n-m-1] … x[n-2]`` to ``x[n-1]``, as Microsoft's implementation computes it from the
    ``m + 1`` points before the last — so a spike on the last point is not copied into the estimates."""
    before = windows[:, -m - 2:-1]  # x[n-m-1] … x[n-1]
    slopes = (before[:, -1:] - before[:, :-1]) / np.arange(m, 0, -1)
    estimate = before[:, 1:2] + slopes.sum(axis=1, keepdims=True)
    return np.concatenate([windows, np.repeat(estimate, m, axis=1)], axis=1)


class SpectralResidual(HistoryDetector):
    """Spectral residual saliency of each record in its trailing window (see the module docstring)."""

    qualified_name = "builtin.spectral_residual"

    def __init__(self, window: int = 64, q: int = 3, z: int = 21, n_estimates: int = 5, contamination: float = 0.1):
        self.window = window
        self.q = q
        self.z = z
        self.n_estimates = n_estimates
        self.contamination = contamination

    def _check_params(self) -> None:
        check_int(self, "q", self.q, 1)
        check_int(self, "z", self.z, 1)
        check_int(self, "n_estimates", self.n_estimates, 1)
        check_int(self, "window", self.window, max(self.z + 1, self.n_estimates + 2, 4))

    def _memory(self) -> int:
        return self.window

    def _scores(self, rows: np.ndarray, first: int, origin: int) -> np.ndarray:
        w, z = self.window, self.z
        scores = np.zeros(rows.shape[0] - first)
        start_at = max(first, w - 1)
        for start, end in blocks(start_at, rows.shape[0], 1024):
            windows = trailing_windows(rows, start, end, w)  # (k, w, d)
            k, _, d = windows.shape
            flat = windows.transpose(0, 2, 1).reshape(k * d, w)
            flat = flat - flat.mean(axis=1, keepdims=True)
            sal = saliency(extend(flat, self.n_estimates), self.q)[:, :w]
            local = sal[:, w - 1 - z:w - 1].mean(axis=1)
            value = (sal[:, w - 1] - local) / np.maximum(local, _EPS)
            scores[start - first:end - first] = value.reshape(k, d).max(axis=1)
        return scores
