"""The CLI finds the JAX detectors through the entry point and reports one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CARDIO = REPO / "examples" / "data" / "cardio.npz"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_detect_with_the_autoencoder_prints_json():
    out = _cli("detect", str(CARDIO), "-d", "jax.autoencoder", "--param", "epochs=3", "--param", "random_state=0",
               "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["detector"] == "jax.autoencoder" and summary["params"]["epochs"] == 3
    assert summary["rows"] == 1831 and summary["metrics"]["roc_auc"] > 0.7


def test_unavailable_device_is_a_one_line_error():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is visible")
    out = _cli("detect", str(CARDIO), "-d", "jax.autoencoder", "--param", "device=cuda")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "no CUDA device" in out.stderr


def test_detectors_list_shows_the_jax_detectors_and_drift_test():
    out = _cli("detectors", "list", "--json")
    assert out.returncode == 0, out.stderr
    names = {entry["name"] for entry in json.loads(out.stdout)}
    assert {"jax.autoencoder", "jax.vae", "jax.deep_svdd"} <= names
