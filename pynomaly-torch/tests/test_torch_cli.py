"""The CLI finds the torch detectors through the entry point and reports one-line errors (shared checks: the
deep kit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynomaly_core.testing import deep_checks as kit

REPO = Path(__file__).resolve().parents[2]
CARDIO = REPO / "examples" / "data" / "cardio.npz"
cli = kit.subprocess_cli(REPO)


def test_detect_with_the_autoencoder_prints_json():
    out, summary = kit.check_detect_with_the_autoencoder_prints_json(cli, "torch.autoencoder", CARDIO, rows=1831)
    assert summary["params"]["verbose"] is True and "3/3" in out.err  # the CLI shows the training progress bar


def test_the_progress_bar_can_be_turned_off(tmp_path):
    out = cli("train", str(CARDIO), "-d", "torch.deep_svdd", "--param", "epochs=2", "--param", "verbose=false",
              "-o", str(tmp_path / "model"))
    assert out.code == 0, out.err
    assert "2/2" not in out.err and "trained" in out.out


def test_unavailable_device_is_a_one_line_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    kit.check_unavailable_device_is_a_one_line_error(cli, "torch.autoencoder", CARDIO, "no CUDA device")


def test_detectors_list_shows_the_torch_detectors():
    kit.check_detectors_list_shows_the_detectors(cli, {"torch.autoencoder", "torch.vae", "torch.deep_svdd"})
