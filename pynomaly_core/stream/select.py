"""Which connector a URL names, and opening it: ``-`` is standard input/output, a scheme (``amqp://``) selects the
connector registered for it, a file suffix (``.jsonl``) the file connector."""

from __future__ import annotations

from typing import Any

from pynomaly_core.data import scheme_of, suffix_of
from pynomaly_core.stream.contract import ConnectorError, Sink, Source

#: The pseudo-scheme of ``-``.
STDIO = "stdio"


def select_connector(url: str, role: str, registry: Any = None) -> Any:
    """The connector spec for ``url`` in ``role`` (``source`` or ``sink``), or a one-line error listing the known
    schemes."""
    if registry is None:
        from pynomaly_core.registry import get_registry

        registry = get_registry()
    scheme = STDIO if url == "-" else scheme_of(url)
    suffix = None if scheme not in (None, "file") else suffix_of(url)
    specs = [s for s in registry.connectors() if role in s.roles]
    matches = [s for s in specs if _handles(s, scheme, suffix)]
    if not matches:
        known = sorted({f"{s}://" for spec in specs for s in spec.schemes if s != STDIO} |
                       {x for spec in specs for x in spec.suffixes})
        raise ConnectorError(f"{url}: no stream {role} for {'URL scheme ' + repr(scheme) if scheme else 'this file'}; "
                             f"known: -, {', '.join(known)} (install pynomaly-stream for the brokers)")
    builtin = [s for s in matches if s.plugin == "builtin"]
    return builtin[0] if builtin else matches[0]


def _handles(spec: Any, scheme: str | None, suffix: str | None) -> bool:
    if scheme is None:
        return suffix in spec.suffixes
    return scheme in spec.schemes and (scheme != "file" or not spec.suffixes or suffix in spec.suffixes)


def open_source(url: str, *, credit: int, options: dict[str, Any] | None = None) -> Source:
    """Open the source ``url`` names with at most ``credit`` unacknowledged messages."""
    spec = select_connector(url, "source")
    _check_options(spec, options or {})
    return spec.load().source(url, credit=credit, **(options or {}))


def open_sink(url: str, *, options: dict[str, Any] | None = None) -> Sink:
    """Open the sink ``url`` names."""
    spec = select_connector(url, "sink")
    _check_options(spec, options or {})
    return spec.load().sink(url, **(options or {}))


def _check_options(spec: Any, options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - set(spec.params))
    if unknown:
        raise ConnectorError(f"connector {spec.qualified_name}: unknown option(s) {', '.join(unknown)}; "
                             f"valid: {', '.join(sorted(spec.params)) or '(none)'}")
