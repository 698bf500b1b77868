"""Model artefacts encrypted at rest (optional): ``PYNOMALY_MODEL_KEY`` holds a Fernet key (``cryptography``,
the ``crypto`` extra; make one with ``pynomaly models keygen``).

With the key set, a registered version's saved-model folder (manifest and artefacts) is packed into one tar
archive and sealed with Fernet (AES-128-CBC with an HMAC-SHA256 over the whole token) as ``model.sealed``; no
plaintext file stays on disk. Loading checks the HMAC of the whole file before decrypting anything, so a wrong
key or a modified file is refused and nothing is ever half-read; the plaintext is unpacked into a private
temporary folder only for the duration of the load (and the usual artefact hashes are checked there).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pynomaly_core.errors import IntegrityError
from pynomaly_core.modelstore.errors import ModelStoreError

KEY_ENV = "PYNOMALY_MODEL_KEY"
SEALED = "model.sealed"
CRYPTO_EXTRA = "pip install 'pynomaly[crypto]'"


def _fernet_class() -> Any:
    try:
        from cryptography.fernet import Fernet
    except ImportError:
        raise ModelStoreError(f"encrypted model artefacts need the cryptography library: {CRYPTO_EXTRA}") from None
    return Fernet


def _fernet(key: str) -> Any:
    fernet = _fernet_class()
    try:
        return fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise ModelStoreError(f"{KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes; "
                              "`pynomaly models keygen` makes one)") from None


def key_from_env() -> str | None:
    return os.environ.get(KEY_ENV, "").strip() or None


def new_key() -> str:
    return _fernet_class().generate_key().decode()


def is_sealed(directory: Path) -> bool:
    return (directory / SEALED).is_file()


def seal(directory: Path, key: str) -> None:
    """Replace every file of ``directory`` by one sealed archive of them all."""
    fernet = _fernet(key)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for item in sorted(directory.iterdir()):
            archive.add(item, arcname=item.name)
    token = fernet.encrypt(buffer.getvalue())
    partial = directory / (SEALED + ".partial")
    partial.write_bytes(token)
    for item in list(directory.iterdir()):
        if item.name != partial.name:
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    os.replace(partial, directory / SEALED)


@contextlib.contextmanager
def unsealed(directory: Path, label: str, key: str | None = None) -> Iterator[Path]:
    """The plaintext saved-model folder of a sealed ``directory``, in a private temporary folder (removed after)."""
    from cryptography.fernet import InvalidToken

    key = key or key_from_env()
    if key is None:
        raise IntegrityError(f"model {label}: its artefacts are encrypted; set {KEY_ENV} to the key they were "
                             "sealed with")
    fernet = _fernet(key)
    try:
        plain = fernet.decrypt((directory / SEALED).read_bytes())
    except InvalidToken:
        raise IntegrityError(f"model {label}: the key in {KEY_ENV} does not open its encrypted artefacts (wrong "
                             "key, or the file was modified); refusing to load") from None
    with tempfile.TemporaryDirectory(prefix="pynomaly-unsealed-") as scratch:
        target = Path(scratch) / "model"
        target.mkdir(mode=0o700)
        with tarfile.open(fileobj=io.BytesIO(plain), mode="r") as archive:
            archive.extractall(target, filter="data")
        yield target
