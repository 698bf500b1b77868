"""Running the ``pynomaly`` command line from tests: in this process (fast) or in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pytest


class CliResult(NamedTuple):
    """Exit code, stdout and stderr of one ``pynomaly`` command."""

    code: int
    out: str
    err: str


#: ``run(*args) -> CliResult``: runs ``pynomaly *args`` (arguments are turned into strings).
CliRunner = Callable[..., CliResult]


def in_process_cli(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """A runner calling the CLI's ``main`` in this process (no interpreter or framework start-up).

    The ``pynomaly_cli`` fixture of pynomaly's pytest plugin is this runner.
    """
    import pytest

    from pynomaly_core.cli.app import main

    def run(*args: object) -> CliResult:
        with pytest.raises(SystemExit) as info:
            main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return CliResult(info.value.code or 0, captured.out, captured.err)

    return run


def subprocess_cli(cwd: Path, timeout: float = 300) -> CliRunner:
    """A runner starting ``python -m pynomaly_core.cli.app`` in a fresh interpreter in ``cwd``."""

    def run(*args: object) -> CliResult:
        done = subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *map(str, args)],
                              capture_output=True, text=True, cwd=cwd, timeout=timeout)
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run
