"""The SDK functions and their docstring examples."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core.errors import InputError, UnknownNameError

from .conftest import EXAMPLES


@pytest.mark.parametrize("module", ["pynomaly_core", "pynomaly_core.sdk", "pynomaly_core.validation"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_detect_from_path_dataset_and_frame():
    from_path = pn.detect(EXAMPLES / "cardio.npz", "hbos")
    assert from_path.metrics["roc_auc"] > 0.8 and from_path.scores.shape == (1831,)
    dataset = pn.load_data(EXAMPLES / "sensors.csv", labels="label")
    result = pn.detect(dataset, "ecod", contamination=0.02)
    assert result.feature_names == ["temperature", "pressure", "vibration", "current", "humidity"]
    assert result.n_anomalies == 20 and result.metrics["roc_auc"] > 0.85
    assert list(result.model.feature_names_in_) == result.feature_names
    frame = result.to_frame()
    assert list(frame.columns) == ["score", "label"] and len(frame) == 1000
    assert result.summary()["detector"] == "builtin.ecod" and "fit_s" in result.timings
    assert result.top(3).tolist() == np.argsort(-result.scores, kind="mergesort")[:3].tolist()


def test_pandas_frame_keeps_column_names():
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(EXAMPLES / "sensors.csv").drop(columns="label")
    result = pn.detect(frame, "robust_zscore")
    assert result.feature_names == list(frame.columns)


def test_create_and_list():
    assert {s.qualified_name for s in pn.list_detectors(plugin="builtin")} >= {"builtin.ecod", "builtin.hbos"}
    assert all("graph" in s.data_kinds for s in pn.list_detectors(kind="graph"))
    with pytest.raises(InputError, match="unknown parameter"):
        pn.create_detector("ecod", n_neighbors=3)
    with pytest.raises(UnknownNameError):
        pn.create_detector("no_such_detector")
    with pytest.raises(InputError, match="labels have 3 rows but the data has 5"):
        pn.detect(np.ones((5, 2)), y=[0, 1, 0])


def test_lazy_attributes():
    assert pn.__version__ == "0.1.0"
    with pytest.raises(AttributeError):
        pn.does_not_exist  # noqa: B018
    assert "detect" in dir(pn)
