"""Graph detection through the ``pynomaly`` command (a subprocess, as a user runs it).

The core CLI hands graph datasets to detectors whole (``detect_cmd.model_input``) and passes
``--loader-option key=value`` to loaders (the edge-list loader's node table).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pygod_testutil import GRAPHS

REPO = Path(__file__).resolve().parents[3]


def pynomaly(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYNOMALY_LOAD_PLUGINS="pygod", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)


def books() -> str:
    path = GRAPHS / "books.npz"
    if not path.is_file():
        pytest.skip(f"shared graph {path} is not there")
    return str(path)


def test_detect_on_a_graph_archive():
    result = pynomaly("detect", books(), "--loader", "pygod.graph_npz", "-d", "pygod.dominant", "-p", "epoch=3",
                      "-p", "random_state=0", "--contamination", "0.02", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["detector"] == "pygod.dominant" and summary["rows"] == 1418 and 28 <= summary["anomalies"] <= 30
    assert 0 < summary["metrics"]["roc_auc"] <= 1


def test_detect_train_and_score_an_edge_list(tmp_path):
    (tmp_path / "nodes.csv").write_text("id,a,b\n" + "".join(f"n{i},{i % 3},{(i * 7) % 5}\n" for i in range(30)))
    (tmp_path / "edges.csv").write_text("src,dst\n" + "".join(f"n{i},n{(i + 1) % 30}\n" for i in range(30)))
    detected = pynomaly("detect", str(tmp_path / "edges.csv"), "--loader", "pygod.edgelist_csv",
                        "-O", f"nodes={tmp_path / 'nodes.csv'}", "-O", "undirected=true", "-d", "pygod.cola",
                        "-p", "epoch=2", "-p", "random_state=0", "--json")
    assert detected.returncode == 0, detected.stderr
    assert json.loads(detected.stdout)["rows"] == 30
    model = tmp_path / "model"
    trained = pynomaly("train", str(tmp_path), "--loader", "pygod.edgelist_csv", "-d", "pygod.cola",
                       "-p", "epoch=2", "-p", "random_state=0", "--output", str(model))
    assert trained.returncode == 0, trained.stderr
    scored = pynomaly("score", str(model), str(tmp_path), "--loader", "pygod.edgelist_csv", "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["rows"] == 30
