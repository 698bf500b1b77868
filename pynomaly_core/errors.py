"""Exceptions raised by pynomaly.

Every error meant for a user is a :class:`PynomalyError` whose message is one line that names what is wrong
(the file, column, row, plugin or detector). The CLI prints that line and exits with code 2.
"""

from __future__ import annotations


class PynomalyError(Exception):
    """Base class of every error pynomaly raises on purpose."""


class InputError(PynomalyError, ValueError):
    """The data given to a detector, loader or test is unusable (shape, dtype, NaN, feature count, …)."""


class NotFittedError(PynomalyError, ValueError, AttributeError):
    """A detector was asked to score before ``fit`` was called."""


class ScoreError(PynomalyError, ArithmeticError):
    """A backend returned scores that break the contract (NaN/inf, wrong shape)."""


class BackendError(PynomalyError):
    """A wrapped library failed in a way it does not explain (its exception is chained; ``--debug`` shows it)."""


class UnknownNameError(PynomalyError, LookupError):
    """A contribution name that the registry cannot resolve (unknown or ambiguous)."""

    def __init__(self, message: str, candidates: list[str] | None = None):
        super().__init__(message)
        self.candidates = candidates or []


class InvalidSpecError(PynomalyError, ValueError):
    """A plugin returned a contribution spec that does not validate."""


class PluginLoadError(PynomalyError):
    """One or more plugins are broken (raised only in strict mode)."""


class IntegrityError(PynomalyError):
    """A saved model's manifest or artefacts fail their checks (hash mismatch, missing file)."""


class UntrustedArtefactError(PynomalyError):
    """Loading needs to unpickle an artefact and the caller did not pass ``trust=True``."""


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (its type name when it has none): how a wrapped
    library's exception is quoted in a one-line pynomaly error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
