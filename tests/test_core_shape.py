"""One detection pipeline, public qualified names, and a core that names no plugin: the ensemble's default members
and AutoML's candidates come from the presets the installed plugins declare."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core import hookimpl
from pynomaly_core.automl.candidates import supervised_grid, unsupervised_pool
from pynomaly_core.base import BaseDetector
from pynomaly_core.builtin.ensemble import EnsembleMemberWarning, default_members
from pynomaly_core.builtin.robust_zscore import RobustZScore
from pynomaly_core.errors import InputError, InvalidSpecError
from pynomaly_core.pipeline import fit_detector, qualified_name_of, score_detector
from pynomaly_core.specs import DetectorSpec

from .conftest import EXAMPLES

BUILTIN_MEMBERS = ["builtin.ecod", "builtin.hbos", "builtin.mahalanobis", "builtin.robust_zscore"]


class Unregistered(BaseDetector):
    def __init__(self, contamination: float = 0.1):
        self.contamination = contamination

    def _fit(self, X, y):
        self.mean_ = X.mean(axis=0)

    def _score(self, X):
        return np.abs(X - self.mean_).sum(axis=1)


class Zed(RobustZScore):
    qualified_name = "extra.zed"


class Extra:
    """A plugin that contributes an ensemble member and an AutoML candidate with a search space."""

    @hookimpl
    def register_detectors(self, register):
        register(DetectorSpec(
            name="zed", summary="Robust z by another name.",
            target=f"{__name__}:Zed", params={"aggregate": "max", "contamination": 0.1}, capabilities={"save"},
            presets={"default_ensemble": {"aggregate": "mean"}, "automl": {}},
            search_space={"aggregate": ["sum"]},
        ))
        register(DetectorSpec(
            name="unsaid", summary="Declares no preset.", target=f"{__name__}:Unregistered",
            params={"contamination": 0.1},
        ))


# -- names ------------------------------------------------------------------------------------------------------
def test_qualified_name_is_public_and_found_for_classes_that_do_not_declare_it(pynomaly_registry):
    assert pn.create_detector("hbos").qualified_name == "builtin.hbos"
    assert Unregistered().qualified_name == "" and qualified_name_of(Unregistered()) == "Unregistered"
    pynomaly_registry.add_plugin(Extra(), "extra")
    assert Unregistered().qualified_name == "extra.unsaid" == qualified_name_of(Unregistered())
    assert pn.detect(np.random.default_rng(0).normal(size=(50, 2)), "unsaid").detector == "extra.unsaid"


# -- one pipeline -----------------------------------------------------------------------------------------------
def test_sdk_cli_server_and_streaming_report_the_same_run(cli, tmp_path):
    pytest.importorskip("pynomaly_server")
    from pynomaly_server import service

    dataset = pn.load_data(EXAMPLES / "sensors.csv", labels="label")
    sdk = pn.detect(dataset, "hbos")
    code, out, err = cli("detect", str(EXAMPLES / "sensors.csv"), "--labels", "label", "-d", "hbos", "--json",
                         "--top", "4")
    assert code == 0, err
    from_cli = json.loads(out)
    served, _ = service.detect(dataset.X, "hbos", {}, names=dataset.feature_names, y=dataset.y, top=4)
    expected = sdk.summary(top=4)
    for summary in (from_cli, served):
        for key in ("detector", "rows", "anomalies", "threshold", "metrics", "top"):
            assert summary[key] == expected[key], key
    model_dir = sdk.model.save(tmp_path / "m")
    code, out, err = cli("score", str(model_dir), str(EXAMPLES / "sensors.csv"), "--labels", "label", "--json",
                         "--top", "4", "--batch-rows", "64")
    assert code == 0, err
    streamed = json.loads(out)
    scored = score_detector(sdk.model, dataset).summary(top=4)
    for key in ("detector", "rows", "anomalies", "threshold", "top"):
        assert streamed[key] == scored[key], key
    assert streamed["metrics"] == pytest.approx(scored["metrics"], abs=1e-12)


def test_fit_detector_passes_labels_only_to_supervised_detectors():
    X = np.random.default_rng(0).normal(size=(80, 3))
    y = (np.arange(80) < 8).astype(int)
    result = fit_detector(pn.create_detector("ecod"), X, y)
    assert set(result.metrics) == {"roc_auc", "average_precision"} and result.timings.keys() == {"fit_s"}
    with pytest.raises(InputError, match="labels have 3 rows but the data has 80"):
        fit_detector(pn.create_detector("ecod"), X, y[:3])


# -- presets and the default ensemble ---------------------------------------------------------------------------
def test_core_only_default_ensemble_is_the_builtin_presets_without_warnings(pynomaly_registry, rng):
    assert [m["name"] for m in default_members()] == BUILTIN_MEMBERS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = pn.create_detector("ensemble", random_state=0).fit(rng.normal(size=(200, 4)))
    assert model.member_names_ == BUILTIN_MEMBERS
    assert [c.name for c in unsupervised_pool()] == BUILTIN_MEMBERS


def test_a_plugin_contributes_members_and_candidates_with_their_parameters(pynomaly_registry, rng):
    pynomaly_registry.add_plugin(Extra(), "extra")
    assert default_members()[-1] == {"name": "extra.zed", "params": {"aggregate": "mean"}}
    model = pn.create_detector("ensemble").fit(rng.normal(size=(200, 3)))
    assert model.member_names_ == [*BUILTIN_MEMBERS, "extra.zed"] and model.members_[-1].aggregate == "mean"
    assert "extra.zed" in [c.name for c in unsupervised_pool()]
    labels = [c.label for c in supervised_grid()]
    assert "extra.zed(aggregate='sum')" in labels and "builtin.hbos(n_bins=50)" in labels
    assert "extra.unsaid" not in [c.name for c in unsupervised_pool()]


def test_detectors_show_says_which_members_the_default_resolves_to(cli):
    code, out, _ = cli("detectors", "show", "ensemble", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["params"]["detectors"] is None
    assert shown["resolved_defaults"]["detectors"] == default_members()
    code, out, _ = cli("detectors", "show", "ensemble")
    line = next(line for line in out.splitlines() if line.startswith("detectors"))
    assert line.split("->")[1].split(", ")[0].strip() == "builtin.ecod"
    assert all(m["name"] in line for m in default_members())


def test_default_members_that_cannot_fit_are_left_out_with_a_warning(rng):
    one_row = rng.normal(size=(1, 4))
    with pytest.warns(EnsembleMemberWarning, match="default member .* cannot fit this data, skipped"):
        model = pn.create_detector("ensemble", random_state=0).fit(one_row)
    assert set(BUILTIN_MEMBERS) <= set(model.member_names_)
    assert np.isfinite(model.decision_function(rng.normal(size=(5, 4)))).all()
    with pytest.raises(InputError):  # a member the user names is never dropped
        pn.create_detector("ensemble", detectors=["ecod", "sklearn.lof"]).fit(one_row)


@pytest.mark.parametrize(("fields", "message"), [
    ({"presets": {"fancy": {}}}, "unknown preset 'fancy'"),
    ({"presets": {"automl": {"nope": 1}}}, "preset 'automl' names unknown parameter 'nope'"),
    ({"presets": {"automl": 3}}, "presets must map a role to a dict"),
    ({"search_space": {"k": []}}, r"search_space\['k'\] must be a non-empty list"),
    ({"search_space": {"nope": [1]}}, r"search_space\['nope'\] names unknown parameter 'nope'"),
    ({"search_space": {"k": [object()]}}, "is not JSON-serialisable"),
])
def test_presets_and_search_spaces_are_validated(fields, message):
    with pytest.raises(InvalidSpecError, match=message):
        DetectorSpec(name="d", summary="D.", target="a:b", params={"k": 1}, **fields)


# -- numbers at the ends of the float range ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mahalanobis", "ecod"])
@pytest.mark.parametrize("scale", [1e-300, 1e200, 2.0**1020])
def test_scale_free_detectors_score_the_same_at_any_scale(name, scale, rng):
    X = rng.normal(size=(120, 3)) @ rng.normal(size=(3, 3))
    reference = pn.create_detector(name).fit(X).decision_function(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        scaled = pn.create_detector(name).fit(X * scale).decision_function(X * scale)
    np.testing.assert_allclose(scaled, reference, rtol=1e-9)


def test_hbos_bins_data_spanning_the_whole_float_range(rng):
    top = np.finfo(np.float64).max
    X = np.column_stack([rng.choice([-top, top, 0.0], size=50), rng.normal(size=50)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = pn.create_detector("hbos").fit(X)
        scores = model.decision_function(np.vstack([X, [[top, 50.0]]]))
    assert np.isfinite(scores).all() and scores[-1] == scores.max()


# -- column labels keep their type -------------------------------------------------------------------------------
def test_columns_are_compared_by_label_and_type(tmp_path):
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).normal(size=(60, 3))
    fitted = pd.DataFrame(X, columns=[1, "1", "x"])
    swapped = pd.DataFrame(X, columns=["1", 1, "x"])
    model = pn.create_detector("hbos").fit(fitted)
    with pytest.raises(InputError, match=r"columns \['1', 1, 'x'\] differ from the fitted columns \[1, '1', 'x'\]"):
        model.decision_function(swapped)
    restored = pn.load(model.save(tmp_path / "m"))
    assert list(restored.feature_names_in_) == [1, "1", "x"]
    np.testing.assert_array_equal(restored.decision_function(fitted), model.decision_function(fitted))
    with pytest.raises(InputError, match="differ from the fitted columns"):
        restored.decision_function(swapped)
