"""The river detectors score exactly like river called directly on the same stream; registration imports no river;
models are saved with pickle behind trust=True."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from river import anomaly, neighbors, optim, stats

from pynomaly_core.errors import InputError, UntrustedArtefactError
from pynomaly_core.online import prequential
from pynomaly_core.persistence import load
from pynomaly_core.registry import get_registry
from pynomaly_core.sdk import create_detector
from pynomaly_core.testing import HEAVY_MODULES, check_registration_is_light


class PerFeature:
    """river's univariate (supervised) scorers fed one feature each as ``y``, scores aggregated: what the
    plugin's wrappers promise, built from river directly."""

    def __init__(self, make, n_features, aggregate=np.max):
        self.models = [make() for _ in range(n_features)]
        self.aggregate = aggregate

    def learn_one(self, x):
        for j, model in enumerate(self.models):
            model.learn_one(None, x[j])

    def score_one(self, x):
        try:
            return float(self.aggregate([model.score_one(None, x[j]) for j, model in enumerate(self.models)]))
        except TypeError:  # SAD with a running median cannot score before its first value: the plugin gives 0
            assert all(model.sub_stat.get() is None for model in self.models)
            return 0.0


#: (pynomaly name, its parameters, the river model they stand for)
CASES = {
    "hst": ("river.half_space_trees", {"seed": 7}, lambda d: anomaly.HalfSpaceTrees(seed=7)),
    "hst-small": ("river.half_space_trees", {"n_trees": 3, "height": 4, "window_size": 30, "seed": 1,
                                             "limits": [[0, 1], [0, 2], [-1, 1]]},
                  lambda d: anomaly.HalfSpaceTrees(n_trees=3, height=4, window_size=30, seed=1,
                                                   limits={0: (0, 1), 1: (0, 2), 2: (-1, 1)})),
    "ocsvm": ("river.one_class_svm", {}, lambda d: anomaly.OneClassSVM()),
    "ocsvm-nu": ("river.one_class_svm", {"nu": 0.3, "learning_rate": 0.05, "intercept_lr": 0.1},
                 lambda d: anomaly.OneClassSVM(nu=0.3, optimizer=optim.SGD(0.05),
                                               intercept_lr=0.1)),
    "lof": ("river.local_outlier_factor", {}, lambda d: anomaly.LocalOutlierFactor()),
    "lof-window": ("river.local_outlier_factor", {"n_neighbors": 5, "window_size": 60},
                   lambda d: anomaly.LocalOutlierFactor(n_neighbors=5, engine=neighbors.LazySearch(window_size=60))),
    "loda": ("river.loda", {"seed": 3}, lambda d: anomaly.LODA(seed=3)),
    "loda-small": ("river.loda", {"seed": 4, "n_bins": 5, "n_random_cuts": 7},
                   lambda d: anomaly.LODA(seed=4, n_bins=5, n_random_cuts=7)),
    "gaussian": ("river.gaussian_scorer", {"grace_period": 20},
                 lambda d: PerFeature(lambda: anomaly.GaussianScorer(grace_period=20), d)),
    "gaussian-window": ("river.gaussian_scorer", {"window_size": 50, "grace_period": 10, "aggregate": "mean"},
                        lambda d: PerFeature(lambda: anomaly.GaussianScorer(window_size=50, grace_period=10), d,
                                             np.mean)),
    "sad": ("river.standard_absolute_deviation", {},
            lambda d: PerFeature(anomaly.StandardAbsoluteDeviation, d)),
    "sad-median": ("river.standard_absolute_deviation", {"sub_stat": "median", "aggregate": "sum"},
                   lambda d: PerFeature(lambda: anomaly.StandardAbsoluteDeviation(sub_stat=stats.Quantile(0.5)), d,
                                        np.sum)),
}


def river_prequential(model, X):
    scores = []
    for row in X.tolist():
        x = dict(enumerate(row))
        scores.append(model.score_one(x))
        model.learn_one(x)
    return np.array(scores, dtype=np.float64)


def river_learn(model, X):
    for row in X.tolist():
        model.learn_one(dict(enumerate(row)))
    return model


def river_score(model, X):
    return np.array([model.score_one(dict(enumerate(row))) for row in X.tolist()], dtype=np.float64)


@pytest.fixture(params=sorted(CASES))
def case(request):
    return CASES[request.param]


def test_prequential_scores_are_rivers(case, stream):
    name, params, river_model = case
    np.testing.assert_array_equal(prequential(create_detector(name, **params), stream),
                                  river_prequential(river_model(stream.shape[1]), stream))


def test_micro_batches_are_scored_with_rivers_model_before_the_batch(case, stream):
    name, params, river_model = case
    model = river_model(stream.shape[1])
    expected = []
    for start in range(0, stream.shape[0], 64):
        batch = stream[start:start + 64]
        expected.append(river_score(model, batch))
        river_learn(model, batch)
    np.testing.assert_array_equal(prequential(create_detector(name, **params), stream, batch_size=64),
                                  np.concatenate(expected))


def test_learn_and_score_one_and_many_are_rivers(case, stream):
    name, params, river_model = case
    model = river_learn(river_model(stream.shape[1]), stream[:300])
    expected = river_score(model, stream[300:])
    many = create_detector(name, **params).learn_many(stream[:300])
    np.testing.assert_array_equal(many.score_many(stream[300:]), expected)
    one = create_detector(name, **params)
    for row in stream[:300]:
        one.learn_one({j: value for j, value in enumerate(row)})
    np.testing.assert_array_equal(np.array([one.score_one(row) for row in stream[300:]]), expected)
    fitted = create_detector(name, **params).fit(stream[:300])
    np.testing.assert_array_equal(fitted.decision_function(stream[300:]), expected)
    np.testing.assert_array_equal(fitted.decision_scores_, river_score(model, stream[:300]))


def test_feature_names_do_not_change_what_river_sees(case, stream):
    pd = pytest.importorskip("pandas")
    name, params, river_model = case
    frame = pd.DataFrame(stream, columns=["z", "a", "m"])
    model = river_learn(river_model(stream.shape[1]), stream[:300])
    detector = create_detector(name, **params).fit(frame.iloc[:300])
    np.testing.assert_array_equal(detector.decision_function(frame.iloc[300:]), river_score(model, stream[300:]))
    row = stream[300]
    assert detector.score_one({"a": row[1], "m": row[2], "z": row[0]}) == river_score(model, stream[300:301])[0]


def test_saved_models_are_pickles_that_need_trust(case, stream, tmp_path):
    name, params, _ = case
    detector = create_detector(name, **params).fit(stream[:200])
    path = detector.save(tmp_path / "model")
    manifest = json.loads((path / "manifest.json").read_text())
    assert {entry["format"] for entry in manifest["artefacts"].values()} == {"npz", "pickle"}
    with pytest.raises(UntrustedArtefactError):
        load(path)
    with pytest.raises(UntrustedArtefactError):
        type(detector)(**params)._load_artefacts(path, {k: v["format"] for k, v in manifest["artefacts"].items()},
                                                 trust=False)
    restored = load(path, trust=True)
    np.testing.assert_array_equal(restored.decision_function(stream[200:]), detector.decision_function(stream[200:]))
    restored.learn_many(stream[200:300])
    detector.learn_many(stream[200:300])
    np.testing.assert_array_equal(restored.score_many(stream[300:]), detector.score_many(stream[300:]))
    assert restored.n_learned_ == detector.n_learned_ == 300


def test_every_numeric_river_anomaly_detector_is_offered():
    offered = {spec.load().river_class for spec in get_registry().detectors(plugin="river")}
    not_detectors = {anomaly.ThresholdFilter, anomaly.QuantileFilter}  # filters: see test_river_filters
    # PredictiveAnomalyDetection wraps a forecasting model given as an object, not numeric features
    left_out = {anomaly.PredictiveAnomalyDetection}
    assert {getattr(anomaly, n) for n in anomaly.__all__} - not_detectors - left_out == offered


def test_specs_name_river_classes_as_strings_with_json_defaults():
    for spec in get_registry().detectors(plugin="river"):
        assert spec.target.startswith("pynomaly_river.detectors:")
        assert {"online", "partial_fit", "pickle_save"} <= spec.capabilities and "save" not in spec.capabilities
        json.dumps(dict(spec.params))


def test_registration_imports_no_river():
    check_registration_is_light("river")
    heavy = (*HEAVY_MODULES, "river")
    code = (
        "import json, sys\n"
        "from pynomaly_core.registry import get_registry\n"
        "import pynomaly_river\n"
        "names = [s.qualified_name for s in get_registry().detectors(plugin='river')]\n"
        "get_registry().detector('river.half_space_trees')\n"
        f"print(json.dumps({{'names': names, 'heavy': sorted(m for m in {heavy!r} if m in sys.modules)}}))\n"
    )
    env = dict(os.environ, PYNOMALY_LOAD_PLUGINS="river")
    env.pop("PYNOMALY_DISABLE_PLUGINS", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["names"]) == 6 and result["heavy"] == []


def test_bad_parameters_are_input_errors(stream):
    for name, params, match in [
        ("river.half_space_trees", {"limits": [[0, 1]]}, "limits"),
        ("river.half_space_trees", {"limits": {"9": [0, 1]}}, "column"),
        ("river.half_space_trees", {"limits": "unit"}, "limits"),
        ("river.gaussian_scorer", {"aggregate": "median"}, "aggregate"),
        ("river.standard_absolute_deviation", {"sub_stat": "mode"}, "sub_stat"),
    ]:
        with pytest.raises(InputError, match=match):
            create_detector(name, **params).fit(stream)
