"""The ``pynomaly`` command line with a deep backend: runners (fresh process or in-process) and checks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import pytest


class CliResult(NamedTuple):
    """Exit code, stdout and stderr of one ``pynomaly`` command."""

    code: int
    out: str
    err: str


#: ``run(*args) -> CliResult``: runs ``pynomaly *args``.
CliRunner = Callable[..., CliResult]


def subprocess_cli(cwd: Path, timeout: float = 300) -> CliRunner:
    """A runner starting ``python -m pynomaly_core.cli.app`` in a fresh interpreter in ``cwd``."""

    def run(*args: str) -> CliResult:
        done = subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], capture_output=True,
                              text=True, cwd=cwd, timeout=timeout)
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run


def in_process_cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """A runner calling the CLI's ``main`` in this process (no interpreter or framework start-up)."""
    import pytest

    from pynomaly_core.cli.app import main

    def run(*args: str) -> CliResult:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        captured = capsys.readouterr()
        return CliResult(info.value.code or 0, captured.out, captured.err)

    return run


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
