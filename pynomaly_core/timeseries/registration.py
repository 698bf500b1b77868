"""Specs of the built-in time-series detectors (registered by :mod:`pynomaly_core.builtin.plugin`).

Imports nothing but specs: the code of a detector loads when one is created.
"""

from __future__ import annotations

from collections.abc import Callable

from pynomaly_core.specs import DetectorSpec

#: The detector ``pynomaly detect --timestamp`` / ``--kind timeseries`` runs when none is named: the best of the
#: built-ins on the NAB corpus with its defaults (tuned on the whole corpus; benchmarks/bench_ts_detectors.py).
DEFAULT_DETECTOR = "builtin.anomaly_likelihood"

_TS = frozenset({"timeseries"})
_ONLINE = frozenset({"save", "online", "partial_fit"})


def register_timeseries_detectors(register: Callable[[DetectorSpec], None]) -> None:
    register(DetectorSpec(
        name="anomaly_likelihood",
        summary="Windowed-Gaussian score turned into Numenta's anomaly likelihood, plus new-range alarms (online).",
        target="pynomaly_core.timeseries.likelihood:AnomalyLikelihood",
        params={"window_size": 500, "averaging": 12, "history": 8640, "learning": 150, "min_std": 0.05,
                "squash": 8.0, "spatial_tolerance": 0.01, "warmup": 150, "rest": 30, "rest_level": 0.5,
                "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="windowed",
        summary="Any tabular detector over sliding windows (stride, differencing); window scores mapped to points.",
        target="pynomaly_core.timeseries.windowing:WindowedDetector",
        params={"detector": "ecod", "params": None, "window": 16, "stride": 1, "difference": 0, "reduce": "mean",
                "memory": 2048, "refit": 256, "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="windowed_gaussian",
        summary="NAB's windowed Gaussian baseline: Gaussian probability under the previous window's mean and std.",
        target="pynomaly_core.timeseries.gaussian:WindowedGaussian",
        params={"window_size": 6400, "step_size": 100, "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="spectral_residual",
        summary="Spectral residual saliency of each record in its trailing window (Ren et al., 2019).",
        target="pynomaly_core.timeseries.spectral:SpectralResidual",
        params={"window": 64, "q": 3, "z": 21, "n_estimates": 5, "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="forecast_residual",
        summary="Online autoregressive forecast (recursive least squares) scored by its error in recent RMS units.",
        target="pynomaly_core.timeseries.forecast:ForecastResidual",
        params={"order": 8, "forgetting": 0.999, "error_decay": 0.99, "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="seasonal_residual",
        summary="Residual from the same phase of earlier periods (period found by autocorrelation), robust z-score.",
        target="pynomaly_core.timeseries.seasonal:SeasonalResidual",
        params={"period": None, "max_period": 500, "init": 1000, "cycles": 3, "window": 500, "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="matrix_profile",
        summary="Matrix-profile discords online: z-normalised distance of each subsequence to its nearest earlier one.",
        target="pynomaly_core.timeseries.matrix_profile:MatrixProfile",
        params={"m": 32, "history": 2000, "contamination": 0.1},
        data_kinds=_TS,
        capabilities=_ONLINE,
    ))
