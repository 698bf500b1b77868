"""The :class:`Dataset` that loaders return, and loader selection by suffix or URL scheme."""

from __future__ import annotations

import re
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
    builtin = [spec for spec in matches if spec.plugin == "builtin"]
    return builtin[0] if builtin else matches[0]
