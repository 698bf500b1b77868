"""NATS JetStream specifics: the durable consumer resumes, max_ack_pending is the credit, redelivery after
ack_wait when a consumer dies, named streams, the event loop thread stops on close."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pynomaly_core.stream.contract import ConnectorError
from pynomaly_core.stream.select import open_sink, open_source


def consumer_info(broker, stream, durable):
    import nats

    async def info():
        nc = await nats.connect(f"nats://{broker.host}:{broker.port}")
        try:
            return await nc.jetstream().consumer_info(stream, durable)
        finally:
            await nc.close()

    return asyncio.run(info())


def collect(source, n, timeout_s=5.0):
    got, deadline = [], time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        got += source.receive(n - len(got), 0.3)
    return got


def test_durable_consumer_resumes_where_it_left_off(jetstream):
    url = jetstream.url()
    first = open_source(url, credit=4)
    sink = open_sink(url)
    sink.publish([b"%d" % i for i in range(10)])
    sink.close()
    got = collect(first, 4)
    assert [m.body for m in got] == [b"0", b"1", b"2", b"3"]
    assert first.receive(10, 0.2) == []  # max_ack_pending = credit
    info = consumer_info(jetstream, first.stream, first.durable)
    assert info.config.max_ack_pending == 4 and info.num_ack_pending == 4
    first.ack(got)
    first.close()
    second = open_source(url, credit=8)
    try:
        assert consumer_info(jetstream, second.stream, second.durable).config.max_ack_pending == 8
        rest = collect(second, 6)
        assert [m.body for m in rest] == [b"%d" % i for i in range(4, 10)]
        assert not any(m.redelivered for m in rest)
        second.ack(rest)
        assert second.receive(10, 0.2) == []
    finally:
        second.close()


def test_dead_consumer_is_redelivered_after_ack_wait(jetstream):
    url = jetstream.url(query="ack_wait_s=1")
    dead = open_source(url, credit=5)
    open_sink(url).publish([b"a", b"b"])
    assert len(collect(dead, 2)) == 2
    dead._client.close()  # dies: the connection goes without releasing anything
    started = time.monotonic()
    alive = open_source(url, credit=5)
    try:
        again = collect(alive, 2, timeout_s=5)
        assert sorted(m.body for m in again) == [b"a", b"b"] and all(m.redelivered for m in again)
        assert time.monotonic() - started >= 0.5  # only after ack_wait
        alive.ack(again)
    finally:
        alive.close()


def test_named_stream_and_durable(jetstream):
    name = jetstream.name()
    stream = f"PYN_TEST_{name[-12:].upper()}"
    jetstream.streams.append(stream)
    url = jetstream.url(name, query=f"stream={stream}&durable=scorer")
    source = open_source(url, credit=2)
    try:
        assert (source.stream, source.durable) == (stream, "scorer")
        sink = open_sink(url)
        assert sink.stream == stream
        sink.publish([b"x"])
        sink.close()
        got = collect(source, 1)
        assert [m.body for m in got] == [b"x"] and got[0].key == jetstream.subject(name)
        source.ack(got)
    finally:
        source.close()
    with pytest.raises(ConnectorError, match="does not exist"):
        open_source(jetstream.url(query="stream=PYN_TEST_MISSING&create=false"), credit=1)


def test_close_stops_the_event_loop_thread(jetstream):
    before = {t.ident for t in threading.enumerate()}
    url = jetstream.url()
    source, sink = open_source(url, credit=1), open_sink(url)
    assert len({t.ident for t in threading.enumerate()} - before) == 2  # one loop each
    source.close()
    sink.close()
    assert {t.ident for t in threading.enumerate()} - before == set()
    assert source._client._loop.loop.is_closed()


def test_sink_refuses_wildcards():
    with pytest.raises(ConnectorError, match="without wildcards"):
        open_sink("nats://127.0.0.1:4222/sensors.*")


def test_names_from_the_subject():
    from pynomaly_stream.jetstream import default_durable, default_stream, parse

    assert default_stream("sensors.readings") == "SENSORS_READINGS"
    assert default_durable("sensors.*") == "pynomaly_sensors__"
    endpoint, opts, subject = parse("nats://tok@h/a.b?ack_wait_s=2.5", {})
    assert (subject, opts["ack_wait_s"], endpoint.username) == ("a.b", 2.5, "tok")
    assert endpoint.url == "nats://***@h/a.b?ack_wait_s=2.5"  # a token is a secret too
    with pytest.raises(ConnectorError, match="expected nats://"):
        parse("nats://h/a/b", {})
