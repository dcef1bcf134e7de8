"""The consumer's queue arguments against the real broker, for RabbitMQ 4 as for the 3.x the tests
run on (issue 18: "RabbitMQ at a supported release").

RabbitMQ 4.0 gives every quorum queue a delivery limit of 20 unless the queue or a policy says
otherwise, and then dead-letters the message, or drops it where the queue has no dead-letter
exchange. So each consumer queue states its own limit (``CONSUMER_DELIVERY_LIMIT``) and goes on
dead-lettering past it, and each ``.dead`` queue states a limit nothing reaches: a dead letter is
looked at (``shared.replay --dry-run``, the operations API) by taking it and handing it back, which
counts as a delivery. A ``.dead`` queue an earlier release declared without the argument is used as
it is, so that a new release still starts against an existing broker."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import aio_pika
import pytest
from shared.broker import queue_depth
from shared.consumer import DEAD_LETTER_DELIVERY_LIMIT, EventConsumer, ReceivedEvent, Subscription
from shared.mongo import Transaction

from devstack.broker import management_url_for
from devstack.testing import eventually
from devstack.wiring import THING_HAPPENED, Wiring

#: RabbitMQ 4's default quorum-queue delivery limit: a dead letter handed back more often than this
#: would be gone from a queue that does not state its own limit.
RABBITMQ_4_DEFAULT_LIMIT = 20


async def _not_called(event: ReceivedEvent, tx: Transaction) -> None:
    raise AssertionError("nothing is published to the consumer's queue here")


def _queue_arguments(wiring: Wiring, name: str) -> dict[str, Any]:
    """The queue's declared arguments, as the management API reports them."""
    url = urlsplit(management_url_for(wiring.settings.amqp_url))
    request = urllib.request.Request(f"http://{url.hostname}:{url.port or 15672}/api/queues/%2F/{quote(name, safe='')}")
    password_manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    password_manager.add_password(None, f"http://{url.hostname}:{url.port or 15672}/", url.username or "guest", url.password or "guest")
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(password_manager))
    with opener.open(request, timeout=10) as answer:
        return dict(json.loads(answer.read())["arguments"])


async def _depth(wiring: Wiring, name: str) -> int:
    return await queue_depth(wiring.connection, name)


def _consumer(wiring: Wiring, *, delivery_limit: int = 20) -> EventConsumer:
    return EventConsumer(
        connection=wiring.connection, uow=wiring.uow, service="test", purpose="args", queue=wiring.settings.queue_name("args"),
        exchange=wiring.settings.exchange_name, subscriptions=[Subscription(THING_HAPPENED, _not_called)],
        delivery_limit=delivery_limit,
    )


@pytest.fixture
async def started() -> AsyncIterator[list[EventConsumer]]:
    """Consumers started by a test (``start`` records their queues for the namespace clean-up)."""
    consumers: list[EventConsumer] = []
    yield consumers
    for consumer in consumers:
        await consumer.stop(grace_s=2)


async def _hand_back(wiring: Wiring, queue: str, times: int) -> list[Any]:
    """Take the queue's one message and hand it back, ``times`` times; the delivery counts seen."""
    counts = []
    channel = await wiring.connection.channel()
    try:
        source = await channel.declare_queue(queue, passive=True)
        for _ in range(times):
            message = await eventually(lambda: source.get(no_ack=False, fail=False), timeout=10, message=f"a message in {queue}")
            counts.append((message.headers or {}).get("x-delivery-count"))
            # basic.reject: a failed delivery on every RabbitMQ version (4.3 no longer counts a nack).
            await message.reject(requeue=True)
    finally:
        await channel.close()
    return counts


async def test_each_queue_states_its_delivery_limit_and_the_dead_letter_queue_a_limit_nothing_reaches(
    wiring: Wiring, started: list[EventConsumer],
) -> None:
    """Issue 18, "RabbitMQ at a supported release": the limits are the queues' own, not RabbitMQ 4's default."""
    consumer = _consumer(wiring, delivery_limit=7)
    await consumer.start()
    started.append(consumer)

    main = _queue_arguments(wiring, consumer.names.main)
    assert main["x-queue-type"] == "quorum"
    assert main["x-delivery-limit"] == 7
    assert (main["x-dead-letter-exchange"], main["x-dead-letter-routing-key"]) == (consumer.names.requeue, consumer.names.dead)
    dead = _queue_arguments(wiring, consumer.names.dead)
    assert dead == {"x-queue-type": "quorum", "x-delivery-limit": DEAD_LETTER_DELIVERY_LIMIT}
    assert DEAD_LETTER_DELIVERY_LIMIT > 1_000_000, "no number of looks at a dead letter reaches it"


async def test_a_dead_letter_looked_at_more_often_than_rabbitmq_4s_default_limit_is_still_there(
    wiring: Wiring, started: list[EventConsumer],
) -> None:
    """Issue 18: after the move to RabbitMQ 4 the dead-letter queue still never drops a message."""
    consumer = _consumer(wiring)
    await consumer.start()
    started.append(consumer)
    channel = await wiring.connection.channel()
    try:
        await channel.default_exchange.publish(aio_pika.Message(b"{}", message_id="dead-1"), routing_key=consumer.names.dead)
    finally:
        await channel.close()
    await eventually(lambda: _depth(wiring, consumer.names.dead), message="the dead letter")

    counts = await _hand_back(wiring, consumer.names.dead, RABBITMQ_4_DEFAULT_LIMIT + 5)

    assert await _depth(wiring, consumer.names.dead) == 1
    assert counts[-1] >= RABBITMQ_4_DEFAULT_LIMIT, "each look counted as a delivery, and none removed it"


async def test_a_message_handed_back_past_the_queues_limit_is_dead_lettered_not_dropped(
    wiring: Wiring, started: list[EventConsumer],
) -> None:
    """Issue 18: the consumer queue's own limit keeps "retries, then the dead-letter queue" on RabbitMQ 4."""
    consumer = _consumer(wiring, delivery_limit=2)
    await consumer.start()
    await consumer.stop(grace_s=2)  # its queues stay; nothing consumes while the test hands the message back
    channel = await wiring.connection.channel()
    try:
        await channel.default_exchange.publish(aio_pika.Message(b"{}", message_id="poison-1"), routing_key=consumer.names.main)
        main = await channel.declare_queue(consumer.names.main, passive=True)
        handed_back = 0
        while True:
            message = await main.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                # Past the limit the broker moves the message on; poll until it has.
                if await _depth(wiring, consumer.names.dead) == 1:
                    break
                await asyncio.sleep(0.05)
                continue
            handed_back += 1
            await message.reject(requeue=True)
            assert handed_back <= 10, "the delivery limit never took effect"
    finally:
        await channel.close()

    assert handed_back == 3, "delivered once and redelivered up to the limit of 2"
    assert await _depth(wiring, consumer.names.main) == 0
    dead = await wiring.connection.channel()
    try:
        letter = await (await dead.declare_queue(consumer.names.dead, passive=True)).get(no_ack=False, timeout=5)
        assert letter.message_id == "poison-1"
        deaths: Any = letter.headers["x-death"]
        assert deaths[0]["reason"] == "delivery_limit"
        await letter.nack(requeue=True)
    finally:
        await dead.close()


async def test_a_dead_letter_queue_an_earlier_release_declared_is_kept_as_it_is(
    wiring: Wiring, started: list[EventConsumer],
) -> None:
    """Issue 18: a new release starts against a broker whose queues an earlier release declared
    (declaring the queue again with other arguments would fail with PRECONDITION_FAILED)."""
    consumer = _consumer(wiring)
    channel = await wiring.connection.channel()
    try:
        # As releases before this one declared it, with a letter waiting in it.
        await channel.declare_queue(consumer.names.dead, durable=True, arguments={"x-queue-type": "quorum"})
        await channel.default_exchange.publish(aio_pika.Message(b"{}", message_id="old-1"), routing_key=consumer.names.dead)
    finally:
        await channel.close()

    await consumer.start()
    started.append(consumer)

    assert _queue_arguments(wiring, consumer.names.dead) == {"x-queue-type": "quorum"}
    assert await eventually(lambda: _depth(wiring, consumer.names.dead), message="the waiting letter") == 1
