"""Audits in MongoDB: the aggregate <-> its document, version-guarded writes, the draft history,
the PDFs, and the queries the API and the scheduler run (each with its index).

The aggregate is stored whole under ``audit`` (JSON-shaped, so a stored audit reads back exactly);
the fields queries filter on are copied to the top level.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bson import Binary
from pydantic_core import to_jsonable_python
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Snapshots, Stale, replace_versioned_returning

from ..reporting import rollups
from .documents import from_document, to_document
from .domain import events as ev
from .domain.audit import Audit, AuditStatus
from .domain.follow_ups import ActionStatus

AUDITS = "audits"
DRAFTS = "audit_drafts"
PDFS = "audit_pdfs"

INDEXES = [
    Indexes(
        AUDITS,
        [
            IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("_id", ASCENDING)]),
            # One audit per allocation (issue 7 allocates one per auditor and month).
            IndexModel([("allocation_key", ASCENDING)], unique=True, sparse=True),
            IndexModel([("action_status", ASCENDING), ("action_escalate_on", ASCENDING)]),
            # Reports: a month (or a range of months) across teams, and one team over months.
            IndexModel([("month", ASCENDING), ("team_id", ASCENDING)]),
            IndexModel([("team_id", ASCENDING), ("month", ASCENDING)]),
            # The draw: cases audited in the last 12 months.
            IndexModel([("created_at", ASCENDING)]),
        ],
    ),
    Indexes(DRAFTS, [IndexModel([("audit_id", ASCENDING), ("stage", ASCENDING), ("number", ASCENDING)], unique=True)]),
    Indexes(PDFS, [IndexModel([("audit_id", ASCENDING), ("created_at", ASCENDING)])]),
    # The reports' roll-ups, moved with every audit written here (``reporting.rollups``).
    *rollups.INDEXES,
]

#: What a ``Stale`` of this store names.
WHAT = "audit"


class AllocationExists(Exception):
    """An audit was already created for this allocation key."""

    def __init__(self, allocation_key: str) -> None:
        super().__init__(allocation_key)
        self.allocation_key = allocation_key


async def insert(tx: Transaction, db: AsyncDatabase[Document], audit: Audit) -> None:
    """Store a new audit and add it to the reports' roll-ups; ``AllocationExists`` on a duplicate
    allocation key."""
    await insert_many(tx, db, [audit])


async def insert_many(tx: Transaction, db: AsyncDatabase[Document], audits: list[Audit]) -> None:
    """Store new audits with one insert and their roll-ups with one bulk write (and their drafts,
    if any); ``AllocationExists`` (of the first duplicate) when an allocation key is taken.
    Nothing is kept then: the server aborted the transaction."""
    if not audits:
        return
    for audit in audits:
        audit.version = 1
    docs = [to_document(a) for a in audits]
    try:
        if len(docs) == 1:
            await db[AUDITS].insert_one(docs[0], session=tx.session)
        else:
            await db[AUDITS].insert_many(docs, ordered=True, session=tx.session)
    except DuplicateKeyError:
        # Nothing more may run in this transaction (the server aborted it): the caller looks the
        # existing audit up afterwards.
        if audits[0].allocation_key:
            raise AllocationExists(audits[0].allocation_key) from None
        raise
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors") or []
        if errors and errors[0].get("code") == 11000:
            key = audits[int(errors[0].get("index", 0))].allocation_key
            if key:
                raise AllocationExists(key) from None
        raise
    await rollups.apply(db, [], docs, session=tx.session)
    await _keep_drafts(tx, db, audits)


async def find_allocated(db: AsyncDatabase[Document], allocation_key: str, *, tx: Transaction | None = None) -> str | None:
    doc = await db[AUDITS].find_one({"allocation_key": allocation_key}, {"_id": 1}, session=tx.session if tx else None)
    return str(doc["_id"]) if doc else None


def _key_range(prefix: str) -> dict[str, str]:
    # A range of the unique allocation_key index: every key that starts with ``prefix``.
    return {"$gt": prefix, "$lt": prefix + "\uffff"}


async def allocated_with_prefix(db: AsyncDatabase[Document], prefix: str, *, after: str | None = None, limit: int | None = None) -> dict[str, str]:
    """allocation_key -> audit id for every audit allocated under ``prefix`` (a cycle's keys)."""
    query: dict[str, Any] = {"allocation_key": _key_range(prefix)}
    if after is not None:
        query["allocation_key"] = {"$gt": after, "$lt": prefix + "\uffff"}
    cursor = db[AUDITS].find(query, {"allocation_key": 1}).sort("allocation_key", ASCENDING)
    if limit is not None:
        cursor = cursor.limit(limit)
    return {d["allocation_key"]: d["_id"] for d in await cursor.to_list()}


async def count_allocated_with_prefix(db: AsyncDatabase[Document], prefix: str) -> int:
    return await db[AUDITS].count_documents({"allocation_key": _key_range(prefix)})


async def cases_audited_since(db: AsyncDatabase[Document], since: datetime) -> set[str]:
    """Every case with an audit created since ``since`` (the draw's 12-month exclusion)."""
    docs = await db[AUDITS].find({"created_at": {"$gte": since}}, {"case_id": 1}).to_list()
    return {d["case_id"] for d in docs}


async def save(tx: Transaction, db: AsyncDatabase[Document], audit: Audit) -> None:
    """Replace the stored audit if nobody changed it since it was read, and move the reports'
    roll-ups from what it was to what it is; else ``Stale`` and nothing changes."""
    expected = audit.version
    audit.version = expected + 1
    doc = to_document(audit)
    # The document as it was comes back from the guarded replacement (its report fields; its body
    # too for a completed audit, whose paired grades a document stored before it kept them are
    # read from): as loaded (``SNAPSHOTS``), or read again for an audit not loaded by ``load``.
    projection = None if audit.status is AuditStatus.COMPLETED else rollups.FACT_FIELDS
    try:
        before = await replace_versioned_returning(
            db[AUDITS], audit.id, doc, expected, what=WHAT, projection=projection, session=tx.session, read=SNAPSHOTS.read(audit)
        )
    except Stale:
        audit.version = expected
        raise
    SNAPSHOTS.keep(audit, doc)
    await rollups.apply(db, [before], [doc], session=tx.session)
    await _keep_drafts(tx, db, [audit])


async def delete(tx: Transaction, db: AsyncDatabase[Document], audit_id: str) -> int:
    """Delete an audit and take it out of the reports' roll-ups; the number deleted (0 or 1)."""
    # A read and a delete by ``_id`` rather than one findAndModify, which SecantusDB answers by
    # scanning the collection (see ``shared.versioned.replace_versioned_returning``).
    gone = await db[AUDITS].find_one({"_id": audit_id}, session=tx.session)
    if gone is None or (await db[AUDITS].delete_one({"_id": audit_id}, session=tx.session)).deleted_count == 0:
        return 0
    await rollups.apply(db, [gone], [], session=tx.session)
    return 1


async def _keep_drafts(tx: Transaction, db: AsyncDatabase[Document], audits: list[Audit]) -> None:
    drafts = [
        {"audit_id": audit.id, "stage": event.stage, "number": event.number, "work": to_jsonable_python(event.work), "by": event.by, "at": event.at}
        for audit in audits for event in audit.events if isinstance(event, ev.DraftSaved)
    ]
    if drafts:
        await db[DRAFTS].insert_many(drafts, ordered=True, session=tx.session)


#: Each audit ``load`` read (or ``save`` wrote), whole: the next save's "before", not read again.
SNAPSHOTS = Snapshots(None)


async def load(db: AsyncDatabase[Document], audit_id: str, *, tx: Transaction | None = None) -> Audit | None:
    doc = await db[AUDITS].find_one({"_id": audit_id}, session=tx.session if tx else None)
    if doc is None:
        return None
    audit = from_document(doc)
    SNAPSHOTS.keep(audit, doc)
    return audit


async def list_audits(
    db: AsyncDatabase[Document], *, viewer: str | None, status: str | None, after: str | None, limit: int
) -> list[Audit]:
    docs = await page_by_id(db[AUDITS], {"viewers": viewer, "status": status}, after=after, limit=limit)
    return [from_document(d) for d in docs]


async def due_inadequate_actions(db: AsyncDatabase[Document], today: date, *, limit: int = 500) -> list[str]:
    cursor = db[AUDITS].find(
        {"action_status": ActionStatus.OPEN.value, "action_escalate_on": {"$lte": today.isoformat()}}, {"_id": 1}
    ).limit(limit)
    return [d["_id"] for d in await cursor.to_list()]


async def drafts(db: AsyncDatabase[Document], audit_id: str) -> list[Document]:
    """Every saved draft of an audit (a few per stage), in stage and save order."""
    return await db[DRAFTS].find({"audit_id": audit_id}).sort([("stage", ASCENDING), ("number", ASCENDING)]).to_list()


async def store_pdf(
    tx: Transaction, db: AsyncDatabase[Document], *, pdf_id: str, audit_id: str, stage: str, content: bytes, at: datetime
) -> None:
    await db[PDFS].insert_one(
        {"_id": pdf_id, "audit_id": audit_id, "stage": stage, "content": Binary(content), "size": len(content), "created_at": at},
        session=tx.session,
    )


async def load_pdf(db: AsyncDatabase[Document], audit_id: str, pdf_id: str) -> Document | None:
    return await db[PDFS].find_one({"_id": pdf_id, "audit_id": audit_id})
