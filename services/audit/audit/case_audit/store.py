"""Audits in MongoDB: the aggregate <-> its document, version-guarded writes, the draft history,
the PDFs, and the queries the API and the scheduler run (each with its index).

The aggregate is stored whole under ``audit`` (JSON-shaped, so a stored audit reads back exactly);
the fields queries filter on are copied to the top level.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bson import Binary
from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Stale, replace_versioned

from ..reporting.domain.figures import report_facts
from .domain import events as ev
from .domain.audit import Audit
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
]

_AUDIT = TypeAdapter(Audit)
#: What a ``Stale`` of this store names.
WHAT = "audit"


class AllocationExists(Exception):
    """An audit was already created for this allocation key."""

    def __init__(self, allocation_key: str) -> None:
        super().__init__(allocation_key)
        self.allocation_key = allocation_key


def to_document(audit: Audit) -> Document:
    body = _AUDIT.dump_python(audit, mode="json", exclude={"events"})
    doc: Document = {
        "_id": audit.id,
        "version": audit.version,
        "status": audit.status.value,
        "viewers": audit.viewers(),
        "auditor_id": audit.auditor_id,
        "case_id": audit.case.case_id,
        "month": audit.month,
        "created_at": audit.created_at,
        "completed_at": audit.completed_at,
        "updated_at": audit.updated_at,
        "updated_by": audit.updated_by,
        "audit": body,
    }
    if audit.allocation_key:
        doc["allocation_key"] = audit.allocation_key
    doc.update(report_facts(audit))
    action = audit.inadequate_action
    if action is not None and action.status is ActionStatus.OPEN:
        doc["action_status"] = action.status.value
        doc["action_escalate_on"] = action.escalate_on.isoformat()
    return doc


def from_document(doc: Document) -> Audit:
    audit = _AUDIT.validate_python({**doc["audit"], "events": []})
    audit.version = doc["version"]
    return audit


async def insert(tx: Transaction, db: AsyncDatabase[Document], audit: Audit) -> None:
    audit.version = 1
    try:
        await db[AUDITS].insert_one(to_document(audit), session=tx.session)
    except DuplicateKeyError:
        # Nothing more may run in this transaction (the server aborted it): the caller looks the
        # existing audit up afterwards.
        if audit.allocation_key:
            raise AllocationExists(audit.allocation_key) from None
        raise
    await _keep_drafts(tx, db, audit)


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
    """Replace the stored audit if nobody changed it since it was read; else ``Stale``."""
    expected = audit.version
    audit.version = expected + 1
    try:
        await replace_versioned(db[AUDITS], audit.id, to_document(audit), expected, what=WHAT, session=tx.session)
    except Stale:
        audit.version = expected
        raise
    await _keep_drafts(tx, db, audit)


async def _keep_drafts(tx: Transaction, db: AsyncDatabase[Document], audit: Audit) -> None:
    for event in audit.events:
        if isinstance(event, ev.DraftSaved):
            await db[DRAFTS].insert_one(
                {"audit_id": audit.id, "stage": event.stage, "number": event.number, "work": to_jsonable_python(event.work), "by": event.by, "at": event.at},
                session=tx.session,
            )


async def load(db: AsyncDatabase[Document], audit_id: str, *, tx: Transaction | None = None) -> Audit | None:
    doc = await db[AUDITS].find_one({"_id": audit_id}, session=tx.session if tx else None)
    return from_document(doc) if doc else None


async def list_audits(
    db: AsyncDatabase[Document], *, viewer: str | None, status: str | None, after: str | None, limit: int
) -> list[Audit]:
    query: dict[str, Any] = {}
    if viewer is not None:
        query["viewers"] = viewer
    if status is not None:
        query["status"] = status
    if after is not None:
        query["_id"] = {"$gt": after}
    docs = await db[AUDITS].find(query).sort("_id", ASCENDING).limit(limit).to_list()
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
