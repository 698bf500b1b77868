"""Entry point of the built-in plugin. Imports nothing but specs: the code loads when an object is created."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec, DriftTestSpec, ExplainerSpec, LoaderSpec

_SAFE = {"save", "deterministic_with_seed"}


@hookimpl
def register_detectors(register):
    register(DetectorSpec(
        name="ecod",
        summary="Empirical-CDF outlier detection: tail probabilities per feature (Li et al., 2022).",
        target="pynomaly_core.builtin.ecod:ECOD",
        params={"contamination": 0.1, "combine": "per_feature", "n_jobs": None},
        capabilities=_SAFE,
    ))
    register(DetectorSpec(
        name="hbos",
        summary="Histogram-based outlier score with static equal-width bins (Goldstein & Dengel, 2012).",
        target="pynomaly_core.builtin.hbos:HBOS",
        params={"n_bins": 10, "alpha": 0.1, "tol": 0.5, "contamination": 0.1},
        capabilities=_SAFE,
    ))
    register(DetectorSpec(
        name="robust_zscore",
        summary="Modified z-score: distance from the median in MAD units, aggregated over features.",
        target="pynomaly_core.builtin.robust_zscore:RobustZScore",
        params={"aggregate": "max", "contamination": 0.1},
        capabilities=_SAFE,
    ))
    register(DetectorSpec(
        name="mahalanobis",
        summary="Squared Mahalanobis distance under a shrunk covariance; exact incremental updates.",
        target="pynomaly_core.builtin.mahalanobis:Mahalanobis",
        params={"shrinkage": 0.01, "contamination": 0.1},
        capabilities=_SAFE | {"partial_fit"},
    ))


@hookimpl
def register_loaders(register):
    register(LoaderSpec(
        name="csv",
        summary="Numeric CSV with header and delimiter detection, column selection and a label column.",
        target="pynomaly_core.builtin.loaders:load_csv",
        params={"columns": None, "labels": None, "delimiter": None, "header": None},
        suffixes=(".csv", ".tsv", ".txt"),
    ))
    register(LoaderSpec(
        name="npy",
        summary="A 2-D numeric NumPy array file (no pickle).",
        target="pynomaly_core.builtin.loaders:load_npy",
        suffixes=(".npy",),
    ))
    register(LoaderSpec(
        name="npz",
        summary="A NumPy archive with features X and optional labels y (ADBench layout).",
        target="pynomaly_core.builtin.loaders:load_npz",
        params={"features": "X", "labels": "y"},
        suffixes=(".npz",),
    ))


@hookimpl
def register_drift_tests(register):
    register(DriftTestSpec(
        name="ks",
        summary="Two-sample Kolmogorov-Smirnov test per feature with Holm/Bonferroni/BH correction.",
        target="pynomaly_core.builtin.ks_drift:KSDrift",
        params={"alpha": 0.05, "correction": "holm"},
    ))
    register(DriftTestSpec(
        name="mmd",
        summary="Kernel MMD two-sample test (Gaussian kernel, median bandwidth) with a permutation p-value.",
        target="pynomaly_core.builtin.mmd_drift:MMDDrift",
        params={"alpha": 0.05, "n_permutations": 200, "bandwidth": None, "random_state": 0},
        capabilities={"deterministic_with_seed"},
    ))


@hookimpl
def register_explainers(register):
    register(ExplainerSpec(
        name="permutation",
        summary="Occlusion attribution: score drop when a feature is replaced by background values.",
        target="pynomaly_core.builtin.permutation:PermutationExplainer",
        params={"n_repeats": 10, "random_state": 0},
        capabilities={"deterministic_with_seed"},
    ))
