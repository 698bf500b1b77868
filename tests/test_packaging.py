"""The packaging policy of the repository's distributions (docs/writing-a-plugin.md, "Packaging")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_PROJECTS = sorted([*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("pynomaly-*/pyproject.toml")])


def project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.parametrize("path", PLUGIN_PROJECTS, ids=lambda p: p.parent.name)
def test_no_plugin_declares_the_core(path):
    """A declared ``pynomaly`` could be resolved to the unrelated PyPI project of that name."""
    names = {requirement_name(r) for r in project(path).get("dependencies", [])}
    assert "pynomaly" not in names
    assert "docs/writing-a-plugin.md" in path.read_text()  # the policy is stated where the question arises


def test_every_plugin_is_an_extra_of_the_core_and_part_of_all():
    extras = project(ROOT / "pyproject.toml")["optional-dependencies"]
    plugins = {project(p)["name"] for p in PLUGIN_PROJECTS}
    offered = {requirement_name(r) for name, reqs in extras.items() if name != "all" for r in reqs}
    assert plugins <= offered
    assert plugins <= {requirement_name(r) for r in extras["all"]}


def test_plugins_release_in_lockstep_with_the_core():
    version = project(ROOT / "pyproject.toml")["version"]
    assert {project(p)["version"] for p in PLUGIN_PROJECTS} == {version}
