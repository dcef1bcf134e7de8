"""RabbitMQ through aio-pika's robust connection: the two durable topic exchanges, and publishing
with publisher confirms and persistent delivery.

``<ns>.events`` carries what an integrator may be granted; ``<ns>.platform`` carries the
platform-internal types (``EventType.internal``), which only the services' own broker users can
read. Each service's broker user may publish only the routing keys of the types it owns (topic
permissions, see ``shared.broker_access``), so a publish of another service's type is refused by
the broker itself (the channel is closed with ACCESS_REFUSED).
"""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, AbstractIncomingMessage, AbstractRobustConnection
from aiormq.abc import ConfirmationFrameType
from pamqp.commands import Basic

EVENT_CONTENT_TYPE = "application/cloudevents+json"


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    return await aio_pika.connect_robust(url, client_properties={"connection_name": name})


async def declare_events_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def queue_depth(connection: AbstractConnection, name: str) -> int:
    """Messages ready in the queue ``name`` (``ChannelNotFoundEntity`` when there is no such queue)."""
    channel = await connection.channel()
    try:
        declared = await channel.declare_queue(name, passive=True)
    finally:
        if not channel.is_closed:  # a passive declare of a missing queue closes the channel
            await channel.close()
    return int(declared.declaration_result.message_count or 0)


def platform_exchange_for(events_exchange: str) -> str:
    """``<ns>.platform`` beside ``<ns>.events``."""
    prefix, _, _ = events_exchange.rpartition(".")
    return f"{prefix}.platform" if prefix else "platform"


class PublishNotConfirmed(Exception):
    """The broker did not take responsibility for a message (nack, or returned)."""


class Publisher:
    """Publishes event envelopes to the events exchange and waits for the broker's confirm."""

    def __init__(self, connection: AbstractRobustConnection, exchange_name: str, platform_exchange_name: str | None = None) -> None:
        self.connection = connection
        self.exchange_name = exchange_name
        self.platform_exchange_name = platform_exchange_name or platform_exchange_for(exchange_name)
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._platform: AbstractExchange | None = None

    async def open(self) -> None:
        self._channel = await self.connection.channel(publisher_confirms=True)
        self._exchange = await declare_events_exchange(self._channel, self.exchange_name)
        self._platform = await declare_events_exchange(self._channel, self.platform_exchange_name)

    async def close(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    async def publish(
        self,
        body: bytes,
        *,
        routing_key: str,
        message_id: str,
        event_type: str,
        correlation_id: str | None = None,
        internal: bool = False,
    ) -> None:
        exchange = self._platform if internal else self._exchange
        if exchange is None:
            raise RuntimeError("Publisher.open() was not called")
        message = aio_pika.Message(
            body,
            content_type=EVENT_CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
            type=event_type,
            correlation_id=correlation_id,
        )
        confirmation: ConfirmationFrameType | None = await exchange.publish(
            # Not mandatory: an event nobody subscribes to yet is still published (and confirmed).
            message, routing_key=routing_key, timeout=10, mandatory=False
        )
        if not isinstance(confirmation, Basic.Ack):
            # Name the frame only: the body may hold personal data and must not reach the logs.
            raise PublishNotConfirmed(f"{event_type} {message_id}: broker answered {type(confirmation).__name__}")


def headers_without_deaths(message: AbstractIncomingMessage) -> dict[str, object]:
    """The message's headers less RabbitMQ's own ``x-death`` history (which a republish must not carry)."""
    return {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-death")}


def persistent_copy(message: AbstractIncomingMessage, headers: dict[str, object]) -> aio_pika.Message:
    """The message as republished by us (a retry, a dead letter, a replay): the same body and
    identity, persistent, with ``headers``."""
    return aio_pika.Message(
        message.body,
        headers=headers,  # type: ignore[arg-type]  # aio-pika's header type is a recursive union
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
    )
