"""Hampshire's prepared files, delegations, ready lists and closed selections in MongoDB.

A file is stored whole under ``file`` (JSON-shaped) with the fields queries filter on copied to
the top level; writes are version-guarded. Every save of a preparation or of the judgements is
kept in ``hampshire_file_history`` (nothing anyone wrote is lost).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.mongo import Document, Indexes, Transaction

from ..common.directory import PEOPLE, TEAMS, ContactOverrides, Directory
from ..common.saving import Embedded, save_next_version
from .domain.errors import AlreadyPrepared
from .domain.events import Saved
from .domain.prepared_file import Delegation, FileStatus, PreparedFile

FILES = "hampshire_files"
HISTORY = "hampshire_file_history"
DELEGATIONS = "hampshire_delegations"
READY_LISTS = "hampshire_ready_lists"
SELECTIONS = "hampshire_selections"

INDEXES = [
    Indexes(
        FILES,
        [
            # One file per worker a month (4.1); also how last month's file of a worker is found.
            IndexModel([("month", ASCENDING), ("worker_id", ASCENDING)], unique=True),
            # The service manager's month, the ready lists, the closing of a selection.
            IndexModel([("service_manager_id", ASCENDING), ("month", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("month", ASCENDING), ("status", ASCENDING)]),
            # Collation and the month's files per team.
            IndexModel([("month", ASCENDING), ("team_id", ASCENDING)]),
            # A case is not prepared again for 12 months (12.1).
            IndexModel([("case_id", ASCENDING), ("month", ASCENDING)]),
        ],
    ),
    Indexes(HISTORY, [IndexModel([("file_id", ASCENDING), ("part", ASCENDING), ("number", ASCENDING)], unique=True)]),
    Indexes(
        DELEGATIONS,
        [IndexModel([("month", ASCENDING), ("delegate_id", ASCENDING)]), IndexModel([("month", ASCENDING), ("service_manager_id", ASCENDING)])],
    ),
    Indexes(READY_LISTS, [IndexModel([("month", ASCENDING), ("service_manager_id", ASCENDING)])]),
]

_FILE = Embedded(PreparedFile, "file")
_DELEGATION = TypeAdapter(Delegation)


#: What a ``Stale`` of this store names.
WHAT = "prepared file"


class SelectionAlreadyClosed(Exception):
    pass


def _session(tx: Transaction | None) -> Any:
    return tx.session if tx else None


def to_document(f: PreparedFile) -> Document:
    return {
        "_id": f.id,
        "version": f.version,
        "month": f.month,
        "worker_id": f.worker_id,
        "case_id": f.case_id,
        "team_id": f.team_id,
        "service_manager_id": f.service_manager_id,
        "auditor_id": f.auditor_id,
        "status": f.status.value,
        "ready_list_id": f.ready_list_id,
        _FILE.key: _FILE.dumped(f),
    }


def from_document(doc: Document) -> PreparedFile:
    return _FILE.loaded(doc)


async def insert(tx: Transaction, db: AsyncDatabase[Document], f: PreparedFile) -> None:
    f.version = 1
    try:
        await db[FILES].insert_one(to_document(f), session=tx.session)
    except DuplicateKeyError:
        raise AlreadyPrepared(f"{f.worker_id} already has a file prepared for {f.month}: one file per worker each month.", "") from None
    await _keep_history(tx, db, f)


async def save(tx: Transaction, db: AsyncDatabase[Document], f: PreparedFile) -> None:
    """Replace the stored file if nobody changed it since it was read; else ``Stale``."""
    await save_next_version(db[FILES], f, to_document, what=WHAT, session=tx.session)
    await _keep_history(tx, db, f)


async def _keep_history(tx: Transaction, db: AsyncDatabase[Document], f: PreparedFile) -> None:
    for event in f.events:
        if isinstance(event, Saved):
            await db[HISTORY].insert_one(
                {"file_id": f.id, "part": event.part, "number": event.number, "by": event.by, "at": event.at, "content": event.content},
                session=tx.session,
            )


async def load(db: AsyncDatabase[Document], file_id: str, *, tx: Transaction | None = None) -> PreparedFile | None:
    doc = await db[FILES].find_one({"_id": file_id}, session=_session(tx))
    return from_document(doc) if doc else None


async def of_worker(db: AsyncDatabase[Document], month: str, worker_id: str, *, tx: Transaction | None = None) -> PreparedFile | None:
    doc = await db[FILES].find_one({"month": month, "worker_id": worker_id}, session=_session(tx))
    return from_document(doc) if doc else None


async def months_prepared(db: AsyncDatabase[Document], case_id: str, months: list[str], *, tx: Transaction | None = None) -> list[str]:
    """The months among ``months`` for which this case was prepared (a file started for it)."""
    docs = await db[FILES].find({"case_id": case_id, "month": {"$in": months}}, {"month": 1}, session=_session(tx)).to_list()
    return [d["month"] for d in docs]


async def of_service_manager(
    db: AsyncDatabase[Document], month: str, service_manager_id: str, statuses: list[FileStatus] | None = None, *, tx: Transaction | None = None
) -> list[PreparedFile]:
    query: dict[str, Any] = {"service_manager_id": service_manager_id, "month": month}
    if statuses is not None:
        query["status"] = {"$in": [s.value for s in statuses]}
    docs = await db[FILES].find(query, session=_session(tx)).sort("_id", ASCENDING).to_list()
    return [from_document(d) for d in docs]


async def of_month(db: AsyncDatabase[Document], month: str, statuses: list[FileStatus] | None = None) -> list[PreparedFile]:
    query: dict[str, Any] = {"month": month}
    if statuses is not None:
        query["status"] = {"$in": [s.value for s in statuses]}
    return [from_document(d) for d in await db[FILES].find(query).sort("_id", ASCENDING).to_list()]


async def unlisted_service_managers(db: AsyncDatabase[Document], month: str) -> list[str]:
    """Service managers with files ready this month not yet sent to them in a list."""
    docs = await db[FILES].find({"month": month, "status": FileStatus.READY.value, "ready_list_id": None}, {"service_manager_id": 1}).to_list()
    return sorted({d["service_manager_id"] for d in docs})


async def history(db: AsyncDatabase[Document], file_id: str) -> list[Document]:
    return await db[HISTORY].find({"file_id": file_id}, {"_id": 0}).sort([("part", ASCENDING), ("number", ASCENDING)]).to_list()


# --- delegations, ready lists, selections ---------------------------------------------------------


async def insert_delegation(tx: Transaction, db: AsyncDatabase[Document], d: Delegation) -> None:
    await db[DELEGATIONS].insert_one({"_id": d.id, **_DELEGATION.dump_python(d, mode="python")}, session=tx.session)


def _delegation(doc: Document) -> Delegation:
    return _DELEGATION.validate_python({k: v for k, v in doc.items() if k != "_id"})


async def load_delegation(db: AsyncDatabase[Document], delegation_id: str) -> Delegation | None:
    doc = await db[DELEGATIONS].find_one({"_id": delegation_id})
    return _delegation(doc) if doc else None


async def delegations_to(db: AsyncDatabase[Document], month: str, delegate_id: str, *, tx: Transaction | None = None) -> list[Delegation]:
    docs = await db[DELEGATIONS].find({"month": month, "delegate_id": delegate_id}, session=_session(tx)).sort("at", ASCENDING).to_list()
    return [_delegation(d) for d in docs]


async def delegations_by(db: AsyncDatabase[Document], month: str, service_manager_id: str, *, tx: Transaction | None = None) -> list[Delegation]:
    docs = await db[DELEGATIONS].find({"month": month, "service_manager_id": service_manager_id}, session=_session(tx)).sort("at", ASCENDING).to_list()
    return [_delegation(d) for d in docs]


async def insert_ready_list(
    tx: Transaction, db: AsyncDatabase[Document], *, list_id: str, month: str, service_manager_id: str, file_ids: list[str], by: str, at: datetime
) -> None:
    await db[READY_LISTS].insert_one(
        {"_id": list_id, "month": month, "service_manager_id": service_manager_id, "file_ids": file_ids, "sent_by": by, "sent_at": at},
        session=tx.session,
    )


async def insert_selection(tx: Transaction, db: AsyncDatabase[Document], selection: Document) -> None:
    """The closed selection of one service manager's month, under ``<month>:<service manager>``."""
    try:
        await db[SELECTIONS].insert_one(selection, session=tx.session)
    except DuplicateKeyError:
        raise SelectionAlreadyClosed(selection["_id"]) from None


async def selection(db: AsyncDatabase[Document], month: str, service_manager_id: str, *, tx: Transaction | None = None) -> Document | None:
    return await db[SELECTIONS].find_one({"_id": f"{month}:{service_manager_id}"}, session=_session(tx))


# --- the directory projection -----------------------------------------------------------------------


async def team_manager(db: AsyncDatabase[Document], team_id: str, *, tx: Transaction | None = None) -> str | None:
    """The manager of a team as the directory projection names it (None for a team it does not know)."""
    return await Directory(db, ContactOverrides(), _session(tx)).team_manager(team_id)


async def teams(db: AsyncDatabase[Document]) -> list[Document]:
    """Every team the directory projection knows, by id."""
    return await db[TEAMS].find({}, {"manager_id": 1}).sort("_id", ASCENDING).to_list()


async def people_in_teams(db: AsyncDatabase[Document], team_ids: list[str], roles: list[str]) -> list[Document]:
    """The active people of these teams holding any of ``roles``."""
    query = {"team_id": {"$in": team_ids}, "roles": {"$in": roles}, "active": {"$ne": False}}
    return await db[PEOPLE].find(query, {"team_id": 1, "line_manager_id": 1}).sort("_id", ASCENDING).to_list()
