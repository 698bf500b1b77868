"""Calling PyOD: its console output goes to stderr and its exceptions become one-line pynomaly errors."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from pynomaly_core.errors import InputError, PynomalyError


@contextlib.contextmanager
def pyod_call(name: str) -> Iterator[None]:
    """Run PyOD code for detector ``name``.

    PyOD prints progress (epochs, blocks) to stdout; it is sent to stderr so that ``--json`` output stays
    parseable. ``ValueError``/``TypeError`` (bad parameters or data) become :class:`InputError` and an
    ``ImportError`` becomes a :class:`PynomalyError` naming the missing module; the original is chained.
    """
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    except PynomalyError:
        raise
    except ImportError as exc:
        module = exc.name or "a module"
        raise PynomalyError(f"{name}: PyOD could not import {module} ({first_line(exc)})") from exc
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name}: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message (its type name when it has none)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
