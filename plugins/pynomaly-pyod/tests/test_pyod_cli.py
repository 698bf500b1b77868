"""The CLI drives PyOD detectors end to end (real subprocesses, the installed entry point)."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from pynomaly_pyod import catalog

CARDIO = Path(__file__).resolve().parents[3] / "examples" / "data" / "cardio.npz"


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def cardio() -> np.ndarray:
    with np.load(CARDIO, allow_pickle=False) as data:
        return data["X"].astype(np.float64)


def test_detect_json_equals_pyod() -> None:
    from pyod.models.iforest import IForest

    out = cli("detect", str(CARDIO), "-d", "pyod.iforest", "-p", "random_state=0", "-p", "n_estimators=30",
              "--top", "5", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["detector"] == "pyod.iforest" and summary["rows"] == 1831
    assert summary["params"]["n_estimators"] == 30 and summary["metrics"]["roc_auc"] > 0.85
    expected = IForest(n_estimators=30, random_state=0).fit(cardio()).decision_scores_
    top = np.argsort(-expected, kind="mergesort")[:5]
    assert [row["row"] for row in summary["top"]] == top.tolist()
    np.testing.assert_allclose([row["score"] for row in summary["top"]], expected[top], rtol=0, atol=1e-12)


def test_train_and_score_pickled_model_needs_trust(tmp_path: Path) -> None:
    model = tmp_path / "iforest"
    out = cli("train", str(CARDIO), "-d", "pyod.iforest", "-p", "random_state=0", "-p", "n_estimators=20",
              "-o", str(model))
    assert out.returncode == 0, out.stderr
    refused = cli("score", str(model), str(CARDIO), "--json")
    assert refused.returncode == 2 and "trust" in refused.stderr and "joblib" in refused.stderr
    scored = cli("score", str(model), str(CARDIO), "--trust", "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["detector"] == "pyod.iforest"


def test_train_and_score_safe_model(tmp_path: Path) -> None:
    from pyod.models.ecod import ECOD

    model = tmp_path / "ecod"
    assert cli("train", str(CARDIO), "-d", "pyod.ecod", "-o", str(model)).returncode == 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert {entry["format"] for entry in manifest["artefacts"].values()} == {"npz", "json"}
    out = cli("score", str(model), str(CARDIO), "--top", "3", "--json")
    assert out.returncode == 0, out.stderr
    X = cardio()
    expected = ECOD().fit(X).decision_function(X)
    top = json.loads(out.stdout)["top"]
    np.testing.assert_allclose([row["score"] for row in top], np.sort(expected)[::-1][:3], rtol=0, atol=1e-12)


def test_detectors_show_gives_pyods_defaults() -> None:
    from pyod.models.knn import KNN

    out = cli("detectors", "show", "pyod.knn", "--json")
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    signature = inspect.signature(KNN.__init__).parameters
    assert shown["params"] == {k: p.default for k, p in signature.items() if k != "self"}
    assert shown["data_kinds"] == ["tabular"] and "pickle_save" in shown["capabilities"]
    text = cli("detectors", "show", "pyod.vae")
    assert text.returncode == 0 and "logvar_clip" in text.stdout and "[-30.0, 20.0]" in text.stdout


def test_detectors_list_by_kind() -> None:
    out = cli("detectors", "list", "--plugin", "pyod", "--kind", "graph", "--json")
    assert out.returncode == 0, out.stderr
    assert sorted(row["name"] for row in json.loads(out.stdout)) == sorted(
        m.qualified_name for m in catalog.MODELS if m.kind == "graph")


def test_pyod_error_is_one_line_exit_2() -> None:
    out = cli("detect", str(CARDIO), "-d", "pyod.lscp")
    assert out.returncode == 2 and out.stdout == ""
    assert "pyod.lscp: parameter 'detector_list' is required" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
