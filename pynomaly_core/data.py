"""The :class:`Dataset` that loaders return, loader selection by suffix or URL scheme, and batch iteration.

The loader contract: a :class:`~pynomaly_core.specs.LoaderSpec` ``target`` is ``load(source, **options) ->
Dataset``; its optional ``iter_target`` is ``iter_batches(source, rows, **options) -> Iterator[Dataset]`` yielding
batches of at most ``rows`` rows whose concatenation equals ``load(source, **options)`` (same columns, same
encoding). :func:`batch_reader` gives every loader an ``iter_batches``: a loader without ``iter_target`` is loaded
whole and sliced (correct, but not out-of-core).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


class NamedArray:
    """A 2-D array with column names, accepted by every detector like a DataFrame (no pandas needed)."""

    def __init__(self, values: np.ndarray, columns: list[str]):
        self.values = values
        self.columns = list(columns)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.values if dtype is None else self.values.astype(dtype)

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class Dataset:
    """Data loaded by a loader: features ``X``, optional labels ``y``, column names and provenance."""

    X: np.ndarray
    y: np.ndarray | None = None
    feature_names: list[str] | None = None
    source: str = ""
    kind: str = "tabular"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def features(self) -> Any:
        """``X`` with its column names attached when it has any (so detectors remember them)."""
        return self.X if self.feature_names is None else NamedArray(self.X, self.feature_names)

    def to_frame(self) -> Any:
        """The features as a pandas DataFrame (requires pandas)."""
        import pandas as pd

        names = self.feature_names or [f"x{i}" for i in range(self.n_features)]
        return pd.DataFrame(self.X, columns=names)


def scheme_of(source: str) -> str | None:
    match = _SCHEME_RE.match(source)
    return match.group(1).lower() if match else None


def suffix_of(source: str) -> str:
    return "".join(Path(source).suffixes[-1:]).lower()


def select_loader(source: str, registry: Any, loader: str | None = None) -> Any:
    """The loader spec for ``source``: the named one, else by URL scheme, else by file suffix."""
    if loader is not None:
        return registry.resolve("loader", loader)
    scheme = scheme_of(source)
    suffix = suffix_of(source)
    matches = [
        spec for spec in registry.loaders()
        if (scheme is not None and scheme in spec.schemes) or (scheme is None and suffix in spec.suffixes)
    ]
    if not matches:
        known = sorted({s for spec in registry.loaders() for s in spec.suffixes})
        what = f"URL scheme {scheme!r}" if scheme else f"suffix {suffix or '(none)'!r}"
        raise InputError(f"{source}: no loader for {what}; known suffixes: {', '.join(known)} (or pass --loader)")
    if len(matches) > 1 and scheme is None:
        from pynomaly_core.specs import resolve_target

        sniffed = [spec for spec in matches if spec.sniff_target and resolve_target(spec.sniff_target)(source)]
        matches = sniffed or [spec for spec in matches if not spec.sniff_target] or matches
    builtin = [spec for spec in matches if spec.plugin == "builtin"]
    return builtin[0] if builtin else matches[0]


def slice_dataset(dataset: Dataset, rows: int) -> Iterator[Dataset]:
    """``dataset`` in consecutive batches of at most ``rows`` rows."""
    if rows < 1:
        raise InputError(f"{dataset.source}: rows per batch must be >= 1, got {rows}")
    for start in range(0, dataset.n_rows, rows):
        stop = start + rows
        yield Dataset(X=dataset.X[start:stop], y=None if dataset.y is None else dataset.y[start:stop],
                      feature_names=dataset.feature_names, source=dataset.source, kind=dataset.kind,
                      extra=dataset.extra)


def concat_datasets(batches: Sequence[Dataset]) -> Dataset:
    """One dataset from consecutive batches (the inverse of :func:`slice_dataset`)."""
    if not batches:
        raise InputError("no batches to concatenate")
    first = batches[0]
    ys = [b.y for b in batches]
    y = None if any(v is None for v in ys) else np.concatenate(ys)
    return Dataset(X=np.concatenate([b.X for b in batches]), y=y, feature_names=first.feature_names,
                   source=first.source, kind=first.kind, extra=first.extra)


def batch_reader(spec: Any) -> Callable[..., Iterator[Dataset]]:
    """``iter_batches(source, rows, **options)`` of a loader spec: its own when it has ``iter_target``, else the
    whole load sliced into batches."""
    if getattr(spec, "iter_target", None):
        from pynomaly_core.specs import resolve_target

        return resolve_target(spec.iter_target)
    load = spec.load()

    def iter_batches(source: str, rows: int, **options: Any) -> Iterator[Dataset]:
        yield from slice_dataset(load(source, **options), rows)

    return iter_batches
