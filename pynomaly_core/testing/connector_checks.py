"""Conformance checks for stream connectors (the contract of :mod:`pynomaly_core.stream.contract`).

Each check opens sources and sinks by URL through the registry (so the connector's plugin must be installed), uses
nothing but the contract, closes what it opened and raises ``AssertionError`` naming what failed. Give each check a
URL of its own (a fresh queue, subject, stream or topic: the checks count messages), e.g. in a plugin's tests::

    from pynomaly_core.testing.connector_checks import CONNECTOR_CHECKS, check_unreachable

    @pytest.mark.parametrize("check", CONNECTOR_CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check, fresh_url):
        check(fresh_url())

    def test_unreachable():
        check_unreachable("kafka://127.0.0.1:1/topic")

``options`` (every check) go to both the source and the sink; ``timeout_s`` bounds each wait for deliveries.
The checks open the source before publishing, so brokers that keep messages only for an existing subscription
(MQTT) are covered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pynomaly_core.stream.contract import ConnectorError, ConnectorUnavailable, Message, Sink, Source


def _shown(url: str) -> str:
    """``url`` for a message: its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hostport}").geturl()


def _source(url: str, credit: int, options: dict[str, Any] | None) -> Source:
    where = _shown(url)
    from pynomaly_core.stream.select import open_source

    source = open_source(url, credit=credit, options=dict(options or {}))
    assert isinstance(source, Source), f"{where}: the source lacks receive/ack/close or credit"
    assert source.credit == credit, f"{where}: source.credit is {source.credit!r}, opened with credit={credit}"
    return source


def _sink(url: str, options: dict[str, Any] | None) -> Sink:
    where = _shown(url)
    from pynomaly_core.stream.select import open_sink

    sink = open_sink(url, options=dict(options or {}))
    assert isinstance(sink, Sink), f"{where}: the sink lacks publish/close"
    return sink


def _payloads(n: int, check: str) -> list[bytes]:
    """``n`` distinct JSON payloads, with non-ASCII text, unique to this run."""
    run = uuid.uuid4().hex[:8]
    return [json.dumps({"check": check, "run": run, "i": i, "text": "é ✓ ü"}, ensure_ascii=False).encode()
            for i in range(n)]


def _publish(url: str, payloads: list[bytes], options: dict[str, Any] | None, batches: int = 1) -> None:
    sink = _sink(url, options)
    try:
        step = max(1, -(-len(payloads) // batches))
        for start in range(0, len(payloads), step):
            sink.publish(payloads[start:start + step])
    finally:
        sink.close()


def _receive(source: Source, url: str, max_messages: int, timeout_s: float) -> list[Message]:
    where = _shown(url)
    started = time.monotonic()
    messages = source.receive(max_messages, timeout_s)
    elapsed = time.monotonic() - started
    assert isinstance(messages, list), f"{where}: receive returned {type(messages).__name__}, not a list"
    assert all(isinstance(m, Message) and isinstance(m.body, bytes) for m in messages), \
        f"{where}: receive returned something else than Messages with bytes bodies"
    assert len(messages) <= max_messages, \
        f"{where}: receive({max_messages}, ...) returned {len(messages)} messages"
    assert elapsed <= timeout_s + 2.0, f"{where}: receive(timeout_s={timeout_s}) blocked {elapsed:.1f} s"
    return messages


def _collect(source: Source, url: str, want: int, timeout_s: float, *, ack: bool = True,
             max_messages: int = 100) -> list[Message]:
    """Receive until ``want`` messages came or ``timeout_s`` passed (acknowledging them when ``ack``)."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < want and time.monotonic() < deadline:
        batch = _receive(source, url, max_messages, min(0.5, max(0.01, deadline - time.monotonic())))
        got += batch
        if ack and batch:
            source.ack(batch)
    return got


def _bodies(messages: list[Message]) -> list[bytes]:
    return [m.body for m in messages]


def check_round_trip(url: str, *, n: int = 25, ordered: bool = True, options: dict[str, Any] | None = None,
                     timeout_s: float = 10.0) -> None:
    """``n`` payloads published through the sink (in batches) come out of the source with the same bytes, in order
    when ``ordered`` (else as the same multiset), and nothing else comes."""
    where = _shown(url)
    payloads = _payloads(n, "round_trip")
    source = _source(url, 10, options)
    try:
        _publish(url, payloads, options, batches=3)
        got = _collect(source, url, n, timeout_s)
        bodies = _bodies(got)
        assert len(bodies) >= n, f"{where}: {len(bodies)} of {n} published messages came within {timeout_s} s"
        if ordered:
            assert bodies == payloads, f"{where}: the messages came with other bytes or out of order"
        else:
            assert Counter(bodies) == Counter(payloads), f"{where}: the messages came with other bytes or duplicated"
        extra = _receive(source, url, 10, 0.3)
        assert not extra, f"{where}: {len(extra)} message(s) more than published came"
    finally:
        source.close()


def check_batch_iteration(url: str, *, options: dict[str, Any] | None = None, timeout_s: float = 10.0) -> None:
    """``receive`` honours ``max_messages``, returns as soon as a first message is there (not after the whole
    timeout), returns ``[]`` on an empty source after ``timeout_s`` without blocking much longer, and promptly
    with ``timeout_s=0``."""
    where = _shown(url)
    source = _source(url, 20, options)
    try:
        _publish(url, _payloads(7, "batch_iteration"), options)
        got: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while len(got) < 7 and time.monotonic() < deadline:
            batch = _receive(source, url, 3, 0.5)
            got += batch
            source.ack(batch)
        assert len(got) == 7, f"{where}: {len(got)} of 7 messages came in batches of at most 3"
        for wait in (0.3, 0.0):
            started = time.monotonic()
            empty = _receive(source, url, 5, wait)
            elapsed = time.monotonic() - started
            assert empty == [], f"{where}: receive on a drained source returned {len(empty)} message(s)"
            assert elapsed <= wait + 1.0, f"{where}: receive(timeout_s={wait}) on an empty source took {elapsed:.2f} s"
        _publish(url, _payloads(1, "batch_iteration_wake"), options)
        started = time.monotonic()
        first: list[Message] = []
        while not first and time.monotonic() - started < timeout_s:
            first = _receive(source, url, 10, 5.0)
        elapsed = time.monotonic() - started
        assert len(first) == 1, f"{where}: a message published to a waiting source did not come within {timeout_s} s"
        source.ack(first)
        assert elapsed < 2.5, f"{where}: receive(10, 5.0) took {elapsed:.1f} s to return a message that was there"
    finally:
        source.close()


def check_credit(url: str, *, k: int = 3, options: dict[str, Any] | None = None, timeout_s: float = 10.0) -> None:
    """With credit ``k`` and ``k + 5`` messages waiting, the source never hands out more than ``k``
    unacknowledged messages (it reaches ``k``, then ``receive`` returns ``[]``); after acknowledging, more come,
    until every message came exactly once."""
    where = _shown(url)
    payloads = _payloads(k + 5, "credit")
    source = _source(url, k, options)
    try:
        _publish(url, payloads, options)
        held: list[Message] = []
        seen: list[bytes] = []
        reached = False
        deadline = time.monotonic() + timeout_s
        while len(seen) < len(payloads) and time.monotonic() < deadline:
            batch = _receive(source, url, k + 5, 0.3)
            held += batch
            seen += _bodies(batch)
            assert len(held) <= k, f"{where}: {len(held)} unacknowledged messages out with credit {k}"
            if len(held) == k:
                reached = True
                more = _receive(source, url, k + 5, 0.2)
                assert not more, f"{where}: receive returned {len(more)} message(s) beyond the credit of {k}"
                source.ack(held[:2])  # free part of the credit: more must come
                held = held[2:]
        source.ack(held)
        assert reached, f"{where}: never {k} unacknowledged messages out with credit {k} and {k + 5} waiting"
        assert Counter(seen) == Counter(payloads), \
            f"{where}: {len(seen)} messages came ({len(set(seen))} distinct) of {len(payloads)} published"
    finally:
        source.close()


def check_ack_semantics(url: str, *, options: dict[str, Any] | None = None, redelivered: bool = True,
                        timeout_s: float = 15.0) -> None:
    """Messages received but not acknowledged are delivered again after the source is closed and reopened (flagged
    ``redelivered`` when ``redelivered``: the broker reports it); acknowledged ones are not."""
    where = _shown(url)
    payloads = _payloads(6, "ack_semantics")
    first = _source(url, 10, options)
    try:
        _publish(url, payloads, options)
        got = _collect(first, url, 6, timeout_s, ack=False)
        assert len(got) == 6, f"{where}: {len(got)} of 6 messages came within {timeout_s} s"
        acked, unacked = got[:3], got[3:]
        first.ack(acked)
    finally:
        first.close()
    second = _source(url, 10, options)
    try:
        again = _collect(second, url, len(unacked), timeout_s)
        extra = _receive(second, url, 10, 0.5)
        if extra:
            second.ack(extra)
        again += extra
        assert Counter(_bodies(again)) == Counter(_bodies(unacked)), (
            f"{where}: after reopening, {len(again)} message(s) came "
            f"({sum(b in _bodies(acked) for b in _bodies(again))} acknowledged before); expected the "
            f"{len(unacked)} not acknowledged")
        if redelivered:
            assert all(m.redelivered for m in again), f"{where}: a message delivered again is not flagged redelivered"
    finally:
        second.close()


def check_clean_close(url: str, *, options: dict[str, Any] | None = None, timeout_s: float = 10.0) -> None:
    """Closing a source or a sink twice is fine; ``receive`` on a closed source and ``publish`` on a closed sink
    raise :class:`ConnectorError`; what a sink published before ``close`` is all delivered."""
    where = _shown(url)
    source = _source(url, 5, options)
    source.close()
    source.close()
    try:
        source.receive(1, 0.0)
    except ConnectorError:
        pass
    else:
        raise AssertionError(f"{where}: receive on a closed source raised no ConnectorError")
    payloads = _payloads(3, "clean_close")
    sink = _sink(url, options)
    sink.publish(payloads)
    sink.close()
    sink.close()
    try:
        sink.publish([b"{}"])
    except ConnectorError:
        pass
    else:
        raise AssertionError(f"{where}: publish on a closed sink raised no ConnectorError")
    source = _source(url, 5, options)
    try:
        got = _collect(source, url, 3, timeout_s)
        assert Counter(_bodies(got)) == Counter(payloads), \
            f"{where}: {len(got)} of the 3 messages published before the sink closed came"
    finally:
        source.close()
        source.close()


def check_unreachable(url: str, *, options: dict[str, Any] | None = None, within_s: float = 5.0) -> None:
    """With ``url`` naming a port nothing listens on, opening (or first using) a source and a sink raises
    :class:`ConnectorUnavailable` within ``within_s``, with a one-line message naming the host and not the
    password."""
    where = _shown(url)
    parts = urlsplit(url)
    for role in ("source", "sink"):
        started = time.monotonic()
        opened: Any = None
        try:
            if role == "source":
                opened = _source(url, 1, options)
                opened.receive(1, 0.1)
            else:
                opened = _sink(url, options)
                opened.publish([b"{}"])
        except ConnectorUnavailable as exc:
            message = str(exc)
        except ConnectorError as exc:
            raise AssertionError(f"{where}: an unreachable broker raised {type(exc).__name__}, not "
                                 f"ConnectorUnavailable: {exc}") from None
        else:
            raise AssertionError(f"{where}: a {role} of an unreachable broker raised no ConnectorUnavailable")
        finally:
            if opened is not None:
                opened.close()
        elapsed = time.monotonic() - started
        assert elapsed <= within_s, f"{where}: the {role} took {elapsed:.1f} s to report an unreachable broker"
        assert message and "\n" not in message.strip(), f"{where}: the {role}'s error is not one line: {message!r}"
        assert parts.hostname and parts.hostname in message, f"{where}: the {role}'s error names no host: {message}"
        assert not parts.password or parts.password not in message, \
            f"{where}: the {role}'s error shows the password: {message}"


#: The checks that need a reachable broker, each taking a fresh URL.
CONNECTOR_CHECKS: list[Callable[..., None]] = [
    check_round_trip,
    check_batch_iteration,
    check_credit,
    check_ack_semantics,
    check_clean_close,
]


def check_connector(make_url: Callable[[], str], **kwargs: Any) -> None:
    """Run every check of :data:`CONNECTOR_CHECKS`, each on a fresh URL from ``make_url`` (``kwargs``: e.g.
    ``options``)."""
    for check in CONNECTOR_CHECKS:
        check(make_url(), **kwargs)


__all__ = [
    "CONNECTOR_CHECKS",
    "check_ack_semantics",
    "check_batch_iteration",
    "check_clean_close",
    "check_connector",
    "check_credit",
    "check_round_trip",
    "check_unreachable",
]
