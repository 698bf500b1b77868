"""The CLI finds the TensorFlow detectors through the entry point, stays quiet and reports one-line errors.

One end-to-end run in a fresh process (it checks what TensorFlow's import prints); the other checks run the CLI
in-process, where TensorFlow is already imported (a fresh process costs seconds of TensorFlow start-up each).
The checks every deep backend shares come from :mod:`pynomaly_core.testing.deep_checks`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pynomaly_core.testing import deep_checks as kit

REPO = Path(__file__).resolve().parents[2]
CARDIO = REPO / "examples" / "data" / "cardio.npz"


@pytest.fixture
def cli(pynomaly_cli):
    return pynomaly_cli


def test_detect_with_the_autoencoder_prints_json_and_no_tensorflow_noise():
    out, _ = kit.check_detect_with_the_autoencoder_prints_json(kit.subprocess_cli(REPO), "tf.autoencoder",
                                                               CARDIO.relative_to(REPO), rows=1831)
    assert "oneDNN" not in out.err and "absl::InitializeLog" not in out.err, out.err


def test_unavailable_device_is_a_one_line_error(cli):
    from pynomaly_tf.runtime import tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible")
    kit.check_unavailable_device_is_a_one_line_error(cli, "tf.autoencoder", CARDIO, "TensorFlow sees no GPU")


def test_detectors_list_shows_the_tensorflow_detectors(cli):
    entries = kit.check_detectors_list_shows_the_detectors(cli, {"tf.autoencoder", "tf.vae", "tf.deep_svdd"})
    assert entries["tf.vae"]["params"]["beta"] == 1.0 and "gpu" in entries["tf.autoencoder"]["capabilities"]


def test_importing_after_jax_is_quiet_too():
    """JAX's import sets TF_CPP_MIN_LOG_LEVEL=1: the preambles absl prints for the hidden INFO lines go as well."""
    pytest.importorskip("jax")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", "import jax, pynomaly_tf.runtime"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
