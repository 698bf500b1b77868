"""API keys (salted scrypt hashes) and the append-only audit log, in SQLAlchemy tables of their own.

A key looks like ``pyn_<key id>_<secret>``. Only the key id, a random salt and ``scrypt(secret, salt)`` are
stored, so the database never holds a usable key; the full key is shown once, when it is created. Roles are
ordered: ``read`` < ``score`` < ``admin`` (a key may do what its role and every lower role allow).

The audit log only ever receives INSERTs from this module; on SQLite and PostgreSQL a trigger also rejects
UPDATE and DELETE of its rows, so it stays append-only even for other clients of the database.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from pynomaly_core.errors import InputError, PynomalyError

ROLES = ("read", "score", "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_PREFIX = "pyn_"

metadata = sa.MetaData()
api_keys = sa.Table(
    "pynomaly_api_keys", metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("salt", sa.LargeBinary(32), nullable=False),
    sa.Column("hash", sa.LargeBinary(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
audit_log = sa.Table(
    "pynomaly_audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(400), nullable=False),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
)

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {audit_log.name}_no_{op.lower()} BEFORE {op} ON {audit_log.name} "
    f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for op in ("UPDATE", "DELETE")
]
_PG_TRIGGER = [
    f"CREATE OR REPLACE FUNCTION {audit_log.name}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    f"DROP TRIGGER IF EXISTS {audit_log.name}_append_only ON {audit_log.name}",
    f"CREATE TRIGGER {audit_log.name}_append_only BEFORE UPDATE OR DELETE ON {audit_log.name} "
    f"FOR EACH ROW EXECUTE FUNCTION {audit_log.name}_append_only()",
]


class KeyNotFoundError(PynomalyError, LookupError):
    """No API key with that id."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret)."""

    key_id: str
    name: str
    role: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    def allows(self, role: str) -> bool:
        return self.revoked_at is None and ROLES.index(self.role) >= ROLES.index(role)

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "name": self.name, "role": self.role,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat()}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return role


def default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


class KeyStore:
    """Create, verify and revoke API keys; append to and read the audit log."""

    def __init__(self, url: str, *, recheck_s: float = 5.0):
        self.url = url
        self.engine = sa.create_engine(url)
        self.recheck_s = recheck_s
        self._verified: dict[bytes, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            dialect = self.engine.dialect.name
            triggers = {"sqlite": _SQLITE_TRIGGERS, "postgresql": _PG_TRIGGER}.get(dialect, [])
            for statement in triggers:
                conn.exec_driver_sql(statement)

    # -- keys ------------------------------------------------------------------------------------------------
    def create(self, role: str, *, name: str = "", actor: str | None = None) -> tuple[ApiKey, str]:
        """Store a new key; returns it and the full secret key (shown once, never stored)."""
        check_role(role)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        key = ApiKey(key_id, name, role, _now(), actor or default_actor(), None)
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(
                key_id=key_id, name=name, role=role, salt=salt, hash=_hash(secret, salt),
                created_at=key.created_at, created_by=key.created_by, revoked_at=None))
            self._append(conn, key.created_by, "key.create", key_id, {"role": role, "name": name})
        return key, f"{_PREFIX}{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(api_keys.select().order_by(api_keys.c.created_at)).mappings().all()
        return [self._key(row) for row in rows]

    def get(self, key_id: str) -> ApiKey:
        with self.engine.connect() as conn:
            row = conn.execute(api_keys.select().where(api_keys.c.key_id == key_id)).mappings().first()
        if row is None:
            raise KeyNotFoundError(f"no API key with id {key_id!r}; see `pynomaly keys list`")
        return self._key(row)

    def revoke(self, key_id: str, *, actor: str | None = None) -> ApiKey:
        key = self.get(key_id)
        if key.revoked_at is not None:
            raise InputError(f"API key {key_id!r} is already revoked")
        with self.engine.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.key_id == key_id).values(revoked_at=_now()))
            self._append(conn, actor or default_actor(), "key.revoke", key_id, {"role": key.role})
        with self._lock:
            self._verified = {k: v for k, v in self._verified.items() if v[0].key_id != key_id}
        return self.get(key_id)

    def cached(self, token: str) -> ApiKey | None:
        """The key ``token`` is, if it was verified less than ``recheck_s`` seconds ago (no database, no scrypt)."""
        cached = self._verified.get(hashlib.sha256(token.encode()).digest())
        if cached is not None and time.monotonic() - cached[1] < self.recheck_s:
            return cached[0]
        return None

    def verify(self, token: str) -> ApiKey | None:
        """The active key that ``token`` is, or ``None``. A verified token is remembered (by its SHA-256) so
        the scrypt check runs once; its revocation status is re-read every ``recheck_s`` seconds."""
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        cached = self._verified.get(digest)
        if cached is not None and now - cached[1] < self.recheck_s:
            return cached[0]
        if cached is not None:
            try:
                key = self.get(cached[0].key_id)
            except KeyNotFoundError:
                key = None
        else:
            key = self._check_secret(token)
        with self._lock:
            if key is None or key.revoked_at is not None:
                self._verified.pop(digest, None)
                return None
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = (key, now)
        return key

    def _check_secret(self, token: str) -> ApiKey | None:
        if not token.startswith(_PREFIX) or token.count("_") < 2:
            return None
        key_id, _, secret = token[len(_PREFIX):].partition("_")
        with self.engine.connect() as conn:
            row = conn.execute(api_keys.select().where(api_keys.c.key_id == key_id)).mappings().first()
        if row is None or not hmac.compare_digest(_hash(secret, row["salt"]), row["hash"]):
            return None
        return self._key(row)

    @staticmethod
    def _key(row: Any) -> ApiKey:
        return ApiKey(row["key_id"], row["name"], row["role"], _aware(row["created_at"]), row["created_by"],
                      _aware(row["revoked_at"]))

    # -- audit log -------------------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> None:
        """Append one entry to the audit log."""
        with self.engine.begin() as conn:
            self._append(conn, actor, action, target, details or {})

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(audit_log.select().order_by(audit_log.c.id.desc()).limit(limit)).mappings().all()
        return [{"id": r["id"], "at": _aware(r["at"]).isoformat(), "actor": r["actor"], "action": r["action"],
                 "target": r["target"], "details": json.loads(r["details"])} for r in reversed(rows)]

    @staticmethod
    def _append(conn: Any, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        conn.execute(audit_log.insert().values(at=_now(), actor=actor, action=action, target=target,
                                               details=json.dumps(details, sort_keys=True, default=str)))

    def close(self) -> None:
        self.engine.dispose()
