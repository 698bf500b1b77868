"""The hash-chained audit log: each record carries the SHA-256 of the previous one, so editing, deleting or
reordering any record breaks the chain where it happened.

A record's hash is ``sha256(prev_hash + canonical JSON of its content)``, the content being every column but
``id``, ``prev_hash`` and ``hash`` (``seq`` included, so a record moved elsewhere no longer matches). ``seq``
counts 1, 2, 3, … without gaps (a unique column: two writers can never fork the chain), and a head row in
``pynomaly_audit_heads`` holds the newest ``seq`` and hash, written in the same transaction as the record, so
deleting the newest records is seen too. Appending happens inside the caller's transaction: the change and its
record commit together or not at all.

:func:`verify` walks the records in ``seq`` order and names each one that breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

GENESIS = "0" * 64
HEADS_TABLE = "pynomaly_audit_heads"
_SKIP = ("id", "prev_hash", "hash")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _canonical(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def content_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of a record (datetimes as UTC ISO 8601 with microseconds)."""
    return {k: _canonical(v) if type(v) is datetime else v for k, v in row.items() if k not in _SKIP}


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode


def record_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """``sha256(prev_hash + canonical JSON of the content)`` as hex."""
    return hashlib.sha256((prev_hash + _ENCODE(content_of(content))).encode()).hexdigest()


@dataclass
class Report:
    """What :func:`verify` found: ``problems`` names every broken record (empty: the log is intact)."""

    log: str
    records: int = 0
    legacy: int = 0
    head: tuple[int, str] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"log": self.log, "ok": self.ok, "records": self.records, "unchained_legacy_records": self.legacy,
                "head_seq": None if self.head is None else self.head[0], "problems": list(self.problems)}


def verify(rows: Iterable[Mapping[str, Any]], head: tuple[int, str] | None, *, log: str = "audit log") -> Report:
    """Check ``rows`` (in ``seq`` order; rows without a ``seq`` are legacy records written before chaining) against
    each other and against ``head`` (the newest ``seq`` and hash recorded beside the log)."""
    report = Report(log, head=head)
    expected_seq, prev = 1, GENESIS
    for row in rows:
        if row.get("seq") is None:
            report.legacy += 1
            continue
        report.records += 1
        seq, where = int(row["seq"]), f"record seq {row['seq']} (id {row.get('id')})"
        if seq > expected_seq:
            missing = f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq}..{seq - 1}"
            report.problems.append(f"{log}: record {missing} is missing (deleted?) before {where}")
        elif seq < expected_seq:
            report.problems.append(f"{log}: {where} is out of order or duplicated (expected seq {expected_seq})")
        if row.get("prev_hash") != prev and seq == expected_seq:
            report.problems.append(f"{log}: {where} does not follow the record before it (previous hash differs: "
                                   "a record before it was edited, deleted or moved)")
        if record_hash(row.get("prev_hash") or "", row) != row.get("hash"):
            report.problems.append(f"{log}: {where} was edited or reordered (its content no longer matches its "
                                   "hash)")
        expected_seq, prev = seq + 1, row.get("hash") or ""
    if head is not None:
        last = expected_seq - 1
        if head[0] > last:
            gone = f"seq {head[0]}" if head[0] == last + 1 else f"seq {last + 1}..{head[0]}"
            report.problems.append(f"{log}: record {gone} is missing (deleted?): the head says the log ends at "
                                   f"seq {head[0]}")
        elif head[0] < last:
            report.problems.append(f"{log}: records after seq {head[0]} were added outside the audit log's writer")
        elif head[1] != prev:
            report.problems.append(f"{log}: record seq {last} (the newest) does not match the head's hash (edited?)")
    elif report.records:
        report.problems.append(f"{log}: the head record is missing")
    return report


# -- SQLAlchemy helpers (the ``store`` extra) ---------------------------------------------------------------
def chain_columns(sa: Any) -> list[Any]:
    """The columns every chained log has, besides its own content columns."""
    return [sa.Column("seq", sa.Integer, nullable=True, unique=True), sa.Column("prev_hash", sa.String(64)),
            sa.Column("hash", sa.String(64))]


def heads_table(sa: Any, metadata: Any) -> Any:
    return sa.Table(HEADS_TABLE, metadata, sa.Column("log", sa.String(64), primary_key=True),
                    sa.Column("seq", sa.Integer, nullable=False), sa.Column("hash", sa.String(64), nullable=False))


def append(connection: Any, table: Any, heads: Any, records: list[dict[str, Any]], *, lock_key: str = "",
           schema: str | None = None) -> None:
    """Append ``records`` to the chained ``table`` (in PostgreSQL ``schema``) inside the caller's (write)
    transaction."""
    import sqlalchemy as sa

    if not records:
        return
    if connection.dialect.name == "postgresql":  # SQLite writers hold the database lock already (BEGIN IMMEDIATE)
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                           {"key": f"pynomaly-audit:{table.name}:{lock_key}"})
    last = connection.execute(sa.select(table.c.seq, table.c.hash).where(table.c.seq.is_not(None))
                              .order_by(table.c.seq.desc()).limit(1)).first()
    seq, prev = (int(last[0]), last[1]) if last is not None else (0, GENESIS)
    row = connection.execute(sa.select(heads.c.seq).where(heads.c.log == table.name)).first()
    rows, canonical = [], []
    for i, record in enumerate(records):
        if i and not i % 64:
            time.sleep(0)  # a big batch from a server's background thread: let the event loop run in between
        seq += 1
        content = {**record, "seq": seq}
        canon = content_of(content)
        digest = hashlib.sha256((prev + _ENCODE(canon)).encode()).hexdigest()
        rows.append({**content, "prev_hash": prev, "hash": digest})
        canonical.append(canon)
        prev = digest
    _insert(connection, table, rows, canonical, schema)
    if row is None:
        connection.execute(sa.insert(heads).values(log=table.name, seq=seq, hash=prev))
    else:
        connection.execute(sa.update(heads).where(heads.c.log == table.name).values(seq=seq, hash=prev))


def _insert(connection: Any, table: Any, rows: list[dict[str, Any]], canonical: list[dict[str, Any]],
            schema: str | None) -> None:
    """One driver-level ``executemany`` (a batch of API-call records costs a few microseconds a row, not the tens
    that per-row parameter processing would)."""
    columns = list(rows[0])
    style = connection.dialect.paramstyle
    mark = "?" if style == "qmark" else "%s" if style in ("format", "pyformat") else None
    if mark is None:  # another driver: let SQLAlchemy do it
        import sqlalchemy as sa

        connection.execute(sa.insert(table), rows)
        return
    name = f'"{schema}".{table.name}' if schema else table.name
    sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if connection.dialect.name == "sqlite":  # datetimes as SQLAlchemy's SQLite DateTime stores them: naive UTC text
        dated = [c for c in columns if type(rows[0][c]) is datetime]
        values = [tuple(f"{canon[c][:10]} {canon[c][11:26]}" if c in dated else row[c] for c in columns)
                  for row, canon in zip(rows, canonical, strict=True)]
    else:
        values = [tuple(row[c] for c in columns) for row in rows]
    connection.exec_driver_sql(sql, values)


def read_head(connection: Any, table: Any, heads: Any, schema: str | None = None) -> tuple[int, str] | None:
    """The newest ``seq`` and hash recorded for ``table`` (``schema``: where the tables are, on PostgreSQL)."""
    import sqlalchemy as sa

    if not sa.inspect(connection).has_table(heads.name, schema=schema):
        return None
    row = connection.execute(sa.select(heads.c.seq, heads.c.hash).where(heads.c.log == table.name)).first()
    return None if row is None else (int(row[0]), row[1])


def rows_in_order(connection: Any, table: Any, *, batch: int = 5000) -> Iterable[dict[str, Any]]:
    """Every record, legacy (no ``seq``) first, then by ``seq``."""
    import sqlalchemy as sa

    legacy = connection.execute(sa.select(table).where(table.c.seq.is_(None)).order_by(table.c.id)).mappings()
    yield from (dict(r) for r in legacy)
    result = connection.execution_options(yield_per=batch).execute(
        sa.select(table).where(table.c.seq.is_not(None)).order_by(table.c.seq, table.c.id)).mappings()
    for r in result:
        yield dict(r)


def append_only_sql(dialect: str, table: str, *, schema: str | None = None) -> list[str]:
    """Triggers that reject UPDATE and DELETE of ``table``'s rows."""
    if dialect == "sqlite":
        return [f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END" for op in ("UPDATE", "DELETE")]
    if dialect == "postgresql":
        where = f'"{schema}".' if schema else ""
        return [
            f"CREATE OR REPLACE FUNCTION {where}{table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {where}{table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {where}{table} "
            f"FOR EACH ROW EXECUTE FUNCTION {where}{table}_append_only()",
        ]
    return []
