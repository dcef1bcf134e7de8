"""Idempotency-Key on POSTs that create: sending the same request again (a retry after a lost
answer, a double click) returns what the first one created instead of creating it twice.

The key is remembered per person in the same transaction as the creation, under a unique index,
so two concurrent requests with one key create one resource. Keys are kept for
``IDEMPOTENCY_TTL_S`` (a TTL index removes them after a day by default). Reusing a key for a
different request is refused with 422.

In a route::

    key: IdempotencyKeyDep            # None when the header is absent
    thing = await create_once(runtime.db, key, response,
                              create=lambda: usecase(..., key=key),   # calls ``remember(tx, db, key, new_id)``
                              read=lambda thing_id: read_thing(thing_id))
    # or, when the use case answers the new id: thing_id = await create_id_once(...)
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request, Response
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .errors import Problem
from .identity import CurrentPerson
from .mongo import Document, Indexes, Transaction

IDEMPOTENCY_KEYS = "idempotency_keys"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_INDEXES = Indexes(
    IDEMPOTENCY_KEYS,
    [
        IndexModel([("person_id", ASCENDING), ("key", ASCENDING)], unique=True),
        IndexModel([("created_at", ASCENDING)], expireAfterSeconds=24 * 3600),
    ],
)


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    person_id: str
    #: What the request was (method, path, body): the same key must mean the same request.
    fingerprint: str


class KeyAlreadyUsed(Exception):
    """Another request with this key committed first; ``resource_id`` is what it created."""

    def __init__(self, resource_id: str) -> None:
        super().__init__(resource_id)
        self.resource_id = resource_id


async def idempotency_key(request: Request, caller: CurrentPerson) -> IdempotencyKey | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise Problem(400, "bad-idempotency-key", "Malformed Idempotency-Key", "An Idempotency-Key is 1 to 200 printable characters, e.g. a UUID.")
    body = await request.body()
    fingerprint = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(), body])).hexdigest()
    return IdempotencyKey(key, caller.person_id, fingerprint)


IdempotencyKeyDep = Annotated[IdempotencyKey | None, Depends(idempotency_key)]


def _reused(key: IdempotencyKey) -> Problem:
    return Problem(
        422,
        "idempotency-key-reused",
        "Idempotency-Key already used",
        f"The key {key.key!r} was already used for a different request; use a new key for a new request.",
    )


async def previously_created(db: AsyncDatabase[Document], key: IdempotencyKey) -> str | None:
    """The id of what this key created before, if anything; 422 if it was a different request."""
    doc = await db[IDEMPOTENCY_KEYS].find_one({"person_id": key.person_id, "key": key.key})
    if doc is None:
        return None
    if doc["fingerprint"] != key.fingerprint:
        raise _reused(key)
    return str(doc["resource_id"])


async def remember(tx: Transaction, db: AsyncDatabase[Document], key: IdempotencyKey | None, resource_id: str, *, now: object) -> None:
    """Record, inside the creating transaction, that ``key`` created ``resource_id``."""
    if key is None:
        return
    try:
        await db[IDEMPOTENCY_KEYS].insert_one(
            {"person_id": key.person_id, "key": key.key, "fingerprint": key.fingerprint, "resource_id": resource_id, "created_at": now},
            session=tx.session,
        )
    except DuplicateKeyError:
        existing = await db[IDEMPOTENCY_KEYS].find_one({"person_id": key.person_id, "key": key.key})
        if existing is not None and existing["fingerprint"] != key.fingerprint:
            raise _reused(key) from None
        raise KeyAlreadyUsed(str(existing["resource_id"]) if existing else "") from None


T = TypeVar("T")


async def create_once(
    db: AsyncDatabase[Document], key: IdempotencyKey | None, response: Response, *,
    create: Callable[[], Awaitable[T]], read: Callable[[str], Awaitable[T]],
) -> T:
    """What this request creates: ``create()``'s result, or, when its Idempotency-Key created
    something before (or a concurrent request with the key just did), ``read`` of that, answered
    with ``Idempotent-Replayed: true``. A key reused for a different request is a 422."""
    if key and (existing := await previously_created(db, key)):
        response.headers[REPLAYED_HEADER] = "true"
        return await read(existing)
    try:
        return await create()
    except KeyAlreadyUsed as used:
        response.headers[REPLAYED_HEADER] = "true"
        return await read(used.resource_id)


async def _the_id(resource_id: str) -> str:
    return resource_id


async def create_id_once(db: AsyncDatabase[Document], key: IdempotencyKey | None, response: Response, create: Callable[[], Awaitable[str]]) -> str:
    """``create_once`` for a use case that answers the new resource's id."""
    return await create_once(db, key, response, create=create, read=_the_id)
