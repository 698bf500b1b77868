"""Errors of governance (one line, CLI exit code 2): a refused lifecycle transition, a refused permission."""

from __future__ import annotations

from pynomaly_core.errors import PynomalyError


class TransitionError(PynomalyError, ValueError):
    """A lifecycle action that the state machine or the two-person rule forbids; the message says why."""


class PermissionDenied(PynomalyError, PermissionError):
    """An action above the caller's role, or on another tenant."""
