"""``pynomaly serve`` and ``pynomaly keys``: FastAPI and uvicorn are imported only when ``serve`` runs."""

from __future__ import annotations

import typer

from pynomaly_core.errors import InputError

keys_app = typer.Typer(help="API keys of the server (stored hashed; every change goes to the audit log).",
                       no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: loopback only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (each keeps its own model cache and "
                                                    "metrics)."),
    max_body: int = typer.Option(None, "--max-body", help="Largest request body in bytes (default 16 MiB)."),
    timeout: float = typer.Option(None, "--timeout", help="Seconds before a request is abandoned (default 60)."),
    cache_size: int = typer.Option(None, "--cache-size", help="Fitted models kept in memory (default 16)."),
    trust_models: bool = typer.Option(False, "--trust-models",
                                      help="Allow loading models whose artefacts need unpickling."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
    ab_share: float = typer.Option(None, "--ab-share", help="Share of NAME@champion score traffic answered by "
                                   "NAME@challenger (both score it; recorded under PYNOMALY_HOME/traffic)."),
) -> None:
    """Serve the REST API, its OpenAPI docs (/docs) and the web UI (/ui)."""
    import os

    import uvicorn

    from pynomaly_server.config import Settings

    if not 0 < port < 65536:
        raise InputError(f"--port must be in 1..65535, got {port}")
    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    # The options travel as environment variables, so that worker processes build the same settings.
    for value, env, flag in ((max_body, "PYNOMALY_SERVER_MAX_BODY", "--max-body"),
                             (timeout, "PYNOMALY_SERVER_TIMEOUT", "--timeout"),
                             (cache_size, "PYNOMALY_SERVER_MODEL_CACHE", "--cache-size")):
        if value is not None:
            if value <= 0:
                raise InputError(f"{flag} must be > 0, got {value}")
            os.environ[env] = str(value)
    if trust_models:
        os.environ["PYNOMALY_SERVER_TRUST_MODELS"] = "1"
    if ab_share is not None:
        os.environ["PYNOMALY_SERVER_AB_SHARE"] = str(ab_share)
    Settings.from_env()  # report bad settings here, once, as a one-line error
    options = {"host": host, "port": port, "log_level": log_level, "access_log": False, "timeout_keep_alive": 30,
               "server_header": False}
    typer.echo(f"pynomaly server on http://{host}:{port} (UI /ui, API docs /docs)", err=True)
    if workers > 1:
        uvicorn.run("pynomaly_server.app:create_app_from_env", factory=True, workers=workers, **options)
    else:
        from pynomaly_server.app import create_app

        app = create_app()
        settle_heap()
        uvicorn.run(app, **options)


def settle_heap() -> None:
    """Move everything allocated at start-up (frameworks, registry, app) out of the garbage collector's reach.

    A full collection otherwise walks every object of numpy, FastAPI and the plugins, a pause of several ms that
    lands in some request's latency; what requests allocate afterwards is collected as usual.
    """
    import gc

    gc.collect()
    gc.freeze()


def _store():
    from pynomaly_server.config import keys_database_schema, keys_database_url
    from pynomaly_server.keys import KeyStore

    return KeyStore(keys_database_url(), schema=keys_database_schema())


@keys_app.command("create")
def create_key(
    role: str = typer.Option(..., "--role", help="viewer, scorer, trainer, reviewer, admin, global_admin (or "
                                                 "read, score, admin; or a role added to the policy table)."),
    name: str = typer.Option("", "--name", help="A note saying who or what uses the key."),
    tenant: str = typer.Option("default", "--tenant", help="The tenant the key belongs to ('*' for a "
                                                           "global_admin)."),
) -> None:
    """Create a key and print it once, as the last line (only its salted hash is stored)."""
    key, secret = _store().create(role, name=name, tenant=tenant)
    typer.echo(f"created key {key.key_id} with role {key.role} in tenant {key.tenant}; it is shown only now:")
    typer.echo(secret)


@keys_app.command("policy")
def policy(
    grant: list[str] = typer.Option(None, "--grant", metavar="ROLE:ACTION", help="Add a row (repeatable)."),
    remove: list[str] = typer.Option(None, "--remove", metavar="ROLE:ACTION", help="Remove a row (repeatable)."),
    tenant: str = typer.Option("*", "--tenant", help="The tenant the rows apply to ('*': every tenant)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The policy table (tenant, role, action); --grant / --remove change it (audited)."""
    from pynomaly_core.cli.output import print_json, print_table

    store = _store()
    for text, change in [(g, store.grant) for g in grant or []] + [(r, store.revoke_grant) for r in remove or []]:
        role, _, action = text.partition(":")
        if not role or not action:
            raise InputError(f"{text!r}: expected ROLE:ACTION, e.g. auditor:audit.read")
        change(role, action, tenant=tenant)
    rows = sorted(store.policy().rows)
    if as_json:
        print_json([{"tenant": t, "role": r, "action": a} for t, r, a in rows])
        return
    print_table(f"policy ({len(rows)} rows)", ["tenant", "role", "action"], rows)


@keys_app.command("list")
def list_keys(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every key: id, role, name, creation and revocation (never the secret)."""
    from pynomaly_core.cli.output import print_json, print_table

    keys = _store().list()
    if as_json:
        print_json([k.to_dict() for k in keys])
        return
    print_table("API keys", ["id", "tenant", "role", "name", "created", "by", "revoked"],
                [(k.key_id, k.tenant, k.role, k.name, k.created_at.isoformat(timespec="seconds"), k.created_by,
                  k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "") for k in keys])


@keys_app.command("revoke")
def revoke_key(key_id: str = typer.Argument(..., help="The key id shown by `keys list`.")) -> None:
    """Revoke a key (a running server stops accepting it within a few seconds)."""
    key = _store().revoke(key_id)
    typer.echo(f"revoked key {key.key_id} ({key.role})")


@keys_app.command("audit")
def audit(limit: int = typer.Option(50, "--limit", help="How many of the newest entries."),
          as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The newest entries of the append-only audit log (key changes, model creation and deletion)."""
    from pynomaly_core.cli.output import print_json, print_table

    entries = _store().audit_entries(limit)
    if as_json:
        print_json(entries)
        return
    print_table("audit log", ["id", "at", "actor", "action", "target"],
                [(e["id"], e["at"], e["actor"], e["action"], e["target"]) for e in entries])
