"""Broker helpers of the stream tests: unique names per test, removal of what a test created, reachability."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

HOST = os.environ.get("PYNOMALY_TEST_BROKER_HOST", "127.0.0.1")
PORTS = {"rabbitmq": 5672, "nats": 4222, "redis": 6379, "mqtt": 1883}
NAMES = {"rabbitmq": "RabbitMQ", "nats": "NATS JetStream", "redis": "Redis", "mqtt": "Mosquitto (MQTT)"}
BROKERS = list(PORTS)


def reachable(broker: str) -> bool:
    try:
        socket.create_connection((HOST, PORTS[broker]), timeout=1).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """Makes unique URLs for one broker and removes what they created."""

    def __init__(self, kind: str):
        self.kind = kind
        self.host = HOST
        self.port = PORTS[kind]
        self.names: list[str] = []
        self.client_ids: list[str] = []
        self.streams: list[str] = []  # NATS streams named explicitly

    def name(self) -> str:
        name = f"pyn_test_{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    def url(self, name: str | None = None, query: str = "") -> str:
        name = name or self.name()
        if self.kind == "rabbitmq":
            url = f"amqp://guest:guest@{self.host}:{self.port}/{name}"
        elif self.kind == "nats":
            url = f"nats://{self.host}:{self.port}/{name.replace('_', '.', 1)}"
        elif self.kind == "redis":
            url = f"redis://{self.host}:{self.port}/0?stream={name}"
        else:
            url = f"mqtt://{self.host}:{self.port}/{name.replace('_', '/', 1)}"
        if query:
            url += ("&" if "?" in url else "?") + query
        return url

    def subject(self, name: str) -> str:
        return name.replace("_", ".", 1)

    def topic(self, name: str) -> str:
        return name.replace("_", "/", 1)

    def cleanup(self) -> None:
        getattr(self, f"_cleanup_{self.kind}")()

    def _cleanup_rabbitmq(self) -> None:
        import pika

        connection = pika.BlockingConnection(pika.ConnectionParameters(self.host, self.port))
        channel = connection.channel()
        for name in self.names:
            channel.queue_delete(name)
        connection.close()

    def _cleanup_nats(self) -> None:
        import nats
        import nats.js.errors
        from pynomaly_stream.jetstream import default_stream

        async def delete() -> None:
            nc = await nats.connect(f"nats://{self.host}:{self.port}")
            js = nc.jetstream()
            for stream in {default_stream(self.subject(n)) for n in self.names} | set(self.streams):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await js.delete_stream(stream)
            await nc.close()

        asyncio.run(delete())

    def _cleanup_redis(self) -> None:
        import redis

        client = redis.Redis(self.host, self.port)
        if self.names:
            client.delete(*self.names)
        client.close()

    def _cleanup_mqtt(self) -> None:
        """End the persistent sessions the sources left (connect with a clean start, disconnect)."""
        import paho.mqtt.client as paho
        from pynomaly_stream.mqtt import default_client_id

        ids = [default_client_id(self.host, self.port, self.topic(n)) for n in self.names] + self.client_ids
        for client_id in ids:
            client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
            client.connect(self.host, self.port, clean_start=True)
            client.loop_start()
            deadline = time.monotonic() + 2
            while not client.is_connected() and time.monotonic() < deadline:
                time.sleep(0.01)
            client.disconnect()
            client.loop_stop()


class Proxy:
    """A TCP proxy to a broker that a test can cut, to see a connection drop (every connector's client notices the
    closed socket)."""

    def __init__(self, port: int):
        import threading

        self.target = (HOST, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close the listener and every proxied connection."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (a plain close leaves it listening)
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
