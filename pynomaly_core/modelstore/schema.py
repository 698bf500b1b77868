"""The model store's tables and their migrations: an ordered list whose applied version is stored in the database.

Each migration is frozen once released (``_define_v1`` describes the tables as version 1 created them); a new
schema version appends a migration and updates the current table definitions below. Opening a model store applies
the missing migrations under a lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so
processes that open a new database at the same time agree; a database newer than this pynomaly is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pynomaly_core.modelstore.errors import ModelStoreError

META_TABLE = "pynomaly_registry_meta"
MODELS_TABLE = "pynomaly_models"
VERSIONS_TABLE = "pynomaly_model_versions"
EVENTS_TABLE = "pynomaly_model_events"
ALIASES_TABLE = "pynomaly_model_aliases"
AUDIT_TABLE = "pynomaly_store_audit"
SCHEMA_VERSION_KEY = "schema_version"
DEFAULT_TENANT = "default"

#: Version states (``status``; the lifecycle ``stage`` is a column of its own): ``pending`` while artefacts are
#: written, ``ready`` once complete (the only state readers see), ``deleting`` while a delete removes the artefacts.
PENDING, READY, DELETING = "pending", "ready", "deleting"


def _define_v1(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table]:
    meta = sa.Table(
        META_TABLE, metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    models = sa.Table(
        MODELS_TABLE, metadata,
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("last_version", sa.Integer, nullable=False),  # version numbers are never reused
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    versions = sa.Table(
        VERSIONS_TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), sa.ForeignKey(f"{MODELS_TABLE}.name"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detector", sa.String(255), nullable=False),
        sa.Column("plugin", sa.String(128), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.JSON, nullable=True),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("training_s", sa.Float, nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("parent_name", sa.String(128), nullable=True),
        sa.Column("parent_version", sa.Integer, nullable=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("token", sa.String(32), nullable=False, unique=True),
        sa.Column("owner_host", sa.String(255), nullable=False),
        sa.Column("owner_pid", sa.Integer, nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_pynomaly_model_versions_name_version"),
        sa.Index("ix_pynomaly_model_versions_status", "status"),
    )
    return meta, models, versions


def _define_v2(metadata: sa.MetaData) -> dict[str, sa.Table]:
    """Version 2: a tenant on every model and version, the lifecycle stage, stage events, aliases and the
    hash-chained audit log of every change (with its head)."""
    from pynomaly_core.governance import audit

    meta = sa.Table(
        META_TABLE, metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    models = sa.Table(
        MODELS_TABLE, metadata,
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("last_version", sa.Integer, nullable=False),  # version numbers are never reused
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    versions = sa.Table(
        VERSIONS_TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("detector", sa.String(255), nullable=False),
        sa.Column("plugin", sa.String(128), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("fingerprint", sa.JSON, nullable=True),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("training_s", sa.Float, nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("parent_name", sa.String(128), nullable=True),
        sa.Column("parent_version", sa.Integer, nullable=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("token", sa.String(32), nullable=False, unique=True),
        sa.Column("owner_host", sa.String(255), nullable=False),
        sa.Column("owner_pid", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["tenant", "name"], [f"{MODELS_TABLE}.tenant", f"{MODELS_TABLE}.name"],
                                name="fk_pynomaly_model_versions_model"),
        sa.UniqueConstraint("tenant", "name", "version", name="uq_pynomaly_model_versions_tenant_name_version"),
        sa.Index("ix_pynomaly_model_versions_tenant_status", "tenant", "status"),
    )
    events = sa.Table(
        EVENTS_TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=True),
        sa.Column("to_stage", sa.String(16), nullable=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Index("ix_pynomaly_model_events_model", "tenant", "name", "version"),
    )
    aliases = sa.Table(
        ALIASES_TABLE, metadata,
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("alias", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("set_by", sa.String(255), nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
    )
    audit_log = sa.Table(
        AUDIT_TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object", sa.String(400), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        *audit.chain_columns(sa),
    )
    heads = audit.heads_table(sa, metadata)
    return {"meta": meta, "models": models, "versions": versions, "events": events, "aliases": aliases,
            "audit": audit_log, "heads": heads}


# The current tables (version 2).
metadata = sa.MetaData()
_current = _define_v2(metadata)
meta_table, models_table, versions_table = _current["meta"], _current["models"], _current["versions"]
events_table, aliases_table, audit_table, heads_table = (_current["events"], _current["aliases"],
                                                        _current["audit"], _current["heads"])


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    #: ``upgrade(connection, schema)``; raw SQL must name tables through :func:`qualified`.
    upgrade: Callable[[sa.Connection, str | None], None]


def qualified(table: str, schema: str | None) -> str:
    """``table`` as raw SQL names it inside ``schema`` (``schema_translate_map`` does not reach raw SQL)."""
    return f'"{schema}".{table}' if schema else table


def _upgrade_to_v1(connection: sa.Connection, schema: str | None) -> None:
    frozen = sa.MetaData()
    _define_v1(frozen)
    frozen.create_all(connection)


def _upgrade_to_v2(connection: sa.Connection, schema: str | None) -> None:
    """Rebuild models and versions with a tenant (``default``) and a stage (``draft``), keeping every row; add
    the events, aliases, audit and audit-head tables and the audit log's append-only triggers."""
    from pynomaly_core.governance import audit

    old = sa.MetaData()
    _, old_models, old_versions = _define_v1(old)
    models = [dict(r) for r in connection.execute(sa.select(old_models)).mappings()]
    versions = [dict(r) for r in connection.execute(sa.select(old_versions)).mappings()]
    old_versions.drop(connection)
    old_models.drop(connection)
    frozen = sa.MetaData()
    tables = _define_v2(frozen)
    for key in ("models", "versions", "events", "aliases", "audit", "heads"):
        tables[key].create(connection, checkfirst=True)
    if models:
        connection.execute(sa.insert(tables["models"]), [{**m, "tenant": DEFAULT_TENANT} for m in models])
    if versions:
        connection.execute(sa.insert(tables["versions"]), [
            {**{k: v for k, v in row.items() if k != "id"}, "tenant": DEFAULT_TENANT, "stage": "draft"}
            for row in versions])
    for statement in audit.append_only_sql(connection.dialect.name, AUDIT_TABLE, schema=schema):
        connection.exec_driver_sql(statement)


MIGRATIONS: list[Migration] = [
    Migration(1, "tables pynomaly_registry_meta, pynomaly_models, pynomaly_model_versions", _upgrade_to_v1),
    Migration(2, "tenants, lifecycle stages, stage events, aliases, hash-chained audit log", _upgrade_to_v2),
]


def schema_version(connection: sa.Connection, schema: str | None) -> int:
    """The schema version recorded in the database (0: no model store tables yet)."""
    if not sa.inspect(connection).has_table(META_TABLE, schema=schema):
        return 0
    value = connection.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == SCHEMA_VERSION_KEY)
    ).scalar_one_or_none()
    return int(value) if value is not None else 0


def migrate(engine: Any, write_engine: Any, schema: str | None, location: str) -> int:
    """Bring the database to the newest schema version; returns it."""
    target = MIGRATIONS[-1].version
    with engine.connect() as connection:
        found = schema_version(connection, schema)
    _refuse_newer(found, target, location)
    if found == target:
        return found
    with write_engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                               {"key": f"pynomaly-registry:{schema or ''}"})
            if schema:
                connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        found = schema_version(connection, schema)
        _refuse_newer(found, target, location)
        for migration in MIGRATIONS:
            if migration.version <= found:
                continue
            migration.upgrade(connection, schema)
            _record_version(connection, migration.version, first=found == 0)
            found = migration.version
    return found


def _record_version(connection: sa.Connection, version: int, *, first: bool) -> None:
    if first:
        connection.execute(sa.insert(meta_table).values(key=SCHEMA_VERSION_KEY, value=str(version)))
    else:
        connection.execute(sa.update(meta_table).where(meta_table.c.key == SCHEMA_VERSION_KEY)
                           .values(value=str(version)))


def _refuse_newer(found: int, target: int, location: str) -> None:
    if found > target:
        raise ModelStoreError(f"the model store at {location} has schema version {found}, newer than this "
                            f"pynomaly reads ({target}); upgrade pynomaly")
