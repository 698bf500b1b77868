"""``pynomaly models list|show|delete|cleanup`` (the model store), the lifecycle
(``submit|approve|reject|deploy|retire|alias|history``), ``lineage``, and the model store step of
``pynomaly train --name``. Every command acts in tenant ``$PYNOMALY_TENANT`` (default ``default``) as
``$PYNOMALY_ACTOR`` (default: the login name)."""

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
        ["model", "detector", "data", "metrics", "created", "by", "parent", "stage"],
        [(v.ref, v.detector, _shape(v.fingerprint), _metrics(v.metrics), v.created_at[:19].replace("T", " "),
          v.created_by, v.parent or "-", v.stage) for v in versions],
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


REASON = typer.Option(None, "--reason", help="Why (required to reject and to retire).")


def _versioned(ref: str, action: str) -> tuple[str, int]:
    from pynomaly_core.errors import InputError
    from pynomaly_core.modelstore.paths import parse_ref

    name, version = parse_ref(ref)
    if version is None:
        raise InputError(f"{ref}: {action} needs an explicit version, as {name}@VERSION "
                         f"(see `pynomaly models list {name}`)")
    return name, version


def _transition(ref: str, action: str, as_json: bool, **options: Any) -> None:
    name, version = _versioned(ref, action)
    found = getattr(open_store(), action)(name, version, **options)
    if as_json:
        print_json(found.to_dict())
        return
    echo(f"{action}: {found.ref} is now {found.stage}")


@app.command("submit")
def submit_model(ref: str = typer.Argument(..., metavar="NAME@VERSION"), reason: str | None = REASON,
                 as_json: bool = AS_JSON) -> None:
    """Submit a draft (or rejected) version for review."""
    _transition(ref, "submit", as_json, reason=reason)


@app.command("approve")
def approve_model(ref: str = typer.Argument(..., metavar="NAME@VERSION"), reason: str | None = REASON,
                  as_json: bool = AS_JSON) -> None:
    """Approve a version pending review (not its author or submitter; $PYNOMALY_REQUIRED_APPROVALS reviewers)."""
    _transition(ref, "approve", as_json, reason=reason)


@app.command("reject")
def reject_model(ref: str = typer.Argument(..., metavar="NAME@VERSION"), reason: str | None = REASON,
                 as_json: bool = AS_JSON) -> None:
    """Reject a version pending review (--reason is required)."""
    _transition(ref, "reject", as_json, reason=reason)


@app.command("deploy")
def deploy_model(ref: str = typer.Argument(..., metavar="NAME@VERSION"),
                 alias: str = typer.Option("champion", "--alias", help="Alias to point at it ('none': no alias)."),
                 reason: str | None = REASON, as_json: bool = AS_JSON) -> None:
    """Deploy an approved version and point an alias (default champion) at it: `score NAME@champion`."""
    _transition(ref, "deploy", as_json, alias=None if alias == "none" else alias, reason=reason)


@app.command("retire")
def retire_model(ref: str = typer.Argument(..., metavar="NAME@VERSION"), reason: str | None = REASON,
                 as_json: bool = AS_JSON) -> None:
    """Retire an approved or deployed version (--reason is required); its aliases are removed."""
    _transition(ref, "retire", as_json, reason=reason)


@app.command("alias")
def alias_model(ref: str = typer.Argument(..., metavar="NAME@VERSION"),
                alias: str = typer.Argument(..., help="e.g. champion, challenger"),
                as_json: bool = AS_JSON) -> None:
    """Point NAME@ALIAS at an approved or deployed version."""
    name, version = _versioned(ref, "alias")
    open_store().set_alias(name, alias, version)
    if as_json:
        print_json({"alias": f"{name}@{alias}", "version": version})
        return
    echo(f"{name}@{alias} -> {name}@{version}")


@app.command("history")
def history_model(ref: str = typer.Argument(..., metavar="NAME[@VERSION]"), as_json: bool = AS_JSON) -> None:
    """Every lifecycle event of a model (or of one version): who, what, when, why."""
    from pynomaly_core.modelstore.paths import parse_ref

    name, version = parse_ref(ref)
    events = open_store().history(name, version)
    if as_json:
        print_json(events)
        return
    print_table(f"history of {ref}", ["at", "version", "action", "stage", "actor", "reason"],
                [(e["at"][:19].replace("T", " "), e["ref"], e["action"],
                  f"{e['from'] or '-'} -> {e['to'] or '-'}", e["actor"], e["reason"] or "") for e in events])


@app.command("lineage")
def lineage_model(ref: str = typer.Argument(..., metavar="NAME[@VERSION|@ALIAS]"), as_json: bool = AS_JSON) -> None:
    """The data, parent versions, code and library versions behind a model."""
    store = open_store()
    found = store.resolve(ref)
    report = {
        "model": found.ref, "tenant": found.tenant, "stage": found.stage, "detector": found.detector,
        "params": found.params, "data": found.fingerprint, "parents": store.lineage(found.name, found.version)[1:],
        "code": {k: v for k, v in found.versions.items() if k == "pynomaly" or k.startswith("plugin:")},
        "libraries": {k: v for k, v in found.versions.items() if k != "pynomaly" and not k.startswith("plugin:")},
        "created_at": found.created_at, "created_by": found.created_by,
    }
    if as_json:
        print_json(report)
        return
    fp = found.fingerprint or {}
    echo(f"{found.ref} ({found.stage}, tenant {found.tenant}): {found.detector}")
    echo(f"  data:       {_shape(fp)}" + (f" from {fp['source']}" if fp.get("source") else "")
         + (f", sha256 {fp['sha256']}" if fp.get("sha256") else ""))
    echo("  parents:    " + (" <- ".join(p["ref"] + (" (deleted)" if p["deleted"] else "")
                                         for p in report["parents"]) or "-"))
    echo(f"  code:       {', '.join(f'{k} {v}' for k, v in report['code'].items())}")
    echo(f"  libraries:  {', '.join(f'{k} {v}' for k, v in report['libraries'].items()) or '-'}")
    echo(f"  created:    {found.created_at} by {found.created_by}")


@app.command("keygen")
def keygen() -> None:
    """Print a new key for encrypting model artefacts at rest (export it as PYNOMALY_MODEL_KEY; keep it safe)."""
    from pynomaly_core.modelstore.crypto import new_key

    echo(new_key())


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
