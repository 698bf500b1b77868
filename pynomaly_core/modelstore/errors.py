"""Errors of the model registry (both are :class:`PynomalyError`: one line, CLI exit code 2)."""

from __future__ import annotations

from pynomaly_core.errors import PynomalyError


class ModelNotFoundError(PynomalyError, LookupError):
    """No such model name or version; the message lists the names or versions that exist."""


class RegistryError(PynomalyError):
    """The registry cannot be used: SQLAlchemy or the database driver is missing, the database is unreachable
    or its schema is newer than this pynomaly."""
