"""The transactional outbox against real MongoDB and RabbitMQ: a committed change publishes its
events (confirmed, persistent) exactly once; an aborted one publishes nothing; replicas share the
work without duplicates; an unconfirmed publish is retried."""

from __future__ import annotations

import asyncio
import json
import uuid

import aio_pika
import pytest
from shared.events import parse_envelope
from shared.mongo import OUTBOX, Transaction, UnitOfWork
from shared.observability import correlation_id
from shared.outbox import HANDOFF_CLAIM_S, HANDOFF_MARGIN_S, OutboxRelay

from devstack.testing import CommandLog, eventually
from devstack.wiring import THING_HAPPENED, ThingHappened, Wiring

#: Made before any client (PyMongo tells a listener only of clients made after it).
LOG = CommandLog.get()


async def _write_things(w: Wiring, ids: range) -> None:
    for thing_id in ids:

        async def work(tx: Transaction, thing_id: int = thing_id) -> None:
            await w.db.things.insert_one({"_id": thing_id}, session=tx.session)
            tx.record(THING_HAPPENED, ThingHappened(thing_id=thing_id), subject=f"thing/{thing_id}")

        await w.uow.run(work)


async def _drain(channel: aio_pika.abc.AbstractChannel, queue: aio_pika.abc.AbstractQueue) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Every message in ``queue`` published before now. A sentinel goes in behind them (a queue
    keeps its order) and the queue is read up to it: what was published is all there, and what is
    not there was not published."""
    sentinel = uuid.uuid4().hex
    await channel.default_exchange.publish(aio_pika.Message(b"", message_id=sentinel), routing_key=queue.name)
    messages: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def read_up_to_the_sentinel() -> bool:
        while (message := await queue.get(fail=False, timeout=5)) is not None:
            await message.ack()
            if message.message_id == sentinel:
                return True
            messages.append(message)
        return False

    await eventually(read_up_to_the_sentinel, message="the sentinel behind what was published")
    return messages


async def test_a_committed_change_publishes_its_event_once_confirmed_and_persistent(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    token = correlation_id.set("corr-123")
    try:
        await _write_things(wiring, range(1, 2))
    finally:
        correlation_id.reset(token)
    relay = wiring.relay()

    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0

    [message] = await _drain(channel, queue)
    envelope = parse_envelope(message.body)
    assert envelope.type == "test.thing.happened.v1"
    assert envelope.source == "/qa/test"
    assert envelope.subject == "thing/1"
    assert envelope.correlationid == "corr-123"
    assert envelope.data == {"thing_id": 1, "note": ""}
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == envelope.id
    assert message.correlation_id == "corr-123"
    assert message.content_type == "application/cloudevents+json"
    stored = await wiring.db[OUTBOX].find_one({"_id": envelope.id})
    assert stored is not None and stored["status"] == "sent" and "claim" not in stored
    await channel.close()


async def test_an_aborted_change_writes_no_event_and_publishes_nothing(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()

    async def work(tx: Transaction) -> None:
        await wiring.db.things.insert_one({"_id": 7}, session=tx.session)
        tx.record(THING_HAPPENED, ThingHappened(thing_id=7), subject="thing/7")
        raise ValueError("the use case refused")

    with pytest.raises(ValueError):
        await wiring.uow.run(work)

    assert await wiring.db.things.count_documents({}) == 0
    assert await wiring.db[OUTBOX].count_documents({}) == 0
    assert await wiring.relay().publish_pending() == 0
    assert await _drain(channel, queue) == []
    await channel.close()


async def test_two_relays_share_the_backlog_and_publish_each_event_once(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    await _write_things(wiring, range(1, 121))
    first, second = wiring.relay(batch_size=25), wiring.relay(batch_size=25)

    async def run(relay: OutboxRelay) -> int:
        total = 0
        while await wiring.db[OUTBOX].count_documents({"status": "pending"}):
            total += await relay.publish_pending()
            await asyncio.sleep(0)
        return total

    published = await asyncio.gather(run(first), run(second))

    assert sum(published) == 120
    messages = await _drain(channel, queue)
    ids = [json.loads(m.body)["data"]["thing_id"] for m in messages]
    assert sorted(ids) == list(range(1, 121))
    assert await wiring.db[OUTBOX].count_documents({"status": "pending"}) == 0
    await channel.close()


async def test_an_unconfirmed_publish_stays_pending_and_is_retried_after_a_back_off(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    await _write_things(wiring, range(1, 3))
    relay = wiring.relay()
    # The broker side of the publisher goes away: publishing fails for real.
    await wiring.publisher.close()

    assert await relay.publish_pending() == 0
    docs = await wiring.db[OUTBOX].find().to_list()
    assert [d["status"] for d in docs] == ["pending", "pending"]
    assert all(d["attempts"] == 1 and "last_error" in d for d in docs)
    # Not retried before its back-off has passed...
    assert await relay.publish_pending() == 0
    # ...and published once the broker is back and the back-off is over.
    await wiring.publisher.open()
    wiring.clock.advance(seconds=5)
    assert await relay.publish_pending() == 2
    assert len(await _drain(channel, queue)) == 2
    await channel.close()


async def test_events_of_one_change_are_published_in_the_order_recorded(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()

    async def work(tx: Transaction) -> None:
        for n in range(5):
            tx.record(THING_HAPPENED, ThingHappened(thing_id=n), subject="thing/batch")

    await wiring.uow.run(work)
    assert await wiring.relay().publish_pending() == 5
    assert [json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)] == [0, 1, 2, 3, 4]
    await channel.close()


# --- hand-off: a process's own relay publishes what it commits, without polling -----------------


class PollCounting(OutboxRelay):
    """The real relay, counting its polls."""

    polls = 0

    async def publish_pending(self) -> int:
        self.polls += 1
        return await super().publish_pending()


async def test_a_running_relay_publishes_what_its_process_commits_without_polling_for_it(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    relay = PollCounting(wiring.db, wiring.publisher, wiring.clock, service="test", poll_interval_s=3600)
    relay.start()
    handed_uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)
    try:
        async def first_pass_done() -> bool:
            return relay.polls == 1

        await eventually(first_pass_done, message="the relay's first pass (a poll, with nothing to find)")
        for thing_id in range(1, 4):

            async def work(tx: Transaction, thing_id: int = thing_id) -> None:
                tx.record(THING_HAPPENED, ThingHappened(thing_id=thing_id), subject=f"thing/{thing_id}")

            await handed_uow.run(work)

        async def all_sent() -> bool:
            return await wiring.db[OUTBOX].count_documents({"status": "sent"}) == 3

        await eventually(all_sent, message="the handed events published and marked sent")
        docs = await wiring.db[OUTBOX].find().to_list()
        assert all("claim" not in d and d["published_at"] == wiring.clock.now() for d in docs)
        assert sorted(json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)) == [1, 2, 3]
        assert relay.handed == 0
        assert relay.polls == 1, "published from the hand-off, not found by a poll"
    finally:
        await relay.stop()
        await channel.close()


async def test_events_handed_to_a_relay_that_died_wait_for_their_claim_to_lapse_then_another_publishes_them(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    dead = wiring.relay(claim_s=30, poll_interval_s=3600)
    dead.start()
    uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=dead)
    # The process dies after the commit, before its relay publishes: stand-in, the relay's hand-off
    # is dropped (its claim is in the database, nothing in memory survives a kill).
    dead.hand_off = lambda claim, docs: None

    async def work(tx: Transaction) -> None:
        tx.record(THING_HAPPENED, ThingHappened(thing_id=7), subject="thing/7")

    await uow.run(work)
    await dead.stop()
    written = await wiring.db[OUTBOX].find_one()
    assert written["status"] == "pending" and written["claim"]

    survivor = wiring.relay(claim_s=30)
    assert await survivor.publish_pending() == 0, "another replica must not take a claimed event before its claim lapses"
    wiring.clock.advance(seconds=HANDOFF_CLAIM_S - 1)
    assert await survivor.publish_pending() == 0
    wiring.clock.advance(seconds=2)  # a handed event is held only for the moment from commit to publish
    assert await survivor.publish_pending() == 1
    assert [json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)] == [7]
    assert (await wiring.db[OUTBOX].find_one())["status"] == "sent"
    await channel.close()


async def test_a_relay_not_running_or_full_takes_no_hand_off_and_the_poll_publishes_instead(wiring: Wiring) -> None:
    relay = wiring.relay(handoff_limit=2)
    doc = {"_id": "x"}
    assert relay.reserve([doc]) is None and "claim" not in doc, "a relay that is not running reserves nothing"
    relay.start()
    try:
        assert relay.reserve([{"_id": "a"}, {"_id": "b"}, {"_id": "c"}]) is None, "more than the hand-off limit: left for the poll"
        uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)

        async def work(tx: Transaction) -> None:
            for n in range(3):
                tx.record(THING_HAPPENED, ThingHappened(thing_id=n), subject="thing/many")

        await uow.run(work)

        async def sent() -> bool:
            return await wiring.db[OUTBOX].count_documents({"status": "sent"}) == 3

        await eventually(sent, message="the poll published the events that were not handed off")
    finally:
        await relay.stop()


async def test_handed_events_the_broker_does_not_confirm_wait_their_back_off_and_are_published_by_the_poll(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    relay = wiring.relay(poll_interval_s=3600)
    relay.start()
    uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)
    try:
        await wiring.publisher.close()  # the broker side goes away: publishing fails for real

        async def work(tx: Transaction) -> None:
            tx.record(THING_HAPPENED, ThingHappened(thing_id=9), subject="thing/9")

        await uow.run(work)

        async def released() -> dict | None:
            doc = await wiring.db[OUTBOX].find_one({"attempts": 1})
            return doc if doc is not None and "claim" not in doc else None

        failed = await eventually(released, message="the unconfirmed event gave up its claim with a back-off")
        assert failed["status"] == "pending" and "last_error" in failed
    finally:
        await relay.stop()
    await wiring.publisher.open()
    poller = wiring.relay()
    assert await poller.publish_pending() == 0, "not before its back-off"
    wiring.clock.advance(seconds=5)
    assert await poller.publish_pending() == 1
    assert [json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)] == [9]
    await channel.close()


async def test_handed_events_whose_claim_is_about_to_lapse_are_left_to_the_poll_and_published_once(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    relay = PollCounting(wiring.db, wiring.publisher, wiring.clock, service="test", poll_interval_s=3600)
    uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)
    relay.start()
    relay.hand_off = lambda claim, docs: relay._handed.append((claim, docs))  # held, not woken

    async def work(tx: Transaction) -> None:
        tx.record(THING_HAPPENED, ThingHappened(thing_id=3), subject="thing/3")

    try:
        await uow.run(work)
        # The relay was busy: by the time it looks, the claim has less than the margin to run.
        wiring.clock.advance(seconds=HANDOFF_CLAIM_S - HANDOFF_MARGIN_S + 1)
        assert await relay.publish_handed() == 0, "not published from memory so late"
        assert (await wiring.db[OUTBOX].find_one())["status"] == "pending"
        wiring.clock.advance(seconds=HANDOFF_MARGIN_S)  # the claim lapses: the poll takes it
        assert await relay.publish_pending() == 1
        assert [json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)] == [3]
    finally:
        await relay.stop()
        await channel.close()


# --- marking sent: the hand-offs confirmed close together in one command -------------------------


async def _commit_things(uow: UnitOfWork, ids: range) -> None:
    for thing_id in ids:

        async def work(tx: Transaction, thing_id: int = thing_id) -> None:
            tx.record(THING_HAPPENED, ThingHappened(thing_id=thing_id), subject=f"thing/{thing_id}")

        await uow.run(work)


async def test_handed_events_confirmed_close_together_are_marked_sent_in_one_command(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    # Never by the clock here: only a full batch of confirmed hand-offs makes the relay mark them.
    relay = wiring.relay(poll_interval_s=3600, batch_size=5, mark_sent_within_s=3600)
    uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)
    relay.start()
    try:
        with LOG.recording() as commands:
            await _commit_things(uow, range(1, 6))

            async def all_sent() -> bool:
                return await wiring.db[OUTBOX].count_documents({"status": "sent", "claim": {"$exists": False}}) == 5

            await eventually(all_sent, message="the five handed events marked sent")
        marks = [name for name, targets, in_tx in commands if targets == (OUTBOX,) and not in_tx and name == "update"]
        assert marks == ["update"], "five hand-offs, published as they came, marked sent by one command"
        assert sorted(json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)) == [1, 2, 3, 4, 5]
    finally:
        await relay.stop()
        await channel.close()


async def test_a_confirmed_hand_off_is_marked_sent_within_the_window_without_a_poll(wiring: Wiring) -> None:
    relay = PollCounting(wiring.db, wiring.publisher, wiring.clock, service="test", poll_interval_s=3600, mark_sent_within_s=0.2)
    uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)
    relay.start()
    try:
        await _commit_things(uow, range(1, 2))

        async def sent() -> bool:
            return (await wiring.db[OUTBOX].find_one())["status"] == "sent"

        await eventually(sent, message="the confirmed hand-off marked sent once its window passed")
        assert relay.unmarked == 0 and relay.polls == 1, "marked by the relay's own timer, not found by a poll"
    finally:
        await relay.stop()


async def _published_not_marked(wiring: Wiring, thing_id: int) -> OutboxRelay:
    """A running relay that never marks by the clock or polls, once it has published (and the
    broker confirmed) the hand-off of one committed thing, which it has not yet marked sent."""
    relay = wiring.relay(poll_interval_s=3600, mark_sent_within_s=3600)
    uow = UnitOfWork(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock, relay=relay)
    relay.start()
    await _commit_things(uow, range(thing_id, thing_id + 1))

    async def confirmed() -> bool:
        return relay.unmarked == 1

    await eventually(confirmed, message="the hand-off published and confirmed")
    return relay


async def test_a_confirmed_hand_off_stays_claimed_until_marked_and_stopping_marks_it(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    relay = await _published_not_marked(wiring, 7)
    try:
        assert [json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)] == [7]
        waiting = await wiring.db[OUTBOX].find_one()
        assert waiting["status"] == "pending" and waiting["claim"], "confirmed, not yet marked: still held by its claim"
        assert await wiring.relay().publish_pending() == 0, "another replica does not publish it again meanwhile"
    finally:
        await relay.stop()
    stored = await wiring.db[OUTBOX].find_one()
    assert stored["status"] == "sent" and "claim" not in stored, "stopping marks what was confirmed"
    assert await _drain(channel, queue) == []
    await channel.close()


async def test_a_poll_never_takes_again_what_its_relay_published_and_has_not_yet_marked(wiring: Wiring) -> None:
    channel, queue = await wiring.observer()
    relay = await _published_not_marked(wiring, 5)
    try:
        wiring.clock.advance(seconds=HANDOFF_CLAIM_S + 1)  # its claim has lapsed by the service's clock
        relay.wake()  # a poll, now

        async def sent() -> bool:
            return (await wiring.db[OUTBOX].find_one())["status"] == "sent"

        await eventually(sent, message="marked sent before the poll looked")
        assert [json.loads(m.body)["data"]["thing_id"] for m in await _drain(channel, queue)] == [5], "published once"
    finally:
        await relay.stop()
        await channel.close()
