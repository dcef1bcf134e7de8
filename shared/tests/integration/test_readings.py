"""The readings against real MongoDB and RabbitMQ: the outbox's backlog and the age of its oldest
waiting event, and a consumer queue's ready and dead-lettered messages, are what an operator's
alerts see; a reading that fails does not stop the others."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aio_pika
from prometheus_client import REGISTRY
from shared.consumer import EventConsumer, ReceivedEvent, Subscription
from shared.mongo import Transaction
from shared.readings import Readings

from devstack.wiring import THING_HAPPENED, ThingHappened, Wiring


def _gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def _write_thing(w: Wiring, thing_id: int) -> None:
    async def work(tx: Transaction) -> None:
        tx.record(THING_HAPPENED, ThingHappened(thing_id=thing_id), subject=f"thing/{thing_id}")

    await w.uow.run(work)


async def test_the_outbox_reading_counts_what_waits_and_how_long_the_oldest_has_waited(wiring: Wiring) -> None:
    relay = wiring.relay()
    await relay.read_backlog()
    assert _gauge("qa_outbox_backlog", service="test") == 0
    assert _gauge("qa_outbox_oldest_pending_age_seconds", service="test") == 0

    await _write_thing(wiring, 1)
    wiring.clock.advance(seconds=60)
    await _write_thing(wiring, 2)
    wiring.clock.advance(seconds=30)
    await relay.read_backlog()
    assert _gauge("qa_outbox_backlog", service="test") == 2
    assert _gauge("qa_outbox_oldest_pending_age_seconds", service="test") == 90

    assert await relay.publish_pending() == 2
    await relay.read_backlog()
    assert _gauge("qa_outbox_backlog", service="test") == 0
    assert _gauge("qa_outbox_oldest_pending_age_seconds", service="test") == 0


async def _never_called(event: ReceivedEvent, tx: Transaction) -> None:
    raise AssertionError("the consumer is not started")


async def test_the_queue_reading_counts_ready_and_dead_lettered_messages(wiring: Wiring) -> None:
    queue = wiring.settings.queue_name("readings")
    consumer = EventConsumer(
        connection=wiring.connection, uow=wiring.uow, service="test", purpose="readings", queue=queue,
        exchange=wiring.settings.exchange_name, subscriptions=[Subscription(THING_HAPPENED, _never_called)],
    )
    channel = await wiring.connection.channel()
    try:
        await consumer.declare(channel)
        for n in range(3):
            await channel.default_exchange.publish(aio_pika.Message(b"{}", message_id=f"r{n}"), routing_key=queue)
        await channel.default_exchange.publish(aio_pika.Message(b"{}", message_id="d"), routing_key=f"{queue}.dead")
        await consumer.read_depths()
        assert _gauge("qa_queue_messages", service="test", queue=queue, state="ready") == 3
        assert _gauge("qa_queue_messages", service="test", queue=queue, state="dead") == 1
    finally:
        await channel.close()


async def test_a_failing_reading_is_logged_and_the_others_still_run() -> None:
    seen: list[str] = []

    async def broken(runtime: Any) -> None:
        raise RuntimeError("the database went away")

    async def working(runtime: Any) -> None:
        seen.append(runtime.settings.service_name)

    runtime: Any = SimpleNamespace(settings=SimpleNamespace(service_name="test"))
    readings = Readings(runtime, [broken, working], interval_s=30)
    assert await readings.run_once() is False
    assert seen == ["test"]
