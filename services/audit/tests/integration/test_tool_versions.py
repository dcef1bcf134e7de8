"""A tool's versions against real MongoDB: each version is added from the one its writer read, and
a writer who read an older one, or who meant to create a tool somebody else has just created,
gets ``Stale`` naming the version the tool is at, with nothing written."""

from __future__ import annotations

import asyncio

import pytest
from audit.tools import store
from audit.tools.catalogue import shipped_tool
from shared.mongo import Transaction
from shared.versioned import Stale

from devstack.wiring import Wiring, wiring  # noqa: F401  (fixture)

KENT = "kent-online-peer-review"


async def _versions(wiring: Wiring, tool_id: str) -> list[tuple[int, str]]:  # noqa: F811
    found = await store.list_versions(wiring.db, tool_id, before=None, limit=10)
    return [(v["version"], v["created_by"]) for v in found]


async def test_a_writer_who_read_an_older_version_is_stale_against_the_one_the_tool_is_at(wiring: Wiring) -> None:  # noqa: F811
    definition = shipped_tool(KENT)
    at = wiring.clock.now()

    async def add(by: str, expected: int | None):
        async def work(tx: Transaction) -> int:
            return await store.add_version(tx, wiring.db, KENT, definition, expected=expected, by=by, at=at)

        return await wiring.uow.run(work)

    assert await add("P-1", None) == 1

    # B's transaction reads the tool at version 1; A adds version 2 and commits; then B adds.
    b_has_read, a_has_committed = asyncio.Event(), asyncio.Event()

    async def writer_b(tx: Transaction) -> int:
        await store.latest_version(wiring.db, KENT, tx=tx)
        b_has_read.set()
        await a_has_committed.wait()
        return await store.add_version(tx, wiring.db, KENT, definition, expected=1, by="P-B", at=at)

    async def writer_a() -> None:
        await b_has_read.wait()
        assert await add("P-A", 1) == 2
        a_has_committed.set()

    b = asyncio.create_task(wiring.uow.run(writer_b))
    await writer_a()
    with pytest.raises(Stale) as caught:
        await b
    assert (caught.value.current, caught.value.expected, caught.value.ident) == (2, 1, KENT)
    assert await _versions(wiring, KENT) == [(2, "P-A"), (1, "P-1")]
    head = await wiring.db[store.TOOLS].find_one({"_id": KENT})
    assert head is not None and (head["version"], head["updated_by"]) == (2, "P-A")


async def test_creating_a_tool_that_exists_names_its_latest_version_and_writes_nothing(wiring: Wiring) -> None:  # noqa: F811
    definition = shipped_tool(KENT)

    async def create(by: str) -> int:
        async def work(tx: Transaction) -> int:
            return await store.add_version(tx, wiring.db, "themed-neglect", definition, expected=None, by=by, at=wiring.clock.now())

        return await wiring.uow.run(work)

    assert await create("P-1") == 1
    with pytest.raises(Stale) as caught:
        await create("P-2")
    # No version named, the tool at 1: answered 428, "send its ETag as If-Match".
    assert (caught.value.current, caught.value.expected) == (1, None)
    assert await _versions(wiring, "themed-neglect") == [(1, "P-1")]
