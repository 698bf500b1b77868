"""Object-storage I/O of ``pynomaly score --engine dask``: URLs with a scheme (``s3://``, ``gs://``, ``memory://``, …)
resolved through fsspec. Tasks receive the URL and the storage options, never a filesystem object: each worker builds
its own (fsspec caches it per process), with the credentials of its environment (``AWS_*`` for s3fs) unless the
options name them.

Object stores have no atomic rename: :func:`staged_output` writes the parts under a staging prefix next to the
output and, only when every task succeeded, deletes the old output and copies the parts into place, so a failed run
leaves the old output as it was; readers during that final copy may see it incomplete.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pynomaly_core.engines import is_url
from pynomaly_core.errors import InputError


def filesystem(url: str, options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path inside it; :class:`InputError` naming the package to install
    when the scheme's implementation (``s3fs`` for ``s3://``) is missing."""
    import fsspec.core

    try:
        return fsspec.core.url_to_fs(url, **dict(options or {}))
    except ImportError as exc:
        raise InputError(f"{url}: {_missing(url, exc)}") from None
    except ValueError as exc:  # an unknown scheme
        raise InputError(f"{url}: {exc}") from None


def _missing(url: str, exc: ImportError) -> str:
    from fsspec.registry import known_implementations

    scheme = url.split("://", 1)[0]
    if scheme in ("s3", "s3a"):
        return "s3:// needs s3fs: install the extra 'pynomaly[s3]' (or pip install s3fs)"
    hint = known_implementations.get(scheme, {}).get("err")
    return hint or f"the fsspec implementation of {scheme}:// is not installed ({exc})"


def expand(url: str, options: Mapping[str, Any] | None = None) -> list[str]:
    """The Parquet objects ``url`` names (a glob, one object, or a prefix holding ``*.parquet``), as sorted URLs."""
    fs, path = filesystem(url, options)
    try:
        if any(c in path for c in "*?["):
            found = fs.glob(path)
        elif fs.isdir(path):
            found = fs.glob(path.rstrip("/") + "/*.parquet")
        else:
            found = [path] if fs.exists(path) else []
    except OSError as exc:
        raise InputError(f"{url}: cannot list ({_first_line(exc)})") from None
    if not found:
        raise InputError(f"{url}: no files matched")
    return sorted(fs.unstrip_protocol(p) for p in found)


@contextlib.contextmanager
def open_parquet(path: str, options: Mapping[str, Any] | None = None) -> Iterator[pq.ParquetFile]:
    """``pq.ParquetFile`` of a local path, or of an object read through fsspec (closed on exit)."""
    if not is_url(path):
        yield pq.ParquetFile(path)
        return
    fs, inner = filesystem(path, options)
    try:
        handle = fs.open(inner, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({_first_line(exc)})") from None
    with handle:
        yield pq.ParquetFile(handle)


def write_table(table: pa.Table, url: str, options: Mapping[str, Any] | None = None) -> None:
    """Write ``table`` as the Parquet object ``url``."""
    fs, inner = filesystem(url, options)
    with fs.open(inner, "wb") as handle:
        pq.write_table(table, handle)


@contextlib.contextmanager
def staged_output(url: str, options: Mapping[str, Any] | None = None) -> Iterator[str]:
    """A staging prefix next to ``url`` (``.NAME.<hex>/``) for the tasks' parts; when the block succeeds, the old
    output is deleted and the parts are copied to ``url/``. The staging prefix is deleted, unless that final copy
    fails (it then holds the only complete scores, and the error names it). Not atomic: an object store cannot
    rename a prefix."""
    fs, inner = filesystem(url, options)
    inner = inner.rstrip("/")
    parent, _, name = inner.rpartition("/")
    staging = f"{parent}/.{name}.{uuid.uuid4().hex}" if parent else f".{name}.{uuid.uuid4().hex}"
    keep = False
    try:
        yield fs.unstrip_protocol(staging)
        fs.invalidate_cache()  # the workers wrote the parts: no listing cached by this process
        parts = sorted(fs.find(staging))
        try:
            if fs.exists(inner):
                fs.rm(inner, recursive=True)
            for part in parts:
                fs.copy(part, f"{inner}/{part.rpartition('/')[2]}")
        except OSError as exc:  # the old output is gone: keep the only complete copy, drop the partial one
            keep = True
            with contextlib.suppress(OSError):
                fs.rm(inner, recursive=True)
            raise InputError(f"{url}: copying the scores into place failed ({_first_line(exc)}); they are under "
                             f"{fs.unstrip_protocol(staging)}") from None
    finally:
        if not keep:
            with contextlib.suppress(OSError):  # FileNotFoundError: nothing was written
                fs.rm(staging, recursive=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
