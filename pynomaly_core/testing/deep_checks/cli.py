"""The ``pynomaly`` command line with a deep backend (runners: :mod:`pynomaly_core.testing.cli`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pynomaly_core.testing.cli import CliResult, CliRunner


def check_detect_with_the_autoencoder_prints_json(run: CliRunner, detector: str, data: str | Path,
                                                  rows: int) -> tuple[CliResult, dict[str, Any]]:
    """``detect DATA -d DETECTOR --param epochs=3 --json`` prints a summary of ``rows`` rows with ROC AUC > 0.7;
    returns the result and the summary."""
    result = run("detect", str(data), "-d", detector, "--param", "epochs=3", "--param", "random_state=0", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["detector"] == detector and summary["params"]["epochs"] == 3
    assert summary["rows"] == rows and summary["metrics"]["roc_auc"] > 0.7
    return result, summary


def check_unavailable_device_is_a_one_line_error(run: CliRunner, detector: str, data: str | Path,
                                                 message: str) -> None:
    """``--param device=cuda`` without a GPU exits with 2 and one stderr line containing ``message``."""
    result = run("detect", str(data), "-d", detector, "--param", "device=cuda")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and message in result.err, result.err


def check_detectors_list_shows_the_detectors(run: CliRunner, names: set[str]) -> dict[str, dict[str, Any]]:
    """``detectors list --json`` lists every one of ``names``; returns its entries by name."""
    result = run("detectors", "list", "--json")
    assert result.code == 0, result.err
    entries = {entry["name"]: entry for entry in json.loads(result.out)}
    assert names <= set(entries)
    return entries
