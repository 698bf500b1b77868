"""Parsing ``--param key=value`` options."""

from __future__ import annotations

import json
from typing import Any

from pynomaly_core.errors import InputError


def parse_params(items: list[str] | None, flag: str = "--param") -> dict[str, Any]:
    """``["n_bins=20", "combine=paper"]`` → ``{"n_bins": 20, "combine": "paper"}`` (JSON values when valid)."""
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InputError(f"{flag} {item!r}: expected key=value")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params
