"""``pynomaly models list|show|delete|cleanup`` (the model store) and the model store step of
``pynomaly train --name``."""

from __future__ import annotations

from typing import Any

import typer

from pynomaly_core.cli.output import echo, print_json, print_table

app = typer.Typer(help="The model store: fitted detectors stored under a name with versions.",
                  no_args_is_help=True)
AS_JSON = typer.Option(False, "--json", help="Machine-readable output.")


def open_store() -> Any:
    """The model store configured by ``PYNOMALY_DATABASE_URL`` / ``PYNOMALY_HOME`` (exit 2 without SQLAlchemy)."""
    from pynomaly_core.modelstore.store import ModelStore

    return ModelStore.from_env()


@app.command("list")
def list_models(
    name: str | None = typer.Argument(None, help="Only the versions of this model."),
    as_json: bool = AS_JSON,
) -> None:
    """Every registered version, by name, newest first."""
    versions = open_store().list(name)
    if as_json:
        print_json([v.to_dict() for v in versions])
        return
    if not versions:
        echo("no registered models" + (f" named {name!r}" if name else ""))
        return
    print_table(
        f"{len(versions)} model versions",
        ["model", "detector", "data", "metrics", "created", "by", "parent"],
        [(v.ref, v.detector, _shape(v.fingerprint), _metrics(v.metrics), v.created_at[:19].replace("T", " "),
          v.created_by, v.parent or "-") for v in versions],
    )


@app.command("show")
def show_model(
    ref: str = typer.Argument(..., metavar="NAME[@VERSION]", help="A model (latest version) or one version."),
    as_json: bool = AS_JSON,
) -> None:
    """Everything recorded about a version: detector, parameters, versions, training data, metrics, lineage."""
    store = open_store()
    found = store.resolve(ref)
    lineage = store.lineage(found.name, found.version)
    if as_json:
        print_json({**found.to_dict(), "lineage": lineage})
        return
    fp = found.fingerprint or {}
    echo(f"{found.ref}: {found.detector} (plugin {found.plugin})")
    echo(f"  params:     {', '.join(f'{k}={v!r}' for k, v in sorted(found.params.items())) or '-'}")
    echo(f"  data:       {_shape(found.fingerprint)}" + (f" from {fp['source']}" if fp.get("source") else ""))
    if fp.get("columns"):
        echo(f"  columns:    {', '.join(fp['columns'])}")
    if fp.get("sha256"):
        echo(f"  sha256:     {fp['sha256']}")
    echo(f"  metrics:    {_metrics(found.metrics)}")
    echo("  training:   " + ("-" if found.training_s is None else f"{found.training_s:.3f}s"))
    echo(f"  created:    {found.created_at} by {found.created_by}")
    echo("  lineage:    " + " <- ".join(step["ref"] + (" (deleted)" if step["deleted"] else "") for step in lineage))
    echo(f"  versions:   {', '.join(f'{k} {v}' for k, v in found.versions.items())}")
    echo(f"  path:       {found.path}")


@app.command("delete")
def delete_model(
    ref: str = typer.Argument(..., metavar="NAME@VERSION", help="The version to delete (always explicit)."),
    as_json: bool = AS_JSON,
) -> None:
    """Delete one version: its metadata and its artefacts. Versions derived from it show it as deleted."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.modelstore.paths import parse_ref

    name, version = parse_ref(ref)
    if version is None:
        raise InputError(f"{ref}: name the version to delete, as {name}@VERSION (see `pynomaly models list {name}`)")
    open_store().delete(name, version)
    if as_json:
        print_json({"deleted": f"{name}@{version}"})
        return
    echo(f"deleted {name}@{version}")


@app.command("cleanup")
def cleanup_models(
    max_age: float = typer.Option(3600.0, "--max-age", help="Seconds after which an unfinished save counts as "
                                  "abandoned even when its process cannot be checked (another host)."),
    as_json: bool = AS_JSON,
) -> None:
    """Remove what interrupted saves and deletes left behind (never a ready version)."""
    removed = open_store().cleanup(max_age_s=max_age)
    if as_json:
        print_json({"removed": removed})
        return
    echo(f"removed {len(removed)} leftover(s)" + "".join(f"\n  {item}" for item in removed))


def open_for_training(name: str, parent: str | None) -> Any:
    """Check ``--name`` / ``--parent`` and open the model store before any fitting starts."""
    from pynomaly_core.modelstore.errors import ModelNotFoundError
    from pynomaly_core.modelstore.paths import check_name

    check_name(name)
    store = open_store()
    if parent is not None:
        try:
            store.resolve(parent)
        except ModelNotFoundError as exc:
            raise ModelNotFoundError(f"--parent {parent}: {exc}") from None
    return store


def store_trained(store: Any, name: str, parent: str | None, result: Any, dataset: Any, source: str) -> Any:
    """Store a model ``pynomaly train`` fitted: fingerprint of ``dataset``, its training metrics and time."""
    from pynomaly_core.modelstore.fingerprints import fingerprint

    return store.register(name, result.model, data_fingerprint=fingerprint(dataset, source=source),
                          metrics=result.metrics, parent=parent, training_s=result.timings["fit_s"])


def _shape(fp: dict[str, Any] | None) -> str:
    return "-" if not fp else f"{fp.get('n_rows')} x {fp.get('n_features')}"


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "-"
