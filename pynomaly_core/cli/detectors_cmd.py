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
    """A detector's summary, data kinds, capabilities, presets and parameters with their defaults (and what a default
    that depends on the installed plugins resolves to, such as the ensemble's members)."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().detector(name)
    describe = getattr(spec.load(), "describe_defaults", None)
    resolved = describe() if callable(describe) else {}
    if as_json:
        print_json({**spec.to_dict(), "resolved_defaults": resolved})
        return
    echo(f"{spec.qualified_name}: {spec.summary}")
    echo(f"  data kinds:   {', '.join(sorted(spec.data_kinds))}")
    echo(f"  capabilities: {', '.join(sorted(spec.capabilities)) or '-'}")
    echo(f"  presets:      {', '.join(f'{role} {dict(p) or {}}' for role, p in sorted(spec.presets.items())) or '-'}")
    echo(f"  code:         {spec.target}")
    print_table("parameters", ["name", "default"],
                [(k, repr(v) + (f" -> {_resolved(resolved[k])}" if k in resolved else ""))
                 for k, v in sorted(spec.params.items())])


def _resolved(value: object) -> str:
    """A resolved default for the table: member lists as ``name(params)``, anything else as its repr."""
    if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
        return ", ".join(v["name"] + (f"({v['params']})" if v.get("params") else "") for v in value)
    return repr(value)
