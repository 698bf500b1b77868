"""Entry point of the server plugin: adds ``pynomaly serve`` and ``pynomaly keys`` (nothing heavy is imported)."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from pynomaly_server.cli import keys_app, serve

    cli.command("serve")(serve)
    cli.add_typer(keys_app, name="keys")
