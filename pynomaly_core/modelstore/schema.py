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
SCHEMA_VERSION_KEY = "schema_version"

#: Version states: ``pending`` while artefacts are written, ``ready`` once complete (the only state readers
#: see), ``deleting`` while a delete removes the artefacts.
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


# The current tables (identical to version 1 until a migration changes them).
metadata = sa.MetaData()
meta_table, models_table, versions_table = _define_v1(metadata)


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


MIGRATIONS: list[Migration] = [
    Migration(1, "tables pynomaly_registry_meta, pynomaly_models, pynomaly_model_versions", _upgrade_to_v1),
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
