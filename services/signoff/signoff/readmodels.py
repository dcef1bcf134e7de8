"""``python -m signoff.readmodels``: recompute the report roll-ups (``rollups``) from the
exemplars themselves, with the service's settings (``MONGODB_URL``, ``QA_NAMESPACE``; the service's
required settings too). For a database written before the roll-ups existed, or after a restore."""

from __future__ import annotations

import asyncio

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, create_indexes
from shared.readmodels import rebuild_command, write_fixes

from .rollups import FIELDS, INDEXES, ROLLUP, ROLLUPS
from .store import EXEMPLARS, timeliness_key
from .store import INDEXES as STORE_INDEXES


async def rebuild(db: AsyncDatabase[Document]) -> int:
    """Recompute the roll-ups from the exemplars; returns the number of exemplars read.

    First gives every exemplar written before the report used them its ``timeliness_key`` and
    ``timeliness_type_key`` (the report's row order; each only if its start date and type are still
    the ones read, so a concurrent save, which writes its own, wins). Then one transaction reads the exemplars and
    replaces the roll-ups (delete all, insert the new), so a report never sees them half rebuilt.
    Run while the service writes: an exemplar saved after the transaction's snapshot writes a
    roll-up document this transaction also writes, the database reports a write conflict and the
    transaction runs again from a newer snapshot (or the save is retried); either way every change
    is counted exactly once.
    """
    await create_indexes(db, [*INDEXES, *(i for i in STORE_INDEXES if i.collection == EXEMPLARS)])
    fixes: list[UpdateOne] = []
    async for doc in db[EXEMPLARS].find({}, {**FIELDS, "timeliness_key": 1, "timeliness_type_key": 1}):
        wanted = timeliness_key(doc["start_date"], doc["type_code"], doc["_id"])
        if (doc.get("timeliness_key"), doc.get("timeliness_type_key")) != (wanted, f"{doc['type_code']}|{wanted}"):
            fixes.append(UpdateOne({"_id": doc["_id"], "start_date": doc["start_date"], "type_code": doc["type_code"]},
                                   {"$set": {"timeliness_key": wanted, "timeliness_type_key": f"{doc['type_code']}|{wanted}"}}))
    await write_fixes(db[EXEMPLARS], fixes)
    return await ROLLUP.rebuild(db, EXEMPLARS, FIELDS)


if __name__ == "__main__":
    from .settings import SignoffSettings

    asyncio.run(rebuild_command(SignoffSettings(), rebuild, ROLLUPS, what="the timeliness roll-ups", records="exemplars"))
