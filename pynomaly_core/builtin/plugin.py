"""Entry point of the built-in plugin. Imports nothing but specs: the code loads when an object is created."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import ConnectorSpec, DetectorSpec, DriftTestSpec, ExplainerSpec, LoaderSpec
from pynomaly_core.timeseries.registration import register_timeseries_detectors

_SAFE = {"save", "deterministic_with_seed"}
#: Roles of the built-in detectors in the default ensemble and AutoML's pool (chosen in benchmarks/bench_defaults.py).
_MEMBER = {"default_ensemble": {}, "automl": {}}


@hookimpl
def register_detectors(register):
    register(DetectorSpec(
        name="ecod",
        summary="Empirical-CDF outlier detection: tail probabilities per feature (Li et al., 2022).",
        target="pynomaly_core.builtin.ecod:ECOD",
        params={"contamination": 0.1, "combine": "per_feature", "n_jobs": None},
        capabilities=_SAFE | {"mergeable"},
        presets=_MEMBER,
    ))
    register(DetectorSpec(
        name="hbos",
        summary="Histogram-based outlier score with static equal-width bins (Goldstein & Dengel, 2012).",
        target="pynomaly_core.builtin.hbos:HBOS",
        params={"n_bins": 10, "alpha": 0.1, "tol": 0.5, "contamination": 0.1},
        capabilities=_SAFE | {"mergeable"},
        presets=_MEMBER,
        search_space={"n_bins": [5, 20, 50]},
    ))
    register(DetectorSpec(
        name="robust_zscore",
        summary="Modified z-score: distance from the median in MAD units, aggregated over features.",
        target="pynomaly_core.builtin.robust_zscore:RobustZScore",
        params={"aggregate": "max", "contamination": 0.1},
        capabilities=_SAFE,
        presets=_MEMBER,
        search_space={"aggregate": ["mean"]},
    ))
    register(DetectorSpec(
        name="mahalanobis",
        summary="Squared Mahalanobis distance under a shrunk covariance; exact incremental updates.",
        target="pynomaly_core.builtin.mahalanobis:Mahalanobis",
        params={"shrinkage": 0.01, "contamination": 0.1},
        capabilities=_SAFE | {"partial_fit", "mergeable"},
        presets=_MEMBER,
    ))
    register(DetectorSpec(
        name="ensemble",
        summary="Any registered detectors combined: z-score/rank/min-max normalisation, average/max/AOM/MOA.",
        target="pynomaly_core.builtin.ensemble:Ensemble",
        params={"detectors": None, "normalization": "zscore", "combination": "average", "n_buckets": 2,
                "contamination": 0.1, "random_state": None},
        capabilities=_SAFE,
        search_space={"normalization": ["rank"], "combination": ["maximum", "aom"]},
    ))
    register(DetectorSpec(
        name="half_space_trees",
        summary="Half-Space Trees (Tan, Ting & Liu, 2011), online: river's trees and scores, vectorised over records.",
        target="pynomaly_core.builtin.half_space_trees:HalfSpaceTrees",
        params={"n_trees": 10, "height": 8, "window_size": 250, "limits": "first_window", "random_state": None,
                "contamination": 0.1},
        capabilities=_SAFE | {"partial_fit", "online", "mergeable"},
    ))
    register(DetectorSpec(
        name="streaming_zscore",
        summary="Online robust z-score: median and MAD per feature over a sliding window of recent records.",
        target="pynomaly_core.builtin.streaming_zscore:StreamingZScore",
        params={"window_size": 1000, "aggregate": "max", "contamination": 0.1},
        capabilities=_SAFE | {"partial_fit", "online"},
    ))
    register(DetectorSpec(
        name="decayed_hbos",
        summary="Online HBOS: fixed-edge histograms whose counts decay per record, so old data is forgotten.",
        target="pynomaly_core.builtin.decayed_hbos:DecayedHBOS",
        params={"n_bins": 10, "alpha": 0.1, "tol": 0.5, "decay": 0.001, "limits": None, "init_size": 256,
                "contamination": 0.1},
        capabilities=_SAFE | {"partial_fit", "online", "mergeable"},
    ))
    register_timeseries_detectors(register)


@hookimpl
def register_loaders(register):
    table = {"columns": None, "labels": None, "categorical": "auto", "encoding": "onehot", "missing": "error"}
    register(LoaderSpec(
        name="csv",
        summary="CSV: header/delimiter detection, column selection, labels, categoricals, missing-value policy.",
        target="pynomaly_core.builtin.loaders:load_csv",
        iter_target="pynomaly_core.builtin.loaders:iter_csv",
        params={**table, "delimiter": None, "header": None},
        suffixes=(".csv", ".tsv", ".txt"),
    ))
    register(LoaderSpec(
        name="jsonl",
        summary="JSON Lines: one object per line, keys are columns; categoricals and missing-value policy.",
        target="pynomaly_core.builtin.loaders:load_jsonl",
        iter_target="pynomaly_core.builtin.loaders:iter_jsonl",
        params=table,
        suffixes=(".jsonl", ".ndjson"),
    ))
    register(LoaderSpec(
        name="npy",
        summary="A 2-D numeric NumPy array file (no pickle); batches are memory-mapped.",
        target="pynomaly_core.builtin.loaders:load_npy",
        iter_target="pynomaly_core.builtin.loaders:iter_npy",
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
    register(DriftTestSpec(
        name="chi2",
        summary="Pearson chi-squared test per column: categories as they are, numeric columns binned at quantiles.",
        target="pynomaly_core.builtin.chi2_drift:ChiSquaredDrift",
        params={"alpha": 0.05, "correction": "holm", "categorical": "auto", "n_bins": 10, "max_categories": 50},
    ))
    register(DriftTestSpec(
        name="psi",
        summary="Population stability index per column (0.1/0.25 bands) with a chi-squared p-value.",
        target="pynomaly_core.builtin.psi_drift:PSIDrift",
        params={"alpha": 0.05, "correction": "holm", "n_bins": 10, "categorical": "auto", "max_categories": 50,
                "epsilon": 1e-4},
    ))
    register(DriftTestSpec(
        name="cvm",
        summary="Two-sample Cramer-von Mises test per feature (exact or asymptotic p-value) with correction.",
        target="pynomaly_core.builtin.cvm_drift:CramerVonMisesDrift",
        params={"alpha": 0.05, "correction": "holm"},
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
    register(ExplainerSpec(
        name="surrogate",
        summary="LIME-style local surrogate: kernel-weighted ridge of the score on which features keep their value.",
        target="pynomaly_core.builtin.surrogate:LocalSurrogateExplainer",
        params={"n_samples": 500, "kernel_width": None, "ridge": 1e-3, "random_state": 0},
        capabilities={"deterministic_with_seed"},
    ))
    register(ExplainerSpec(
        name="counterfactual",
        summary="Counterfactual: fewest, smallest feature moves toward the background median that make a row normal.",
        target="pynomaly_core.builtin.counterfactual:CounterfactualExplainer",
        params={"threshold": None, "max_features": None, "tolerance": 1e-3},
    ))


@hookimpl
def register_connectors(register):
    register(ConnectorSpec(
        name="stdio",
        summary="Standard input (JSON Lines, one message per line) as a source, standard output as a sink: URL '-'.",
        target="pynomaly_core.stream.files:StdioConnector",
        schemes=("stdio",),
    ))
    register(ConnectorSpec(
        name="jsonl",
        summary="A JSON Lines file, one message per line; resumable with a checkpoint, can follow a growing file.",
        target="pynomaly_core.stream.files:JsonLinesConnector",
        schemes=("file",),
        suffixes=(".jsonl", ".ndjson"),
        params={"checkpoint": None, "follow": False, "fsync": False},
    ))
