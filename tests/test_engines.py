"""``pynomaly score --engine``: engines come from plugins; a missing one is a one-line error naming the extra."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core import create_detector


@pytest.fixture
def model_and_data(tmp_path):
    X = np.random.default_rng(0).normal(size=(50, 2))
    data = tmp_path / "d.csv"
    np.savetxt(data, X, delimiter=",", header="a,b", comments="")
    return create_detector("hbos").fit(X).save(tmp_path / "m"), data


@pytest.mark.parametrize("engine", ["dask", "spark"])
def test_missing_engine_names_the_extra(pynomaly_registry, pynomaly_cli, model_and_data, engine):
    model, data = model_and_data
    code, _, err = pynomaly_cli("score", model, data, "--engine", engine, "-o", "out.parquet")
    assert code == 2
    assert err.strip().count("\n") == 0 and f"pynomaly[{engine}]" in err


def test_unknown_engine_lists_the_known_ones(pynomaly_registry, pynomaly_cli, model_and_data):
    model, data = model_and_data
    code, _, err = pynomaly_cli("score", model, data, "--engine", "ray")
    assert code == 2 and "unknown engine 'ray'" in err and "local" in err


def test_local_engine_is_the_default(pynomaly_registry, pynomaly_cli, model_and_data):
    model, data = model_and_data
    assert pynomaly_cli("score", model, data, "--engine", "local")[0] == 0
