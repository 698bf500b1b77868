"""Resolve what a user names as a model to a fitted detector: a saved-model directory, or ``NAME[@VERSION]``
from the model store (:mod:`pynomaly_core.modelstore`), or ``NAME@ALIAS`` (``champion``, ``challenger``).

Every command and service that takes a MODEL argument goes through :func:`resolve_model` / :func:`load_model`.
An existing path wins over a model store name; when neither matches, the error says both what was looked for
and what exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ResolvedModel:
    """Where a MODEL reference points: the saved-model directory, a label for messages (``sensors@3`` or
    the path), the training-data fingerprint when known, and the model store version (``None`` for a directory)."""

    path: Path
    label: str
    fingerprint: dict[str, Any] | None
    version: Any = None

    def load(self, *, trust: bool = False) -> Any:
        """The fitted detector (hashes checked; ``trust`` allows pickle artefacts)."""
        from pynomaly_core.persistence import load

        if self.version is not None:
            from pynomaly_core.modelstore.store import load_version

            return load_version(self.version, trust=trust)
        return load(self.path, trust=trust)

    def check_columns(self, columns: list[str] | None, n_features: int | None) -> None:
        """Raise :class:`InputError` saying exactly how ``columns`` differ from the training data's (nothing to
        check when ``n_features`` is ``None``: no data)."""
        from pynomaly_core.modelstore.fingerprints import check_schema

        if n_features is None:
            return
        check_schema(self.fingerprint, columns, n_features, self.label)


def resolve_model(ref: str | Path, *, store: Any = None) -> ResolvedModel:
    """Find the model ``ref`` names: an existing directory, else ``NAME[@VERSION]`` in ``store`` (default:
    :meth:`ModelStore.from_env`)."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.modelstore.errors import ModelNotFoundError, ModelStoreError
    from pynomaly_core.modelstore.paths import looks_like_ref, split_ref

    path = Path(ref)
    if path.exists():
        return ResolvedModel(path=path, label=str(path), fingerprint=_manifest_fingerprint(path))
    text = str(ref)
    if not looks_like_ref(text):
        raise InputError(f"model {text!r}: no such directory (and not a model store reference NAME[@VERSION])")
    split_ref(text)  # a malformed version or alias is an error before the store is opened
    try:
        if store is None:
            from pynomaly_core.modelstore.store import ModelStore

            store = ModelStore.from_env()
        found = store.resolve(text)
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(f"model {text!r}: no such directory, and {exc}") from None
    except ModelStoreError as exc:
        raise ModelStoreError(f"model {text!r}: no such directory, and {exc}") from None
    return ResolvedModel(path=found.path, label=found.ref, fingerprint=found.fingerprint, version=found)


def load_model(ref: str | Path, *, trust: bool = False, store: Any = None) -> Any:
    """Load the fitted detector ``ref`` names: a directory written by ``save`` / ``pynomaly train -o``, or a
    registered ``NAME[@VERSION]`` (latest version without ``@``)."""
    return resolve_model(ref, store=store).load(trust=trust)


def _manifest_fingerprint(path: Path) -> dict[str, Any] | None:
    from pynomaly_core.persistence import read_manifest

    if not path.is_dir():
        return None
    fingerprint = read_manifest(path).get("fingerprint")
    return fingerprint if isinstance(fingerprint, dict) else None
