"""A batch of the directory's import that meets a concurrent change, against real MongoDB: the
attempt that met the change keeps nothing (no record, no history, no event) and the batch is read
and written again on top of that change. Inside the batch's transaction the store reports the
change as a write conflict, which runs the attempt again; the batch's writes are also guarded by
the versions it read (``shared.versioned``), for a store that would not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gateway.directory import store
from gateway.directory.domain import Team
from shared.identity import Identity
from shared.mongo import Transaction, UnitOfWork

from devstack.testing import eventually
from devstack.wiring import Wiring, wiring  # noqa: F401  (fixture)

T = TypeVar("T")

BY = Identity(person_id="P-IMPORT")


def _team(name: str) -> Team:
    return Team(name=name, district="North", area="Thanet", service="Children's Services")


async def _seed(w: Wiring) -> None:
    await store.write_batch(w.uow, store.TEAMS, [("T-1", _team("Duty"))], by=BY)


async def _history(w: Wiring, record_id: str) -> list[tuple[int, str]]:
    found = await w.db[store.HISTORY].find({"record_id": record_id}).sort("version", 1).to_list()
    return [(h["version"], h["data"]["name"]) for h in found]


class TriesCounted(UnitOfWork):
    """The test's unit of work, counting the attempts it makes at each piece of work."""

    tries = 0

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        async def counted(tx: Transaction) -> T:
            self.tries += 1
            return await work(tx)

        return await super().run(counted)


async def test_a_batch_that_meets_another_writers_change_keeps_nothing_of_that_attempt_and_is_written_on_top_of_it(wiring: Wiring) -> None:  # noqa: F811
    await _seed(wiring)
    teams = wiring.db[store.TEAMS.collection]
    uow = TriesCounted(wiring.client, wiring.db, source="/qa/test", clock=wiring.clock)

    # Another writer has changed T-1 in its transaction, not committed yet, when the batch runs.
    async with wiring.client.start_session() as session:
        await session.start_transaction()
        await teams.update_one({"_id": "T-1"}, {"$set": {"data.name": "Duty (renamed elsewhere)", "version": 2}}, session=session)
        batch = asyncio.create_task(
            store.write_batch(uow, store.TEAMS, [("T-1", _team("Duty and Assessment")), ("T-2", _team("Looked After"))], by=BY)
        )

        async def met_the_change() -> bool:
            return uow.tries >= 2  # an attempt met the change and the batch is being written again

        await eventually(met_the_change, message="the batch met the other writer's change")
        await session.commit_transaction()
    counts = await batch

    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 0)
    t1 = await teams.find_one({"_id": "T-1"})
    assert t1 is not None and (t1["version"], t1["data"]["name"]) == (3, "Duty and Assessment"), "written on top of the other writer's version 2"
    assert await _history(wiring, "T-1") == [(1, "Duty"), (3, "Duty and Assessment")]
    assert await _history(wiring, "T-2") == [(1, "Looked After")]
    events: list[Any] = await wiring.db.outbox.find({"routing_key": store.TEAMS.event_type.routing_key}).sort("seq", 1).to_list()
    assert len(events) == 3, "T-1's first version, then T-1 and T-2 once each: nothing of an attempt that met the change"
    assert counts.through == 3
