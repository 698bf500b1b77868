"""Who registered a model, where, and with which versions of pynomaly, the plugin and its libraries."""

from __future__ import annotations

import functools
import getpass
import os
import platform
import re
import socket
import sys
from importlib import metadata
from typing import Any

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container without passwd entry
        return "unknown"


def current_host() -> str:
    return socket.gethostname() or "unknown"


def current_pid() -> int:
    return os.getpid()


def library_versions(plugin: str) -> dict[str, str]:
    """``python``, ``pynomaly``, the plugin's distribution and every installed library it requires (read from
    the installed metadata once per process and plugin)."""
    return dict(_library_versions(plugin))


@functools.cache
def _library_versions(plugin: str) -> dict[str, str]:
    from pynomaly_core import __version__
    from pynomaly_core.registry import get_registry

    versions = {"python": platform.python_version(), "pynomaly": __version__}
    record = get_registry().plugins.get(plugin)
    if record is None:
        return versions
    versions[f"plugin:{plugin}"] = record.version
    distribution = record.distribution
    try:
        requirements = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return versions
    if distribution != "pynomaly":
        versions.setdefault(distribution, record.version)
    for requirement in requirements:
        if "extra ==" in requirement.replace('"', "").replace("'", ""):
            continue
        match = _REQUIREMENT_NAME.match(requirement)
        if match is None:
            continue
        name = match.group(1)
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def process_is_gone(host: str, pid: int) -> bool:
    """Whether process ``pid`` on ``host`` is known to be dead (only decidable for this host)."""
    if host != current_host() or sys.platform == "win32":  # os.kill(pid, 0) is not a probe on Windows
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields: Any = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return bool(fields) and fields[0] in ("Z", "X")
