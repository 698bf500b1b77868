"""Calling PyOD: its console output goes to stderr and its exceptions become one-line pynomaly errors."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from pynomaly_core.errors import BackendError, InputError, PynomalyError, first_line


@contextlib.contextmanager
def pyod_call(name: str, n_rows: int | None = None) -> Iterator[None]:
    """Run PyOD code for detector ``name`` (on ``n_rows`` rows, when known).

    PyOD prints progress (epochs, blocks) to stdout; it is sent to stderr so that ``--json`` output stays
    parseable. ``ValueError``/``TypeError`` (bad parameters or data) become :class:`InputError`, an
    ``ImportError`` a :class:`PynomalyError` naming the missing module, and anything else PyOD raises (an
    ``IndexError`` on data it cannot handle, a bug) a :class:`BackendError` naming the detector and the exception;
    the original is chained (``--debug`` shows it). A failure on a single row says so first: PyOD's own messages
    for it are often cryptic ("is set to 0. Not in the range of [1, 1].").
    """
    where = f"{name}: cannot fit 1 sample" if n_rows == 1 else name
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    except PynomalyError:
        raise
    except ImportError as exc:
        module = exc.name or "a module"
        raise PynomalyError(f"{name}: PyOD could not import {module} ({first_line(exc)})") from exc
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: {first_line(exc)}") from exc
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        if n_rows == 1:
            raise InputError(f"{where}: {type(exc).__name__}: {first_line(exc)}") from exc
        raise BackendError(f"{name} failed inside PyOD: {type(exc).__name__}: {first_line(exc)}") from exc
