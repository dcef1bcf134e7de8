"""The dead-letter API against the real broker: an administrator sees every consumer queue's dead
letters (count, oldest, reasons), reads one queue's without moving anything, replays one or all
after a fix and discards one with a reason; every action is recorded with who, when and why, and
a discarded message is kept in the record. Anyone else, bad input and unknown queues or messages
get problem+json and nothing moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from shared.consumer import EventConsumer, Subscription

from devstack.broker import management_url_for
from devstack.testing import Infrastructure
from devstack.testing import problem as _problem
from devstack.wiring import THING_HAPPENED

from ..conftest import RunningGateway, serve_gateway

ADMIN = "P-ADMIN"
API = "/api/v1/operations/dead-letters"


@pytest.fixture
async def gw(service_env: dict[str, str], infrastructure: Infrastructure) -> AsyncIterator[RunningGateway]:
    async with serve_gateway(broker_management_url=management_url_for(infrastructure.amqp_url)) as gateway:
        await gateway.add_person(ADMIN, ["administrator"])
        await gateway.add_person("P-SW", ["social_worker"])
        yield gateway


async def _never(event: Any, tx: Any) -> None:
    raise AssertionError("not consumed here")


async def _dead_letters(infrastructure: Infrastructure, namespace: str, purpose: str, count: int) -> str:
    """A consumer queue of this namespace (``<ns>.notify.<purpose>``) with ``count`` dead letters,
    as the consumer leaves them: the reason, attempts and failure time in the headers."""
    queue = f"{namespace}.notify.{purpose}"
    connection = await aio_pika.connect(infrastructure.amqp_url)
    async with connection:
        consumer = EventConsumer(connection=connection, uow=None, service="notify", purpose=purpose, queue=queue,
                                 exchange=f"{namespace}.events", subscriptions=[Subscription(THING_HAPPENED, _never)])
        channel = await connection.channel()
        await consumer.declare(channel)
        for n in range(count):
            reason = "handler failed 5 times: KeyError('team')" if n % 2 == 0 else "unreadable: not JSON"
            headers = {"x-qa-dead-letter-reason": reason, "x-qa-attempt": 5, "x-qa-failed-at": f"2026-12-0{n + 1}T09:00:00+00:00", "x-qa-queue": queue}
            await channel.default_exchange.publish(
                aio_pika.Message(f'{{"n": {n}}}'.encode(), message_id=f"evt-{n}", type="test.thing.happened.v1", headers=headers),
                routing_key=f"{queue}.dead",
            )
        await channel.close()
    return queue


async def _depth(infrastructure: Infrastructure, name: str) -> int:
    connection = await aio_pika.connect(infrastructure.amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(name, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def test_an_administrator_sees_reads_replays_and_discards_dead_letters_and_each_action_is_recorded(
    gw: RunningGateway, infrastructure: Infrastructure, namespace: str
) -> None:
    queue = await _dead_letters(infrastructure, namespace, "work-tray", 4)
    admin = await gw.as_person(ADMIN)

    listed = (await gw.http.get(API, headers=admin)).json()
    [row] = [r for r in listed if r["queue"] == queue]
    assert (row["service"], row["messages"], row["oldest_failed_at"], row["reasons_from"]) == ("notify", 4, "2026-12-01T09:00:00+00:00", 4)
    assert row["reasons"] == {"handler failed 5 times: KeyError('team')": 2, "unreadable: not JSON": 2}

    letters_response = await gw.http.get(f"{API}/{queue}", headers=admin)
    assert letters_response.status_code == 200, letters_response.text
    letters = letters_response.json()
    assert letters["messages"] == 4 and [x["message_id"] for x in letters["letters"]] == ["evt-0", "evt-1", "evt-2", "evt-3"]
    assert letters["letters"][0] == {"message_id": "evt-0", "type": "test.thing.happened.v1", "reason": "handler failed 5 times: KeyError('team')",
                                     "attempts": 5, "failed_at": "2026-12-01T09:00:00+00:00", "queue": queue}
    assert await _depth(infrastructure, f"{queue}.dead") == 4, "reading moves nothing"

    one = await gw.http.post(f"{API}/{queue}/messages/evt-2/replay", json={"reason": "fixed the team lookup"}, headers=admin)
    assert one.status_code == 200, one.text
    assert (one.json()["action"], one.json()["moved"], one.json()["message_ids"]) == ("replayed", 1, ["evt-2"])
    assert (await _depth(infrastructure, queue), await _depth(infrastructure, f"{queue}.dead")) == (1, 3)

    gone = await gw.http.post(f"{API}/{queue}/messages/evt-1/discard", json={"reason": "a test message sent by mistake"}, headers=admin)
    assert gone.status_code == 200 and gone.json()["action"] == "discarded"
    assert await _depth(infrastructure, f"{queue}.dead") == 2
    kept = await gw.runtime.db["dead_letter_actions"].find_one({"action": "discarded"})
    assert kept["body"] == '{"n": 1}' and kept["letter"]["reason"] == "unreadable: not JSON" and kept["by"] == ADMIN

    rest = await gw.http.post(f"{API}/{queue}/replay", json={"reason": "fixed the team lookup"}, headers=admin)
    assert rest.status_code == 200 and rest.json()["moved"] == 2 and sorted(rest.json()["message_ids"]) == ["evt-0", "evt-3"]
    assert (await _depth(infrastructure, queue), await _depth(infrastructure, f"{queue}.dead")) == (3, 0)

    history = (await gw.http.get(f"{API}/history", params={"queue": queue}, headers=admin)).json()
    assert [(h["action"], h["by"], h["reason"]) for h in history] == [
        ("replayed all", ADMIN, "fixed the team lookup"), ("discarded", ADMIN, "a test message sent by mistake"), ("replayed", ADMIN, "fixed the team lookup"),
    ]


async def test_anyone_else_bad_input_and_unknown_queues_or_messages_get_problems_and_nothing_moves(
    gw: RunningGateway, infrastructure: Infrastructure, namespace: str
) -> None:
    queue = await _dead_letters(infrastructure, namespace, "directory", 2)
    admin, worker = await gw.as_person(ADMIN), await gw.as_person("P-SW")

    assert _problem(await gw.http.get(API, headers=worker), 403)["type"].endswith("/forbidden")
    _problem(await gw.http.post(f"{API}/{queue}/messages/evt-0/discard", json={"reason": "not mine to discard"}, headers=worker), 403)
    _problem(await gw.http.post(f"{API}/{queue}/replay", json={"reason": "go ahead"}, headers=worker), 403)
    _problem(await gw.http.post(f"{API}/{queue}/messages/evt-0/discard", json={}, headers=admin), 422)
    _problem(await gw.http.post(f"{API}/{queue}/messages/evt-0/discard", json={"reason": ""}, headers=admin), 422)
    _problem(await gw.http.get(f"{API}/not a queue", headers=admin), 422)
    _problem(await gw.http.get(f"{API}/other-namespace.notify.directory", headers=admin), 404)
    _problem(await gw.http.get(f"{API}/{namespace}.notify.nothing-here", headers=admin), 404)
    _problem(await gw.http.post(f"{API}/{queue}/messages/evt-99/replay", json={"reason": "fixed it"}, headers=admin), 404)
    assert await _depth(infrastructure, f"{queue}.dead") == 2 and await _depth(infrastructure, queue) == 0
    assert await gw.runtime.db["dead_letter_actions"].count_documents({}) == 0
