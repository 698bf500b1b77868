"""The static model table matches the installed PyOD; registering it stays light.

A PyOD release that adds, drops or changes a model (name, parameters, defaults, optional packages) fails here
until ``tools/generate_table.py`` is rerun and the new table reviewed.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from pynomaly_pyod import _table, catalog

from pynomaly_core.registry import get_registry

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "generate_table.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pynomaly_pyod_generate_table", TOOLS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(generator: ModuleType) -> tuple[list[dict], dict[str, str]]:
    return generator.build()


def test_table_covers_every_model_pyod_ships(generator: ModuleType) -> None:
    shipped = set(generator.discover())
    known = {model.pyod_class for model in catalog.MODELS} | set(catalog.EXCLUDED)
    assert not shipped - known, f"PyOD ships models the table lacks: {sorted(shipped - known)}; rerun the generator"
    assert not known - shipped, f"the table has models PyOD no longer ships: {sorted(known - shipped)}"


def test_table_matches_installed_signatures_and_defaults(generated: tuple[list[dict], dict[str, str]]) -> None:
    rows, excluded = generated
    committed = {row["name"]: row for row in _table.MODELS}
    current = {row["name"]: row for row in rows}
    assert sorted(current) == sorted(committed)
    for name, row in current.items():
        for field, value in row.items():
            assert committed[name][field] == value, (
                f"pyod.{name}: {field} is {committed[name][field]!r} in the table, {value!r} in the installed PyOD"
            )
    assert excluded == _table.EXCLUDED


def test_table_file_is_generator_output(generator: ModuleType, generated: tuple[list[dict], dict[str, str]]) -> None:
    text = generator.render(*generated, version=catalog.PYOD_VERSION)
    assert Path(_table.__file__).read_text() == text, "pynomaly_pyod/_table.py was edited by hand; regenerate it"


def test_source_reading_agrees_with_inspect(generator: ModuleType) -> None:
    """Models whose optional packages are absent are read from source; that reading must match inspect."""
    compared = 0
    for target, node in generator.discover().items():
        by_inspect = generator.signature_inspect(target)
        if by_inspect is None:
            continue
        assert generator.signature_source(target, node) == by_inspect, target
        compared += 1
    assert compared >= 40


def test_parameters_are_pyods_with_json_defaults() -> None:
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN

    for model, cls in ((catalog.get("iforest"), IForest), (catalog.get("knn"), KNN)):
        signature = inspect.signature(cls.__init__).parameters
        assert list(model.params) == [name for name in signature if name != "self"]
        assert all(model.params[name] == p.default for name, p in signature.items() if name != "self")
    vae = catalog.get("vae")
    assert vae.params["logvar_clip"] == [-30.0, 20.0] and vae.tuple_params == ("logvar_clip",)
    assert catalog.get("deep_svdd").required == ("n_features",)
    assert catalog.get("lscp").params["detector_list"] is None
    json.dumps({model.name: dict(model.params) for model in catalog.MODELS}, allow_nan=False)


def test_models_by_kind_and_names() -> None:
    registry = get_registry()
    specs = registry.detectors(plugin="pyod")
    kinds = Counter(next(iter(spec.data_kinds)) for spec in specs)
    assert kinds == {"tabular": 44, "timeseries": 7, "graph": 8}
    names = {spec.qualified_name for spec in specs}
    assert {"pyod.iforest", "pyod.ecod", "pyod.knn", "pyod.auto_encoder", "pyod.pca"} <= names
    assert {spec.qualified_name for spec in registry.detectors(plugin="pyod", data_kind="timeseries")} == {
        f"pyod.{m.name}" for m in catalog.MODELS if m.name.startswith("ts_")}
    assert {spec.qualified_name for spec in registry.detectors(plugin="pyod", data_kind="graph")} == {
        f"pyod.{m.name}" for m in catalog.MODELS if m.name.startswith("pyg_")}
    assert registry.detector("pyod.so_gaal_new").target == "pynomaly_pyod.detectors:SO_GAAL_New"


def test_creating_a_detector_imports_no_pyod() -> None:
    code = (
        "import sys\n"
        "from pynomaly_core import create_detector\n"
        "model = create_detector('pyod.iforest', n_estimators=10)\n"
        "assert type(model).__name__ == 'IForest' and model.n_estimators == 10\n"
        "print(sorted(m for m in ('pyod', 'sklearn', 'torch') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
