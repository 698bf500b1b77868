"""TensorFlow runtime: a quiet import, device selection and the deterministic context of a fit.

Importing TensorFlow prints C++ log lines that ``TF_CPP_MIN_LOG_LEVEL`` no longer filters in TF ≥ 2.19 (they are
written before absl's logging is initialised, e.g. "oneDNN custom operations are on"). :func:`_import_tensorflow`
sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless the user set it) and, while TensorFlow is imported, drops from the
process's stderr exactly the INFO/WARNING records that level asks to hide, and absl's preamble announcing them
(also at level 1, which JAX sets on import); errors and everything else pass through.
GPU memory is claimed as needed (``TF_FORCE_GPU_ALLOW_GROWTH``) instead of all at once, unless the user decided.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from pynomaly_core.errors import InputError, PynomalyError

#: absl/TSL log records: ``I0000 00:00:1795693495.822084   19009 port.cc:153] message``.
_RECORD = re.compile(rb"^([IW])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\]]+\] ")
#: Device names of :mod:`pynomaly_core.deep.design`: ``cpu``, ``auto``, ``cuda``, ``cuda:N``, ``mps``.
DEVICE_NAMES = re.compile(r"^(cpu|auto|mps|cuda(?::(\d+))?)$")
DEVICE_CHOICES = "'cpu', 'auto', 'cuda', 'cuda:N' or 'mps'"
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def _hidden(line: bytes, min_level: int) -> bool:
    """Whether TF_CPP_MIN_LOG_LEVEL = ``min_level`` asks to hide this absl/TSL record (never an error)."""
    record = _RECORD.match(line)
    return record is not None and {b"I": 0, b"W": 1}[record.group(1)] < min_level


def _kept_lines(lines: Iterable[bytes], min_level: int) -> list[bytes]:
    """The lines not hidden at ``min_level``; absl's "messages before InitializeLog" preamble is kept only when a
    line it announces is kept (each copy of absl in TensorFlow's libraries prints its own)."""
    kept: list[bytes] = []
    preamble: bytes | None = None
    for line in lines:
        if line.rstrip() == _ABSL_PREAMBLE:
            preamble = line
        elif not _hidden(line, min_level):
            if preamble is not None:
                kept.append(preamble)
                preamble = None
            kept.append(line)
    return kept


@contextmanager
def _native_stderr_filtered(min_level: int) -> Iterator[None]:
    """Collect what native code writes to file descriptor 2 and write back the lines not hidden by ``min_level``.

    The lines come back when the block ends (also when it raises). Without a usable descriptor 2 or a temporary
    file (embedded interpreters, read-only systems) nothing is filtered.
    """
    with ExitStack() as stack:
        try:
            sys.stderr.flush()
            capture = stack.enter_context(tempfile.TemporaryFile())
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            saved = None
        if saved is None:
            yield
            return
        stack.callback(os.close, saved)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            capture.seek(0)
            kept = b"".join(_kept_lines(capture, min_level))
            if kept:
                os.write(2, kept)


def _import_tensorflow() -> tuple[Any, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        min_level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        min_level = 0
    if "tensorflow" in sys.modules or min_level <= 0:
        import keras
        import tensorflow
    else:
        with _native_stderr_filtered(min_level):
            import keras
            import tensorflow
    if keras.backend.backend() != "tensorflow":
        raise PynomalyError(f"pynomaly-tf needs Keras's TensorFlow backend, but KERAS_BACKEND is "
                            f"{keras.backend.backend()!r}; unset it or set it to 'tensorflow'")
    return tensorflow, keras


tf, keras = _import_tensorflow()


def resolve_device(name: str) -> str:
    """The TensorFlow device of a ``device`` parameter (the names of :mod:`pynomaly_core.deep.design`).

    ``"auto"`` → the first GPU TensorFlow sees, else the CPU; ``"cuda"``/``"cuda:N"`` → TensorFlow's GPU ``N``;
    ``"mps"`` → the GPU of the tensorflow-metal plugin. A GPU that TensorFlow does not see is a one-line
    :class:`InputError`.
    """
    if name == "cpu":
        return "/CPU:0"
    match = DEVICE_NAMES.match(name) if isinstance(name, str) else None
    if match is None:
        raise InputError(f"device must be {DEVICE_CHOICES}, got {name!r}")
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return "/GPU:0" if gpus else "/CPU:0"
    number = int(match.group(2) or 0)
    if number >= len(gpus):
        seen = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
        raise InputError(f"device {name!r} requested but TensorFlow sees {seen} (use device='auto' or 'cpu')")
    return f"/GPU:{number}"


@contextmanager
def deterministic() -> Iterator[None]:
    """TensorFlow op determinism for the block, restored to the caller's setting afterwards.

    Fits never use TensorFlow's global seed: every random op gets its seed from the fit's ``random_state``
    (seeded initialisers, dropout and sampling layers with their own seed generators), so global RNG state —
    Python's, NumPy's, TensorFlow's — is neither needed nor touched. Op determinism makes the remaining
    parallel kernels (mostly GPU reductions) reproducible.
    """
    from tensorflow.python.framework import config as tf_config

    was_on = tf_config.is_op_determinism_enabled()
    if not was_on:
        tf_config.enable_op_determinism()
    try:
        yield
    finally:
        if not was_on:
            tf_config.disable_op_determinism()
