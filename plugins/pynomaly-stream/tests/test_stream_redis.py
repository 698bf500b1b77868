"""Redis Streams specifics: pending entries of a dead consumer are reclaimed, the credit bounds the pending list,
bodies of entries without the field, trimming, consumer names cleaned up."""

from __future__ import annotations

import json
import time

import pytest
import redis

from pynomaly_core.stream.contract import ConnectorError
from pynomaly_core.stream.select import open_sink, open_source


@pytest.fixture
def client(redis_broker):
    c = redis.Redis(redis_broker.host, redis_broker.port)
    yield c
    c.close()


def collect(source, n, timeout_s=5.0):
    got, deadline = [], time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        got += source.receive(n - len(got), 0.2)
    return got


def test_pending_entries_of_a_dead_consumer_are_reclaimed(redis_broker, client):
    name = redis_broker.name()
    url = redis_broker.url(name)
    dead = open_source(url, credit=5, options={"consumer": "dead"})
    open_sink(url).publish([b"a", b"b", b"c"])
    assert len(collect(dead, 3)) == 3
    dead._client.close()  # dies: nothing acknowledged, nothing released
    alive = open_source(url, credit=5, options={"consumer": "alive", "min_idle_ms": 300,
                                                 "reclaim_interval_s": 0.1})
    try:
        assert alive.receive(5, 0.1) == []  # not idle long enough yet
        time.sleep(0.35)
        again = collect(alive, 3)
        assert [m.body for m in again] == [b"a", b"b", b"c"] and all(m.redelivered for m in again)
        owners = {e["consumer"] for e in client.xpending_range(name, "pynomaly", "-", "+", 10)}
        assert owners == {b"alive"}
        alive.ack(again)
        assert client.xpending(name, "pynomaly")["pending"] == 0
    finally:
        alive.close()


def test_credit_bounds_the_pending_list(redis_broker, client):
    name = redis_broker.name()
    url = redis_broker.url(name)
    source = open_source(url, credit=3)
    try:
        open_sink(url).publish([b"%d" % i for i in range(10)])
        held = collect(source, 3)
        assert source.receive(10, 0.1) == []
        assert client.xpending(name, "pynomaly")["pending"] == 3
        source.ack(held[:1])
        assert len(source.receive(10, 0.2)) == 1
        assert client.xpending(name, "pynomaly")["pending"] == 3
    finally:
        source.close()


def test_entry_without_the_field_is_a_json_object(redis_broker, client):
    name = redis_broker.name()
    source = open_source(redis_broker.url(name), credit=2)
    try:
        client.xadd(name, {"temperature": "21.5", "unit": "C"})
        got = collect(source, 1)
        assert json.loads(got[0].body) == {"temperature": "21.5", "unit": "C"} and got[0].key == name
        source.ack(got)
    finally:
        source.close()


def test_start_dollar_skips_history_and_maxlen_trims(redis_broker, client):
    name = redis_broker.name()
    url = redis_broker.url(name)
    sink = open_sink(url, options={"maxlen": 10})
    sink.publish([b"old"] * 300)
    assert client.xlen(name) < 300  # approximately trimmed (whole radix-tree nodes)
    source = open_source(url, credit=5, options={"start": "$", "group": "fresh"})
    try:
        sink.publish([b"new"])
        got = collect(source, 1)
        assert [m.body for m in got] == [b"new"]
        source.ack(got)
        assert source.receive(5, 0.1) == []
    finally:
        source.close()
        sink.close()


def test_own_consumer_name_is_removed_on_close(redis_broker, client):
    name = redis_broker.name()
    url = redis_broker.url(name)
    source = open_source(url, credit=2)
    open_sink(url).publish([b"x"])
    source.ack(collect(source, 1))
    source.close()
    assert client.xinfo_consumers(name, "pynomaly") == []
    named = open_source(url, credit=2, options={"consumer": "worker-1"})
    open_sink(url).publish([b"y"])
    named.ack(collect(named, 1))
    named.close()
    assert [c["name"] for c in client.xinfo_consumers(name, "pynomaly")] == [b"worker-1"]  # a fixed name stays


def test_wrong_type_is_an_error(redis_broker, client):
    name = redis_broker.name()
    client.set(name, "not a stream")
    with pytest.raises(ConnectorError, match="WRONGTYPE"):
        open_source(redis_broker.url(name), credit=1)


def test_url_grammar():
    from pynomaly_stream.redis_streams import parse

    endpoint, opts, db = parse("redis://:pw@h:6380/3?stream=s&group=g&min_idle_ms=5", {"consumer": "c"})
    assert (db, opts["stream"], opts["group"], opts["consumer"], opts["min_idle_ms"]) == (3, "s", "g", "c", 5)
    assert endpoint.url == "redis://:***@h:6380/3?stream=s&group=g&min_idle_ms=5"
    for url, error in [("redis://h/0", "no stream"), ("redis://h/x?stream=s", "db is a number"),
                       ("redis://h/0?stream=s&start=later", "option start")]:
        with pytest.raises(ConnectorError, match=error):
            parse(url, {})
