"""MQTT specifics: the persistent session brings back unacknowledged QoS 1 messages after a reconnect and keeps what
was published while the source was away; PUBACKs go in arrival order; the credit holds although Mosquitto 2.0
over-delivers; topics with wildcards."""

from __future__ import annotations

import time

import pytest

from pynomaly_core.stream.contract import ConnectorError
from pynomaly_core.stream.select import open_sink, open_source


def collect(source, n, timeout_s=5.0):
    got, deadline = [], time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        got += source.receive(n - len(got), 0.2)
    return got


def test_persistent_session_redelivers_after_reconnect(mqtt):
    client_id = f"pyn-test-{mqtt.name()[-12:]}"
    mqtt.client_ids.append(client_id)
    url = mqtt.url(query=f"client_id={client_id}&session_expiry_s=60")
    source = open_source(url, credit=5)
    sink = open_sink(url)
    sink.publish([b"1", b"2", b"3"])
    got = collect(source, 3)
    assert [m.body for m in got] == [b"1", b"2", b"3"] and not any(m.redelivered for m in got)
    source.ack(got[:1])
    assert source.receive(5, 0.3) == []  # not resent while the connection lives
    source.close()
    sink.publish([b"4", b"5"])  # kept for the offline session
    sink.close()
    again = open_source(url, credit=5)
    try:
        back = collect(again, 4)
        assert [(m.body, m.redelivered) for m in back] == [(b"2", True), (b"3", True), (b"4", False), (b"5", False)]
        again.ack(back)
    finally:
        again.close()
    last = open_source(url, credit=5)
    try:
        assert last.receive(5, 0.3) == []
    finally:
        last.close()


def test_pubacks_go_in_arrival_order(mqtt):
    url = mqtt.url()
    source = open_source(url, credit=5)
    open_sink(url).publish([b"a", b"b"])
    got = collect(source, 2)
    source.ack(got[1:])  # 'b' first: its PUBACK waits for 'a'
    assert [acked for _, acked in source._arrived.values()] == [False, True]
    source.close()
    again = open_source(url, credit=5)
    try:
        back = collect(again, 2)
        assert [m.body for m in back] == [b"a", b"b"]  # both: 'b' was never acknowledged to the broker
        again.ack(back[:1])
        assert len(again._arrived) == 1
        again.ack(back[1:])
        assert len(again._arrived) == 0
    finally:
        again.close()


def test_credit_holds_although_the_broker_sends_more(mqtt):
    url = mqtt.url()
    source = open_source(url, credit=2)
    try:
        open_sink(url).publish([b"%d" % i for i in range(12)])
        seen, out = [], []
        deadline = time.monotonic() + 5
        while len(seen) < 12 and time.monotonic() < deadline:
            batch = source.receive(12, 0.2)
            out += batch
            seen += [m.body for m in batch]
            assert len(out) <= 2
            source.ack(out[:1])
            out = out[1:]
        source.ack(out)
        assert seen == [b"%d" % i for i in range(12)]
    finally:
        source.close()


def test_topic_with_wildcard(mqtt):
    name = mqtt.name()
    base = mqtt.topic(name)
    url = f"mqtt://{mqtt.host}:{mqtt.port}/{base}/%23"
    from pynomaly_stream.mqtt import default_client_id

    mqtt.client_ids.append(default_client_id(mqtt.host, mqtt.port, f"{base}/#"))
    source = open_source(url, credit=5)
    try:
        open_sink(f"mqtt://{mqtt.host}:{mqtt.port}/{base}/room1/temp").publish([b"21"])
        got = collect(source, 1)
        assert [(m.body, m.key) for m in got] == [(b"21", f"{base}/room1/temp")]
        source.ack(got)
    finally:
        source.close()
    with pytest.raises(ConnectorError, match="without wildcards"):
        open_sink(url)


def test_url_grammar():
    from pynomaly_stream.mqtt import default_client_id, parse

    assert parse("mqtt://h/a/b/#", {})[2] == "a/b/#"
    _, opts, topic = parse("mqtt://h/a/%23?protocol=3.1.1", {})
    assert (topic, opts["protocol"]) == ("a/#", "3.1.1")
    assert parse("mqtt://h/a/+/c", {})[2] == "a/+/c"
    assert len(default_client_id("h", 1883, "a/#")) == 23
    for url, error in [("mqtt://h/", "expected mqtt://"), ("mqtt://h/a?protocol=4", "protocol"),
                       ("mqtt://h/a#b", "%23")]:
        with pytest.raises(ConnectorError, match=error):
            parse(url, {})
