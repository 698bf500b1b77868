"""Roles and the policy table: which role may do which action, within its own tenant.

A policy row is ``(tenant, role, action)``; ``*`` as tenant means every tenant, ``*`` as action every action.
The defaults below give per-tenant roles ``viewer`` < ``scorer`` < ``trainer`` / ``reviewer`` < ``admin`` and the
cross-tenant ``global_admin``; the server's policy table starts with them and an operator may add rows (new
roles, or more actions for a role in one tenant). The roles of the first server keys keep working: ``read`` is a
viewer, ``score`` a scorer, ``admin`` an admin.

A decision is a few set lookups (no database): see :meth:`Policy.decide`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pynomaly_core.governance.tenants import ANY_TENANT

GLOBAL_ADMIN = "global_admin"
ANY_ACTION = "*"
#: Every action the server checks.
ACTIONS = (
    "registry.read", "metrics.read", "model.read", "model.history", "model.score", "data.detect", "data.drift",
    "data.explain", "model.create", "model.submit", "model.approve", "model.reject", "model.deploy",
    "model.retire", "model.alias", "model.delete", "audit.read", "key.manage",
)
_VIEWER = ("registry.read", "metrics.read", "model.read", "model.history")
_SCORER = (*_VIEWER, "model.score", "data.detect", "data.drift", "data.explain")
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "viewer": _VIEWER,
    "scorer": _SCORER,
    "trainer": (*_SCORER, "model.create", "model.submit"),
    "reviewer": (*_SCORER, "model.approve", "model.reject"),
    "admin": ACTIONS,
    # the roles of the first server keys (read < score < admin)
    "read": _VIEWER,
    "score": _SCORER,
}
#: Role names in the order messages list them; the first keys' roles form their own family.
ROLE_ORDER = ("viewer", "scorer", "trainer", "reviewer", "admin", GLOBAL_ADMIN)
LEGACY_ORDER = ("read", "score", "admin")


def default_rows() -> list[tuple[str, str, str]]:
    """The default policy table."""
    rows = [(ANY_TENANT, role, action) for role, actions in DEFAULT_ROLES.items() for action in actions]
    return [*rows, (ANY_TENANT, GLOBAL_ADMIN, ANY_ACTION)]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


class Policy:
    """An in-memory policy table; :meth:`decide` answers whether a key may do an action on a tenant."""

    def __init__(self, rows: Iterable[tuple[str, str, str]] | None = None):
        self.rows = frozenset(default_rows() if rows is None else rows)
        self.roles = frozenset(role for _, role, _ in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def allows(self, role: str, action: str, tenant: str) -> bool:
        """Whether ``role`` may do ``action`` in ``tenant`` (the key's own tenant)."""
        rows = self.rows
        return ((tenant, role, action) in rows or (ANY_TENANT, role, action) in rows
                or (ANY_TENANT, role, ANY_ACTION) in rows or (tenant, role, ANY_ACTION) in rows)

    def decide(self, role: str, key_tenant: str, action: str, tenant: str, *, who: str = "this key") -> Decision:
        """May a key with ``role`` in ``key_tenant`` do ``action`` on ``tenant``? Only ``global_admin`` (or a key
        of tenant ``*``) crosses tenants."""
        crossing = tenant != key_tenant and key_tenant != ANY_TENANT and role != GLOBAL_ADMIN
        if crossing:
            return Decision(False, f"{who} belongs to tenant {key_tenant!r} and cannot act on tenant {tenant!r}")
        if self.allows(role, action, key_tenant):
            return ALLOW
        return Decision(False, self._needs(role, action, key_tenant, who))

    def _needs(self, role: str, action: str, tenant: str, who: str) -> str:
        family = LEGACY_ORDER if role in LEGACY_ORDER else ROLE_ORDER  # custom roles are not listed
        able = [r for r in family if self.allows(r, action, tenant)]
        if not able:
            return f"no role may do {action!r}; {who} has role {role!r}"
        more = f" (or {', '.join(able[1:])})" if len(able) > 1 else ""
        return f"this route needs role {able[0]!r}{more} for {action!r}; {who} has role {role!r}"
