"""``pynomaly detectors list`` and ``pynomaly detectors show``."""

from __future__ import annotations

import typer

from pynomaly_core.cli.output import echo, print_json, print_table

app = typer.Typer(help="Registered detectors.", no_args_is_help=True)


@app.command("list")
def list_detectors(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    plugin: str | None = typer.Option(None, "--plugin", help="Only this plugin's detectors."),
    kind: str | None = typer.Option(None, "--kind", help="Only detectors for tabular, graph or timeseries data."),
) -> None:
    """Every detector of every working plugin."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.registry import get_registry
    from pynomaly_core.specs import DATA_KINDS

    if kind is not None and kind not in DATA_KINDS:
        raise InputError(f"--kind must be one of {', '.join(sorted(DATA_KINDS))}, got {kind!r}")
    registry = get_registry()
    if plugin is not None and plugin not in registry.plugins:
        raise InputError(f"no plugin {plugin!r}; installed: {', '.join(sorted(registry.plugins))}")
    specs = registry.detectors(plugin=plugin, data_kind=kind)
    if as_json:
        print_json([spec.to_dict() for spec in specs])
        return
    print_table(
        f"{len(specs)} detectors",
        ["name", "data", "capabilities", "summary"],
        [(s.qualified_name, ",".join(sorted(s.data_kinds)), ",".join(sorted(s.capabilities)), s.summary)
         for s in specs],
    )


@app.command("show")
def show_detector(
    name: str = typer.Argument(..., help="Qualified (builtin.ecod) or short (ecod) name."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """A detector's summary, data kinds, capabilities and parameters with their defaults."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().detector(name)
    if as_json:
        print_json(spec.to_dict())
        return
    echo(f"{spec.qualified_name}: {spec.summary}")
    echo(f"  data kinds:   {', '.join(sorted(spec.data_kinds))}")
    echo(f"  capabilities: {', '.join(sorted(spec.capabilities)) or '-'}")
    echo(f"  code:         {spec.target}")
    print_table("parameters", ["name", "default"], [(k, repr(v)) for k, v in sorted(spec.params.items())])
