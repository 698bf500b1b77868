"""What every connector shares: URL parsing, options, redacted one-line errors and the bookkeeping of
unacknowledged messages (the credit). Imports no client library."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pynomaly_core.stream.contract import ConnectorError, ConnectorUnavailable, Message
from pynomaly_stream.options import Option

_SERIALS = itertools.count(1)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def redact(url: str, *, user_is_secret: bool = False) -> str:
    """``url`` with its password (if any) replaced by ``***``; ``user_is_secret``: also a user without password
    (a token, as in ``nats://TOKEN@host``)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if "@" not in parts.netloc or (password is None and not user_is_secret):
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:***" if colon else "***"
    return parts._replace(netloc=f"{shown}@{hostport}").geturl()


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException) -> str:
    """A short, one-line description of a client exception."""
    text = one_line(exc)
    if not text or text in ("()", "None"):
        text = one_line(repr(exc))  # some clients put the detail in repr only
    return text if text and text not in ("()", "None") else type(exc).__name__


@dataclass
class Endpoint:
    """The parts of a broker URL."""

    url: str  # redacted, for messages
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    path: str  # without the leading '/', not unquoted
    query: dict[str, str] = field(default_factory=dict)
    fragment: str = ""
    secrets: tuple[str, ...] = ()  # more to keep out of messages (a token)

    def error(self, text: str, exc: BaseException | None = None) -> ConnectorError:
        return ConnectorError(self._message(text, exc))

    def unavailable(self, text: str, exc: BaseException | None = None) -> ConnectorUnavailable:
        return ConnectorUnavailable(self._message(text, exc))

    def _message(self, text: str, exc: BaseException | None) -> str:
        message = f"{self.url}: {text}"
        if exc is not None:
            detail = describe(exc)
            for secret in (self.password, *self.secrets):  # a client may quote its connection parameters
                if secret:
                    detail = detail.replace(secret, "***")
            message += f" ({detail})"
        return one_line(message)


def parse_url(url: str, schemes: Sequence[str], default_port: int) -> Endpoint:
    """Split ``url``; a one-line :class:`ConnectorError` when it is not a URL of ``schemes``."""
    shown = redact(url)
    try:
        parts = urlsplit(url)
        port = parts.port or default_port
    except ValueError as exc:
        raise ConnectorError(f"{shown}: not a valid URL ({one_line(exc)})") from None
    if parts.scheme.lower() not in schemes:
        raise ConnectorError(f"{shown}: expected a {' or '.join(s + '://' for s in schemes)} URL")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Endpoint(url=shown, scheme=parts.scheme.lower(), host=parts.hostname or "127.0.0.1", port=port,
                    username=None if parts.username is None else unquote(parts.username),
                    password=None if parts.password is None else unquote(parts.password),
                    path=parts.path.lstrip("/"), query=query, fragment=parts.fragment)


def parse_options(endpoint: Endpoint, table: dict[str, Option], given: dict[str, Any],
                  skip_query: Sequence[str] = ()) -> dict[str, Any]:
    """The options of ``table``: defaults, then the URL's query string, then ``given`` (keywords), each converted
    to its type; unknown names are a :class:`ConnectorError`."""
    query = {k: v for k, v in endpoint.query.items() if k not in skip_query}
    unknown = sorted((set(query) | set(given)) - set(table))
    if unknown:
        raise endpoint.error(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(table))}")
    values = {name: option.default for name, option in table.items()}
    for name, value in [*query.items(), *given.items()]:
        values[name] = _convert(endpoint, name, value, table[name])
    return values


def _convert(endpoint: Endpoint, name: str, value: Any, option: Option) -> Any:
    if value is None:
        return None
    try:
        if option.type is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if option.type is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return option.type(value)
    except (TypeError, ValueError):
        raise endpoint.error(f"option {name}={value!r} is not a valid {option.type.__name__}") from None


def again(error: ConnectorError) -> ConnectorError:
    """A fresh exception of the same class and message (to raise a recorded failure once more)."""
    return type(error)(str(error))


def positive(endpoint: Endpoint, name: str, value: float) -> float:
    if value is None or value <= 0:
        raise endpoint.error(f"option {name} must be positive, got {value!r}")
    return value


class Held:
    """The unacknowledged messages of one source (at most ``credit``), keyed by their tokens.

    A token is ``(serial of the source, the client's handle)``, so a message of another source, or one acknowledged
    already, is refused instead of acknowledging something else.
    """

    def __init__(self, endpoint: Endpoint, credit: int, what: str = "source"):
        try:
            credit = int(credit)
        except (TypeError, ValueError):
            raise endpoint.error(f"credit must be a positive integer, got {credit!r}") from None
        if credit < 1:
            raise endpoint.error(f"credit must be a positive integer, got {credit!r}")
        self.endpoint = endpoint
        self.credit = credit
        self.serial = next(_SERIALS)
        self.what = what
        self.items: dict[Any, Any] = {}
        self.closed = False
        self.broken: ConnectorError | None = None  # why the connection is gone, raised again by every call

    def check_open(self) -> None:
        if self.closed:
            raise self.endpoint.error(f"the {self.what} is closed")
        if self.broken is not None:
            raise again(self.broken)

    def room(self, max_messages: int) -> int:
        return max(0, min(int(max_messages), self.credit - len(self.items)))

    def hold(self, body: bytes, handle: Any, native: Any, *, key: str | None, redelivered: bool) -> Message:
        token = (self.serial, native)
        self.items[token] = handle
        return Message(body=bytes(body), token=token, key=key, redelivered=bool(redelivered))

    def take(self, messages: Sequence[Message]) -> list[Any]:
        """The handles of ``messages`` (removed from the held ones), or a ConnectorError naming the first that was
        not received from this source or was acknowledged already (then nothing is taken)."""
        tokens = [m.token for m in messages]
        for token in tokens:
            if token not in self.items:
                raise self.endpoint.error("acknowledging a message not received from this source, or "
                                          "acknowledged already")
        if len(set(tokens)) != len(tokens):
            raise self.endpoint.error("the same message is acknowledged twice")
        return [self.items.pop(token) for token in tokens]
