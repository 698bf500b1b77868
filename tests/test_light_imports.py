"""Listing plugins and importing the core pull in no heavy framework (checked in fresh interpreters)."""

from __future__ import annotations

import json
import subprocess
import sys

from pynomaly_core.testing import HEAVY_MODULES

PROBE = """
import json, runpy, sys
sys.argv = ["pynomaly", "plugins", "list", "--json"]
try:
    runpy.run_module("pynomaly_core.cli.app", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} + ("numpy", "sqlalchemy") if m in sys.modules)), file=sys.stderr)
"""


def test_plugins_list_imports_no_framework_no_numpy_no_sqlalchemy():
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY_MODULES)], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []
    rows = json.loads(out.stdout)
    assert all(row["status"] == "ok" for row in rows), rows


def test_importing_the_core_is_light():
    code = "import sys, pynomaly_core; print(sorted(m for m in ('numpy', 'rich', 'typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_model_registry_package_imports_no_database_library():
    code = ("import sys, pynomaly_core, pynomaly_core.modelstore, pynomaly_core.model_ref, pynomaly_core.cli.app; "
            "from pynomaly_core.modelstore import ModelStore, ModelVersion; "
            "print(sorted(m for m in ('sqlalchemy', 'psycopg', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
