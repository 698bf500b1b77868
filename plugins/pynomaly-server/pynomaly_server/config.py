"""Server settings, read from the environment (``PYNOMALY_*``) and overridden by ``pynomaly serve`` options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pynomaly_core.errors import InputError


def pynomaly_home() -> Path:
    """``PYNOMALY_HOME``, else the per-user data folder the model store uses (``~/.local/share/pynomaly``)."""
    configured = os.environ.get("PYNOMALY_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "pynomaly"


def keys_database_url(home: Path | None = None) -> str:
    """Where API keys and the audit log live: ``PYNOMALY_SERVER_DATABASE_URL``, else ``PYNOMALY_DATABASE_URL``
    (the model store's database, in tables of their own), else ``sqlite:///$PYNOMALY_HOME/server.db``."""
    url = os.environ.get("PYNOMALY_SERVER_DATABASE_URL") or os.environ.get("PYNOMALY_DATABASE_URL")
    if url:
        return url
    home = home or pynomaly_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'server.db'}"


def keys_database_schema() -> str | None:
    """The PostgreSQL schema of the keys database: ``PYNOMALY_SERVER_DATABASE_SCHEMA``, else (when the keys live
    in the model store's database) ``PYNOMALY_DATABASE_SCHEMA``."""
    if os.environ.get("PYNOMALY_SERVER_DATABASE_URL"):
        return os.environ.get("PYNOMALY_SERVER_DATABASE_SCHEMA") or None
    if os.environ.get("PYNOMALY_DATABASE_URL"):
        return os.environ.get("PYNOMALY_SERVER_DATABASE_SCHEMA") or os.environ.get("PYNOMALY_DATABASE_SCHEMA") or None
    return None


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"environment variable {name}: expected a number, got {raw!r}") from None
    if value <= 0:
        raise InputError(f"environment variable {name}: must be > 0, got {raw!r}")
    return value


def _share(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise InputError(f"--ab-share / PYNOMALY_SERVER_AB_SHARE: expected a share in [0, 1), got {raw!r}")
    return value


@dataclass
class Settings:
    """Limits and switches of one server instance."""

    home: Path = field(default_factory=pynomaly_home)
    keys_url: str | None = None
    #: Largest accepted request body (bytes): larger ones get 413 before they are read.
    max_body_bytes: int = 16 * 1024 * 1024
    #: Wall-clock limit of one request (seconds): slower ones get 504.
    request_timeout_s: float = 60.0
    #: Fitted models kept in memory (least recently used ones are dropped).
    model_cache_size: int = 16
    #: Whether saved models that need unpickling may be loaded.
    trust_models: bool = False
    #: Seconds a verified key is trusted before its revocation status is re-read from the database.
    key_recheck_s: float = 5.0
    #: Share of ``NAME@champion`` score traffic the ``challenger`` answers (0: no A/B split).
    ab_share: float = 0.0

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            max_body_bytes=int(_env_number("PYNOMALY_SERVER_MAX_BODY", 16 * 1024 * 1024)),
            request_timeout_s=_env_number("PYNOMALY_SERVER_TIMEOUT", 60.0),
            model_cache_size=int(_env_number("PYNOMALY_SERVER_MODEL_CACHE", 16)),
            trust_models=os.environ.get("PYNOMALY_SERVER_TRUST_MODELS", "") in ("1", "true", "yes"),
            key_recheck_s=_env_number("PYNOMALY_SERVER_KEY_RECHECK", 5.0),
            ab_share=_share(os.environ.get("PYNOMALY_SERVER_AB_SHARE")),
        )

    def database_url(self) -> str:
        return self.keys_url or keys_database_url(self.home)

    def database_schema(self) -> str | None:
        return None if self.keys_url else keys_database_schema()
