"""RabbitMQ through aio-pika's robust connection: the one durable topic exchange, and publishing
with publisher confirms and persistent delivery."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aiormq.abc import ConfirmationFrameType
from pamqp.commands import Basic

EVENT_CONTENT_TYPE = "application/cloudevents+json"


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    return await aio_pika.connect_robust(url, client_properties={"connection_name": name})


async def declare_events_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


class PublishNotConfirmed(Exception):
    """The broker did not take responsibility for a message (nack, or returned)."""


class Publisher:
    """Publishes event envelopes to the events exchange and waits for the broker's confirm."""

    def __init__(self, connection: AbstractRobustConnection, exchange_name: str) -> None:
        self.connection = connection
        self.exchange_name = exchange_name
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def open(self) -> None:
        self._channel = await self.connection.channel(publisher_confirms=True)
        self._exchange = await declare_events_exchange(self._channel, self.exchange_name)

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
    ) -> None:
        if self._exchange is None:
            raise RuntimeError("Publisher.open() was not called")
        message = aio_pika.Message(
            body,
            content_type=EVENT_CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
            type=event_type,
            correlation_id=correlation_id,
        )
        confirmation: ConfirmationFrameType | None = await self._exchange.publish(
            # Not mandatory: an event nobody subscribes to yet is still published (and confirmed).
            message, routing_key=routing_key, timeout=10, mandatory=False
        )
        if not isinstance(confirmation, Basic.Ack):
            # Name the frame only: the body may hold personal data and must not reach the logs.
            raise PublishNotConfirmed(f"{event_type} {message_id}: broker answered {type(confirmation).__name__}")
