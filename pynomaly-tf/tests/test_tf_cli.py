"""The CLI finds the TensorFlow detectors through the entry point, stays quiet and reports one-line errors.

One end-to-end run in a fresh process (it checks what TensorFlow's import prints); the other checks run the CLI
in-process, where TensorFlow is already imported (a fresh process costs seconds of TensorFlow start-up each).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pynomaly_core.cli.app import main

REPO = Path(__file__).resolve().parents[2]
CARDIO = REPO / "examples" / "data" / "cardio.npz"


@pytest.fixture
def cli(capsys):
    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        captured = capsys.readouterr()
        return info.value.code or 0, captured.out, captured.err

    return run


def test_detect_with_the_autoencoder_prints_json_and_no_tensorflow_noise():
    out = subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", "detect", str(CARDIO.relative_to(REPO)),
                          "-d", "tf.autoencoder", "--param", "epochs=3", "--param", "random_state=0", "--json"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["detector"] == "tf.autoencoder" and summary["params"]["epochs"] == 3
    assert summary["rows"] == 1831 and summary["metrics"]["roc_auc"] > 0.7
    assert "oneDNN" not in out.stderr and "absl::InitializeLog" not in out.stderr, out.stderr


def test_unavailable_device_is_a_one_line_error(cli):
    from pynomaly_tf.runtime import tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a GPU is visible")
    code, _, err = cli("detect", str(CARDIO), "-d", "tf.autoencoder", "--param", "device=cuda")
    assert code == 2
    assert err.strip().count("\n") == 0 and "TensorFlow sees no GPU" in err, err


def test_detectors_list_shows_the_tensorflow_detectors(cli):
    code, out, err = cli("detectors", "list", "--json")
    assert code == 0, err
    entries = {entry["name"]: entry for entry in json.loads(out)}
    assert {"tf.autoencoder", "tf.vae", "tf.deep_svdd"} <= set(entries)
    assert entries["tf.vae"]["params"]["beta"] == 1.0 and "gpu" in entries["tf.autoencoder"]["capabilities"]
