"""RabbitMQ specifics: prefetch limits the deliveries out, acks (multiple and single), URL forms, refusals."""

from __future__ import annotations

import time

import pika
import pytest

from pynomaly_core.stream.contract import ConnectorError, ConnectorUnavailable
from pynomaly_core.stream.select import open_sink, open_source


def queue_counts(broker, queue):
    """(ready, consumers) of ``queue`` as the broker counts them."""
    connection = pika.BlockingConnection(pika.ConnectionParameters(broker.host, broker.port))
    try:
        ok = connection.channel().queue_declare(queue, passive=True).method
        return ok.message_count, ok.consumer_count
    finally:
        connection.close()


def test_prefetch_limits_unacknowledged_deliveries(rabbitmq):
    name = rabbitmq.name()
    url = rabbitmq.url(name)
    source = open_source(url, credit=2)
    try:
        sink = open_sink(url)
        sink.publish([b"%d" % i for i in range(6)])
        sink.close()
        time.sleep(0.3)
        source.receive(0, 0.2)  # let the client read what the broker pushed
        assert len(source._buffer) <= 2
        assert queue_counts(rabbitmq, name) == (4, 1)  # the broker holds back all but the prefetch
        held = source.receive(10, 1.0)
        assert [m.body for m in held] == [b"0", b"1"]
        assert source.receive(10, 0.2) == []
        source.ack(held)
        more = source.receive(10, 1.0)
        assert [m.body for m in more] == [b"2", b"3"]
        source.ack(more)
    finally:
        source.close()


def test_acks_out_of_order_use_multiple_where_contiguous(rabbitmq):
    name = rabbitmq.name()
    url = rabbitmq.url(name)
    source = open_source(url, credit=10)
    try:
        sink = open_sink(url)
        sink.publish([b"%d" % i for i in range(5)])
        sink.close()
        got = []
        while len(got) < 5:
            got += source.receive(10, 1.0)
        source.ack([got[1], got[3]])  # single acks: the oldest is still out
        assert list(source._unacked) == [got[0].token[1], got[2].token[1], got[4].token[1]]
        source.ack([got[0], got[2]])  # now 1..4 are contiguous: one multiple ack
        assert list(source._unacked) == [got[4].token[1]]
        with pytest.raises(ConnectorError, match="acknowledged already"):
            source.ack([got[0]])
        source.ack([got[4]])
        assert source._unacked == {}
    finally:
        source.close()
    reopened = open_source(url, credit=10)
    try:
        assert reopened.receive(10, 0.3) == []
        assert queue_counts(rabbitmq, name)[0] == 0
    finally:
        reopened.close()


def test_ack_of_another_source_is_refused(rabbitmq):
    url_a, url_b = rabbitmq.url(), rabbitmq.url()
    a, b = open_source(url_a, credit=5), open_source(url_b, credit=5)
    try:
        open_sink(url_a).publish([b"x"])
        got = []
        while not got:
            got = a.receive(1, 1.0)
        with pytest.raises(ConnectorError, match="not received from this source"):
            b.ack(got)
        a.ack(got)
    finally:
        a.close()
        b.close()


def test_vhost_url_and_declare_false(rabbitmq):
    name = rabbitmq.name()
    url = f"amqp://guest:guest@{rabbitmq.host}:{rabbitmq.port}/%2F/{name}"
    with pytest.raises(ConnectorError, match=f"{name}.*NOT_FOUND"):
        open_source(url, credit=1, options={"declare": False})
    source = open_source(url, credit=1)  # declares it
    source.close()
    open_source(url, credit=1, options={"declare": False}).close()


def test_unroutable_publish_is_an_error(rabbitmq):
    url = rabbitmq.url()
    sink = open_sink(url, options={"exchange": "amq.direct", "routing_key": "pyn-test-nobody-bound"})
    try:
        with pytest.raises(ConnectorError, match="unroutable") as info:
            sink.publish([b"x"])
        assert not isinstance(info.value, ConnectorUnavailable)
    finally:
        sink.close()


def test_wrong_password_is_refused_and_redacted(rabbitmq):
    url = f"amqp://guest:not-the-password@{rabbitmq.host}:{rabbitmq.port}/{rabbitmq.name()}"
    with pytest.raises(ConnectorError) as info:
        open_source(url, credit=1)
    message = str(info.value)
    assert not isinstance(info.value, ConnectorUnavailable)
    assert "not-the-password" not in message and "guest:***@" in message and "\n" not in message


@pytest.mark.parametrize("url, error", [
    ("amqp://127.0.0.1/a/b/c", "expected amqp://"),
    ("amqp://127.0.0.1/", "no queue"),
    ("amqp://127.0.0.1/q?bogus=1", "unknown option"),
    ("amqp://127.0.0.1/q?declare=maybe", "not a valid bool"),
])
def test_bad_urls(url, error):
    from pynomaly_stream.amqp import parse

    with pytest.raises(ConnectorError, match=error):
        parse(url, {})


def test_url_grammar():
    from pynomaly_stream.amqp import parse

    assert parse("amqp://h/q", {})[2:] == ("/", "q")
    assert parse("amqp://h:5673/prod/q", {})[2:] == ("prod", "q")
    assert parse("amqp://h/%2F/a%2Fb", {})[2:] == ("/", "a/b")
    assert parse("amqp://h//q", {})[2:] == ("/", "q")
    assert parse("amqp://h", {"queue": "named"})[2:] == ("/", "named")
    endpoint, opts, _, _ = parse("amqp://u:pw@h/q?heartbeat_s=10", {})
    assert opts["heartbeat_s"] == 10 and endpoint.url == "amqp://u:***@h/q?heartbeat_s=10"
