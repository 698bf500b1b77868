"""Errors of the model store (both are :class:`PynomalyError`: one line, CLI exit code 2)."""

from __future__ import annotations

from pynomaly_core.errors import PynomalyError


class ModelNotFoundError(PynomalyError, LookupError):
    """No such model name or version; the message lists the names or versions that exist."""


class ModelStoreError(PynomalyError):
    """The model store cannot be used: SQLAlchemy or the database driver is missing, the database is unreachable
    or its schema is newer than this pynomaly."""
