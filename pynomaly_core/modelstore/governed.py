"""The governed part of the model store: lifecycle transitions, aliases, stage history and the audit log.

:class:`Governed` is a mixin of :class:`~pynomaly_core.modelstore.store.ModelStore`; each change runs in one
write transaction together with its stage event and its hash-chained audit record (so a process killed at any
point leaves either both or neither). The rules themselves are :mod:`pynomaly_core.governance.lifecycle`.
A refused action changes nothing and is recorded in the audit log with outcome ``refused``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO, Any

from pynomaly_core.errors import InputError
from pynomaly_core.governance import audit, lifecycle
from pynomaly_core.governance.errors import TransitionError
from pynomaly_core.modelstore.errors import ModelNotFoundError
from pynomaly_core.modelstore.paths import check_name
from pynomaly_core.modelstore.provenance import current_user

ACTOR_ENV = "PYNOMALY_ACTOR"


def default_actor() -> str:
    """``$PYNOMALY_ACTOR`` (a service account, a CI job), else the login name."""
    return os.environ.get(ACTOR_ENV) or current_user()


class Governed:
    """Lifecycle, aliases, history and audit of a model store (see the module docstring)."""

    tenant: str
    actor: str
    request_id: str | None
    required_approvals: int

    # -- lifecycle -----------------------------------------------------------------------------------------
    def submit(self, name: str, version: int, *, reason: str | None = None) -> Any:
        """``draft`` or ``rejected`` → ``pending_review``."""
        return self.transition(name, version, "submit", reason=reason)

    def approve(self, name: str, version: int, *, reason: str | None = None) -> Any:
        """Record an approval; the version becomes ``approved`` with the last required one (two-person rule)."""
        return self.transition(name, version, "approve", reason=reason)

    def reject(self, name: str, version: int, *, reason: str) -> Any:
        """``pending_review`` → ``rejected`` (a reason is required)."""
        return self.transition(name, version, "reject", reason=reason)

    def deploy(self, name: str, version: int, *, alias: str | None = "champion", reason: str | None = None) -> Any:
        """``approved`` → ``deployed``, and point ``alias`` (default ``champion``; ``None``: none) at it."""
        return self.transition(name, version, "deploy", reason=reason, alias=alias)

    def retire(self, name: str, version: int, *, reason: str) -> Any:
        """``approved`` or ``deployed`` → ``retired`` (a reason is required); its aliases are removed."""
        return self.transition(name, version, "retire", reason=reason)

    def transition(self, name: str, version: int, action: str, *, reason: str | None = None,
                   alias: str | None = None) -> Any:
        """Apply lifecycle ``action`` to ``name@version`` or raise :class:`TransitionError` saying why not."""
        version = _explicit(name, version, action)
        if alias is not None:
            lifecycle.check_alias(alias)
        ref = f"{name}@{version}"
        self._connect()
        table = self._t.versions_table
        try:
            with self._db(), self._write_engine.begin() as connection:
                row = connection.execute(self._sa.select(table.c.stage, table.c.created_by).where(
                    *self._version_is(name, version)).with_for_update()).first()
                if row is None:
                    raise self._not_found(connection, name, version)
                submitter, approvers = self._review_state(connection, name, version)
                outcome = lifecycle.decide(ref, action, row.stage, actor=self.actor, author=row.created_by,
                                           submitter=submitter, approvers=approvers,
                                           required=self.required_approvals, reason=reason)
                if outcome.stage != row.stage:
                    connection.execute(self._sa.update(table).where(*self._version_is(name, version))
                                       .values(stage=outcome.stage))
                self._event(connection, name, version, action, row.stage, outcome.stage, reason)
                if action == "deploy" and alias is not None:
                    self._put_alias(connection, name, alias, version)
                if action == "retire":
                    self._drop_aliases(connection, name, version)
                details = {"from": row.stage, "to": outcome.stage, "reason": reason}
                if action == "approve":
                    details.update(approvals=outcome.approvals, required=self.required_approvals)
                if alias is not None and action == "deploy":
                    details["alias"] = alias
                self._audit(connection, f"model.{action}", ref, details=details)
        except TransitionError as exc:
            self._refused(f"model.{action}", ref, str(exc))
            raise
        return self.get(name, version)

    # -- aliases -------------------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``name@alias`` at ``version`` (approved or deployed only)."""
        version = _explicit(name, version, "alias")
        lifecycle.check_alias(alias)
        ref = f"{name}@{version}"
        self._connect()
        table = self._t.versions_table
        try:
            with self._db(), self._write_engine.begin() as connection:
                stage = connection.execute(self._sa.select(table.c.stage).where(
                    *self._version_is(name, version)).with_for_update()).scalar_one_or_none()
                if stage is None:
                    raise self._not_found(connection, name, version)
                if stage not in lifecycle.SERVABLE:
                    raise TransitionError(f"cannot point {name}@{alias} at {ref}: it is {stage}; only approved "
                                          "or deployed versions take an alias")
                self._put_alias(connection, name, alias, version)
                self._event(connection, name, version, f"alias:{alias}", stage, stage)
                self._audit(connection, "model.alias", f"{name}@{alias}", details={"version": version})
        except TransitionError as exc:
            self._refused("model.alias", f"{name}@{alias}", str(exc))
            raise

    def remove_alias(self, name: str, alias: str) -> None:
        """Remove ``name@alias`` (an error when there is none)."""
        version = self.alias_version(name, alias)
        aliases = self._t.aliases_table
        with self._db(), self._write_engine.begin() as connection:
            connection.execute(self._sa.delete(aliases).where(
                aliases.c.tenant == self.tenant, aliases.c.name == name, aliases.c.alias == alias))
            self._event(connection, name, version, f"unalias:{alias}", None, None)
            self._audit(connection, "model.unalias", f"{name}@{alias}", details={"version": version})

    def aliases(self, name: str | None = None) -> dict[str, dict[str, int]]:
        """``{name: {alias: version}}`` of this tenant (of ``name`` only, when given)."""
        if not self._connect(create=False):
            return {}
        table = self._t.aliases_table
        query = self._sa.select(table.c.name, table.c.alias, table.c.version).where(table.c.tenant == self.tenant)
        if name is not None:
            query = query.where(table.c.name == check_name(name))
        found: dict[str, dict[str, int]] = {}
        with self._db(), self._engine.connect() as connection:
            for row in connection.execute(query.order_by(table.c.name, table.c.alias)):
                found.setdefault(row.name, {})[row.alias] = int(row.version)
        return found

    def alias_version(self, name: str, alias: str) -> int:
        """The version ``name@alias`` points at, or :class:`ModelNotFoundError` listing the aliases there are."""
        check_name(name)
        known = self.aliases(name).get(name, {})
        if alias not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ModelNotFoundError(f"model {name!r} has no alias {alias!r} in tenant {self.tenant!r}; aliases: "
                                     f"{listed}")
        return known[alias]

    # -- history and audit ---------------------------------------------------------------------------------
    def history(self, name: str, version: int | None = None) -> list[dict[str, Any]]:
        """Every stage event of ``name`` (or of one version), oldest first: who did what, when and why."""
        check_name(name)
        if not self._connect(create=False):
            raise ModelNotFoundError(f"no model named {name!r}: the model store at {self.location} is empty")
        events = self._t.events_table
        query = self._sa.select(events).where(events.c.tenant == self.tenant, events.c.name == name)
        if version is not None:
            query = query.where(events.c.version == version)
        with self._db(), self._engine.connect() as connection:
            rows = connection.execute(query.order_by(events.c.id)).mappings().all()
            if not rows:
                raise self._not_found(connection, name, version)
        return [{"ref": f"{r['name']}@{r['version']}", "action": r["action"], "from": r["from_stage"],
                 "to": r["to_stage"], "actor": r["actor"], "reason": r["reason"], "at": r["at"],
                 "request_id": r["request_id"]} for r in rows]

    def audit_entries(self, limit: int = 100, *, all_tenants: bool = False) -> list[dict[str, Any]]:
        """The newest ``limit`` audit records of this tenant (of every tenant with ``all_tenants``), oldest first."""
        if not self._connect(create=False):
            return []
        table = self._t.audit_table
        query = self._sa.select(table)
        if not all_tenants:
            query = query.where(table.c.tenant == self.tenant)
        with self._db(), self._engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.seq.desc()).limit(limit)).mappings().all()
        return [_public(r) for r in reversed(rows)]

    def audit_rows(self) -> Iterator[dict[str, Any]]:
        """Every audit record of every tenant, in chain order (for verification and export)."""
        if not self._connect(create=False):
            return
        with self._db(), self._engine.connect() as connection:
            yield from audit.rows_in_order(connection, self._t.audit_table)

    def verify_audit(self) -> audit.Report:
        """Check the hash chain of the audit log; the report names every edited, deleted or reordered record."""
        label = f"model store audit log ({self.location})"
        if not self._connect(create=False):
            return audit.Report(label)
        with self._db(), self._engine.connect() as connection:
            head = audit.read_head(connection, self._t.audit_table, self._t.heads_table, self.schema)
        return audit.verify(self.audit_rows(), head, log=label)

    def export_audit(self, handle: IO[str]) -> int:
        """Write every audit record as JSON Lines (chain order, hashes included); returns how many."""
        count = 0
        for row in self.audit_rows():
            handle.write(json.dumps(audit.content_of(row) | {"id": row["id"], "prev_hash": row["prev_hash"],
                                                             "hash": row["hash"]}, sort_keys=True) + "\n")
            count += 1
        return count

    # -- internals -----------------------------------------------------------------------------------------
    def _version_is(self, name: str, version: int) -> tuple[Any, ...]:
        table = self._t.versions_table
        return (table.c.tenant == self.tenant, table.c.name == name, table.c.version == version,
                table.c.status == self._t.READY)

    def _review_state(self, connection: Any, name: str, version: int) -> tuple[str | None, tuple[str, ...]]:
        """Who submitted the version last, and who approved it since."""
        events = self._t.events_table
        rows = connection.execute(self._sa.select(events.c.action, events.c.actor).where(
            events.c.tenant == self.tenant, events.c.name == name, events.c.version == version,
            events.c.action.in_(("submit", "approve", "reject"))).order_by(events.c.id))
        submitter, approvers = None, []
        for action, actor in rows:
            if action == "submit":
                submitter, approvers = actor, []
            elif action == "approve":
                approvers.append(actor)
            else:
                approvers = []
        return submitter, tuple(approvers)

    def _event(self, connection: Any, name: str, version: int, action: str, from_stage: str | None,
               to_stage: str | None, reason: str | None = None) -> None:
        from pynomaly_core.governance.audit import utc_now

        connection.execute(self._sa.insert(self._t.events_table).values(
            tenant=self.tenant, name=name, version=version, action=action, from_stage=from_stage,
            to_stage=to_stage, actor=self.actor, reason=reason, at=utc_now(), request_id=self.request_id))

    def _audit(self, connection: Any, action: str, obj: str, *, outcome: str = "ok",
               details: dict[str, Any] | None = None) -> None:
        record = {"at": audit.utc_now(), "tenant": self.tenant, "actor": self.actor, "action": action,
                  "object": obj, "outcome": outcome, "request_id": self.request_id,
                  "details": json.dumps(details or {}, sort_keys=True, default=str)}
        audit.append(connection, self._t.audit_table, self._t.heads_table, [record], lock_key=self.schema or "",
                     schema=self.schema)

    def _refused(self, action: str, obj: str, message: str) -> None:
        try:
            with self._write_engine.begin() as connection:
                self._audit(connection, action, obj, outcome="refused", details={"message": message})
        except Exception:  # the refusal itself is what the caller must see
            pass

    def _put_alias(self, connection: Any, name: str, alias: str, version: int) -> None:
        from pynomaly_core.governance.audit import utc_now

        aliases = self._t.aliases_table
        connection.execute(self._sa.delete(aliases).where(
            aliases.c.tenant == self.tenant, aliases.c.name == name, aliases.c.alias == alias))
        connection.execute(self._sa.insert(aliases).values(tenant=self.tenant, name=name, alias=alias,
                                                           version=version, set_by=self.actor, set_at=utc_now()))

    def _drop_aliases(self, connection: Any, name: str, version: int) -> None:
        aliases = self._t.aliases_table
        connection.execute(self._sa.delete(aliases).where(
            aliases.c.tenant == self.tenant, aliases.c.name == name, aliases.c.version == version))


def _explicit(name: str, version: Any, action: str) -> int:
    check_name(name)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"{action} needs an explicit version: {name}@VERSION (a positive integer)")
    return version


def _public(row: Any) -> dict[str, Any]:
    return {"seq": row["seq"], "at": row["at"], "tenant": row["tenant"], "actor": row["actor"],
            "action": row["action"], "object": row["object"], "outcome": row["outcome"],
            "request_id": row["request_id"], "details": json.loads(row["details"] or "{}")}
