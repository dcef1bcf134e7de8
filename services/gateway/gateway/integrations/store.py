"""Integrators, webhook endpoints and deliveries in the gateway's database.

Nothing here is ever deleted: a revoked integrator or a deleted endpoint keeps its record (with
its status), and every change to either is appended to ``integration_history`` with who and when.
Deliveries are a log; finished ones expire after ``DELIVERY_RETENTION_S``. Secrets and passwords
never reach the history; broker passwords are not stored at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.keyset import page_newest_first
from shared.mongo import Document, Indexes, Transaction, UnitOfWork
from shared.versioned import Stale, replace_versioned

INTEGRATORS = "integrators"
ENDPOINTS = "webhook_endpoints"
DELIVERIES = "webhook_deliveries"
HISTORY = "integration_history"

#: How long a finished delivery (delivered, or failed for good) stays in the delivery log.
DELIVERY_RETENTION_S = 30 * 24 * 3600

INDEXES = [
    Indexes(INTEGRATORS, [IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)]), IndexModel([("name", ASCENDING)])]),
    Indexes(
        ENDPOINTS,
        [IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)]), IndexModel([("url", ASCENDING)]),
         IndexModel([("event_types", ASCENDING)])],
    ),
    Indexes(
        DELIVERIES,
        [
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("endpoint_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("endpoint_id", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("finished_at", ASCENDING)], expireAfterSeconds=DELIVERY_RETENTION_S),
        ],
    ),
    Indexes(HISTORY, [IndexModel([("subject", ASCENDING), ("version", ASCENDING)], unique=True)]),
]

_SECRET_FIELDS = {"secrets"}


def public(doc: Document) -> dict[str, Any]:
    """A record without its secrets: what the history keeps."""
    return {k: v for k, v in doc.items() if k not in _SECRET_FIELDS}


async def record_history(db: AsyncDatabase[Document], subject: str, doc: Document, *, change: str, by: str, at: datetime, session: Any = None) -> None:
    await db[HISTORY].insert_one(
        {"subject": subject, "version": doc["version"], "change": change, "by": by, "at": at, "record": public(doc)}, session=session
    )


async def save_version(
    uow: UnitOfWork, collection: str, doc: Document, *, expected: int, what: str, subject: str, change: str, by: str, at: datetime
) -> Document:
    """Write ``doc`` as version ``expected + 1``, with its history entry, in one transaction, only
    if nobody changed it since ``expected``; otherwise ``Stale`` (for a record that is gone: not
    found, no version named), and nothing changes."""
    doc = {**doc, "version": expected + 1}

    async def work(tx: Transaction) -> None:
        try:
            await replace_versioned(uow.db[collection], doc["_id"], doc, expected, what=what.lower(), session=tx.session)
        except Stale as exc:
            if exc.current is None:  # gone: not found, as reading it would say
                raise Stale(exc.what, None, None, ident=exc.ident) from None
            raise
        await record_history(uow.db, subject, doc, change=change, by=by, at=at, session=tx.session)

    await uow.run(work)
    return doc


async def insert_new(uow: UnitOfWork, collection: str, doc: Document, *, subject: str, by: str, at: datetime) -> Document:
    """Insert a new record (version 1) with its first history entry, in one transaction."""
    doc = {**doc, "version": 1}

    async def work(tx: Transaction) -> None:
        await uow.db[collection].insert_one(doc, session=tx.session)
        await record_history(uow.db, subject, doc, change="created", by=by, at=at, session=tx.session)

    await uow.run(work)
    return doc


async def load(db: AsyncDatabase[Document], collection: str, ident: str, what: str) -> Document:
    doc = await db[collection].find_one({"_id": ident})
    if doc is None:
        raise Stale(what.lower(), None, None, ident=ident)  # answered 404 not-found
    return doc


class Records:
    """An integration's own records (integrators, webhook endpoints): one by id, a page newest first."""

    #: The collection the records live in, and what a missing one is called in the 404.
    collection: str
    what: str
    db: AsyncDatabase[Document]

    async def get(self, ident: str) -> Document:
        return await load(self.db, self.collection, ident, self.what)

    async def newest_first(self, *, limit: int, before: tuple[datetime, str] | None) -> list[Document]:
        return await page_newest_first(self.db[self.collection], {}, before=before, limit=limit)
