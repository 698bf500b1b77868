"""The CLI finds the JAX detectors through the entry point and reports one-line errors (shared checks: the deep
kit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynomaly_core.testing import deep_checks as kit

REPO = Path(__file__).resolve().parents[2]
CARDIO = REPO / "examples" / "data" / "cardio.npz"
cli = kit.subprocess_cli(REPO)


def test_detect_with_the_autoencoder_prints_json():
    kit.check_detect_with_the_autoencoder_prints_json(cli, "jax.autoencoder", CARDIO, rows=1831)


def test_unavailable_device_is_a_one_line_error():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is visible")
    kit.check_unavailable_device_is_a_one_line_error(cli, "jax.autoencoder", CARDIO, "no CUDA device")


def test_detectors_list_shows_the_jax_detectors_and_drift_test():
    kit.check_detectors_list_shows_the_detectors(cli, {"jax.autoencoder", "jax.vae", "jax.deep_svdd"})
