"""``python -m resolution.readmodels``: recompute the report roll-ups (``rollups``) from the
forms themselves, with the service's settings (``MONGODB_URL``, ``QA_NAMESPACE``; the service's
required settings too). For a database written before the roll-ups existed, or after a restore."""

from __future__ import annotations

import asyncio

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, create_indexes
from shared.readmodels import rebuild_command, write_fixes

from .documents import raised_day
from .domain import FormStatus
from .rollups import FIELDS, INDEXES, ROLLUP, ROLLUPS
from .store import FORMS, resolved_key
from .store import INDEXES as STORE_INDEXES


async def rebuild(db: AsyncDatabase[Document]) -> int:
    """Recompute every roll-up from the forms; returns the number of forms read.

    First gives every resolved form written before the impact report used it its ``resolved_key``,
    and every form stored before the reports counted days in England its ``raised_on`` and
    ``raised_month`` in England (each only if still at the version read, so a concurrent save,
    which writes its own, wins).
    Then one transaction reads the forms and replaces the roll-ups (delete all, insert the new), so a
    report never sees them half rebuilt. Run while the service writes: a form saved after the
    transaction's snapshot writes a roll-up document this transaction also writes, the database
    reports a write conflict and the transaction runs again from a newer snapshot (or the save is
    retried); either way every change is counted exactly once.
    """
    await create_indexes(db, [*INDEXES, *(i for i in STORE_INDEXES if i.collection == FORMS)])
    fixes: list[UpdateOne] = []
    projection = {"version": 1, "status": 1, "raised_at": 1, "raised_on": 1, "raised_month": 1, "finished_at": 1, "resolved_key": 1}
    async for doc in db[FORMS].find({}, projection):
        change: dict[str, dict[str, str]] = {}
        resolved = doc["status"] == FormStatus.RESOLVED.value and doc.get("finished_at") is not None
        wanted = resolved_key(doc["finished_at"], doc["_id"]) if resolved else None
        if doc.get("resolved_key") != wanted:
            change = {"$set": {"resolved_key": wanted}} if wanted else {"$unset": {"resolved_key": ""}}
        day = raised_day(doc["raised_at"])
        if {k: doc.get(k) for k in day} != day:
            change.setdefault("$set", {}).update(day)
        if change:
            fixes.append(UpdateOne({"_id": doc["_id"], "version": doc["version"]}, change))
    await write_fixes(db[FORMS], fixes)
    return await ROLLUP.rebuild(db, FORMS, FIELDS)


if __name__ == "__main__":
    from .settings import ResolutionSettings

    asyncio.run(rebuild_command(ResolutionSettings(), rebuild, ROLLUPS, what="the report roll-ups", records="forms"))
