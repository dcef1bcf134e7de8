"""What every use case of the audit service runs with: the unit of work over the service's
database and the contacts configured in its settings; and how a scheduled pass changes its
records, each in a transaction of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Transaction, UnitOfWork
from shared.versioned import Stale

from .directory import ContactOverrides

#: Who the service itself acts as when it seeds tools or chooses an officer from the directory.
SERVICE_ACTOR = "audit-service"

K = TypeVar("K")
R = TypeVar("R")


@dataclass(frozen=True)
class AuditContext:
    uow: UnitOfWork
    overrides: ContactOverrides

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.uow.db


async def each_in_own_transaction(uow: UnitOfWork, items: Iterable[K], work: Callable[[Transaction, K], Awaitable[R | None]]) -> list[R]:
    """A scheduled pass: ``work`` on each of ``items`` in a transaction of its own, in order, and
    what it returned where it committed (None left out). An item changed meanwhile (``Stale``: by
    a person, or by another replica running the same pass) is left to the next pass."""
    done: list[R] = []
    for item in items:
        try:
            result = await _in_own_transaction(uow, work, item)
        except Stale:
            continue
        if result is not None:
            done.append(result)
    return done


async def _in_own_transaction(uow: UnitOfWork, work: Callable[[Transaction, K], Awaitable[R | None]], item: K) -> R | None:
    return await uow.run(lambda tx: work(tx, item))
