"""In-process CLI runs for the evaluation tests (benchmark, automl, compare): no interpreter start-up per call."""

from __future__ import annotations

import contextlib
import io
import subprocess


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run ``pynomaly ARGS`` in this process; return code, stdout and stderr like ``subprocess.run``."""
    from pynomaly_core.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(["pynomaly", *args], code, out.getvalue(), err.getvalue())
