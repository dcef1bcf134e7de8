"""Directory records in the gateway's database, each change kept in ``directory_history``: one at
a time (``put_record``) or many per transaction (``import_records``, the bulk import)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from pydantic import TypeAdapter
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from shared.events import EventData, EventType
from shared.identity import Identity
from shared.mongo import Document, Indexes, Transaction, UnitOfWork
from shared.versioned import Stale, insert_many_versioned, insert_versioned, replace_many_versioned, replace_versioned

from . import events
from .domain import ChainBelow, ChildCase, Person, Team

HISTORY = "directory_history"
#: The last sequence given to a change of each kind (``{_id: kind, last: n}``): the directory sync
#: signal's numbering (``shared.directory_sync``), taken in the transaction that writes the change.
SEQUENCES = "directory_sequences"


@dataclass(frozen=True)
class Kind:
    """One kind of directory record: its names, domain record, collection and event (made from
    the record's stored data)."""

    name: str
    plural: str
    record: type[Any]
    event_type: EventType
    #: The event of a change: (record id, version, sequence, stored data).
    to_event: Callable[[str, int, int, Document], EventData]
    filters: tuple[str, ...]

    @property
    def collection(self) -> str:
        return self.plural

    @cached_property
    def _adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self.record)

    def data_of(self, record: Any) -> Document:
        """A record's stored data: its fields as JSON (dates as ISO strings, enums as their values)."""
        data: Document = self._adapter.dump_python(record, mode="json")
        return data

    def record_of(self, data: Document) -> Any:
        """The record whose stored data is ``data``."""
        return self._adapter.validate_python(data)


TEAMS = Kind(
    "team", "teams", Team, events.TEAM_CHANGED,
    lambda i, v, n, d: events.TeamChanged(team_id=i, version=v, sequence=n, **d),
    ("manager_id", "district", "area"),
)
PEOPLE = Kind(
    "person", "people", Person, events.PERSON_CHANGED,
    lambda i, v, n, d: events.PersonChanged(person_id=i, version=v, sequence=n, **d),
    ("team_id", "line_manager_id"),
)
CASES = Kind(
    "case", "cases", ChildCase, events.CASE_CHANGED,
    lambda i, v, n, d: events.CaseChanged(case_id=i, version=v, sequence=n, **{f: x for f, x in d.items() if f not in events.CHILD_DETAILS}),
    ("team_id", "allocated_worker_id", "team_manager_id"),  # also who may read a case (domain.CASE_ACCESS_FIELDS)
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


def _next_version(kind: Kind, record_id: str, current: Document | None, record: Any, *, now: datetime, by: Identity) -> tuple[Document, Document] | None:
    """The record's next document and its history entry, or None when nothing changed."""
    data = kind.data_of(record)
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
    uow: UnitOfWork, kind: Kind, record_id: str, record: Any, *, by: Identity, if_match: int | None
) -> tuple[Document, bool]:
    """Create or replace one record. Returns the stored document and whether anything changed.

    An unchanged record makes no new version and no event, so the case-management system may
    send the same state again safely. With ``if_match`` a change made since is never overwritten.
    """

    async def work(tx: Transaction) -> tuple[Document, bool]:
        collection = uow.db[kind.collection]
        current = await collection.find_one({"_id": record_id}, session=tx.session)
        if if_match is not None and (current is None or current["version"] != if_match):
            raise Stale(kind.name, None if current is None else current["version"], if_match, ident=record_id)
        changed = _next_version(kind, record_id, current, record, now=uow.clock.now(), by=by)
        if changed is None:
            assert current is not None
            return current, False
        doc, entry = changed
        if current is None:
            await insert_versioned(collection, doc, what=kind.name, session=tx.session)
        else:
            await replace_versioned(collection, record_id, doc, current["version"], what=kind.name, session=tx.session)
        await uow.db[HISTORY].insert_one(entry, session=tx.session)
        sequence = await take_sequences(uow.db, kind, 1, tx)
        tx.record(kind.event_type, kind.to_event(record_id, doc["version"], sequence, doc["data"]), subject=f"{kind.name}/{record_id}")
        return doc, True

    return await uow.run(work)


async def take_sequences(db: AsyncDatabase[Document], kind: Kind, count: int, tx: Transaction) -> int:
    """Number ``count`` changes of ``kind`` in ``tx``; returns the last number taken (they are
    ``last - count + 1 .. last``). With ``count`` 0: the last number given so far (0: none yet).
    Concurrent writers of one kind meet on this one document, so numbers follow commit order."""
    if count == 0:
        doc = await db[SEQUENCES].find_one({"_id": kind.name}, session=tx.session)
        return int(doc["last"]) if doc else 0
    doc = await db[SEQUENCES].find_one_and_update(
        {"_id": kind.name}, {"$inc": {"last": count}}, upsert=True, return_document=ReturnDocument.AFTER, session=tx.session
    )
    assert doc is not None
    return int(doc["last"])


async def last_sequences(db: AsyncDatabase[Document]) -> dict[str, int]:
    """The last sequence given to each kind (0: none yet)."""
    found = {d["_id"]: int(d["last"]) async for d in db[SEQUENCES].find({})}
    return {kind.name: found.get(kind.name, 0) for kind in KINDS}


class BatchCounts(NamedTuple):
    """What one batch did, and the directory's sequence of its kind once it committed (the last
    number it took, or the last given before it when it changed nothing)."""

    created: int
    updated: int
    unchanged: int
    through: int


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: The sequence of the import's kind a service must have applied to hold the whole import.
    through: int = 0


class ImportRaced(Exception):
    """The batch met concurrent changes three times running (409 on the synchronous path; the
    asynchronous job fails with this reason)."""

    def __init__(self) -> None:
        super().__init__(RACED_REASON)


async def import_records(
    uow: UnitOfWork, kind: Kind, records: Sequence[tuple[str, Any]], *, by: Identity, batch_size: int = 200
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
        done = await write_batch(uow, kind, records[start:start + batch_size], by=by)
        counts.created += done.created
        counts.updated += done.updated
        counts.unchanged += done.unchanged
        counts.through = max(counts.through, done.through)
    if not records:
        counts.through = (await last_sequences(uow.db))[kind.name]
    return counts


#: Why a batch is given up when its records keep changing while it is written.
RACED_REASON = "Records of this import kept changing while it ran; send it again."


async def write_batch(
    uow: UnitOfWork, kind: Kind, batch: Sequence[tuple[str, Any]], *, by: Identity,
    also: Callable[[Transaction, BatchCounts], Awaitable[None]] | None = None,
) -> BatchCounts:
    """Write one batch in one transaction; returns (created, updated, unchanged, through).

    ``also`` runs in the same transaction with those counts (the asynchronous import records its
    progress there, so the batch and its progress commit together or not at all). A batch that
    meets a concurrent change is read again; after 3 attempts it is refused with a 409.
    """

    async def work(tx: Transaction) -> BatchCounts:
        counts = await _import_batch(uow, kind, batch, tx, by)
        if also is not None:
            await also(tx, counts)
        return counts

    for attempt in range(3):
        try:
            return await uow.run(work)
        except Stale:  # a record of the batch changed while it was written: read the batch again
            if attempt == 2:
                raise ImportRaced from None
    raise AssertionError("unreachable")


async def _import_batch(uow: UnitOfWork, kind: Kind, batch: Sequence[tuple[str, Any]], tx: Transaction, by: Identity) -> BatchCounts:
    collection = uow.db[kind.collection]
    ids = [record_id for record_id, _ in batch]
    current = {d["_id"]: d for d in await collection.find({"_id": {"$in": ids}}, session=tx.session).to_list()}
    now = uow.clock.now()
    inserts: list[Document] = []
    replaces: list[tuple[Document, int]] = []
    entries: list[Document] = []
    changed_docs: list[Document] = []
    for record_id, record in batch:
        existing = current.get(record_id)
        changed = _next_version(kind, record_id, existing, record, now=now, by=by)
        if changed is None:
            continue
        doc, entry = changed
        if existing is None:
            inserts.append(doc)
        else:
            replaces.append((doc, existing["version"]))
        entries.append(entry)
        changed_docs.append(doc)
    await insert_many_versioned(collection, inserts, what=kind.name, session=tx.session)
    await replace_many_versioned(collection, replaces, what=kind.name, session=tx.session)
    if entries:
        await uow.db[HISTORY].insert_many(entries, session=tx.session)
    last = await take_sequences(uow.db, kind, len(changed_docs), tx)
    for sequence, doc in enumerate(changed_docs, start=last - len(changed_docs) + 1):
        tx.record(kind.event_type, kind.to_event(doc["_id"], doc["version"], sequence, doc["data"]), subject=f"{kind.name}/{doc['_id']}")
    return BatchCounts(len(inserts), len(replaces), len(batch) - len(entries), last)


async def get_record(db: AsyncDatabase[Document], kind: Kind, record_id: str) -> Document | None:
    return await db[kind.collection].find_one({"_id": record_id})


#: A query asks for at most ``IN_CHUNK`` values per ``$in`` (more are asked in chunks), and the
#: walk down the line-management chain, once a level holds more than ``WHOLE_STAFF`` people, reads
#: the line manager of every member of staff at once (ids only) instead: SecantusDB checks each
#: document against every value of an ``$in``, so for an executive director (3,141 staff, 192
#: teams, measured) one ``$in`` per level took ~1 s in all, against ~45 ms for reading every
#: person's line manager and ~4 ms for every team's manager.
IN_CHUNK = 32
WHOLE_STAFF = 128

Condition = Mapping[str, AbstractSet[str]]


async def list_records(
    db: AsyncDatabase[Document], kind: Kind, *, any_of: Sequence[Condition], after: str | None, limit: int
) -> list[Document]:
    """Up to ``limit`` records after ``after`` (by id) that meet any of the conditions in
    ``any_of`` (each: field -> the values it may take, all fields must hold; no conditions: none).

    One condition is one query. Several (a caller's readable cases) are one query each rather than
    an ``$or`` (which SecantusDB serves by scanning the collection, ~0.35 s for 20,000 cases): each
    rides its field's ``(data.<field>, _id)`` index, sorted by id and limited, and the pages are
    merged by id, so the page is exact. A condition allowing more than ``IN_CHUNK`` values of a
    field is asked in chunks the same way. MongoDB reads at most ``limit`` documents per query;
    SecantusDB reads every match before sorting, so there one page costs in proportion to the
    cases the caller may read (measured with 20,000 cases in 200 teams, a loaded 2-core machine:
    5-18 ms for 1 to 4 teams, ~0.13 s for 20, 2.5-3.4 s for all 200, when the unrestricted list of
    QA staff, itself a scan, costs 0.35-0.6 s).
    """

    def chunks(condition: Condition) -> list[Condition]:
        for f, values in condition.items():
            if len(values) > IN_CHUNK:
                ordered = sorted(values)
                return [{**condition, f: frozenset(ordered[i:i + IN_CHUNK])} for i in range(0, len(ordered), IN_CHUNK)]
        return [condition]

    def query(condition: Condition) -> dict[str, Any]:
        q: dict[str, Any] = {
            f"data.{f}": next(iter(values)) if len(values) == 1 else {"$in": sorted(values)} for f, values in condition.items()
        }
        if after is not None:
            q["_id"] = {"$gt": after}
        return q

    collection = db[kind.collection]
    conditions = [chunk for c in any_of for chunk in chunks(c)]
    pages = await asyncio.gather(*(collection.find(query(c)).sort("_id", ASCENDING).limit(limit).to_list() for c in conditions))
    if len(pages) == 1:
        return pages[0]
    merged = {doc["_id"]: doc for page in pages for doc in page}
    return [merged[record_id] for record_id in sorted(merged)[:limit]]




async def teams_managed_down_the_line(db: AsyncDatabase[Document], person_id: str) -> frozenset[str]:
    """The teams managed by ``person_id`` or by anyone below them in the line-management chain:
    the teams whose children's cases they read as a manager (``CaseReader.managed_teams``).

    Cost: per level of the chain below the person (and one more that finds nobody), one query on
    ``people`` by the indexed ``data.line_manager_id`` per ``IN_CHUNK`` people of the level, run
    together; then one query on ``teams`` by the indexed ``data.manager_id`` (or, past ``IN_CHUNK``
    people, one reading every team's manager: teams are few). All return ids only. Once a level
    holds more than ``WHOLE_STAFF`` people (a head of service, a director) the rest of the walk is
    done in memory over one query reading every person's line manager: the cost of the staff
    directory, never of the cases. Measured on SecantusDB (3,141 staff, 192 teams, a loaded 2-core
    machine): someone who manages nobody 1-2 ms (2 queries), a team manager 2-5 ms, a service
    manager of 60 staff 9-14 ms, a head of service or director 50-115 ms. Nothing is cached
    (unlike the caller's identity): a change of line manager or team manager counts at the next
    request.
    """
    people = db[PEOPLE.collection]
    chain = ChainBelow(person_id)
    while not chain.done:
        frontier = sorted(chain.frontier)
        if len(frontier) > WHOLE_STAFF:
            everyone = await people.find({}, {"data.line_manager_id": 1}).to_list()
            chain.walk({d["_id"]: d.get("data", {}).get("line_manager_id") for d in everyone})
            break
        found = await asyncio.gather(*(
            people.find({"data.line_manager_id": {"$in": frontier[i:i + IN_CHUNK]}}, {"_id": 1}).to_list()
            for i in range(0, len(frontier), IN_CHUNK)
        ))
        chain.add_level(d["_id"] for docs in found for d in docs)
    if len(chain.people) > IN_CHUNK:
        teams = await db[TEAMS.collection].find({}, {"data.manager_id": 1}).to_list()
        return frozenset(t["_id"] for t in teams if t.get("data", {}).get("manager_id") in chain.people)
    teams = await db[TEAMS.collection].find({"data.manager_id": {"$in": sorted(chain.people)}}, {"_id": 1}).to_list()
    return frozenset(t["_id"] for t in teams)


async def history(db: AsyncDatabase[Document], kind: Kind, record_id: str) -> list[Document]:
    return await db[HISTORY].find({"kind": kind.name, "record_id": record_id}).sort("version", ASCENDING).to_list()
