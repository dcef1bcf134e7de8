"""The directory cache answers from what it read only while the projection's applied record has
not moved, never past its age limit, never for another database, and never from a view older than
the record another use has already seen."""

from __future__ import annotations

from typing import Any

from shared.directory_cache import DirectoryCache
from shared.directory_sync import APPLIED, applied_type, record_applied

from devstack.wiring import Wiring

APPLIED_TYPE = applied_type("test")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _team_of(wiring: Wiring, cache: DirectoryCache, case_id: str, session: Any = None) -> str:
    view = await cache.view(wiring.db, session)

    async def read() -> str:
        doc = await wiring.db.cases.find_one({"_id": case_id}, session=session)
        return str(doc["team_id"])

    return await view.get(("case", case_id), read)


async def _apply(wiring: Wiring, case_id: str, team_id: str, sequence: int) -> None:
    """A numbered directory change as a projection applies it: the record and the applied record, in one transaction."""

    async def work(tx: Any) -> None:
        await wiring.db.cases.update_one({"_id": case_id}, {"$set": {"team_id": team_id}}, upsert=True, session=tx.session)
        await record_applied(wiring.db, tx, APPLIED_TYPE, "case", sequence)

    await wiring.uow.run(work)


async def test_a_cached_answer_stands_until_a_numbered_change_is_applied(wiring: Wiring) -> None:
    cache = DirectoryCache(clock=Clock())
    await _apply(wiring, "C-1", "T-1", 1)
    assert await _team_of(wiring, cache, "C-1") == "T-1"
    # Written behind the projection's back (no numbered change): the cache still answers what it read,
    # which shows it answers without reading.
    await wiring.db.cases.update_one({"_id": "C-1"}, {"$set": {"team_id": "T-behind"}})
    assert await _team_of(wiring, cache, "C-1") == "T-1"
    # A numbered change of any record moves the applied record: everything is read again.
    await _apply(wiring, "C-other", "T-9", 2)
    assert await _team_of(wiring, cache, "C-1") == "T-behind"
    await _apply(wiring, "C-1", "T-2", 3)
    assert await _team_of(wiring, cache, "C-1") == "T-2"


async def test_a_change_above_a_gap_moves_the_record_too(wiring: Wiring) -> None:
    cache = DirectoryCache(clock=Clock())
    await _apply(wiring, "C-1", "T-1", 1)
    assert await _team_of(wiring, cache, "C-1") == "T-1"
    await _apply(wiring, "C-1", "T-3", 3)  # 2 has not arrived: 3 waits in pending, through stays 1
    assert (await wiring.db[APPLIED].find_one({"_id": "case"}))["through"] == 1
    assert await _team_of(wiring, cache, "C-1") == "T-3"


async def test_invalidate_and_the_age_limit_drop_entries(wiring: Wiring) -> None:
    clock = Clock()
    cache = DirectoryCache(ttl_s=30, clock=clock)
    await _apply(wiring, "C-1", "T-1", 1)
    assert await _team_of(wiring, cache, "C-1") == "T-1"
    await wiring.db.cases.update_one({"_id": "C-1"}, {"$set": {"team_id": "T-direct"}})
    cache.invalidate(wiring.db)  # what a direct writer (``put``) does
    assert await _team_of(wiring, cache, "C-1") == "T-direct"
    await wiring.db.cases.update_one({"_id": "C-1"}, {"$set": {"team_id": "T-later"}})
    clock.now += 29
    assert await _team_of(wiring, cache, "C-1") == "T-direct", "still young enough"
    clock.now += 2
    assert await _team_of(wiring, cache, "C-1") == "T-later", "past the age limit: read again"


async def test_each_database_has_its_own_entries(wiring: Wiring) -> None:
    cache = DirectoryCache(clock=Clock())
    other = wiring.client[wiring.db.name + "-other"]
    try:
        await wiring.db.cases.insert_one({"_id": "C-1", "team_id": "T-here"})
        await other.cases.insert_one({"_id": "C-1", "team_id": "T-there"})
        assert await _team_of(wiring, cache, "C-1") == "T-here"
        view = await cache.view(other)

        async def read() -> str:
            return str((await other.cases.find_one({"_id": "C-1"}))["team_id"])

        assert await view.get(("case", "C-1"), read) == "T-there"
    finally:
        await wiring.client.drop_database(other.name)


async def test_a_view_older_than_the_record_neither_uses_nor_keeps_entries(wiring: Wiring) -> None:
    cache = DirectoryCache(clock=Clock())
    await _apply(wiring, "C-1", "T-1", 1)
    old_view = await cache.view(wiring.db)
    await _apply(wiring, "C-1", "T-2", 2)
    new_view = await cache.view(wiring.db)  # sees the record move: drops the entries
    reads: list[str] = []

    async def stale() -> str:
        reads.append("stale")
        return "T-1 (read at the old snapshot)"

    assert await old_view.get(("case", "C-1"), stale) == "T-1 (read at the old snapshot)"

    async def fresh() -> str:
        reads.append("fresh")
        return str((await wiring.db.cases.find_one({"_id": "C-1"}))["team_id"])

    assert await new_view.get(("case", "C-1"), fresh) == "T-2", "the old view's answer was not kept"
    assert await old_view.get(("case", "C-1"), stale) == "T-1 (read at the old snapshot)", "nor does the old view use the new entries"
    assert reads == ["stale", "fresh", "stale"]
