"""`pynomaly plugins new` scaffolds a distribution that installs, is listed and passes its own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .plugin_fixtures import run_cli


def test_scaffolded_plugin_installs_lists_and_passes_its_tests(tmp_path):
    created = run_cli(["plugins", "new", "acme", "--directory", str(tmp_path)])
    assert created.returncode == 0, created.stderr
    root = tmp_path / "pynomaly-acme"
    assert (root / "pyproject.toml").exists() and (root / "tests" / "test_conformance.py").exists()
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(root)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    listing = run_cli(["plugins", "list", "--json"], site)
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["acme"]["status"] == "ok" and rows["acme"]["distribution"] == "pynomaly-acme"
    assert rows["acme"]["detectors"] == 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    env["PYTHONPATH"] = str(site)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "14 passed" in tests.stdout  # one per detector check of the kit, plus registration


def test_scaffold_refuses_bad_names_and_existing_folders(tmp_path):
    bad = run_cli(["plugins", "new", "Bad-Name", "--directory", str(tmp_path)])
    assert bad.returncode == 2 and "must match" in bad.stderr
    assert run_cli(["plugins", "new", "dup", "--directory", str(tmp_path)]).returncode == 0
    again = run_cli(["plugins", "new", "dup", "--directory", str(tmp_path)])
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("name", ["x", "my_plugin2"])
def test_scaffold_names(tmp_path, name):
    from pynomaly_core.scaffold import scaffold_plugin

    root = scaffold_plugin(name, tmp_path)
    assert root.name == f"pynomaly-{name.replace('_', '-')}"
    assert f'{name} = "pynomaly_{name}.plugin"' in (root / "pyproject.toml").read_text()
