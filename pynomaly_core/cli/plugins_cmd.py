"""``pynomaly plugins list`` and ``pynomaly plugins new``."""

from __future__ import annotations

from pathlib import Path

import typer

from pynomaly_core.cli.options import STRICT, enforce_strict
from pynomaly_core.cli.output import echo, print_json, print_table

app = typer.Typer(help="Installed plugins: list them, scaffold a new one.", no_args_is_help=True)


@app.command("list")
def list_plugins(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (fields documented in docs/)."),
    strict: bool = STRICT,
) -> None:
    """One row per plugin: version, distribution, hooks, contribution counts, load time and status."""
    from pynomaly_core.kinds import KINDS
    from pynomaly_core.registry import get_registry

    registry = get_registry()
    records = sorted(registry.plugins.values(), key=lambda r: (r.name != "builtin", r.name))
    if as_json:
        print_json([record.to_dict() for record in records])
    else:
        print_table(
            "pynomaly plugins",
            ["name", "version", "distribution", "hooks", *(kind.column for kind in KINDS), "load ms", "status"],
            [
                (r.name, r.version, r.distribution, ", ".join(h.removeprefix("register_") for h in r.hooks),
                 *(r.counts.get(kind.key, 0) for kind in KINDS), f"{r.load_time_s * 1000:.1f}", r.status)
                for r in records
            ],
        )
    enforce_strict(strict)


@app.command("new")
def new_plugin(
    name: str = typer.Argument(..., help="Plugin name, e.g. 'mylib' (becomes distribution pynomaly-mylib)."),
    directory: Path = typer.Option(Path("."), "--directory", "-d", help="Where to create the distribution."),
) -> None:
    """Scaffold a plugin distribution: pyproject with the entry point, one detector, conformance tests."""
    from pynomaly_core.scaffold import scaffold_plugin

    root = scaffold_plugin(name, directory)
    echo(f"created {root}")
    echo(f"next: pip install -e {root} && pytest {root / 'tests'}")
