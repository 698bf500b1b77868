"""Errors of the API: every failure is a JSON body ``{"code": ..., "message": ...}``, never a traceback."""

from __future__ import annotations

from typing import Any

import orjson

from pynomaly_core.errors import (
    IntegrityError,
    NotFittedError,
    PynomalyError,
    UnknownNameError,
    UntrustedArtefactError,
)


class ApiError(Exception):
    """An error with its HTTP status, a stable machine-readable ``code`` and a one-line ``message``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str, **extra: Any) -> bytes:
    return orjson.dumps({"code": code, "message": message, **extra})


def from_pynomaly(exc: PynomalyError) -> ApiError:
    """Map a core error to an HTTP status: unknown names and models → 404, the rest → 400/422."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    name = type(exc).__name__
    if name == "ModelNotFoundError" or isinstance(exc, LookupError):
        code = "unknown_name" if isinstance(exc, UnknownNameError) else "not_found"
        return ApiError(404, code, message)
    if name == "TransitionError":
        return ApiError(409, "invalid_transition", message)
    if name == "PermissionDenied":
        return ApiError(403, "forbidden", message)
    if isinstance(exc, UntrustedArtefactError):
        return ApiError(409, "untrusted_model", message)
    if isinstance(exc, IntegrityError):
        return ApiError(409, "integrity_error", message)
    if isinstance(exc, NotFittedError):
        return ApiError(409, "not_fitted", message)
    return ApiError(422, "invalid_input", message)
