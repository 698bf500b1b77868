"""The built-in ``ensemble``: its numbers equal the members' normalised and combined scores, persistence, names."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import pynomaly_core as pn
from pynomaly_core.builtin.ensemble import (
    EnsembleMemberWarning,
    combine,
    fit_normalization,
    normalize,
)
from pynomaly_core.errors import InputError, UntrustedArtefactError
from pynomaly_core.metrics import roc_auc
from pynomaly_core.testing import check_detector

from .eval_support import run_cli

CORE = ["ecod", "hbos", "mahalanobis"]


@pytest.fixture
def data(rng):
    train = rng.normal(size=(400, 5))
    test = rng.normal(size=(100, 5))
    test[:5] += 6
    return train, test


@pytest.mark.parametrize(("normalization", "combination"),
                         [("zscore", "average"), ("rank", "maximum"), ("minmax", "aom"), ("rank", "moa")])
def test_conformance_of_each_configuration(normalization, combination):
    check_detector("builtin.ensemble", detectors=CORE, normalization=normalization, combination=combination)


def _manual(train, test, normalization):
    """Members fitted by hand and normalised with statistics of their training scores."""
    members = [pn.create_detector(n).fit(train) for n in CORE]
    out = []
    for member in members:
        fitted, scores = member.decision_scores_, member.decision_function(test)
        if normalization == "zscore":
            out.append((scores - fitted.mean()) / fitted.std())
        elif normalization == "minmax":
            out.append((scores - fitted.min()) / (fitted.max() - fitted.min()))
        else:  # empirical CDF with mid-ranks: (#below + #at-or-below) / 2n
            out.append(np.array([((fitted < s).sum() + (fitted <= s).sum()) / (2 * fitted.size) for s in scores]))
    return np.column_stack(out)


@pytest.mark.parametrize("normalization", ["zscore", "rank", "minmax"])
def test_scores_equal_manual_normalisation_and_average(data, normalization):
    train, test = data
    model = pn.create_detector("ensemble", detectors=CORE, normalization=normalization).fit(train)
    expected = _manual(train, test, normalization)
    np.testing.assert_allclose(model.decision_function(test), expected.mean(axis=1), rtol=1e-12, atol=1e-12)
    ranked = pn.create_detector("ensemble", detectors=CORE, normalization=normalization, combination="maximum")
    np.testing.assert_allclose(ranked.fit(train).decision_function(test), expected.max(axis=1), rtol=1e-12,
                               atol=1e-12)
    assert model.member_names_ == ["builtin.ecod", "builtin.hbos", "builtin.mahalanobis"]
    assert model.threshold_ == pytest.approx(np.percentile(model.decision_scores_, 90))


def test_aom_and_moa_follow_the_bucket_assignment(data):
    train, test = data
    for combination in ("aom", "moa"):
        model = pn.create_detector("ensemble", detectors=CORE, combination=combination, n_buckets=2,
                                   random_state=3).fit(train)
        matrix = _manual(train, test, "zscore")
        groups = [matrix[:, model.buckets_ == b] for b in (0, 1)]
        assert sorted(g.shape[1] for g in groups) == [1, 2]
        if combination == "aom":
            expected = np.mean([g.max(axis=1) for g in groups], axis=0)
        else:
            expected = np.max([g.mean(axis=1) for g in groups], axis=0)
        np.testing.assert_allclose(model.decision_function(test), expected, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=st.floats(-1e3, 1e3)))
def test_combinations_are_bounded_by_min_and_max(matrix):
    buckets = np.arange(matrix.shape[1]) % 2
    low, high = matrix.min(axis=1) - 1e-9, matrix.max(axis=1) + 1e-9
    for method in ("average", "maximum", "aom", "moa"):
        combined = combine(matrix, method, buckets)
        assert np.all(combined >= low) and np.all(combined <= high)
    np.testing.assert_allclose(combine(matrix, "aom", np.zeros(matrix.shape[1], int)), matrix.max(axis=1))
    np.testing.assert_allclose(combine(matrix, "moa", np.zeros(matrix.shape[1], int)), matrix.mean(axis=1))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(2, 50), elements=st.floats(-100, 100)))
def test_rank_normalisation_is_monotone_and_in_unit_interval(scores):
    stats = fit_normalization(scores, "rank")
    mapped = normalize(np.sort(scores), "rank", stats)
    assert np.all(np.diff(mapped) >= 0) and mapped.min() > 0 and mapped.max() <= 1
    assert normalize(np.array([scores.max() + 1]), "rank", stats)[0] == 1.0


def test_constant_member_scores_do_not_divide_by_zero():
    stats = fit_normalization(np.full(10, 3.0), "zscore")
    assert normalize(np.array([3.0, 4.0]), "zscore", stats).tolist() == [0.0, 1.0]


def test_optional_member_missing_is_skipped_with_a_warning(data):
    train, _ = data
    with pytest.warns(EnsembleMemberWarning, match="optional member 'nosuch.detector' is not installed"):
        model = pn.create_detector("ensemble", detectors=["ecod", {"name": "nosuch.detector", "optional": True}])
        model.fit(train)
    assert model.member_names_ == ["builtin.ecod"]
    with pytest.raises(InputError, match=r"detectors\[1\]: unknown detector 'nosuch.detector'"):
        pn.create_detector("ensemble", detectors=["ecod", "nosuch.detector"]).fit(train)


@pytest.mark.parametrize(("params", "message"), [
    ({"normalization": "softmax"}, "normalization must be one of zscore, rank, minmax"),
    ({"combination": "median"}, "combination must be one of"),
    ({"detectors": []}, "non-empty list"),
    ({"detectors": ["ensemble"]}, "cannot be an ensemble itself"),
    ({"detectors": [{"name": "ecod", "params": 3}]}, r"detectors\[0\] may only have keys"),
    ({"detectors": [{"name": "hbos", "params": {"n_bins": 5, "oops": 1}}]}, "unknown parameter"),
    ({"detectors": CORE, "n_buckets": 0}, "n_buckets must be a positive integer"),
])
def test_bad_parameters_are_one_line_errors(data, params, message):
    with pytest.raises(InputError, match=message):
        pn.create_detector("ensemble", **params).fit(data[0])


def test_member_params_and_random_state_reach_the_members(data):
    train, _ = data
    model = pn.create_detector("ensemble", detectors=[{"name": "hbos", "params": {"n_bins": 7}},
                                                      "sklearn.iforest"], random_state=5).fit(train)
    assert model.members_[0].n_bins == 7
    assert model.members_[1].random_state == 5


def test_save_load_with_a_pickled_member_needs_trust(data, tmp_path):
    train, test = data
    model = pn.create_detector("ensemble", detectors=["ecod", "sklearn.iforest"], random_state=0).fit(train)
    path = model.save(tmp_path / "model")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["detector"] == "builtin.ensemble"
    assert sorted(manifest["artefacts"]) == ["ensemble.npz", "members.json"]
    with pytest.raises(UntrustedArtefactError):
        pn.load(path)
    restored = pn.load(path, trust=True)
    np.testing.assert_array_equal(restored.decision_function(test), model.decision_function(test))
    # a modified member manifest is refused even though the ensemble's own files are intact
    member_manifest = path / "member_0" / "manifest.json"
    member_manifest.write_text(member_manifest.read_text().replace('"threshold"', '"threshold" '))
    with pytest.raises(Exception, match="sha256 mismatch"):
        pn.load(path, trust=True)


def test_default_ensemble_beats_its_weakest_member_on_cardio(cardio):
    from pynomaly_core.evaluation import stratified_split

    X, y = cardio
    train, test = stratified_split(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pn.create_detector("ensemble", random_state=0).fit(X[train])
    aucs = [roc_auc(y[test], m.decision_function(X[test])) for m in model.members_]
    ensemble_auc = roc_auc(y[test], model.decision_function(X[test]))
    assert ensemble_auc > min(aucs) + 0.02
    assert ensemble_auc > np.mean(aucs)


def test_usable_by_name_in_detect_and_cli(tmp_path):
    from .conftest import EXAMPLES

    result = pn.detect(EXAMPLES / "cardio.npz", detector="ensemble", detectors=CORE)
    assert result.metrics["roc_auc"] > 0.85
    run = run_cli("detect", str(EXAMPLES / "cardio.npz"), "-d", "ensemble", "-p", 'detectors=["ecod","hbos"]',
                  "-p", "normalization=rank", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["detector"] == "builtin.ensemble" and summary["params"]["normalization"] == "rank"
    expected = pn.detect(EXAMPLES / "cardio.npz", detector="ensemble", detectors=["ecod", "hbos"],
                         normalization="rank").metrics["roc_auc"]
    assert summary["metrics"]["roc_auc"] == pytest.approx(expected, abs=1e-12)


def test_core_only_default_is_the_builtin_members(data):
    """With no plugin installed the default ensemble is the core's own members (the detectors whose specs declare
    the default_ensemble preset), with no warning: the core names no plugin's detector."""
    import pynomaly_core.builtin.plugin as builtin_plugin
    from pynomaly_core.automl.candidates import unsupervised_pool
    from pynomaly_core.registry import Registry, set_registry

    core_only = Registry()
    core_only.add_plugin(builtin_plugin, "builtin")
    previous = set_registry(core_only)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = pn.create_detector("ensemble", random_state=0).fit(data[0])
        assert model.member_names_ == ["builtin.ecod", "builtin.hbos", "builtin.mahalanobis",
                                       "builtin.robust_zscore"]
        assert not [w for w in caught if w.category is EnsembleMemberWarning]
        assert [c.name for c in unsupervised_pool()] == model.member_names_
    finally:
        set_registry(previous)
