"""Multi-agency audits in MongoDB: stored whole under ``multi_agency`` with a version-guarded
replace, and the fields queries filter on copied to the top level."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import Binary
from pydantic import TypeAdapter
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Stale, replace_versioned

from .domain.audit import MultiAgencyAudit

MULTI_AGENCY_AUDITS = "multi_agency_audits"
#: The reports to the QA sub-committee as PDFs (read by ``_id`` and audit id).
REPORT_PDFS = "multi_agency_report_pdfs"

INDEXES = [
    Indexes(
        MULTI_AGENCY_AUDITS,
        [
            # "My multi-agency audits" (parties), and QA staff's list by stage.
            IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("stage", ASCENDING), ("_id", ASCENDING)]),
        ],
    ),
]

_ADAPTER = TypeAdapter(MultiAgencyAudit)


#: What a ``Stale`` of this store names.
WHAT = "multi-agency audit"


def to_document(audit: MultiAgencyAudit) -> Document:
    return {
        "_id": audit.id,
        "version": audit.version,
        "stage": audit.stage.value,
        "viewers": audit.viewers(),
        "updated_at": audit.updated_at,
        "updated_by": audit.updated_by,
        "multi_agency": _ADAPTER.dump_python(audit, mode="json", exclude={"events"}),
    }


def from_document(doc: Document) -> MultiAgencyAudit:
    audit = _ADAPTER.validate_python({**doc["multi_agency"], "events": []})
    audit.version = doc["version"]
    return audit


async def insert(tx: Transaction, db: AsyncDatabase[Document], audit: MultiAgencyAudit) -> None:
    audit.version = 1
    await db[MULTI_AGENCY_AUDITS].insert_one(to_document(audit), session=tx.session)


async def save(tx: Transaction, db: AsyncDatabase[Document], audit: MultiAgencyAudit) -> None:
    """Replace the stored audit if nobody changed it since it was read; else ``Stale``."""
    expected = audit.version
    audit.version = expected + 1
    try:
        await replace_versioned(db[MULTI_AGENCY_AUDITS], audit.id, to_document(audit), expected, what=WHAT, session=tx.session)
    except Stale:
        audit.version = expected
        raise


async def load(db: AsyncDatabase[Document], audit_id: str, *, tx: Transaction | None = None) -> MultiAgencyAudit | None:
    doc = await db[MULTI_AGENCY_AUDITS].find_one({"_id": audit_id}, session=tx.session if tx else None)
    return from_document(doc) if doc else None


async def list_audits(db: AsyncDatabase[Document], *, viewer: str | None, stage: str | None, after: str | None, limit: int) -> list[MultiAgencyAudit]:
    query: dict[str, Any] = {}
    if viewer is not None:
        query["viewers"] = viewer
    if stage is not None:
        query["stage"] = stage
    if after is not None:
        query["_id"] = {"$gt": after}
    docs = await db[MULTI_AGENCY_AUDITS].find(query).sort("_id", ASCENDING).limit(limit).to_list()
    return [from_document(d) for d in docs]


async def store_report_pdf(tx: Transaction, db: AsyncDatabase[Document], *, pdf_id: str, audit_id: str, number: int, content: bytes, at: datetime) -> None:
    await db[REPORT_PDFS].insert_one(
        {"_id": pdf_id, "audit_id": audit_id, "report": number, "content": Binary(content), "size": len(content), "created_at": at},
        session=tx.session,
    )


async def load_report_pdf(db: AsyncDatabase[Document], audit_id: str, pdf_id: str) -> Document | None:
    return await db[REPORT_PDFS].find_one({"_id": pdf_id, "audit_id": audit_id})
