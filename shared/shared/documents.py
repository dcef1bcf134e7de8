"""What every module that stores documents needs and nothing more: the document type, the index
declaration of a collection, and the names of the collections the shared library itself owns.

``shared.mongo`` (the unit of work) and ``shared.outbox`` (the relay) both build on this module
and on nothing of each other's but what they say they import, so neither imports the other back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure
from pymongo.operations import IndexModel

log = logging.getLogger(__name__)

Document = dict[str, Any]

#: The transactional outbox (``shared.outbox``), written by ``shared.mongo.UnitOfWork``.
OUTBOX = "outbox"
#: The consumers' processed markers (``shared.consumer``).
PROCESSED_EVENTS = "processed_events"


@dataclass(frozen=True)
class Indexes:
    """The indexes one collection needs; every hot query has one (an unindexed find is a scan).

    ``retired``: the names of indexes it no longer has. No query reads them, but every write to
    the collection would still update them, so they are dropped where an earlier release made them."""

    collection: str
    models: Sequence[IndexModel]
    retired: Sequence[str] = ()

    def __post_init__(self) -> None:
        kept = {model.document["name"] for model in self.models} & set(self.retired)
        if kept:
            raise ValueError(f"{self.collection}: an index cannot be both kept and retired: {sorted(kept)}")


#: IndexNotFound, NamespaceNotFound: another replica dropped it first, or there was nothing to drop.
_ALREADY_GONE = (27, 26)


async def create_indexes(db: AsyncDatabase[Document], indexes: Sequence[Indexes]) -> None:
    """Make each collection's indexes (a no-op for those that exist) and drop its retired ones."""
    for spec in indexes:
        collection = db[spec.collection]
        if spec.models:
            await collection.create_indexes(list(spec.models))
        for name in spec.retired:
            try:
                await collection.drop_index(name)
            except OperationFailure as exc:
                if exc.code not in _ALREADY_GONE:
                    raise
                continue
            log.info("retired index dropped", extra={"collection": collection.full_name, "index": name})
