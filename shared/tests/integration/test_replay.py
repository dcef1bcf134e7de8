"""Dead-letter replay (``python -m shared.replay``) against real MongoDB and RabbitMQ: a message
dead-lettered because its handler failed is listed by a dry run (which moves nothing) and, once the
cause is fixed, replayed and handled exactly once; the copy keeps its body and identity with its
attempts reset; the limit is honoured; a wrong queue name is refused without touching anything."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime

import pytest
from shared.broker import queue_depth
from shared.consumer import EventConsumer, ReceivedEvent, Subscription
from shared.mongo import PROCESSED_EVENTS, Transaction

from devstack.testing import eventually
from devstack.wiring import THING_HAPPENED, ThingHappened, Wiring


class Flaky:
    """A handler that fails while ``broken`` (the bug), records each successful run otherwise."""

    def __init__(self, w: Wiring) -> None:
        self.w = w
        self.broken = True
        self.calls = 0

    async def __call__(self, event: ReceivedEvent, tx: Transaction) -> None:
        self.calls += 1
        if self.broken:
            raise RuntimeError("template missing for this event")
        await self.w.db.handled.insert_one({"event_id": event.id, "thing_id": event.data.thing_id}, session=tx.session)


class Setup:
    def __init__(self, wiring: Wiring) -> None:
        self.w = wiring
        self.queue = wiring.settings.queue_name("things")
        self.dead = f"{self.queue}.dead"
        self.handler = Flaky(wiring)
        self.consumer: EventConsumer | None = None

    async def start(self) -> None:
        self.consumer = EventConsumer(
            connection=self.w.connection, uow=self.w.uow, service="test", purpose="things", queue=self.queue,
            exchange=self.w.settings.exchange_name, subscriptions=[Subscription(THING_HAPPENED, self.handler)],
            prefetch=10, max_attempts=2, retry_delays_ms=[100],
        )
        await self.consumer.start()  # it records its queues, so the namespace clean-up deletes them

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop(grace_s=2)
            self.consumer = None

    async def publish(self, thing_id: int) -> str:
        event_id = f"evt-{thing_id}"
        body = THING_HAPPENED.envelope(
            ThingHappened(thing_id=thing_id), source="/qa/test", subject=f"thing/{thing_id}",
            time=datetime.now(UTC), event_id=event_id,
        ).to_json()
        await self.w.publisher.publish(body, routing_key=THING_HAPPENED.routing_key, message_id=event_id, event_type=THING_HAPPENED.routing_key)
        return event_id

    async def depth(self, name: str) -> int:
        return await queue_depth(self.w.connection, name)

    async def dead_lettered(self, count: int) -> None:
        async def enough() -> bool:
            return await self.depth(self.dead) >= count and self.consumer is not None and self.consumer.in_flight == 0

        await eventually(enough, timeout=15, message=f"{count} dead-lettered")

    async def handled(self) -> list[str]:
        return sorted(d["event_id"] for d in await self.w.db.handled.find({}, {"event_id": 1}).to_list())

    def replay(self, *args: str, queue: str | None = None) -> subprocess.CompletedProcess[str]:
        """The operator's command, as they run it."""
        return subprocess.run(
            [sys.executable, "-m", "shared.replay", "--queue", queue or self.queue, "--amqp-url", self.w.settings.amqp_url, *args],
            capture_output=True, text=True, timeout=60, check=False,
        )


@pytest.fixture
async def setup(wiring: Wiring) -> AsyncIterator[Setup]:
    s = Setup(wiring)
    yield s
    await s.stop()


async def test_a_dead_letter_replayed_after_the_fix_is_handled_once_and_a_dry_run_moves_nothing(setup: Setup) -> None:
    await setup.start()
    event_id = await setup.publish(1)
    await setup.dead_lettered(1)
    assert setup.handler.calls == 2, "tried max_attempts times before dead-lettering"
    assert await setup.handled() == []
    await setup.stop()  # no consumer: were anything moved, it would wait in the queue for us to see

    dry = await asyncio.to_thread(setup.replay, "--dry-run")

    assert dry.returncode == 0, dry.stderr
    [line, summary] = dry.stdout.strip().splitlines()
    assert line.startswith(f"{event_id}\t{THING_HAPPENED.routing_key}\tattempts=2\tfailed-at=20")
    assert "template missing for this event" in line
    assert "nothing moved" in summary
    # The command has exited, every copy it published confirmed: the letter it held is back in the
    # dead-letter queue, and nothing is in the queue.
    await eventually(lambda: _equal(setup.depth(setup.dead), 1), message="the listed letter back in the dead-letter queue")
    assert await setup.depth(setup.queue) == 0
    assert setup.handler.calls == 2
    await setup.start()

    setup.handler.broken = False  # the fix is deployed
    done = await asyncio.to_thread(setup.replay)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"replayed 1 of 1 dead letters from {setup.dead} to {setup.queue}"
    await eventually(setup.handled, message="replayed message handled")
    await eventually(lambda: _zero(setup.depth(setup.queue)), message="queue drained")
    assert await setup.depth(setup.dead) == 0
    assert setup.handler.calls == 3, "handled once after the replay"

    await setup.stop()  # no consumer: were anything moved again, it would wait in the queue for us to see
    again = await asyncio.to_thread(setup.replay)  # nothing left: replaying twice does no harm
    assert again.returncode == 0, again.stderr
    assert "replayed 0 of 0" in again.stdout
    assert await setup.depth(setup.queue) == 0  # the command has exited, every copy it published confirmed
    assert await setup.handled() == [event_id]
    assert await setup.w.db[PROCESSED_EVENTS].count_documents({"event_id": event_id}) == 1


async def test_the_copy_keeps_body_and_identity_resets_attempts_and_records_the_replay(setup: Setup) -> None:
    await setup.start()
    await setup.publish(2)
    await setup.dead_lettered(1)
    await setup.stop()  # no consumer: the replayed copy stays in the queue for us to look at
    channel = await setup.w.connection.channel()
    original = await (await channel.declare_queue(setup.dead, passive=True)).get(no_ack=False, timeout=5)
    await channel.close()  # unacknowledged: back to the dead-letter queue

    done = await asyncio.to_thread(setup.replay)
    assert done.returncode == 0, done.stderr

    channel = await setup.w.connection.channel()
    copy = await (await channel.declare_queue(setup.queue, passive=True)).get(timeout=5)
    await channel.close()
    headers = copy.headers or {}
    assert copy.body == original.body
    assert (copy.message_id, copy.type) == (original.message_id, original.type) == ("evt-2", THING_HAPPENED.routing_key)
    assert headers["x-qa-attempt"] == 1
    assert datetime.fromisoformat(str(headers["x-qa-replayed-at"])) >= datetime.fromisoformat(str(headers["x-qa-failed-at"]))
    assert "template missing" in str(headers["x-qa-dead-letter-reason"]), "why it failed before stays visible"
    assert await setup.depth(setup.dead) == 0


async def test_the_limit_moves_only_that_many(setup: Setup) -> None:
    await setup.start()
    for n in (3, 4, 5):
        await setup.publish(n)
    await setup.dead_lettered(3)
    setup.handler.broken = False

    done = await asyncio.to_thread(setup.replay, "--limit", "2")

    assert done.returncode == 0, done.stderr
    assert "replayed 2 of 3" in done.stdout
    await eventually(lambda: _count(setup.handled(), 2), message="two handled")
    # The consumer stops after the messages in hand (any it was given and had not begun go back to
    # the queue): a third copy would be handled by now, or wait in the queue.
    await setup.stop()
    assert await setup.depth(setup.queue) == 0
    assert len(await setup.handled()) == 2
    assert await setup.depth(setup.dead) == 1


async def test_a_wrong_queue_name_is_refused_and_nothing_moves(setup: Setup) -> None:
    await setup.start()
    await setup.publish(6)
    await setup.dead_lettered(1)

    for wrong in (f"{setup.queue}.dead", f"{setup.queue}-typo"):
        result = await asyncio.to_thread(setup.replay, queue=wrong)
        assert result.returncode == 2
        assert result.stderr.startswith("replay: ")
    assert await setup.depth(setup.dead) == 1


async def _zero(depth: Awaitable[int]) -> bool:
    return await depth == 0


async def _equal(depth: Awaitable[int], n: int) -> bool:
    return await depth == n


async def _count(handled: Awaitable[list[str]], n: int) -> bool:
    return len(await handled) == n
