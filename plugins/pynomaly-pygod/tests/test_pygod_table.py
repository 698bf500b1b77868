"""Registration (light, complete) and the static table against the installed PyGOD."""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path

import pytest
from pynomaly_pygod.catalog import MISSING, MODELS, PYGOD_VERSION

from pynomaly_core.registry import get_registry
from pynomaly_core.testing import check_registration_is_light
from pynomaly_core.testing.checks import check_spec_matches_signature

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "generate_table.py"


def _generator():
    spec = importlib.util.spec_from_file_location("pygod_generate_table", TOOLS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_registration_imports_no_framework():
    check_registration_is_light("pygod")


def test_every_model_is_a_registered_graph_detector():
    registry = get_registry()
    names = {spec.qualified_name for spec in registry.detectors(plugin="pygod")}
    assert names == {model.qualified_name for model in MODELS}
    assert all(spec.data_kinds == frozenset({"graph"}) for spec in registry.detectors(plugin="pygod"))
    assert {spec.qualified_name for spec in registry.loaders() if spec.plugin == "pygod"} == {
        "pygod.graph_npz", "pygod.edgelist_csv"}


def test_issue_detectors_are_registered_or_explained():
    wanted = {"DOMINANT", "AnomalyDAE", "CoLA", "CONAD", "GAE", "GUIDE", "OCGNN", "Radar", "ANOMALOUS", "SCAN",
              "DONE", "AdONE", "GAAN", "DMGD", "GADNR", "CARD", "ONE"}
    registered = {model.adapter for model in MODELS}
    assert registered | set(MISSING) == wanted and not registered & set(MISSING)
    assert set(MISSING) == {"CARD", "GADNR"}


def test_committed_table_is_what_the_generator_writes_for_the_installed_pygod():
    generator = _generator()
    expected = generator.render(*generator.build_rows())
    assert generator.TABLE.read_text() == expected, "stale table: run plugins/pynomaly-pygod/tools/generate_table.py"


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_parameters_and_defaults_are_pygods(model):
    import pygod
    import torch

    assert pygod.__version__ == PYGOD_VERSION
    module_name, _, class_name = model.pygod_class.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    signature = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                 if name != "self" and p.kind is not p.VAR_KEYWORD}
    assert list(signature) == [name for name in model.params if name != "random_state"]
    for name, default in signature.items():
        if name == "act":
            assert getattr(torch.nn.functional, model.params[name]) is default
        elif name == "backbone" and default is not None:
            assert default.__name__ == model.params[name]
        else:
            assert json.dumps(model.params[name]) == json.dumps(default), name
    assert ("random_state" in model.params) == (model.adapter != "SCAN")


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_spec_matches_adapter_signature(model):
    check_spec_matches_signature(model.qualified_name)
