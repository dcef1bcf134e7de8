"""Directory records in the gateway's database, each change kept in ``directory_history``: one at
a time (``put_record``) or many per transaction (``import_records``, the bulk import)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.errors import Problem
from shared.events import EventData, EventType
from shared.http import stale
from shared.identity import Identity
from shared.mongo import Document, Indexes, Transaction, UnitOfWork

from . import events
from .domain import ChildCase, Person, Team

HISTORY = "directory_history"


@dataclass(frozen=True)
class Kind:
    """One kind of directory record: its names, model, collection and event."""

    name: str
    plural: str
    model: type[BaseModel]
    event_type: EventType
    to_event: Callable[[str, int, Any], EventData]
    filters: tuple[str, ...]

    @property
    def collection(self) -> str:
        return self.plural


TEAMS = Kind(
    "team", "teams", Team, events.TEAM_CHANGED,
    lambda i, v, r: events.TeamChanged(team_id=i, version=v, **r.model_dump(mode="json")),
    ("manager_id", "district", "area"),
)
PEOPLE = Kind(
    "person", "people", Person, events.PERSON_CHANGED,
    lambda i, v, r: events.PersonChanged(person_id=i, version=v, **r.model_dump(mode="json")),
    ("team_id", "line_manager_id"),
)
CASES = Kind(
    "case", "cases", ChildCase, events.CASE_CHANGED,
    lambda i, v, r: events.CaseChanged(case_id=i, version=v, **r.model_dump(mode="json", exclude={"child_name", "date_of_birth"})),
    ("team_id", "allocated_worker_id", "team_manager_id"),
)
KINDS = (TEAMS, PEOPLE, CASES)
KINDS_BY_NAME = {kind.name: kind for kind in KINDS}

INDEXES = [
    *(
        Indexes(kind.collection, [IndexModel([(f"data.{f}", ASCENDING), ("_id", ASCENDING)]) for f in kind.filters])
        for kind in KINDS
    ),
    Indexes(HISTORY, [IndexModel([("kind", ASCENDING), ("record_id", ASCENDING), ("version", ASCENDING)], unique=True)]),
]


def _next_version(kind: Kind, record_id: str, current: Document | None, record: BaseModel, *, now: datetime, by: Identity) -> tuple[Document, Document] | None:
    """The record's next document and its history entry, or None when nothing changed."""
    data = record.model_dump(mode="json")
    if current is not None and current["data"] == data:
        return None
    version = (current["version"] if current else 0) + 1
    doc = {
        "_id": record_id, "version": version, "data": data, "updated_at": now, "updated_by": by.person_id,
        "created_at": current.get("created_at", now) if current else now,
    }
    entry = {"kind": kind.name, "record_id": record_id, "version": version, "data": data, "at": now, "by": by.person_id}
    return doc, entry


async def put_record(
    uow: UnitOfWork, kind: Kind, record_id: str, record: BaseModel, *, by: Identity, if_match: int | None
) -> tuple[Document, bool]:
    """Create or replace one record. Returns the stored document and whether anything changed.

    An unchanged record makes no new version and no event, so the case-management system may
    send the same state again safely. With ``if_match`` a change made since is never overwritten.
    """

    async def work(tx: Transaction) -> tuple[Document, bool]:
        collection = uow.db[kind.collection]
        current = await collection.find_one({"_id": record_id}, session=tx.session)
        if if_match is not None:
            if current is None:
                raise Problem(412, "stale-version", "Changed since you read it", f"There is no {kind.name} {record_id!r} at version {if_match}.")
            if current["version"] != if_match:
                raise stale(current["version"], if_match, kind.name)
        changed = _next_version(kind, record_id, current, record, now=uow.clock.now(), by=by)
        if changed is None:
            assert current is not None
            return current, False
        doc, entry = changed
        if current is None:
            try:
                await collection.insert_one(doc, session=tx.session)
            except DuplicateKeyError:
                raise stale(1, 0, kind.name) from None
        else:
            result = await collection.replace_one({"_id": record_id, "version": current["version"]}, doc, session=tx.session)
            if result.matched_count != 1:
                raise stale(current["version"] + 1, current["version"], kind.name)
        await uow.db[HISTORY].insert_one(entry, session=tx.session)
        tx.record(kind.event_type, kind.to_event(record_id, doc["version"], record), subject=f"{kind.name}/{record_id}")
        return doc, True

    return await uow.run(work)


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class _Raced(Exception):
    """A record of the batch changed while the batch was being written; the batch is read again."""


async def import_records(
    uow: UnitOfWork, kind: Kind, records: Sequence[tuple[str, BaseModel]], *, by: Identity, batch_size: int = 200
) -> ImportCounts:
    """Create or replace many records (ids distinct), ``batch_size`` per transaction.

    Each batch is read with one query, written with one insert and one bulk replace (guarded by
    each record's version), its history with one insert and one event per changed record; an
    unchanged record makes no version and no event, so an import may be sent again safely. A
    batch that meets a concurrent change is read again and retried; batches committed before a
    failure stay committed (and sending the file again completes it).
    """
    counts = ImportCounts()
    for start in range(0, len(records), batch_size):
        created, updated, unchanged = await write_batch(uow, kind, records[start:start + batch_size], by=by)
        counts.created += created
        counts.updated += updated
        counts.unchanged += unchanged
    return counts


#: Why a batch is given up when its records keep changing while it is written.
RACED_REASON = "Records of this import kept changing while it ran; send it again."


async def write_batch(
    uow: UnitOfWork, kind: Kind, batch: Sequence[tuple[str, BaseModel]], *, by: Identity,
    also: Callable[[Transaction, tuple[int, int, int]], Awaitable[None]] | None = None,
) -> tuple[int, int, int]:
    """Write one batch in one transaction; returns (created, updated, unchanged).

    ``also`` runs in the same transaction with those counts (the asynchronous import records its
    progress there, so the batch and its progress commit together or not at all). A batch that
    meets a concurrent change is read again; after 3 attempts it is refused with a 409.
    """

    async def work(tx: Transaction) -> tuple[int, int, int]:
        counts = await _import_batch(uow, kind, batch, tx, by)
        if also is not None:
            await also(tx, counts)
        return counts

    for attempt in range(3):
        try:
            return await uow.run(work)
        except _Raced:
            if attempt == 2:
                raise Problem(409, "conflict", "Changed during the import", RACED_REASON) from None
    raise AssertionError("unreachable")


async def _import_batch(uow: UnitOfWork, kind: Kind, batch: Sequence[tuple[str, BaseModel]], tx: Transaction, by: Identity) -> tuple[int, int, int]:
    collection = uow.db[kind.collection]
    ids = [record_id for record_id, _ in batch]
    current = {d["_id"]: d for d in await collection.find({"_id": {"$in": ids}}, session=tx.session).to_list()}
    now = uow.clock.now()
    inserts: list[Document] = []
    replaces: list[ReplaceOne[Document]] = []
    entries: list[Document] = []
    for record_id, record in batch:
        existing = current.get(record_id)
        changed = _next_version(kind, record_id, existing, record, now=now, by=by)
        if changed is None:
            continue
        doc, entry = changed
        if existing is None:
            inserts.append(doc)
        else:
            replaces.append(ReplaceOne({"_id": record_id, "version": existing["version"]}, doc))
        entries.append(entry)
        tx.record(kind.event_type, kind.to_event(record_id, doc["version"], record), subject=f"{kind.name}/{record_id}")
    try:
        if inserts:
            await collection.insert_many(inserts, session=tx.session)
    except DuplicateKeyError:
        raise _Raced from None
    if replaces:
        result = await collection.bulk_write(replaces, session=tx.session)
        if result.matched_count != len(replaces):
            raise _Raced
    if entries:
        await uow.db[HISTORY].insert_many(entries, session=tx.session)
    return len(inserts), len(replaces), len(batch) - len(entries)


async def get_record(db: AsyncDatabase[Document], kind: Kind, record_id: str) -> Document | None:
    return await db[kind.collection].find_one({"_id": record_id})


async def list_records(
    db: AsyncDatabase[Document], kind: Kind, *, filters: dict[str, str], after: str | None, limit: int
) -> list[Document]:
    query: dict[str, Any] = {f"data.{k}": v for k, v in filters.items()}
    if after is not None:
        query["_id"] = {"$gt": after}
    return await db[kind.collection].find(query).sort("_id", ASCENDING).limit(limit).to_list()


async def history(db: AsyncDatabase[Document], kind: Kind, record_id: str) -> list[Document]:
    return await db[HISTORY].find({"kind": kind.name, "record_id": record_id}).sort("version", ASCENDING).to_list()
