"""Indexes at start-up against the real database: a collection gets the indexes it declares, and
loses those it retired (every write would still update them), once, whichever replica starts first."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pymongo import ASCENDING, IndexModel
from shared.documents import Indexes, create_indexes

from devstack.wiring import Wiring

KEPT = IndexModel([("case_id", ASCENDING), ("sort_key", ASCENDING)])
OLD = [IndexModel([("start_date", ASCENDING), ("_id", ASCENDING)]), IndexModel([("type_code", ASCENDING), ("start_date", ASCENDING)])]
NOW = Indexes("things", [KEPT], retired=["start_date_1__id_1", "type_code_1_start_date_1"])


async def _names(wiring: Wiring) -> set[str]:
    return {index["name"] async for index in await wiring.db.things.list_indexes()}


async def test_a_retired_index_is_dropped_at_start_up_and_the_declared_ones_stay(wiring: Wiring, caplog: pytest.LogCaptureFixture) -> None:
    await create_indexes(wiring.db, [Indexes("things", [KEPT, *OLD])])  # as an earlier release left it
    await wiring.db.things.insert_many([{"_id": n, "case_id": "C-1", "sort_key": str(n), "start_date": "2026-11-02", "type_code": "INIASS"} for n in range(5)])
    assert await _names(wiring) == {"_id_", "case_id_1_sort_key_1", "start_date_1__id_1", "type_code_1_start_date_1"}

    with caplog.at_level(logging.INFO, logger="shared.documents"):
        await create_indexes(wiring.db, [NOW])

    assert await _names(wiring) == {"_id_", "case_id_1_sort_key_1"}
    assert await wiring.db.things.count_documents({}) == 5  # the documents are untouched
    dropped = sorted(getattr(r, "index", "") for r in caplog.records if r.getMessage() == "retired index dropped")
    assert dropped == ["start_date_1__id_1", "type_code_1_start_date_1"]


async def test_starting_again_or_two_replicas_at_once_drops_each_retired_index_once_without_failing(wiring: Wiring) -> None:
    await create_indexes(wiring.db, [Indexes("things", [KEPT, *OLD])])

    await asyncio.gather(*(create_indexes(wiring.db, [NOW]) for _ in range(3)))
    await create_indexes(wiring.db, [NOW])

    assert await _names(wiring) == {"_id_", "case_id_1_sort_key_1"}


async def test_a_new_database_starts_with_only_the_declared_indexes(wiring: Wiring) -> None:
    await create_indexes(wiring.db, [NOW, Indexes("nothing_yet", [], retired=["start_date_1__id_1"])])

    assert await _names(wiring) == {"_id_", "case_id_1_sort_key_1"}
    assert "nothing_yet" not in await wiring.db.list_collection_names()


def test_an_index_cannot_be_both_declared_and_retired() -> None:
    with pytest.raises(ValueError, match=r"things: an index cannot be both kept and retired: \['case_id_1_sort_key_1'\]"):
        Indexes("things", [KEPT], retired=["case_id_1_sort_key_1"])
