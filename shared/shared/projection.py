"""Keeping a service's own copy of another service's records, from their events.

Each record carries a version that grows with every change; events may arrive late, twice or
out of order (redelivery, retries, competing replicas). A state is applied only when it is newer
than the one held, so an older or repeated state never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo import InsertOne, UpdateOne
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


async def apply_many_if_newer(
    collection: AsyncCollection[Any],
    records: Iterable[tuple[str, int, Mapping[str, Any]]],
    *,
    session: AsyncClientSession | None = None,
    also: Mapping[str, Any] | None = None,
) -> set[str]:
    """``apply_if_newer`` for many records (``(record_id, version, fields)``) in two commands: one
    read of the versions held, one bulk write of the newer states. A record named twice keeps its
    newest state. Returns the ids applied.

    Inside a consumer's transaction, a replica writing the same record at the same time makes one
    of the two transactions conflict and run again, reading the other's version then.
    """
    newest: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for record_id, version, fields in records:
        if record_id not in newest or version > newest[record_id][0]:
            newest[record_id] = (version, fields)
    if not newest:
        return set()
    held = {
        doc["_id"]: doc.get("version", 0)
        async for doc in collection.find({"_id": {"$in": list(newest)}}, {"version": 1}, session=session)
    }
    # A record not held yet is inserted (a plain insert costs the store about half an upsert); one
    # held is updated. Should a replica insert the same record meanwhile, the insert's duplicate
    # key fails this batch, and the consumer handles its events one at a time (by upserts).
    ops: list[InsertOne[Any] | UpdateOne] = [
        InsertOne({"_id": record_id, **_inserted(fields, version, also)}) if record_id not in held
        else UpdateOne({"_id": record_id}, {"$set": {**fields, "version": version}, **(also or {})})
        for record_id, (version, fields) in newest.items()
        if held.get(record_id, -1) < version
    ]
    applied = [record_id for record_id, (version, _) in newest.items() if held.get(record_id, -1) < version]
    if ops:
        await collection.bulk_write(ops, ordered=False, session=session)
    return set(applied)


def _inserted(fields: Mapping[str, Any], version: int, also: Mapping[str, Any] | None) -> dict[str, Any]:
    """The document an upsert of ``{"$set": fields + version, **also}`` would create."""
    doc: dict[str, Any] = {**fields, "version": version}
    for operator, values in (also or {}).items():
        if operator in ("$inc", "$set", "$setOnInsert", "$max", "$min"):
            doc.update(values)
        else:
            raise ValueError(f"apply_many_if_newer cannot insert with {operator}")
    return doc
