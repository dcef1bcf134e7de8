"""What every use case of the audit service runs with: the unit of work over the service's
database and the contacts configured in its settings."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, UnitOfWork

from .directory import ContactOverrides

#: Who the service itself acts as when it seeds tools or chooses an officer from the directory.
SERVICE_ACTOR = "audit-service"


@dataclass(frozen=True)
class AuditContext:
    uow: UnitOfWork
    overrides: ContactOverrides

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.uow.db
