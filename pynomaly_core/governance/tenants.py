"""Tenants: every model, version, alias, audit record and API key belongs to one (``default`` unless named)."""

from __future__ import annotations

import os
import re

from pynomaly_core.errors import InputError

DEFAULT_TENANT = "default"
TENANT_ENV = "PYNOMALY_TENANT"
#: A key of this tenant may act on every tenant (with role ``global_admin``).
ANY_TENANT = "*"
_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_tenant(tenant: str) -> str:
    """Return ``tenant`` or raise: lower-case letters, digits, ``_`` and ``-`` (not first), at most 63 characters."""
    if not isinstance(tenant, str) or not _TENANT_RE.match(tenant):
        raise InputError(f"tenant {tenant!r} is invalid: use lower-case letters, digits, '_' or '-' (starting "
                         "with a letter or digit, at most 63 characters)")
    return tenant


def tenant_from_env() -> str:
    """``$PYNOMALY_TENANT``, else the default tenant."""
    return check_tenant(os.environ.get(TENANT_ENV) or DEFAULT_TENANT)
