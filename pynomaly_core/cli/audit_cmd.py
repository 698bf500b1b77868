"""``pynomaly audit verify|export|list``: the hash-chained audit logs of the model store and of the server.

``verify`` exits 0 when every chain is intact and 1 when any record was edited, deleted or reordered (each one
named on stderr); the server's log (API keys, API calls) is checked too when its database exists.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from pynomaly_core.cli.output import echo, print_json, print_table

app = typer.Typer(help="The tamper-evident audit logs: verify the hash chains, export, list.", no_args_is_help=True)
AS_JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _reports() -> list[Any]:
    from pynomaly_core.cli.models_cmd import open_store

    reports = [open_store().verify_audit()]
    server = _server_log()
    if server is not None:
        reports.append(server)
    return reports


def _server_log() -> Any:
    """The server's log when the server plugin is installed and its database exists (``None`` otherwise)."""
    try:
        from pynomaly_server.config import keys_database_schema, keys_database_url
        from pynomaly_server.keys import KeyStore
    except ImportError:
        return None
    import os

    url = os.environ.get("PYNOMALY_SERVER_DATABASE_URL") or os.environ.get("PYNOMALY_DATABASE_URL")
    if not url:
        from pynomaly_core.modelstore.paths import default_home

        path = default_home() / "server.db"
        if not path.exists():
            return None
        url = keys_database_url()
    keys = KeyStore(url, create=False, schema=keys_database_schema())
    try:
        return keys.verify_audit()
    finally:
        keys.close()


@app.command("verify")
def verify(as_json: bool = AS_JSON) -> None:
    """Check every record of the audit logs; exit 1 naming each edited, deleted or reordered record."""
    reports = _reports()
    if as_json:
        print_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            legacy = f" (+{report.legacy} unchained records from before chaining)" if report.legacy else ""
            state = "intact" if report.ok else f"{len(report.problems)} problem(s)"
            echo(f"{report.log}: {report.records} records{legacy}: {state}")
    for report in reports:
        for problem in report.problems:
            sys.stderr.write(f"tampered: {problem}\n")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command("export")
def export(output: Path = typer.Option(None, "--output", "-o", help="JSON Lines file (default: stdout).")) -> None:
    """Every record of the model store's audit log as JSON Lines (chain order, with hashes)."""
    from pynomaly_core.cli.models_cmd import open_store

    store = open_store()
    if output is None:
        store.export_audit(sys.stdout)
        return
    import os

    partial = output.with_name(output.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        count = store.export_audit(handle)
    os.replace(partial, output)
    sys.stderr.write(f"exported {count} audit records to {output}\n")


@app.command("list")
def list_entries(limit: int = typer.Option(50, "--limit", help="How many of the newest records."),
                 as_json: bool = AS_JSON) -> None:
    """The newest records of this tenant's model store audit log."""
    from pynomaly_core.cli.models_cmd import open_store

    entries = open_store().audit_entries(limit)
    if as_json:
        print_json(entries)
        return
    print_table("audit log", ["seq", "at", "actor", "action", "object", "outcome"],
                [(e["seq"], e["at"][:23], e["actor"], e["action"], e["object"], e["outcome"]) for e in entries])
