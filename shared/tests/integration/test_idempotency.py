"""Idempotency-Key against real MongoDB: one key creates one resource, even when two requests
with it race; the same key for a different request is refused."""

from __future__ import annotations

import asyncio

import pytest
from shared.errors import Problem
from shared.idempotency import IDEMPOTENCY_INDEXES, IdempotencyKey, KeyAlreadyUsed, previously_created, remember
from shared.mongo import Transaction

from devstack.wiring import Wiring
from shared import mongo


async def _create(w: Wiring, key: IdempotencyKey, resource_id: str) -> str:
    async def work(tx: Transaction) -> str:
        await w.db.things.insert_one({"_id": resource_id}, session=tx.session)
        await remember(tx, w.db, key, resource_id, now=w.clock.now())
        return resource_id

    try:
        return await w.uow.run(work)
    except KeyAlreadyUsed as used:
        return used.resource_id


@pytest.fixture
async def keyed(wiring: Wiring) -> Wiring:
    await mongo.create_indexes(wiring.db, [IDEMPOTENCY_INDEXES])
    return wiring


async def test_a_repeated_request_finds_what_the_first_created(keyed: Wiring) -> None:
    key = IdempotencyKey("k-1", "P-1", "fingerprint-a")
    assert await previously_created(keyed.db, key) is None
    assert await _create(keyed, key, "thing-1") == "thing-1"
    assert await previously_created(keyed.db, key) == "thing-1"


async def test_two_racing_requests_with_one_key_create_one_resource(keyed: Wiring) -> None:
    key = IdempotencyKey("k-2", "P-1", "fingerprint-a")

    results = await asyncio.wait_for(asyncio.gather(*(_create(keyed, key, f"thing-{n}") for n in range(4))), timeout=30)

    assert len(set(results)) == 1, results
    assert await keyed.db.things.count_documents({}) == 1
    assert (await keyed.db.things.find_one())["_id"] == results[0]


async def test_the_same_key_for_a_different_request_is_refused(keyed: Wiring) -> None:
    await _create(keyed, IdempotencyKey("k-3", "P-1", "fingerprint-a"), "thing-1")
    other = IdempotencyKey("k-3", "P-1", "fingerprint-b")
    with pytest.raises(Problem) as refused:
        await previously_created(keyed.db, other)
    assert refused.value.status == 422
    with pytest.raises(Problem):
        await _create(keyed, other, "thing-2")
    assert await keyed.db.things.count_documents({}) == 1


async def test_keys_are_per_person(keyed: Wiring) -> None:
    assert await _create(keyed, IdempotencyKey("k-4", "P-1", "f"), "thing-1") == "thing-1"
    assert await _create(keyed, IdempotencyKey("k-4", "P-2", "f"), "thing-2") == "thing-2"
