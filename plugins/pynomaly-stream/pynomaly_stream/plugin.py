"""Entry point of the ``stream`` plugin: connector specs only (pika, nats-py, redis and paho-mqtt load when a source
or a sink is opened)."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import ConnectorSpec
from pynomaly_stream import options


@hookimpl
def register_connectors(register):
    register(ConnectorSpec(
        name="rabbitmq",
        summary="RabbitMQ queue (AMQP 0-9-1, pika): prefetch = credit, manual acks, persistent confirmed publishes.",
        target="pynomaly_stream.amqp:RabbitMQConnector",
        schemes=("amqp",),
        params=options.defaults(options.AMQP),
    ))
    register(ConnectorSpec(
        name="nats",
        summary="NATS JetStream subject: durable pull consumer (max_ack_pending = credit), publishes await the ack.",
        target="pynomaly_stream.jetstream:NatsConnector",
        schemes=("nats",),
        params=options.defaults(options.NATS),
    ))
    register(ConnectorSpec(
        name="redis",
        summary="Redis Stream: consumer group, XREADGROUP/XACK, idle pending entries reclaimed with XAUTOCLAIM.",
        target="pynomaly_stream.redis_streams:RedisStreamConnector",
        schemes=("redis",),
        params=options.defaults(options.REDIS),
    ))
    register(ConnectorSpec(
        name="mqtt",
        summary="MQTT topic (paho-mqtt): QoS 1, persistent session, manual PUBACKs, receive maximum = credit.",
        target="pynomaly_stream.mqtt:MqttConnector",
        schemes=("mqtt",),
        params=options.defaults(options.MQTT),
    ))
