"""Reading a list a page at a time by its id (keyset paging): the documents that match the filters
a caller gave, in ``_id`` order, after the last one of the page before; or newest first, by
(``created_at``, ``_id``) descending, before the last one of the page before (``page_newest_first``).

A filter given as None is not applied (the caller did not ask for it), so a route's optional query
parameters pass straight through. The cursor that carries ``after`` is ``shared.paging``'s."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from .documents import Document


def matching(filters: Mapping[str, Any]) -> Document:
    """The query of the filters that were given (None: not applied)."""
    return {name: value for name, value in filters.items() if value is not None}


async def page_by_id(
    collection: AsyncCollection[Document],
    filters: Mapping[str, Any],
    *,
    after: str | None,
    limit: int,
    session: AsyncClientSession | None = None,
) -> list[Document]:
    """Up to ``limit`` documents matching ``filters``, by id, after the id ``after`` (None: from the first)."""
    query = matching(filters)
    if after is not None:
        query["_id"] = {"$gt": after}
    return await collection.find(query, session=session).sort("_id", ASCENDING).limit(limit).to_list()


async def page_newest_first(
    collection: AsyncCollection[Document],
    filters: Mapping[str, Any],
    *,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Document]:
    """Up to ``limit`` documents matching ``filters``, newest first (``created_at``, then ``_id``,
    descending), after ``before``: the (created_at, id) of the last one of the page before (None:
    from the newest)."""
    query = matching(filters)
    if before is not None:
        at, ident = before
        query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": ident}}]
    return await collection.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit).to_list()


async def page_by_windows(
    collection: AsyncCollection[Any], field: str, prefix: str, low: str, high: str, projection: Document, limit: int
) -> list[Document]:
    """Documents whose ``field`` lies strictly between ``prefix + low`` and ``prefix + high``, in its
    order, at most ``limit`` (0: all). ``low`` and ``high`` start with an ISO date. The range is read
    in windows of days, 8 then twice as long each time, until the page is full: SecantusDB reads
    the whole range of an index scan before applying the limit, so one query over three years
    would read every document of them."""
    if not limit:
        return await collection.find({field: {"$gt": prefix + low, "$lt": prefix + high}}, projection).sort(field, ASCENDING).to_list()
    out: list[Document] = []
    day, days = date.fromisoformat(low[:10]), 8
    while True:
        upper = min((day + timedelta(days=days)).isoformat(), high)
        query = {field: {"$gt": prefix + low, "$lt": prefix + upper}}
        out += await collection.find(query, projection).sort(field, ASCENDING).limit(limit - len(out)).to_list()
        if len(out) >= limit or upper >= high:
            return out
        low, day, days = upper, date.fromisoformat(upper), days * 2
