"""Entry point of the ``pynomaly`` command: builds the Typer app, adds plugin commands, maps errors to exit codes.

Exit codes: 0 ok, 1 a strict-mode failure (broken plugins) or an unexpected error, 2 bad usage or bad input
(one line on stderr naming what is wrong; ``--debug`` shows the traceback), 3 ``pynomaly drift`` found drift
(a command ends with ``typer.Exit(code)``, which passes through :func:`main` unchanged).
"""

from __future__ import annotations

import os
import sys

import typer

from pynomaly_core.cli import (
    audit_cmd,
    automl_cmd,
    benchmark_cmd,
    compare_cmd,
    detect_cmd,
    detectors_cmd,
    drift_cmd,
    explain_cmd,
    models_cmd,
    nab_cmd,
    plugins_cmd,
    score_cmd,
    stream_cmd,
    train_cmd,
)
from pynomaly_core.cli.options import STRICT, enforce_strict
from pynomaly_core.errors import PluginLoadError, PynomalyError


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="pynomaly",
        help="Anomaly detection with one registry over many libraries.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
        strict: bool = STRICT,
    ) -> None:
        """pynomaly: anomaly detection with one registry and one API."""
        enforce_strict(strict)

    app.add_typer(plugins_cmd.app, name="plugins")
    app.add_typer(detectors_cmd.app, name="detectors")
    app.add_typer(models_cmd.app, name="models")
    app.add_typer(audit_cmd.app, name="audit")
    detect_cmd.register(app)
    train_cmd.register(app)
    score_cmd.register(app)
    stream_cmd.register(app)
    drift_cmd.register(app)
    explain_cmd.register(app)
    benchmark_cmd.register(app)
    automl_cmd.register(app)
    compare_cmd.register(app)
    nab_cmd.register(app)
    from pynomaly_core.registry import get_registry

    get_registry().add_commands(app)
    return app


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("PYNOMALY_DEBUG"))
    try:
        build_app()(args=args, prog_name="pynomaly")
    except PluginLoadError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
    except PynomalyError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
