"""``pynomaly plugins new NAME``: a ready-to-install plugin distribution with one detector and its tests."""

from __future__ import annotations

import re
from pathlib import Path

from pynomaly_core.errors import InputError

_PYPROJECT = '''[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "{dist}"
version = "0.1.0"
description = "A pynomaly plugin: {name}."
requires-python = ">=3.10"
# The core is not listed (pynomaly's packaging policy): the PyPI name "pynomaly" belongs to an unrelated project, so
# a declared `pynomaly` could make an installer fetch that one. Install pynomaly from its source beside this plugin.
dependencies = ["numpy>=1.24"]

[project.entry-points.pynomaly]
{name} = "{package}.plugin"

[tool.hatch.build.targets.wheel]
packages = ["{package}"]
'''

_PLUGIN = '''"""Entry point of the {name} plugin: specs only, so registering it imports no framework."""

from pynomaly_core import hookimpl
from pynomaly_core.specs import DetectorSpec


@hookimpl
def register_detectors(register):
    register(DetectorSpec(
        name="standardized_distance",
        summary="Euclidean distance to the training mean after standardising each feature.",
        target="{package}.detector:StandardizedDistance",
        params={{"contamination": 0.1}},
        capabilities={{"save", "deterministic_with_seed"}},
    ))
'''

_DETECTOR = '''"""A detector following the pynomaly contract: implement _fit, _score and the state for saving."""

import numpy as np

from pynomaly_core.base import BaseDetector


class StandardizedDistance(BaseDetector):
    """Euclidean distance to the training mean, each feature divided by its training standard deviation."""

    qualified_name = "{name}.standardized_distance"

    def __init__(self, contamination: float = 0.1):
        self.contamination = contamination

    def _fit(self, X, y):
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)

    def _score(self, X):
        return np.sqrt((((X - self.mean_) / self.scale_) ** 2).sum(axis=1))

    def _get_state(self):
        return {{"mean": self.mean_, "scale": self.scale_}}

    def _set_state(self, state):
        self.mean_, self.scale_ = state["mean"], state["scale"]
'''

_TESTS = '''"""Conformance of every contribution of the {name} plugin (pynomaly's kit)."""

from pynomaly_core.testing import parametrize_plugin_checks


@parametrize_plugin_checks("{name}")
def test_conformance(check):
    check()
'''

_README = '''# {dist}

A pynomaly plugin. Install it next to pynomaly (`pip install -e .`), then
`pynomaly plugins list` shows `{name}` and `pynomaly detect data.csv --detector {name}.standardized_distance`
uses its detector. `pytest tests` runs pynomaly's conformance kit on it.
'''


def scaffold_plugin(name: str, directory: str | Path = ".") -> Path:
    """Create ``<directory>/pynomaly-<name>`` and return its path; refuses to overwrite anything."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InputError(f"plugin name {name!r} must match [a-z][a-z0-9_]* (it becomes the entry-point name)")
    dist = f"pynomaly-{name.replace('_', '-')}"
    package = f"pynomaly_{name}"
    root = Path(directory) / dist
    if root.exists():
        raise InputError(f"{root} already exists")
    values = {"name": name, "dist": dist, "package": package}
    files = {
        "pyproject.toml": _PYPROJECT,
        f"{package}/__init__.py": '"""The {name} plugin for pynomaly."""\n',
        f"{package}/plugin.py": _PLUGIN,
        f"{package}/detector.py": _DETECTOR,
        "tests/test_conformance.py": _TESTS,
        "README.md": _README,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
    return root
