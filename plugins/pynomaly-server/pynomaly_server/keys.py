"""API keys (salted scrypt hashes), the policy table and the server's hash-chained audit log, in SQLAlchemy
tables of their own.

A key looks like ``pyn_<key id>_<secret>``. Only the key id, a random salt and ``scrypt(secret, salt)`` are
stored, so the database never holds a usable key; the full key is shown once, when it is created. Each key
belongs to a tenant (``default`` unless named) and has a role of the policy table (``pynomaly_policy``: rows
``(tenant, role, action)``, seeded with :func:`pynomaly_core.governance.policy.default_rows`; the first keys'
``read`` < ``score`` < ``admin`` keep working).

The audit log only ever receives INSERTs from this module, each record hash-chained to the one before
(:mod:`pynomaly_core.governance.audit`); on SQLite and PostgreSQL a trigger also rejects UPDATE and DELETE of
its rows, so it stays append-only even for other clients of the database. Databases written before tenants
and chaining get the new columns when first opened (their old records stay, reported as unchained).
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
from pynomaly_core.governance import audit as chain
from pynomaly_core.governance.policy import GLOBAL_ADMIN, Policy, default_rows
from pynomaly_core.governance.tenants import ANY_TENANT, DEFAULT_TENANT, check_tenant

ROLES = ("read", "score", "admin")
#: The action of a record holding a batch of API-call entries (see :mod:`pynomaly_server.audit_writer`).
API_CALLS = "api.calls"
#: What each of the first keys' roles stands for, as one action (``ApiKey.allows`` and the web UI).
ROLE_ACTIONS = {"read": "model.read", "score": "model.score", "admin": "key.manage"}
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
    sa.Column("tenant", sa.String(64), nullable=False, server_default=DEFAULT_TENANT),
)
audit_log = sa.Table(
    "pynomaly_audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(400), nullable=False),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
    sa.Column("tenant", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    *chain.chain_columns(sa),
)
policy_table = sa.Table(
    "pynomaly_policy", metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(64), primary_key=True),
    sa.Column("action", sa.String(64), primary_key=True),
)
heads = chain.heads_table(sa, metadata)
#: Columns added to tables written before tenants and chaining: (table, column, SQL type and default).
_ADDED = [(api_keys, "tenant", f"VARCHAR(64) NOT NULL DEFAULT '{DEFAULT_TENANT}'")] + [
    (audit_log, name, kind) for name, kind in (("tenant", "VARCHAR(64)"), ("outcome", "VARCHAR(32)"),
                                               ("request_id", "VARCHAR(64)"), ("seq", "INTEGER"),
                                               ("prev_hash", "VARCHAR(64)"), ("hash", "VARCHAR(64)"))]



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
    tenant: str = DEFAULT_TENANT

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def allows(self, role: str, policy: Policy | None = None) -> bool:
        """Whether the key may do what ``role`` (read, score, admin) stands for, in its own tenant."""
        action = ROLE_ACTIONS.get(role, role)
        return self.revoked_at is None and (policy or _DEFAULT_POLICY).allows(self.role, action, self.tenant)

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "name": self.name, "role": self.role, "tenant": self.tenant,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat()}


_DEFAULT_POLICY = Policy()


def check_role(role: str, policy: Policy | None = None) -> str:
    roles = (policy or _DEFAULT_POLICY).roles
    if role not in roles:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(sorted(roles))}")
    return role


def default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def record(actor: str, action: str, target: str, details: dict[str, Any] | None = None, *,
           tenant: str | None = DEFAULT_TENANT, outcome: str = "ok", request_id: str | None = None,
           at: datetime | None = None) -> dict[str, Any]:
    """One audit-log record, ready for :meth:`KeyStore.audit_many`."""
    return {"at": at or _now(), "actor": actor, "action": action, "target": target,
            "details": json.dumps(details or {}, sort_keys=True, default=str), "tenant": tenant,
            "outcome": outcome, "request_id": request_id}


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


class KeyStore:
    """Create, verify and revoke API keys; append to and read the audit log."""

    def __init__(self, url: str, *, recheck_s: float = 5.0, schema: str | None = None, create: bool = True):
        self.url = url
        self.schema = schema or None
        from pynomaly_core.modelstore.engine import create_engines

        # SQLite: WAL, and writers take the lock up front (BEGIN IMMEDIATE), so chained appends never deadlock
        self.engine, self._writer = create_engines(url, self.schema)
        self.recheck_s = recheck_s
        self._verified: dict[bytes, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()
        self._policy: tuple[Policy, float] | None = None
        self._reloading = threading.Lock()
        if create:
            self._create_tables()

    def _create_tables(self) -> None:
        with self._writer.begin() as conn:
            if self.schema and conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            if conn.dialect.name == "postgresql":  # servers and CLIs opening one new database at the same time
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                             {"key": f"pynomaly-keys:{self.schema or ''}"})
            metadata.create_all(conn)
            inspector = sa.inspect(conn)
            for table, column, kind in _ADDED:  # databases from before tenants and chaining
                if column not in {c["name"] for c in inspector.get_columns(table.name, schema=self.schema)}:
                    conn.exec_driver_sql(f"ALTER TABLE {self._qualified(table.name)} ADD COLUMN {column} {kind}")
            for statement in chain.append_only_sql(conn.dialect.name, audit_log.name, schema=self.schema):
                conn.exec_driver_sql(statement)
            if conn.execute(sa.select(sa.func.count()).select_from(policy_table)).scalar_one() == 0:
                conn.execute(policy_table.insert(), [{"tenant": t, "role": r, "action": a}
                                                     for t, r, a in default_rows()])

    def _qualified(self, table: str) -> str:
        return f'"{self.schema}".{table}' if self.schema else table

    # -- policy ----------------------------------------------------------------------------------------------
    def policy(self) -> Policy:
        """The policy table, in memory: read once, then re-read every ``recheck_s`` seconds (like revocations) by
        a background thread, so that no request waits for the database."""
        cached = self._policy
        if cached is None:
            return self._reload_policy()
        if time.monotonic() - cached[1] >= max(self.recheck_s, 0.5) and not self._reloading.locked():
            threading.Thread(target=self._reload_policy, kwargs={"background": True}, daemon=True).start()
        return cached[0]

    def _reload_policy(self, background: bool = False) -> Policy:
        with self._reloading:
            try:
                with self.engine.connect() as conn:
                    rows = [tuple(r) for r in conn.execute(sa.select(policy_table.c.tenant, policy_table.c.role,
                                                                     policy_table.c.action))]
            except Exception:
                if not background or self._policy is None:
                    raise
                self._policy = (self._policy[0], time.monotonic())  # keep the last one; try again later
                return self._policy[0]
            policy = Policy(rows)
            self._policy = (policy, time.monotonic())
            return policy

    def grant(self, role: str, action: str, *, tenant: str = ANY_TENANT, actor: str | None = None) -> None:
        """Add a policy row (``tenant`` ``*``: every tenant)."""
        if tenant != ANY_TENANT:
            check_tenant(tenant)
        if not role or not action:
            raise InputError("a policy row needs a role and an action")
        with self._writer.begin() as conn:
            exists = conn.execute(sa.select(policy_table.c.role).where(
                policy_table.c.tenant == tenant, policy_table.c.role == role, policy_table.c.action == action)).first()
            if exists is None:
                conn.execute(policy_table.insert().values(tenant=tenant, role=role, action=action))
                self._append(conn, actor or default_actor(), "policy.grant", f"{tenant}/{role}/{action}", {},
                             tenant=None if tenant == ANY_TENANT else tenant)
        self._policy = None

    def revoke_grant(self, role: str, action: str, *, tenant: str = ANY_TENANT, actor: str | None = None) -> None:
        """Remove a policy row (an error when there is none)."""
        with self._writer.begin() as conn:
            gone = conn.execute(policy_table.delete().where(
                policy_table.c.tenant == tenant, policy_table.c.role == role, policy_table.c.action == action)).rowcount
            if gone != 1:
                raise InputError(f"no policy row ({tenant}, {role}, {action}); see `pynomaly keys policy`")
            self._append(conn, actor or default_actor(), "policy.revoke", f"{tenant}/{role}/{action}", {},
                         tenant=None if tenant == ANY_TENANT else tenant)
        self._policy = None

    # -- keys ------------------------------------------------------------------------------------------------
    def create(self, role: str, *, name: str = "", actor: str | None = None,
               tenant: str = DEFAULT_TENANT) -> tuple[ApiKey, str]:
        """Store a new key of ``tenant``; returns it and the full secret key (shown once, never stored)."""
        check_role(role, self.policy())
        tenant = ANY_TENANT if role == GLOBAL_ADMIN and tenant == ANY_TENANT else check_tenant(tenant)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        key = ApiKey(key_id, name, role, _now(), actor or default_actor(), None, tenant)
        with self._writer.begin() as conn:
            conn.execute(api_keys.insert().values(
                key_id=key_id, name=name, role=role, salt=salt, hash=_hash(secret, salt),
                created_at=key.created_at, created_by=key.created_by, revoked_at=None, tenant=tenant))
            self._append(conn, key.created_by, "key.create", key_id, {"role": role, "name": name}, tenant=tenant)
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
        with self._writer.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.key_id == key_id).values(revoked_at=_now()))
            self._append(conn, actor or default_actor(), "key.revoke", key_id, {"role": key.role},
                         tenant=key.tenant)
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
                      _aware(row["revoked_at"]), row.get("tenant") or DEFAULT_TENANT)

    # -- audit log -------------------------------------------------------------------------------------------
    def audit(self, actor: str, action: str, target: str, details: dict[str, Any] | None = None, *,
              tenant: str | None = DEFAULT_TENANT, outcome: str = "ok", request_id: str | None = None) -> None:
        """Append one entry to the audit log."""
        self.audit_many([record(actor, action, target, details, tenant=tenant, outcome=outcome,
                                request_id=request_id)])

    def audit_many(self, records: list[dict[str, Any]]) -> None:
        """Append ``records`` (from :func:`record`) in one transaction (the server's batched API-call log)."""
        for attempt in range(5):  # a concurrent writer took the same seq (SQLite's deferred BEGIN): retry
            try:
                with self._writer.begin() as conn:
                    chain.append(conn, audit_log, heads, records, lock_key=self.schema or "", schema=self.schema)
                return
            except sa.exc.IntegrityError:
                if attempt == 4:
                    raise
                time.sleep(0.01 * (attempt + 1))

    def audit_entries(self, limit: int = 100, *, tenant: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (of ``tenant`` only, when given), oldest first; the API calls of a batch
        record are listed one by one (with the record's ``id`` and ``seq``)."""
        query = audit_log.select()
        if tenant is not None:
            query = query.where(audit_log.c.tenant == tenant)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).mappings().all()
        entries: list[dict[str, Any]] = []
        for r in reversed(rows):
            details = json.loads(r["details"])
            base = {"id": r["id"], "seq": r["seq"], "tenant": r["tenant"]}
            if r["action"] != API_CALLS:
                entries.append({**base, "at": _aware(r["at"]).isoformat(), "actor": r["actor"],
                                "action": r["action"], "target": r["target"], "outcome": r["outcome"],
                                "request_id": r["request_id"], "details": details})
                continue
            for at, actor, action, target, status, request_id in details.get("calls", []):
                entries.append({**base, "at": at, "actor": actor, "action": action, "target": target,
                                "outcome": str(status), "request_id": request_id, "details": {}})
        return entries[-limit:]

    def verify_audit(self) -> chain.Report:
        """Check the hash chain of the server's audit log (see :func:`pynomaly_core.governance.audit.verify`)."""
        label = f"server audit log ({self.engine.url.render_as_string(hide_password=True)})"
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(audit_log.name, schema=self.schema):
                return chain.Report(label)
            head = chain.read_head(conn, audit_log, heads, self.schema)
            return chain.verify(chain.rows_in_order(conn, audit_log), head, log=label)

    def _append(self, conn: Any, actor: str, action: str, target: str, details: dict[str, Any], *,
                tenant: str | None = DEFAULT_TENANT) -> None:
        chain.append(conn, audit_log, heads, [record(actor, action, target, details, tenant=tenant)],
                     lock_key=self.schema or "", schema=self.schema)

    def close(self) -> None:
        self.engine.engine.dispose()
