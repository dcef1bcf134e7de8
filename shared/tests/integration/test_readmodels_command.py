"""``python -m <service>.readmodels`` as ``shared.readmodels`` runs it: the legacy keys fixed in
batches, guarded by what was read, then the rebuild on the service's own database, and one line
saying what it did."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import UpdateOne
from shared.mongo import connect
from shared.readmodels import FIX_BATCH, rebuild_command, write_fixes
from shared.settings import ServiceSettings


async def test_the_command_rebuilds_in_the_service_database_and_says_what_it_did(
    service_env, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = ServiceSettings(service_name="tally")
    seen: list[str] = []

    async def rebuild(db: Any) -> int:
        seen.append(db.name)
        await db["tally_rollups"].insert_many([{"_id": "d|2026-03-02"}, {"_id": "m|2026-03"}])
        return 5

    await rebuild_command(settings, rebuild, "tally_rollups", what="the tally roll-ups", records="tallies")
    assert seen == [settings.database_name]
    assert capsys.readouterr().out == (
        f"tally: rebuilt the tally roll-ups of {settings.database_name} from 5 tallies (2 roll-up documents)\n"
    )


async def test_fixes_are_written_in_batches_and_a_record_changed_since_it_was_read_keeps_its_own(service_env) -> None:
    client = connect(service_env["MONGODB_URL"])
    try:
        records = client[ServiceSettings(service_name="tally").database_name]["records"]
        count = FIX_BATCH + 5
        await records.insert_many([{"_id": i, "version": 1} for i in range(count)])
        await records.update_one({"_id": 3}, {"$set": {"version": 2, "key": "its own"}})  # saved after the read
        await write_fixes(records, [UpdateOne({"_id": i, "version": 1}, {"$set": {"key": f"k{i}"}}) for i in range(count)])
        keys = {d["_id"]: d.get("key") for d in await records.find({}).to_list()}
        assert keys == {i: "its own" if i == 3 else f"k{i}" for i in range(count)}
    finally:
        await client.close()
