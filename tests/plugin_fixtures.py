"""Helpers that build real (installed-looking) plugin distributions in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def make_distribution(root: Path, dist: str, plugin: str, module_source: str, version: str = "1.0") -> None:
    """Write ``<module>.py`` and a ``.dist-info`` whose entry point ``plugin`` in group ``pynomaly`` names it."""
    module = dist.replace("-", "_")
    (root / f"{module}.py").write_text(module_source)
    info = root / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[pynomaly]\n{plugin} = {module}\n")


def run_cli(args: list[str], path: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    if path is not None:
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), environment.get("PYTHONPATH")]))
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], capture_output=True,
                          text=True, env=environment, timeout=120)


def listing(path: Path | None = None, **env: str) -> dict[str, dict]:
    out = run_cli(["plugins", "list", "--json"], path, **env)
    assert out.returncode == 0, out.stderr
    return {row["name"]: row for row in json.loads(out.stdout)}


GOOD = '''
from pynomaly_core import hookimpl
from pynomaly_core.specs import DetectorSpec

@hookimpl
def register_detectors(register):
    register(DetectorSpec(name="ecod", summary="Another ECOD.", target="pynomaly_core.builtin.ecod:ECOD",
                          params={"contamination": 0.1, "combine": "per_feature", "n_jobs": None}))
    register(DetectorSpec(name="zed", summary="Robust z.", target="pynomaly_core.builtin.robust_zscore:RobustZScore",
                          params={"aggregate": "max", "contamination": 0.1}))
'''

IMPORT_ERROR = "import module_that_does_not_exist\n"

RAISES = '''
from pynomaly_core import hookimpl

@hookimpl
def register_detectors(register):
    raise RuntimeError("boom in hook")
'''
