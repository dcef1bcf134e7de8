"""Rebuild the reports' roll-ups (``reporting.rollups``) from the audits themselves.

    python -m audit.reporting.readmodels

reads the service's settings (``MONGODB_URL``, ``QA_NAMESPACE``: the database ``<ns>_audit``),
recomputes every roll-up from the audit documents, replaces the collection's contents and prints
what it did. The audit store keeps the roll-ups moving with every audit it writes, so a rebuild is
needed only where they were never built (a database that had audits before the roll-ups existed)
or to check them: ``rebuild`` after live maintenance leaves the same documents.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes, connect, create_indexes
from shared.rollups import pending

from ..case_audit.store import AUDITS
from . import rollups
from .domain import rollups as counting

#: Roll-up documents written per insert command, and audits read per query.
_BATCH = 1000
_PAGE = 2000


async def _read_facts(db: AsyncDatabase[Document]) -> tuple[int, counting.Contribution]:
    total = counting.Contribution()
    audits = 0
    legacy: list[str] = []
    after: Any = None
    while True:
        # Page by page along _id: short commands, none holding the store for the whole scan.
        query = {} if after is None else {"_id": {"$gt": after}}
        page = await db[AUDITS].find(query, rollups.FACT_FIELDS).sort("_id", 1).limit(_PAGE).to_list()
        for doc in page:
            audits += 1
            if "agreement" not in doc and doc.get("status") == "completed":
                legacy.append(doc["_id"])
                continue
            counting.contribution(rollups.facts(doc), into=total)
        if len(page) < _PAGE:
            break
        after = page[-1]["_id"]
    for start in range(0, len(legacy), 100):
        # Completed audits stored before their documents kept the paired grades: read whole.
        for doc in await db[AUDITS].find({"_id": {"$in": legacy[start:start + 100]}}).to_list():
            counting.contribution(rollups.facts(doc), into=total)
    return audits, total.without_zeros()


async def rebuild(db: AsyncDatabase[Document]) -> int:
    """Recompute every roll-up from the audit documents and replace the collection with them:
    built into a temporary collection (with its indexes), then swapped in by one
    ``renameCollection`` (``dropTarget``), so readers see the old roll-ups until the swap and the
    new ones after, never a half-built collection. Returns the number of roll-up documents.

    While the service writes: an audit written after the rebuild has read it moves the old
    roll-ups, which the swap then drops, so that change is missing from the roll-ups until the
    next rebuild (an audit written before the read is counted once, in the new ones). Run it
    while the audit service takes no writes (stopped, or before it takes traffic), or run it
    again after. (One transaction instead would be safe under writes, but at 20,000 audits it
    outlives what the embedded store does well.)

    The changes pending when the read began are in the audits it reads, so they are dropped
    with the swap; those recorded after it stay pending and are folded into the new roll-ups."""
    read_from = datetime.now(UTC)
    _, total = await _read_facts(db)
    docs = rollups.documents(total)
    building = f"{rollups.ROLLUPS}_rebuild"
    await db.drop_collection(building)
    await create_indexes(db, [Indexes(building, rollups.ROLLUP_INDEXES.models)])
    for start in range(0, len(docs), _BATCH):
        await db[building].insert_many(docs[start:start + _BATCH], ordered=False)
    await db.client.admin.command("renameCollection", f"{db.name}.{building}", to=f"{db.name}.{rollups.ROLLUPS}", dropTarget=True)
    await pending(db[rollups.ROLLUPS]).delete_many({"at": {"$lte": read_from}})
    return len(docs)


async def snapshot(db: AsyncDatabase[Document]) -> dict[str, Any]:
    """Every roll-up document by id, its zero counts left out, and documents left with no count at
    all (a count moved up and back down stays as 0 in a live document; the rebuild writes none):
    what tests compare (what is pending folded in first, as a report would)."""
    identity = {"_id", *counting.Key._fields}
    await rollups.fold(db)
    found = {d["_id"]: _without_zeros(d) for d in await db[rollups.ROLLUPS].find({}).to_list()}
    return {k: d for k, d in found.items() if set(d) - identity}


def _without_zeros(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in doc.items():
        if isinstance(value, dict):
            value = _without_zeros(value)
            if value and set(value) != {"first"}:  # a title no audit shows any more
                out[name] = value
        elif value != 0 or isinstance(value, bool):
            out[name] = value
    return out


async def _main() -> int:
    from ..settings import AuditSettings

    settings = AuditSettings()
    client = connect(settings.mongodb_url)
    try:
        db = client[settings.database_name]
        started = time.perf_counter()
        audits = await db[AUDITS].estimated_document_count()
        written = await rebuild(db)
        print(
            f"rebuilt {rollups.ROLLUPS} in {settings.database_name}: {written} roll-up documents from about {audits} audits "
            f"in {time.perf_counter() - started:.1f} s",
        )
    finally:
        await client.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
