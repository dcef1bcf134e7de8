"""Roll-up changes wait as inserts (no two writes of one day conflict on a counter) and are folded
in exactly once, however many folds run at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from shared.mongo import create_indexes

from devstack.wiring import Wiring
from shared import rollups


def _fields(document_id: str) -> dict[str, Any]:
    return {"b": document_id}


async def _indexed(wiring: Wiring) -> None:
    await create_indexes(wiring.db, [rollups.pending_indexes("counts")])


async def _count(wiring: Wiring, n: int) -> None:
    async def work(tx: Any) -> None:
        await rollups.apply(wiring.db.counts, Counter(), Counter({("d|2026-12-01", "t.kINIASS.late"): n}), session=tx.session)

    await wiring.uow.run(work)


async def test_concurrent_writes_of_one_day_each_wait_as_a_change_and_fold_in_once(wiring: Wiring) -> None:
    await _indexed(wiring)
    await asyncio.gather(*(_count(wiring, 1) for _ in range(16)))
    assert await rollups.pending(wiring.db.counts).count_documents({}) == 16
    assert await wiring.db.counts.find_one({"_id": "d|2026-12-01"}) is None, "nothing folded yet"
    assert await rollups.fold(wiring.db.counts, rollups.counted(_fields)) == 16
    assert await wiring.db.counts.find_one({"_id": "d|2026-12-01"}) == {"_id": "d|2026-12-01", "b": "d|2026-12-01", "t": {"kINIASS": {"late": 16}}}
    assert await rollups.fold(wiring.db.counts, rollups.counted(_fields)) == 0
    assert await rollups.pending(wiring.db.counts).count_documents({}) == 0


async def test_folds_running_at_once_count_every_change_once(wiring: Wiring) -> None:
    await _indexed(wiring)
    await asyncio.gather(*(_count(wiring, n) for n in range(1, 21)))
    await asyncio.gather(*(rollups.fold_all(wiring.db.counts, rollups.counted(_fields)) for _ in range(4)))
    doc = await wiring.db.counts.find_one({"_id": "d|2026-12-01"})
    assert doc is not None and doc["t"]["kINIASS"]["late"] == sum(range(1, 21))
    assert await rollups.pending(wiring.db.counts).count_documents({}) == 0


async def test_a_change_that_moves_nothing_writes_nothing_and_an_aborted_one_leaves_nothing(wiring: Wiring) -> None:
    same = Counter({("d|2026-12-01", "t.kINIASS.late"): 1})

    async def unchanged(tx: Any) -> None:
        await rollups.apply(wiring.db.counts, same, Counter(same), session=tx.session)

    await wiring.uow.run(unchanged)

    class Refused(Exception):
        pass

    async def refused(tx: Any) -> None:
        await rollups.apply(wiring.db.counts, Counter(), same, session=tx.session)
        raise Refused

    try:
        await wiring.uow.run(refused)
    except Refused:
        pass
    assert await rollups.pending(wiring.db.counts).count_documents({}) == 0
