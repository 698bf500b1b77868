"""Database engines for the model store (SQLAlchemy is imported here, on first use, never at package import).

SQLite: the driver's implicit transactions are switched off so that SQLAlchemy's ``BEGIN`` is real; writers use
``BEGIN IMMEDIATE`` (they take the write lock up front and queue on a busy timeout instead of failing), readers a
deferred ``BEGIN``; the journal is WAL so readers do not wait for writers. PostgreSQL: psycopg 3, optionally
inside a schema of its own (``schema_translate_map``).
"""

from __future__ import annotations

from typing import Any

from pynomaly_core.modelstore.errors import ModelStoreError

WRITE_OPTION = "pynomaly_write"
SQLITE_BUSY_TIMEOUT_S = 60.0
STORE_EXTRA = "pip install 'pynomaly[store]'"
POSTGRES_EXTRA = "pip install 'pynomaly[postgres]'"


def require_sqlalchemy() -> Any:
    """Import SQLAlchemy (>= 2) or raise a one-line :class:`ModelStoreError` naming the extra to install."""
    try:
        import sqlalchemy
    except ImportError:
        raise ModelStoreError(f"the model store needs SQLAlchemy: {STORE_EXTRA}") from None
    if int(sqlalchemy.__version__.split(".")[0]) < 2:
        raise ModelStoreError(f"the model store needs SQLAlchemy >= 2 (found {sqlalchemy.__version__}): "
                            f"{STORE_EXTRA}")
    return sqlalchemy


def redacted(url: str) -> str:
    """``url`` with its password hidden (for messages)."""
    sa = require_sqlalchemy()
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(invalid URL)"


def check_url(url: str, schema: str | None = None) -> Any:
    """The parsed ``url`` of a supported database (SQLite, PostgreSQL), or a one-line :class:`ModelStoreError`."""
    sa = require_sqlalchemy()
    try:
        parsed = sa.engine.make_url(url)
    except Exception:
        raise ModelStoreError(f"invalid database URL {url!r} (e.g. sqlite:////path/store.db or "
                            "postgresql://user@host/db)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ModelStoreError(f"unsupported database {backend!r} in {redacted(url)}: the model store runs on "
                            "SQLite and PostgreSQL")
    if backend == "sqlite" and schema:
        raise ModelStoreError("SQLite has no schemas: unset PYNOMALY_DATABASE_SCHEMA (or use PostgreSQL)")
    return parsed


def create_engines(url: str, schema: str | None = None) -> tuple[Any, Any]:
    """A reading engine and a writing engine (same pool) for ``url``; ``schema`` is PostgreSQL only."""
    sa = require_sqlalchemy()
    parsed = check_url(url, schema)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(sa, parsed)
    else:
        engine = _postgres_engine(sa, parsed, schema)
    return engine, engine.execution_options(**{WRITE_OPTION: True})


def _sqlite_engine(sa: Any, url: Any) -> Any:
    memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    if memory:
        options.update(poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False})
    engine = sa.create_engine(url, **options)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        import sqlite3

        dbapi_connection.isolation_level = None  # no implicit BEGIN: SQLAlchemy's begin event emits it
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:  # another process is switching it right now; it persists in the file
            pass
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _postgres_engine(sa: Any, url: Any, schema: str | None) -> Any:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername == "postgresql+psycopg":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ModelStoreError(f"a PostgreSQL model store needs psycopg: {POSTGRES_EXTRA}") from None
    try:
        engine = sa.create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        raise ModelStoreError(f"the PostgreSQL driver of {url.drivername} is not installed ({exc}); "
                            f"{POSTGRES_EXTRA} installs psycopg") from None
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine
