"""Keeping a service's own copy of another service's records, from their events.

Each record carries a version that grows with every change; events may arrive late, twice or
out of order (redelivery, retries, competing replicas). A state is applied only when it is newer
than the one held, so an older or repeated state never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection


async def apply_if_newer(
    collection: AsyncCollection[Any],
    record_id: str,
    version: int,
    fields: Mapping[str, Any],
    *,
    session: AsyncClientSession | None = None,
    also: Mapping[str, Any] | None = None,
) -> bool:
    """Set ``fields`` (and ``version``) on the record if ``version`` is newer than the one held;
    ``also`` adds other update operators (``{"$inc": ...}``). Returns whether it was applied.

    A read then a write, not one conditional upsert: inside a transaction the duplicate-key error
    such an upsert meets when a newer record is held would abort the whole transaction.
    """
    current = await collection.find_one({"_id": record_id}, {"version": 1}, session=session)
    if current is not None and current.get("version", 0) >= version:
        return False  # an older state arriving late, or the same one again
    update: dict[str, Any] = {"$set": {**fields, "version": version}, **(also or {})}
    await collection.update_one({"_id": record_id}, update, upsert=True, session=session)
    return True
