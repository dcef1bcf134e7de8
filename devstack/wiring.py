"""Real MongoDB and RabbitMQ wired as a service would be, without a web app around them: for
tests of the shared library's outbox and consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from shared.clock import FixedClock
from shared.consumer import PROCESSED_INDEXES
from shared.events import EventData, EventType
from shared.mongo import Document, UnitOfWork
from shared.outbox import OUTBOX_INDEXES, OutboxRelay
from shared.settings import ServiceSettings

from devstack.testing import Infrastructure
from shared import broker, mongo


class ThingHappened(EventData):
    thing_id: int
    note: str = ""


THING_HAPPENED = EventType("test.thing.happened", 1, ThingHappened, "A thing happened (tests only).", "test")


@dataclass
class Wiring:
    settings: ServiceSettings
    client: AsyncMongoClient[Document]
    db: AsyncDatabase[Document]
    connection: AbstractRobustConnection
    publisher: broker.Publisher
    clock: FixedClock
    uow: UnitOfWork

    def relay(self, **kwargs: object) -> OutboxRelay:
        return OutboxRelay(self.db, self.publisher, self.clock, service="test", **kwargs)

    async def observer(self, routing_key: str = THING_HAPPENED.routing_key) -> tuple[AbstractChannel, AbstractQueue]:
        """An exclusive queue bound to the events exchange, to see what was published."""
        channel = await self.connection.channel()
        exchange = await broker.declare_events_exchange(channel, self.settings.exchange_name)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=routing_key)
        return channel, queue


@pytest.fixture
async def wiring(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[Wiring]:
    settings = ServiceSettings(
        service_name="test",
        mongodb_url=infrastructure.mongodb_url,
        amqp_url=infrastructure.amqp_url,
        qa_namespace=namespace,
        identity_signing_key="unused",
    )
    client = mongo.connect(settings.mongodb_url)
    db = client[settings.database_name]
    await mongo.create_indexes(db, [OUTBOX_INDEXES, PROCESSED_INDEXES])
    connection = await broker.connect(settings.amqp_url, name="test")
    publisher = broker.Publisher(connection, settings.exchange_name)
    await publisher.open()
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    uow = UnitOfWork(client, db, source="/qa/test", clock=clock)
    try:
        yield Wiring(settings, client, db, connection, publisher, clock, uow)
    finally:
        await publisher.close()
        await connection.close()
        await client.close()
