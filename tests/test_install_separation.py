"""Install separation: ``pynomaly[torch]`` from a wheelhouse brings the torch backend and nothing else of ours.

Builds a wheel of every distribution in the repository into a temporary wheelhouse, makes a clean virtual
environment and installs ``pynomaly[torch]`` with ``--no-index --find-links`` (our distributions are never
resolved from the index: the PyPI name ``pynomaly`` is not ours). The heavy third-party packages are reused from the
running environment through a ``.pth`` file pointing at a copy-free view of its site-packages from which every
pynomaly distribution is left out, so no network is needed and the new environment sees none of our editable installs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_PREFIXES = ("pynomaly", "_pynomaly", "_editable_impl_pynomaly", "__editable__.pynomaly")

pytestmark = pytest.mark.slow


def our_projects() -> list[Path]:
    """The root distribution and every plugin/backend directory with a pyproject.toml."""
    found = [ROOT, *sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml")),
             *sorted(p.parent for p in ROOT.glob("pynomaly-*/pyproject.toml"))]
    return found


def build_wheelhouse(target: Path) -> list[str]:
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
           "--wheel-dir", str(target), *map(str, our_projects())]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return sorted(p.name for p in target.glob("*.whl"))


def third_party_view(target: Path) -> Path:
    """A directory of symlinks to the running environment's site-packages, without any pynomaly distribution."""
    target.mkdir()
    site_dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    for site_dir in site_dirs:
        for entry in Path(site_dir).iterdir():
            name = entry.name.lower()
            if name.startswith(OUR_PREFIXES) or name.endswith(".pth") or (target / entry.name).exists():
                continue
            (target / entry.name).symlink_to(entry)
    return target


def make_env(path: Path, view: Path) -> Path:
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    python = path / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "zz_third_party_view.pth").write_text(f"{view}\n")
    return python


def pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    # The pip of the running environment drives the new one (--python), so the new venv needs no pip of its own.
    return subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check",
                           *args], capture_output=True, text=True, timeout=600)


def listed_plugins(env: Path) -> dict[str, str]:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    out = subprocess.run([env / "bin" / "pynomaly", "plugins", "list", "--json"], capture_output=True, text=True,
                         timeout=120, env=run_env, cwd=env)
    assert out.returncode == 0, out.stderr
    return {row["name"]: row["distribution"] for row in json.loads(out.stdout)}


@pytest.fixture(scope="module")
def torch_only_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    base = tmp_path_factory.mktemp("separation")
    wheels = build_wheelhouse(base / "wheelhouse")
    assert any(w.startswith("pynomaly_torch-") for w in wheels), wheels
    env = base / "env"
    python = make_env(env, third_party_view(base / "third-party"))
    done = pip(python, "install", "--no-index", "--find-links", str(base / "wheelhouse"), "pynomaly[torch]")
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def test_torch_extra_installs_the_torch_backend_and_no_other(torch_only_env: Path) -> None:
    plugins = listed_plugins(torch_only_env)
    assert plugins.get("builtin") == "pynomaly"
    assert plugins.get("torch") == "pynomaly-torch"
    assert "tf" not in plugins and "jax" not in plugins
    assert not {"pynomaly-tf", "pynomaly-jax", "pynomaly-sklearn", "pynomaly-pyod"} & set(plugins.values())


def test_our_distributions_come_from_the_wheelhouse(torch_only_env: Path) -> None:
    python = torch_only_env / "bin" / "python"
    shown = pip(python, "list", "--format", "json", "--path",
                subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = {row["name"]: row["version"] for row in json.loads(shown.stdout) if row["name"].startswith("pynomaly")}
    assert ours == {"pynomaly": "0.1.0", "pynomaly-torch": "0.1.0"}


def test_uninstalling_the_backend_removes_it_from_the_listing(torch_only_env: Path) -> None:
    done = pip(torch_only_env / "bin" / "python", "uninstall", "--yes", "pynomaly-torch")
    assert done.returncode == 0, done.stderr
    plugins = listed_plugins(torch_only_env)
    assert "torch" not in plugins
    assert plugins.get("builtin") == "pynomaly"
