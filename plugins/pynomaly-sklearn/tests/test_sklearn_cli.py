"""The sklearn detectors through the ``pynomaly`` command (a subprocess, as a user runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SENSORS = REPO / "examples" / "data" / "sensors.csv"
COLUMNS = "temperature,pressure,vibration,current,humidity"


def pynomaly(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYNOMALY_LOAD_PLUGINS="sklearn")  # this plugin and the built-ins only
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)


def test_detect_with_isolation_forest():
    result = pynomaly("detect", "examples/data/sensors.csv", "--labels", "label", "-d", "sklearn.iforest",
                      "-p", "random_state=0", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["detector"] == "sklearn.iforest" and summary["rows"] == 1000 and summary["anomalies"] == 100
    assert summary["params"]["random_state"] == 0 and summary["metrics"]["roc_auc"] > 0.9


def test_train_and_score_a_pickled_model_needs_trust(tmp_path):
    model = tmp_path / "iforest"
    trained = pynomaly("train", str(SENSORS), "--columns", COLUMNS, "-d", "sklearn.iforest", "-p", "random_state=0",
                       "--output", str(model))
    assert trained.returncode == 0, trained.stderr
    args = ["score", str(model), str(SENSORS), "--columns", COLUMNS, "--labels", "label", "--json"]
    refused = pynomaly(*args)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and "--trust" in refused.stderr and refused.stderr.count("\n") == 1
    scored = pynomaly(*args, "--trust")
    assert scored.returncode == 0, scored.stderr
    summary = json.loads(scored.stdout)
    assert summary["detector"] == "sklearn.iforest" and summary["metrics"]["roc_auc"] > 0.9


def test_train_and_score_a_safe_model_without_trust(tmp_path):
    model = tmp_path / "envelope"
    trained = pynomaly("train", str(SENSORS), "--columns", COLUMNS, "-d", "sklearn.elliptic_envelope",
                       "-p", "random_state=0", "--output", str(model))
    assert trained.returncode == 0, trained.stderr
    scored = pynomaly("score", str(model), str(SENSORS), "--columns", COLUMNS, "--labels", "label", "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["metrics"]["roc_auc"] > 0.9


def test_bad_sklearn_parameter_is_a_usage_error():
    result = pynomaly("detect", str(SENSORS), "-d", "sklearn.ocsvm", "-p", "nu=2")
    assert result.returncode == 2
    assert result.stderr.startswith("error: sklearn.ocsvm: The 'nu' parameter") and result.stderr.count("\n") == 1
