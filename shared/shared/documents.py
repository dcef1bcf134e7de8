"""What every module that stores documents needs and nothing more: the document type, the index
declaration of a collection, and the names of the collections the shared library itself owns.

``shared.mongo`` (the unit of work) and ``shared.outbox`` (the relay) both build on this module
and on nothing of each other's but what they say they import, so neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.operations import IndexModel

Document = dict[str, Any]

#: The transactional outbox (``shared.outbox``), written by ``shared.mongo.UnitOfWork``.
OUTBOX = "outbox"
#: The consumers' processed markers (``shared.consumer``).
PROCESSED_EVENTS = "processed_events"


@dataclass(frozen=True)
class Indexes:
    """The indexes one collection needs; every hot query has one (an unindexed find is a scan)."""

    collection: str
    models: Sequence[IndexModel]


async def create_indexes(db: AsyncDatabase[Document], indexes: Sequence[Indexes]) -> None:
    for spec in indexes:
        if spec.models:
            await db[spec.collection].create_indexes(list(spec.models))
