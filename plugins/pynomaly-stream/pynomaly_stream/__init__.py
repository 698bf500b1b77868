"""pynomaly-stream: stream connectors for ``pynomaly stream`` over RabbitMQ (AMQP 0-9-1), NATS JetStream, Redis
Streams and MQTT. Registering them imports no client library; opening a source or a sink does."""

__version__ = "0.1.0"
