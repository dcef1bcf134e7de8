"""Rebuilding a service's report roll-ups (``shared.rollups``) from its records, what every
``python -m <service>.readmodels`` does the same way: the keys older records lack written in
batches (``write_fixes``), the command itself (``rebuild_command``), and the roll-ups as stored,
which a test compares with what a rebuild gives (``stored``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from .documents import Document
from .mongo import connect
from .rollups import Rollups
from .settings import ServiceSettings

#: Fixes sent in one ``bulk_write``.
FIX_BATCH = 1000


async def write_fixes(collection: AsyncCollection[Document], fixes: Sequence[UpdateOne]) -> None:
    """Apply ``fixes`` unordered, ``FIX_BATCH`` at a time. Each is guarded by what was read (its
    filter), so a save made meanwhile, which writes its own keys, wins."""
    for at in range(0, len(fixes), FIX_BATCH):
        await collection.bulk_write(list(fixes[at : at + FIX_BATCH]), ordered=False)


async def rebuild_command(
    settings: ServiceSettings,
    rebuild: Callable[[AsyncDatabase[Document]], Awaitable[int]],
    rollups: str,
    *,
    what: str,
    records: str,
) -> None:
    """Run ``rebuild`` (which returns how many records it read) on the database of ``settings``
    and say what it did: ``<service>: rebuilt <what> of <database> from <n> <records> (<m> roll-up
    documents)``, ``m`` counted in the ``rollups`` collection."""
    client = connect(settings.mongodb_url)
    try:
        db = client[settings.database_name]
        read = await rebuild(db)
        documents = await db[rollups].count_documents({})
        print(
            f"{settings.service_name}: rebuilt {what} of {settings.database_name} from {read} {records} ({documents} roll-up documents)"
        )
    finally:
        await client.close()


def _without_zeros(node: Any) -> Any:
    """``node`` less every zero count and every map left empty, at any depth."""
    if not isinstance(node, dict):
        return node
    kept = {k: _without_zeros(v) for k, v in node.items()}
    return {k: v for k, v in kept.items() if v not in (0, {})}


async def stored(db: AsyncDatabase[Document], rollups: Rollups, identity: Iterable[str]) -> list[Any]:
    """The roll-up documents as a report would read them (what is pending folded in first), in
    ``_id`` order, without zeros, and only those that still count something beside ``_id`` and the
    ``identity`` fields every document carries: what a rebuild must give again."""
    await rollups.fold(db)
    docs = await db[rollups.collection].find({}).sort("_id", 1).to_list()
    bare = {"_id", *identity}
    return [d for d in (_without_zeros(doc) for doc in docs) if set(d) - bare]
