"""The consumer against real MongoDB and RabbitMQ: an event is handled once however often it is
delivered; a failing handler is retried with back-off and then dead-lettered; garbage goes to the
dead-letter queue at once and the consumer carries on; stopping finishes what is in hand. Batches
read their markers in one find and write them in one insert; a run of acks goes as one ack that
never reaches past a message still in hand; a batch committed but never acked is skipped when
redelivered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime

import aio_pika
import pytest
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient, monitoring
from shared.consumer import BatchHandler, EventConsumer, ReceivedEvent, Subscription, handled_event_ids
from shared.mongo import PROCESSED_EVENTS, Transaction, UnitOfWork

from devstack.testing import CommandLog, eventually
from devstack.wiring import THING_HAPPENED, ThingHappened, Wiring

#: Made before any client (PyMongo tells a listener only of clients made after it).
LOG = CommandLog.get()

Handler = Callable[[ReceivedEvent, Transaction], Awaitable[None]]


def _envelope(thing_id: int, event_id: str | None = None) -> bytes:
    return THING_HAPPENED.envelope(
        ThingHappened(thing_id=thing_id), source="/qa/test", subject=f"thing/{thing_id}",
        time=datetime.now(UTC), event_id=event_id,
    ).to_json()


class Harness:
    def __init__(self, wiring: Wiring) -> None:
        self.w = wiring
        self.consumers: list[EventConsumer] = []
        self.queue = wiring.settings.queue_name("things")

    async def start(self, handler: Handler, *, max_attempts: int = 3, prefetch: int = 10, batch: bool = False,
                    batch_handler: BatchHandler | None = None, uow: UnitOfWork | None = None,
                    kind: type[EventConsumer] = EventConsumer) -> EventConsumer:
        consumer = kind(
            connection=self.w.connection, uow=uow or self.w.uow, service="test", purpose="things", queue=self.queue,
            exchange=self.w.settings.exchange_name, subscriptions=[Subscription(THING_HAPPENED, handler, batch_handler)],
            prefetch=prefetch, max_attempts=max_attempts, retry_delays_ms=[150, 300], batch=batch,
        )
        await consumer.start()
        self.consumers.append(consumer)
        return consumer

    async def publish(self, body: bytes, routing_key: str = THING_HAPPENED.routing_key, message_id: str = "m") -> None:
        await self.w.publisher.publish(body, routing_key=routing_key, message_id=message_id, event_type=routing_key)

    async def depth(self, name: str) -> int:
        channel = await self.w.connection.channel()
        try:
            declared = await channel.declare_queue(name, passive=True)
            return int(declared.declaration_result.message_count or 0)
        finally:
            await channel.close()

    async def dead_letters(self) -> list[aio_pika.abc.AbstractIncomingMessage]:
        channel = await self.w.connection.channel()
        queue = await channel.declare_queue(f"{self.queue}.dead", passive=True)
        found = []
        while (message := await queue.get(fail=False, timeout=5)) is not None:
            await message.ack()
            found.append(message)
        await channel.close()
        return found

    async def settled(self) -> bool:
        return await self.depth(self.queue) == 0 and all(c.in_flight == 0 for c in self.consumers)


@pytest.fixture
async def harness(wiring: Wiring) -> AsyncIterator[Harness]:
    h = Harness(wiring)
    yield h
    for consumer in h.consumers:
        await consumer.stop(grace_s=2)


def recording(w: Wiring) -> Handler:
    """A handler whose every run leaves a row: duplicates would show as extra rows."""

    async def handle(event: ReceivedEvent, tx: Transaction) -> None:
        await w.db.handled.insert_one({"event_id": event.id, "thing_id": event.data.thing_id}, session=tx.session)

    return handle


async def test_an_event_delivered_twice_is_handled_once(harness: Harness) -> None:
    await harness.start(recording(harness.w))
    body = _envelope(1, event_id="evt-1")

    await harness.publish(body)
    await harness.publish(body)  # the broker redelivering, as at-least-once allows

    await eventually(lambda: harness.w.db.handled.count_documents({}), message="first delivery handled")
    await eventually(harness.settled, message="queue drained")
    assert await harness.w.db.handled.count_documents({}) == 1
    assert await harness.w.db[PROCESSED_EVENTS].count_documents({"event_id": "evt-1"}) == 1


async def test_a_failing_handler_is_retried_with_back_off_and_its_work_is_stored_once(harness: Harness) -> None:
    attempts: list[float] = []
    record = recording(harness.w)

    async def flaky(event: ReceivedEvent, tx: Transaction) -> None:
        attempts.append(asyncio.get_running_loop().time())
        await record(event, tx)  # written, then rolled back when we fail below
        if len(attempts) < 3:
            raise RuntimeError("the mail server is down")

    await harness.start(flaky, max_attempts=5)
    await harness.publish(_envelope(2))

    await eventually(lambda: harness.w.db.handled.count_documents({}), message="handled after retries")
    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= 0.14 and attempts[2] - attempts[1] >= 0.29, "back-off between attempts"
    await eventually(harness.settled)
    assert await harness.w.db.handled.count_documents({}) == 1
    assert await harness.dead_letters() == []


async def test_a_handler_that_keeps_failing_is_dead_lettered_with_the_reason(harness: Harness) -> None:
    calls = 0

    async def broken(event: ReceivedEvent, tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug in the handler")

    await harness.start(broken, max_attempts=3)
    await harness.publish(_envelope(3, event_id="evt-3"))

    await eventually(lambda: harness.depth(f"{harness.queue}.dead"), message="dead-lettered")
    [dead] = await harness.dead_letters()
    assert calls == 3
    headers = dead.headers or {}
    assert headers["x-qa-attempt"] == 3
    assert "a bug in the handler" in str(headers["x-qa-dead-letter-reason"])
    assert headers["x-qa-queue"] == harness.queue
    assert headers["x-qa-routing-key"] == THING_HAPPENED.routing_key
    assert dead.body == _envelope_body_of(dead)  # the body is kept unchanged for replay
    assert await harness.w.db[PROCESSED_EVENTS].count_documents({"event_id": "evt-3"}) == 0


async def _holding(consumer: EventConsumer, count: int) -> bool:
    """The consumer holds ``count`` messages: delivered to it, not merely published."""
    return consumer.in_flight == count


def _envelope_body_of(message: aio_pika.abc.AbstractIncomingMessage) -> bytes:
    from shared.events import parse_envelope

    parse_envelope(message.body)  # still a valid envelope
    return message.body


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        b'{"specversion": "1.0", "id": "x"}',
        THING_HAPPENED.envelope(ThingHappened(thing_id=1), source="/s", subject=None, time=datetime.now(UTC)).to_json().replace(b'"thing_id":1', b'"thing_id":"one"'),
        THING_HAPPENED.envelope(ThingHappened(thing_id=1), source="/s", subject=None, time=datetime.now(UTC)).to_json().replace(b"test.thing.happened.v1", b"test.thing.unknown.v1"),
    ],
    ids=["not-json", "not-an-envelope", "invalid-data", "unknown-type"],
)
async def test_an_unreadable_message_is_dead_lettered_at_once_and_later_messages_are_handled(harness: Harness, body: bytes) -> None:
    calls = 0
    record = recording(harness.w)

    async def handle(event: ReceivedEvent, tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        await record(event, tx)

    await harness.start(handle)
    await harness.publish(body)
    await harness.publish(_envelope(5))

    await eventually(lambda: harness.w.db.handled.count_documents({"thing_id": 5}), message="good message handled")
    await eventually(lambda: harness.depth(f"{harness.queue}.dead"), message="bad message dead-lettered")
    [dead] = await harness.dead_letters()
    assert dead.body == body
    assert dead.headers["x-qa-attempt"] == 1, "no retries for a message that can never be handled"
    assert calls == 1


async def test_an_event_whose_source_is_not_its_types_publisher_is_dead_lettered_and_takes_no_effect(harness: Harness) -> None:
    """A well-formed event of a subscribed type, claiming to come from someone else: forged."""
    await harness.start(recording(harness.w))
    forged = THING_HAPPENED.envelope(
        ThingHappened(thing_id=66), source="/qa/attacker", subject="thing/66", time=datetime.now(UTC), event_id="forged-1"
    ).to_json()
    await harness.publish(forged, message_id="forged-1")
    await harness.publish(_envelope(7))

    await eventually(lambda: harness.w.db.handled.count_documents({"thing_id": 7}), message="genuine event handled")
    await eventually(lambda: harness.depth(f"{harness.queue}.dead"), message="forged event dead-lettered")
    [dead] = await harness.dead_letters()
    assert dead.body == forged
    reason = dead.headers["x-qa-dead-letter-reason"]
    assert isinstance(reason, str) and "forged source" in reason and "/qa/attacker" in reason and "/qa/test" in reason
    assert await harness.w.db.handled.count_documents({"thing_id": 66}) == 0
    assert await harness.w.db[PROCESSED_EVENTS].count_documents({"event_id": "forged-1"}) == 0


async def test_stopping_finishes_the_messages_in_hand(harness: Harness) -> None:
    started = asyncio.Event()
    record = recording(harness.w)

    async def slow(event: ReceivedEvent, tx: Transaction) -> None:
        started.set()
        await asyncio.sleep(0.5)
        await record(event, tx)

    consumer = await harness.start(slow)
    for n in range(3):
        await harness.publish(_envelope(10 + n))
    await asyncio.wait_for(started.wait(), 10)

    async def all_in_hand() -> bool:  # delivered to the consumer, not merely published
        return consumer.in_flight == 3

    await eventually(all_in_hand, timeout=10, interval=0.01, message="the three messages in hand")
    await consumer.stop(grace_s=10)

    assert await harness.w.db.handled.count_documents({}) == 3
    assert await harness.depth(harness.queue) == 0


async def test_messages_unfinished_when_the_grace_period_ends_return_to_the_queue_and_are_handled_once(harness: Harness) -> None:
    first_run = asyncio.Event()
    record = recording(harness.w)

    async def slow(event: ReceivedEvent, tx: Transaction) -> None:
        first_run.set()
        await asyncio.sleep(1.0)
        await record(event, tx)

    consumer = await harness.start(slow)
    for n in range(3):
        await harness.publish(_envelope(20 + n, event_id=f"evt-{20 + n}"))
    await asyncio.wait_for(first_run.wait(), 10)
    await consumer.stop(grace_s=0.1)  # too short: the three go back to the queue

    replacement = await harness.start(recording(harness.w))
    await eventually(lambda: harness.w.db.handled.distinct("thing_id"), message="handled by the replacement")
    # The queue drained and no consumer holds a message: the first consumer's orphaned handlers
    # too have finished (committed or not) or been cancelled, so whatever they did is visible.
    await eventually(harness.settled)
    assert consumer.in_flight == 0
    rows = await harness.w.db.handled.find({}, {"_id": 0, "thing_id": 1}).to_list()
    assert sorted(r["thing_id"] for r in rows) == [20, 21, 22], "each handled exactly once"
    await replacement.stop(grace_s=2)


# --- batches (projections) -----------------------------------------------------------------------


async def test_a_batch_consumer_handles_the_events_in_hand_together_each_once(harness: Harness) -> None:
    transactions: set[int] = set()
    release = asyncio.Event()
    record = recording(harness.w)

    async def projecting(event: ReceivedEvent, tx: Transaction) -> None:
        await release.wait()  # the first event holds the consumer while the others arrive
        transactions.add(id(tx))
        await record(event, tx)

    consumer = await harness.start(projecting, prefetch=20, batch=True)
    for n in range(60):
        await harness.publish(_envelope(100 + n, event_id=f"evt-{100 + n}"))
    for n in range(0, 60, 10):  # redeliveries, some landing in the same batch as the original
        await harness.publish(_envelope(100 + n, event_id=f"evt-{100 + n}"))
    await eventually(lambda: _holding(consumer, 20), message="as many in hand as the prefetch allows")
    release.set()

    await eventually(lambda: harness.w.db.handled.count_documents({}), message="handling started")
    await eventually(harness.settled, timeout=30, message="queue drained")
    rows = await harness.w.db.handled.find({}, {"_id": 0, "thing_id": 1}).to_list()
    assert sorted(r["thing_id"] for r in rows) == list(range(100, 160)), "each event handled exactly once"
    assert sorted(await handled_event_ids(harness.w.db)) == sorted(f"evt-{n}" for n in range(100, 160)), "each event's marker once"
    assert len(transactions) <= 60 // 4, f"{len(transactions)} transactions for 60 events: not batched"
    assert await harness.dead_letters() == []


async def test_a_batch_handler_takes_each_run_in_one_call_and_a_failing_run_falls_back_to_one_at_a_time(harness: Harness) -> None:
    runs: list[int] = []
    one_at_a_time: list[int] = []
    release = asyncio.Event()
    record = recording(harness.w)

    async def single(event: ReceivedEvent, tx: Transaction) -> None:
        one_at_a_time.append(event.data.thing_id)
        await record(event, tx)

    async def many(events: Sequence[ReceivedEvent], tx: Transaction) -> None:
        await release.wait()
        if any(e.data.thing_id == 213 for e in events):
            raise RuntimeError("the run holds an event the batch path cannot take")
        runs.append(len(events))
        await harness.w.db.handled.insert_many([{"event_id": e.id, "thing_id": e.data.thing_id} for e in events], session=tx.session)

    consumer = await harness.start(single, prefetch=20, batch=True, batch_handler=many)
    for n in range(40):
        await harness.publish(_envelope(200 + n, event_id=f"evt-{200 + n}"))
    await eventually(lambda: _holding(consumer, 20), message="as many in hand as the prefetch allows")
    release.set()
    await eventually(harness.settled, timeout=30, message="queue drained")

    rows = await harness.w.db.handled.find({}, {"_id": 0, "thing_id": 1}).to_list()
    assert sorted(r["thing_id"] for r in rows) == list(range(200, 240)), "each event handled exactly once"
    assert 213 in one_at_a_time, "the failing run was handled again one event at a time"
    assert runs and max(runs) > 1, f"runs {runs}: the batch handler took no run of several events"
    assert sum(runs) + len(one_at_a_time) == 40
    assert sorted(await handled_event_ids(harness.w.db)) == sorted(f"evt-{n}" for n in range(200, 240)), "each event's marker once"
    assert await harness.dead_letters() == []


async def test_in_a_batch_a_failing_event_is_retried_or_dead_lettered_alone_and_the_others_are_handled(harness: Harness) -> None:
    attempts: dict[int, int] = {}
    release = asyncio.Event()
    record = recording(harness.w)

    async def projecting(event: ReceivedEvent, tx: Transaction) -> None:
        await release.wait()
        thing = event.data.thing_id
        attempts[thing] = attempts.get(thing, 0) + 1
        await record(event, tx)  # rolled back with the batch when a neighbour fails
        if thing == 205 and attempts[thing] < 3:
            raise RuntimeError("a transient failure")
        if thing == 211:
            raise RuntimeError("a bug this event always meets")

    consumer = await harness.start(projecting, prefetch=20, max_attempts=3, batch=True)
    for n in range(20):
        await harness.publish(_envelope(200 + n, event_id=f"evt-{200 + n}"))
    await eventually(lambda: _holding(consumer, 20), message="all twenty in hand")
    release.set()

    await eventually(lambda: harness.depth(f"{harness.queue}.dead"), timeout=30, message="the broken event dead-lettered")
    await eventually(harness.settled, timeout=30, message="queue drained")
    rows = await harness.w.db.handled.find({}, {"_id": 0, "thing_id": 1}).to_list()
    assert sorted(r["thing_id"] for r in rows) == [n for n in range(200, 220) if n != 211], "the others each handled once"
    [dead] = await harness.dead_letters()
    assert (dead.headers or {})["x-qa-attempt"] == 3
    assert b'"thing_id":211' in dead.body.replace(b" ", b"")
    assert attempts[205] >= 3, "retried until it succeeded"


class _MarkerCommands(monitoring.CommandListener):
    """The commands sent to the processed-marker collection: for each, the transaction it ran in,
    the event ids the marker it inserts lists, and whether it wrote (a duplicate id is refused)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str, object, list[str]]] = {}  # request id -> (command, (lsid, txnNumber), event ids)
        self.refused: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        if event.command_name in ("find", "insert") and command.get(event.command_name) == PROCESSED_EVENTS:
            transaction = (str(command.get("lsid")), command.get("txnNumber"))
            ids = [i for doc in command.get("documents", []) for i in (doc["event_id"] if isinstance(doc["event_id"], list) else [doc["event_id"]])]
            self.seen[event.request_id] = (event.command_name, transaction, ids)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id in self.seen and event.reply.get("writeErrors"):
            self.refused.add(event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.request_id in self.seen:
            self.refused.add(event.request_id)


async def test_a_batch_writes_one_marker_listing_its_events_and_a_redelivery_costs_one_read(harness: Harness) -> None:
    """Each event published twice in a row (a duplicate inside a batch, or in the next one) and one
    already handled before: each transaction inserts one marker listing its new events and reads no
    markers, unless an id was already held; then that attempt is dropped and the batch runs again
    after one read, each event handled once."""
    listener = _MarkerCommands()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        harness.w.settings.mongodb_url, event_listeners=[listener], tz_aware=True, uuidRepresentation="standard"
    )
    uow = UnitOfWork(client, client[harness.w.db.name], source="/qa/test", clock=harness.w.clock)
    await harness.w.db[PROCESSED_EVENTS].insert_one({"consumer": "things", "event_id": "evt-305", "type": THING_HAPPENED.type})
    release = asyncio.Event()

    async def projecting(event: ReceivedEvent, tx: Transaction) -> None:
        await release.wait()
        await uow.db.handled.insert_one({"event_id": event.id, "thing_id": event.data.thing_id}, session=tx.session)

    try:
        consumer = await harness.start(projecting, prefetch=20, batch=True, uow=uow)
        for n in range(300, 310):
            for _ in range(2):
                await harness.publish(_envelope(n, event_id=f"evt-{n}"))
        await eventually(lambda: _holding(consumer, 20), message="as many in hand as the prefetch allows")
        release.set()
        await eventually(harness.settled, timeout=30, message="queue drained")
    finally:
        await client.close()

    rows = await harness.w.db.handled.find({}, {"_id": 0, "thing_id": 1}).to_list()
    assert sorted(r["thing_id"] for r in rows) == [n for n in range(300, 310) if n != 305], "each event once; the one handled before not again"
    assert sorted(await handled_event_ids(harness.w.db, consumer="things")) == [f"evt-{n}" for n in range(300, 310)]
    per_transaction: dict[object, list[tuple[str, list[str], bool]]] = {}
    for request, (command, transaction, ids) in listener.seen.items():
        per_transaction.setdefault(transaction, []).append((command, ids, request in listener.refused))
    for commands in per_transaction.values():
        names = [c for c, _, _ in commands]
        assert names.count("find") <= 1 and names.count("insert") <= 1, commands
    written = [ids for commands in per_transaction.values() for c, ids, refused in commands if c == "insert" and not refused]
    assert max(len(ids) for ids in written) > 1, "one marker lists a batch's events"
    assert sorted(i for ids in written for i in ids) == [f"evt-{n}" for n in range(300, 310) if n != 305], "each new event listed once"
    refused = [ids for commands in per_transaction.values() for c, ids, refused in commands if c == "insert" and refused]
    assert any("evt-305" in ids for ids in refused), "the event handled before was found by its marker's insert"
    finds = sum(names.count("find") for names in ([c for c, _, _ in commands] for commands in per_transaction.values()))
    assert finds == len(refused), f"{finds} reads for {len(refused)} refused markers: a batch reads markers only after a redelivery"
    assert await harness.dead_letters() == []


async def test_acks_of_a_run_go_as_one_multiple_ack_and_never_reach_past_a_message_still_held(harness: Harness) -> None:
    """Five deliveries held; the 1st, 2nd, 4th and 5th acked while the 3rd is still in hand: the
    first two go as one ack, the others one by one, and the 3rd is still the broker's to give back."""
    consumer = EventConsumer(
        connection=harness.w.connection, uow=harness.w.uow, service="test", purpose="things", queue=harness.queue,
        exchange=harness.w.settings.exchange_name, subscriptions=[Subscription(THING_HAPPENED, recording(harness.w))],
    )
    setup = await harness.w.connection.channel()
    await consumer.declare(setup)
    for n in range(5):
        await harness.publish(_envelope(500 + n, event_id=f"evt-{500 + n}"))
    channel = await harness.w.connection.channel()
    await channel.set_qos(prefetch_count=10)
    queue = await channel.get_queue(harness.queue)
    delivered: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def take(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        consumer._hold(message)
        delivered.append(message)

    await queue.consume(take)

    async def all_delivered() -> bool:
        return len(delivered) == 5

    await eventually(all_delivered, message="five delivered")
    first, second, third, fourth, fifth = sorted(delivered, key=lambda m: m.delivery_tag or 0)

    await consumer._ack([fifth, first, second, fourth])

    assert second.processed and not first.processed, "the first two acked together, by one ack on the second"
    assert fourth.processed and fifth.processed, "past the held third, one by one"
    assert list(consumer._held) == [third]
    await channel.close()  # what a crash does: everything unacked goes back

    async def returned() -> list[aio_pika.abc.AbstractIncomingMessage]:
        back = await setup.get_queue(harness.queue)
        return [m for m in [await back.get(fail=False, timeout=5)] if m is not None]

    [again] = await eventually(returned, message="the held message back in the queue")
    assert again.body == third.body
    await again.ack()
    assert await harness.depth(harness.queue) == 0, "nothing else came back: the others were acked"
    await setup.close()


class _CrashingAfterCommit(EventConsumer):
    """Dies (its channel closes) after its first batch commits, before acknowledging it."""

    crashed = False

    async def _ack(self, messages: Sequence[aio_pika.abc.AbstractIncomingMessage]) -> None:
        if not self.crashed:
            self.crashed = True
            assert self._channel is not None
            await self._channel.close()
            raise ConnectionError("the process died between commit and ack")
        await super()._ack(messages)


def _duplicates() -> float:
    return REGISTRY.get_sample_value("qa_messages_total", {"service": "test", "queue": "things", "outcome": "duplicate"}) or 0.0


async def test_a_batch_committed_but_never_acked_is_redelivered_and_skipped_by_its_markers(harness: Harness) -> None:
    release = asyncio.Event()
    record = recording(harness.w)

    async def projecting(event: ReceivedEvent, tx: Transaction) -> None:
        await release.wait()
        await record(event, tx)

    crashing = await harness.start(projecting, prefetch=20, batch=True, kind=_CrashingAfterCommit)
    for n in range(20):
        await harness.publish(_envelope(600 + n, event_id=f"evt-{600 + n}"))
    await eventually(lambda: _holding(crashing, 20), message="all twenty in hand")
    duplicates_before = _duplicates()
    release.set()
    await eventually(lambda: harness.w.db.handled.count_documents({}), message="the first batch committed")
    await eventually(lambda: _holding(crashing, 0), timeout=30, message="the crashed consumer let go")
    await crashing.stop(grace_s=1)
    assert crashing.crashed

    await harness.start(recording(harness.w), prefetch=20, batch=True)
    await eventually(harness.settled, timeout=30, message="the redelivered events settled")
    rows = await harness.w.db.handled.find({}, {"_id": 0, "thing_id": 1}).to_list()
    assert sorted(r["thing_id"] for r in rows) == list(range(600, 620)), "each event applied exactly once"
    assert sorted(await handled_event_ids(harness.w.db)) == sorted(f"evt-{n}" for n in range(600, 620)), "each event's marker once"
    assert _duplicates() > duplicates_before, "the redelivered, already committed events were skipped as duplicates"
    assert await harness.dead_letters() == []


# --- the marker left for the end: one command with the handler's writes ----------------------------


async def test_an_events_marker_goes_in_one_command_with_the_writes_its_handler_left_for_the_end(harness: Harness) -> None:
    async def leaving(event: ReceivedEvent, tx: Transaction) -> None:
        tx.insert_at_end(harness.w.db.handled, {"event_id": event.id, "thing_id": event.data.thing_id})

    await harness.start(leaving, prefetch=1)
    with LOG.recording() as commands:
        await harness.publish(_envelope(31, event_id="evt-31"))
        await eventually(lambda: harness.w.db.handled.count_documents({}), message="handled")
        await eventually(harness.settled, message="queue drained")
    assert LOG.writes(commands) == [("bulkWrite", (PROCESSED_EVENTS, "handled"))], "the marker and the handler's write: one command"
    assert await handled_event_ids(harness.w.db) == ["evt-31"]


async def test_a_redelivery_whose_handler_refuses_what_the_first_delivery_left_is_acknowledged_not_retried(harness: Harness) -> None:
    calls: list[str] = []

    async def inserting(event: ReceivedEvent, tx: Transaction) -> None:
        calls.append(event.id)
        # Its own key: a second run, meeting the thing the first stored, fails before the marker is written.
        await harness.w.db.things.insert_one({"_id": event.data.thing_id}, session=tx.session)

    await harness.start(inserting, prefetch=1, max_attempts=3)
    duplicates = _duplicates()
    body = _envelope(32, event_id="evt-32")
    await harness.publish(body)
    await harness.publish(body)  # the broker redelivering

    async def counted_as_a_duplicate() -> bool:
        return _duplicates() == duplicates + 1

    await eventually(counted_as_a_duplicate, message="the redelivery acknowledged as a duplicate")
    await eventually(harness.settled, message="queue drained")
    assert calls == ["evt-32", "evt-32"], "the redelivery was not retried: its event had been handled"
    assert await harness.dead_letters() == []
    assert await harness.w.db.things.count_documents({}) == 1
    assert await handled_event_ids(harness.w.db) == ["evt-32"]


async def test_in_a_batch_each_handler_reads_what_the_ones_before_it_left_for_the_end(harness: Harness) -> None:
    release = asyncio.Event()
    transactions: set[int] = set()

    async def counting(event: ReceivedEvent, tx: Transaction) -> None:
        await release.wait()
        transactions.add(id(tx))
        before = await harness.w.db.handled.count_documents({}, session=tx.session)
        tx.insert_at_end(harness.w.db.handled, {"event_id": event.id, "seen_before": before})

    consumer = await harness.start(counting, prefetch=20, batch=True)
    for n in range(20):
        await harness.publish(_envelope(400 + n, event_id=f"evt-{400 + n}"))
    await eventually(lambda: _holding(consumer, 20), message="as many in hand as the prefetch allows")
    release.set()
    await eventually(harness.settled, timeout=30, message="queue drained")

    seen = sorted(doc["seen_before"] for doc in await harness.w.db.handled.find().to_list())
    assert seen == list(range(20)), "each handler saw every write before it, left for the end or not"
    assert len(transactions) < 20, "handled in batches"


async def test_an_event_delivered_twice_whose_handler_leaves_its_writes_for_the_end_is_handled_once(harness: Harness) -> None:
    async def leaving(event: ReceivedEvent, tx: Transaction) -> None:
        tx.insert_at_end(harness.w.db.handled, {"event_id": event.id, "thing_id": event.data.thing_id})

    await harness.start(leaving, prefetch=1)
    duplicates = _duplicates()
    body = _envelope(33, event_id="evt-33")
    await harness.publish(body)
    await harness.publish(body)

    async def counted_as_a_duplicate() -> bool:
        return _duplicates() == duplicates + 1

    await eventually(counted_as_a_duplicate, message="the redelivery acknowledged as a duplicate")
    await eventually(harness.settled, message="queue drained")
    assert await harness.w.db.handled.count_documents({}) == 1
    assert await harness.dead_letters() == []
