"""Where the model store lives and how models are named.

``PYNOMALY_HOME`` (default: the per-user data folder) holds the SQLite database ``store.db`` unless
``PYNOMALY_DATABASE_URL`` names another database, the artefacts of every version under
``models/<name>/<version>-<id>/`` and the unfinished saves under ``staging/<id>/``.
A model reference is ``NAME`` (the latest version), ``NAME@VERSION`` or ``NAME@ALIAS`` (e.g. ``champion``).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from pynomaly_core.errors import InputError

HOME_ENV = "PYNOMALY_HOME"
DATABASE_URL_ENV = "PYNOMALY_DATABASE_URL"
DATABASE_SCHEMA_ENV = "PYNOMALY_DATABASE_SCHEMA"
DATABASE_FILE = "store.db"
#: The file name before the model registry was renamed the model store; used when it exists and the new one does not.
LEGACY_DATABASE_FILE = "registry.db"
MODELS_DIR = "models"
STAGING_DIR = "staging"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_REF_RE = re.compile(r"^(?P<name>[^@]+)(?:@(?P<version>[^@]*))?$")


def default_home() -> Path:
    """``$PYNOMALY_HOME``, else the platform's per-user data folder + ``pynomaly``."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "pynomaly"


def sqlite_url(home: Path) -> str:
    path = home / DATABASE_FILE
    legacy = home / LEGACY_DATABASE_FILE
    if not path.exists() and legacy.exists():
        path = legacy
    return f"sqlite:///{path.as_posix()}"


def is_valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


def check_name(name: str) -> str:
    """Return ``name`` or raise: letters, digits, ``.``, ``_``, ``-`` (not first), at most 100 characters."""
    if not isinstance(name, str) or not is_valid_name(name):
        raise InputError(
            f"model name {name!r} is invalid: use letters, digits, '.', '_' or '-' (starting with a letter or "
            "digit, at most 100 characters)"
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``NAME[@VERSION]`` (``@latest`` is the same as no version) into name and version.

    >>> parse_ref("sensors@3"), parse_ref("sensors"), parse_ref("sensors@latest")
    (('sensors', 3), ('sensors', None), ('sensors', None))
    """
    match = _REF_RE.match(ref.strip())
    if match is None:
        raise InputError(f"{ref!r} is not a model reference NAME[@VERSION]")
    name, version = match.group("name"), match.group("version")
    check_name(name)
    if version is None or version == "latest":
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise InputError(f"{ref!r}: the version after '@' must be a positive integer (or 'latest')")
    return name, int(version)


def looks_like_ref(text: str) -> bool:
    """Whether ``text`` has the shape of ``NAME[@VERSION]`` (no path separators)."""
    match = _REF_RE.match(text.strip())
    return match is not None and is_valid_name(match.group("name"))


def split_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``NAME``, ``NAME@VERSION`` or ``NAME@ALIAS`` (``champion``, ``challenger``, …) as (name, version, alias).

    >>> split_ref("sensors@champion"), split_ref("sensors@3"), split_ref("sensors")
    (('sensors', None, 'champion'), ('sensors', 3, None), ('sensors', None, None))
    """
    match = _REF_RE.match(ref.strip()) if isinstance(ref, str) else None
    version = match.group("version") if match is not None else None
    if version and version != "latest" and version[0].isalpha():
        from pynomaly_core.governance.lifecycle import check_alias

        name = check_name(match.group("name"))
        return name, None, check_alias(version)
    name, number = parse_ref(ref)
    return name, number, None
