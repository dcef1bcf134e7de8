"""MongoDB access through PyMongo's async API, and the unit of work that ties a state change to
the events it causes.

Motor reached end of life on 2026-05-14; PyMongo's ``AsyncMongoClient`` has the same shape and is
what its maintainers direct new code to. Each service owns one database
(``<QA_NAMESPACE>_<service>``) and declares its indexes, created at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from .clock import Clock
from .documents import OUTBOX, PROCESSED_EVENTS, Document, Indexes, create_indexes
from .events import EventType
from .observability import correlation_id
from .outbox import outbox_documents

T = TypeVar("T")

__all__ = [
    "OUTBOX",
    "PROCESSED_EVENTS",
    "Document",
    "Indexes",
    "Transaction",
    "UnitOfWork",
    "connect",
    "create_indexes",
    "ping",
]


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=5000)


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")


@dataclass
class Transaction:
    """What a use case holds while it changes state: the session to write with, and the events
    it records. The events are written to the outbox in the same transaction, at commit."""

    session: AsyncClientSession
    staged: list[tuple[EventType, Any, str | None]] = field(default_factory=list)

    def record(self, event_type: EventType, data: Any, *, subject: str | None) -> None:
        self.staged.append((event_type, data, subject))


class UnitOfWork:
    """Runs a piece of work in one MongoDB transaction with its events staged for the outbox.

    ``await uow.run(work)`` calls ``work(tx)``; everything it writes with ``tx.session`` and every
    event it records with ``tx.record`` commit together or not at all. A transient conflict
    re-runs ``work`` from the start, so ``work`` must do nothing outside the database.
    """

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        db: AsyncDatabase[Document],
        *,
        source: str,
        clock: Clock,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.db = db
        self.source = source
        self.clock = clock
        self._on_commit = on_commit

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        result: list[T] = []

        async def attempt(session: AsyncClientSession) -> None:
            tx = Transaction(session)
            result.clear()
            result.append(await work(tx))
            if tx.staged:
                docs = outbox_documents(
                    tx.staged, source=self.source, now=self.clock.now(), correlation=correlation_id.get()
                )
                await self.db[OUTBOX].insert_many(docs, session=session)

        async with self.client.start_session() as session:
            await session.with_transaction(attempt)
        self._on_commit()
        return result[0]
