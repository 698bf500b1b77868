"""Entry point of the river plugin: specs only, so registering it imports no river."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec

#: Every river detector learns online; its model is a Python object saved with pickle (loading needs trust=True).
_ONLINE = {"online", "partial_fit", "pickle_save", "deterministic_with_seed"}
_DETECTORS = "pynomaly_river.detectors"


@hookimpl
def register_detectors(register):
    register(DetectorSpec(
        name="half_space_trees",
        summary="river HalfSpaceTrees: online half-space trees scored by node masses (Tan, Ting & Liu, 2011).",
        target=f"{_DETECTORS}:HalfSpaceTrees",
        params={"n_trees": 10, "height": 8, "window_size": 250, "limits": None, "seed": None, "contamination": 0.1},
        capabilities=_ONLINE,
        presets={"quick": {"seed": 0}},  # river names its seed "seed": checks comparing two fits need it
    ))
    register(DetectorSpec(
        name="one_class_svm",
        summary="river OneClassSVM: a linear one-class SVM learned by SGD, one record at a time.",
        target=f"{_DETECTORS}:OneClassSVM",
        params={"nu": 0.1, "learning_rate": 0.01, "intercept_lr": 0.01, "clip_gradient": 1e12, "contamination": 0.1},
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="local_outlier_factor",
        summary="river LocalOutlierFactor: incremental LOF against a sliding window of recent records.",
        target=f"{_DETECTORS}:LocalOutlierFactor",
        params={"n_neighbors": 10, "window_size": 1000, "contamination": 0.1},
        capabilities=_ONLINE,
        presets={"quick": {"window_size": 100}},
    ))
    register(DetectorSpec(
        name="loda",
        summary="river LODA: sparse random projections with streaming histograms (Pevny, 2016).",
        target=f"{_DETECTORS}:LODA",
        params={"n_bins": 10, "n_random_cuts": 100, "seed": None, "contamination": 0.1},
        capabilities=_ONLINE,
        presets={"quick": {"seed": 0}},
    ))
    register(DetectorSpec(
        name="gaussian_scorer",
        summary="river GaussianScorer per feature: 2·|CDF − 0.5| under a running Gaussian, aggregated over features.",
        target=f"{_DETECTORS}:GaussianScorer",
        params={"window_size": None, "grace_period": 100, "aggregate": "max", "contamination": 0.1},
        capabilities=_ONLINE,
    ))
    register(DetectorSpec(
        name="standard_absolute_deviation",
        summary="river StandardAbsoluteDeviation per feature: |x − mean (or median)| / std, aggregated over features.",
        target=f"{_DETECTORS}:StandardAbsoluteDeviation",
        params={"sub_stat": "mean", "aggregate": "max", "contamination": 0.1},
        capabilities=_ONLINE,
    ))
