"""The CLI finds the torch detectors through the entry point and reports one-line errors."""

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
    out = _cli("detect", str(CARDIO), "-d", "torch.autoencoder", "--param", "epochs=3", "--param", "random_state=0",
               "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["detector"] == "torch.autoencoder" and summary["params"]["epochs"] == 3
    assert summary["rows"] == 1831 and summary["metrics"]["roc_auc"] > 0.7
    assert summary["params"]["verbose"] is True and "3/3" in out.stderr  # the CLI shows the training progress bar


def test_the_progress_bar_can_be_turned_off(tmp_path):
    out = _cli("train", str(CARDIO), "-d", "torch.deep_svdd", "--param", "epochs=2", "--param", "verbose=false",
               "-o", str(tmp_path / "model"))
    assert out.returncode == 0, out.stderr
    assert "2/2" not in out.stderr and "trained" in out.stdout


def test_unavailable_device_is_a_one_line_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    out = _cli("detect", str(CARDIO), "-d", "torch.autoencoder", "--param", "device=cuda")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "no CUDA device" in out.stderr


def test_detectors_list_shows_the_torch_detectors():
    out = _cli("detectors", "list", "--json")
    assert out.returncode == 0, out.stderr
    names = {entry["name"] for entry in json.loads(out.stdout)}
    assert {"torch.autoencoder", "torch.vae", "torch.deep_svdd"} <= names
