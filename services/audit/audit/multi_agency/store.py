"""Multi-agency audits in MongoDB: stored whole under ``multi_agency`` with a version-guarded
replace, and the fields queries filter on copied to the top level."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bson import Binary
from pydantic import TypeAdapter
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import Stale

from ..case_audit import store as case_audit_store
from ..common.saving import Embedded, save_next_version
from .domain.audit import MultiAgencyAudit
from .domain.baseline import Baseline
from .domain.retention import Destruction, RetainedCounts, counts_of

MULTI_AGENCY_AUDITS = "multi_agency_audits"
#: The reports to the QA sub-committee as PDFs (read by ``_id`` and audit id).
REPORT_PDFS = "multi_agency_report_pdfs"
#: The retention log: one record per audit destroyed after three years (ids, dates, counts), kept.
RETENTION_LOG = "multi_agency_retention_log"
#: Baseline audits (eight to ten cases each, Appendix E 3): ids of their audits, and their report's figures.
BASELINES = "multi_agency_baselines"
#: Each completed baseline's report as a PDF (no case, no code).
BASELINE_PDFS = "multi_agency_baseline_pdfs"

INDEXES = [
    Indexes(
        MULTI_AGENCY_AUDITS,
        [
            # "My multi-agency audits" (parties), and QA staff's list by stage.
            IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("stage", ASCENDING), ("_id", ASCENDING)]),
            # The scheduled pass: audits set up three years ago or more.
            IndexModel([("created_at", ASCENDING)]),
        ],
    ),
    Indexes(REPORT_PDFS, [IndexModel([("audit_id", ASCENDING)])]),
    Indexes(RETENTION_LOG, [IndexModel([("counts.month", ASCENDING)]), IndexModel([("destroyed_at", ASCENDING), ("_id", ASCENDING)])]),
    Indexes(BASELINE_PDFS, [IndexModel([("baseline_id", ASCENDING)])]),
]

_AUDIT = Embedded(MultiAgencyAudit, "multi_agency")


#: What a ``Stale`` of this store names.
WHAT = "multi-agency audit"


def to_document(audit: MultiAgencyAudit) -> Document:
    return {
        "_id": audit.id,
        "version": audit.version,
        "stage": audit.stage.value,
        "viewers": audit.viewers(),
        "created_at": audit.created_at,
        "updated_at": audit.updated_at,
        "updated_by": audit.updated_by,
        _AUDIT.key: _AUDIT.dumped(audit),
    }


def from_document(doc: Document) -> MultiAgencyAudit:
    return _AUDIT.loaded(doc)


async def insert(tx: Transaction, db: AsyncDatabase[Document], audit: MultiAgencyAudit) -> None:
    audit.version = 1
    await db[MULTI_AGENCY_AUDITS].insert_one(to_document(audit), session=tx.session)


async def save(tx: Transaction, db: AsyncDatabase[Document], audit: MultiAgencyAudit) -> None:
    """Replace the stored audit if nobody changed it since it was read; else ``Stale``."""
    await save_next_version(db[MULTI_AGENCY_AUDITS], audit, to_document, what=WHAT, session=tx.session)


async def load(db: AsyncDatabase[Document], audit_id: str, *, tx: Transaction | None = None) -> MultiAgencyAudit | None:
    doc = await db[MULTI_AGENCY_AUDITS].find_one({"_id": audit_id}, session=tx.session if tx else None)
    return from_document(doc) if doc else None


async def load_many(db: AsyncDatabase[Document], audit_ids: list[str], *, tx: Transaction | None = None) -> list[MultiAgencyAudit]:
    """The audits still held, in the order of ``audit_ids``."""
    docs = await db[MULTI_AGENCY_AUDITS].find({"_id": {"$in": audit_ids}}, session=tx.session if tx else None).to_list()
    found = {d["_id"]: from_document(d) for d in docs}
    return [found[i] for i in audit_ids if i in found]


async def list_audits(db: AsyncDatabase[Document], *, viewer: str | None, stage: str | None, after: str | None, limit: int) -> list[MultiAgencyAudit]:
    docs = await page_by_id(db[MULTI_AGENCY_AUDITS], {"viewers": viewer, "stage": stage}, after=after, limit=limit)
    return [from_document(d) for d in docs]


async def store_report_pdf(tx: Transaction, db: AsyncDatabase[Document], *, pdf_id: str, audit_id: str, number: int, content: bytes, at: datetime) -> None:
    await db[REPORT_PDFS].insert_one(
        {"_id": pdf_id, "audit_id": audit_id, "report": number, "content": Binary(content), "size": len(content), "created_at": at},
        session=tx.session,
    )


async def load_report_pdf(db: AsyncDatabase[Document], audit_id: str, pdf_id: str) -> Document | None:
    return await db[REPORT_PDFS].find_one({"_id": pdf_id, "audit_id": audit_id})


# --- retention (Appendix E 6: held three years, then destroyed) ----------------------------------

_DESTRUCTION = TypeAdapter(Destruction)
_COUNTS = TypeAdapter(RetainedCounts)


async def set_up_before(db: AsyncDatabase[Document], day: date, *, limit: int) -> list[str]:
    """The ids of audits set up before ``day`` (a little past the three years in any time zone;
    the domain decides), and of any stored before ``created_at`` was kept at the top level."""
    cutoff = datetime.combine(day, time(0), UTC)
    query = {"$or": [{"created_at": {"$lt": cutoff}}, {"created_at": {"$exists": False}}]}
    docs = await db[MULTI_AGENCY_AUDITS].find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit).to_list()
    return [str(d["_id"]) for d in docs]


async def destroy(tx: Transaction, db: AsyncDatabase[Document], audit: MultiAgencyAudit, record: Destruction) -> Destruction:
    """Delete the audit, its case audit (case id, answers, drafts) and their PDFs, and keep the
    retention log's record, in one transaction; ``Stale`` if the audit changed (or went) since read."""
    gone = await db[MULTI_AGENCY_AUDITS].delete_one({"_id": audit.id, "version": audit.version}, session=tx.session)
    if gone.deleted_count != 1:
        raise Stale(WHAT, None, audit.version, ident=audit.id)
    removed = {
        "multi_agency_audit": 1,
        "report_pdfs": (await db[REPORT_PDFS].delete_many({"audit_id": audit.id}, session=tx.session)).deleted_count,
        # Taken out of the reports' roll-ups with it (``reporting.rollups``).
        "case_audit": await case_audit_store.delete(tx, db, audit.id),
        "case_audit_drafts": (await db[case_audit_store.DRAFTS].delete_many({"audit_id": audit.id}, session=tx.session)).deleted_count,
        "case_audit_pdfs": (await db[case_audit_store.PDFS].delete_many({"audit_id": audit.id}, session=tx.session)).deleted_count,
    }
    kept = Destruction(**{**vars(record), "removed": removed})
    await db[RETENTION_LOG].insert_one({"_id": audit.id, **_DESTRUCTION.dump_python(kept, mode="json"), "destroyed_at": kept.destroyed_at}, session=tx.session)
    return kept


def _destruction(doc: Document) -> Destruction:
    return _DESTRUCTION.validate_python({k: v for k, v in doc.items() if k != "_id"})


async def retention_log(db: AsyncDatabase[Document], *, after: str | None, limit: int) -> list[Destruction]:
    docs = await page_by_id(db[RETENTION_LOG], {}, after=after, limit=limit)
    return [_destruction(d) for d in docs]


async def destroyed_counts(db: AsyncDatabase[Document], year: int) -> list[RetainedCounts]:
    docs = await db[RETENTION_LOG].find({"counts.month": {"$gte": f"{year:04d}-01", "$lte": f"{year:04d}-12"}}, {"counts": 1}).to_list()
    return [_COUNTS.validate_python(d["counts"]) for d in docs]


async def held_counts(db: AsyncDatabase[Document], year: int) -> list[RetainedCounts]:
    """The counts of the audits still held that were set up in ``year`` (or near it: the domain filters by month)."""
    start, end = datetime(year - 1, 12, 31, tzinfo=UTC), datetime(year + 1, 1, 2, tzinfo=UTC)
    docs = await db[MULTI_AGENCY_AUDITS].find({"$or": [{"created_at": {"$gte": start, "$lt": end}}, {"created_at": {"$exists": False}}]}).to_list()
    return [counts_of(from_document(d)) for d in docs]


# --- baseline audits (Appendix E 3) ----------------------------------------------------------------

_BASELINE = TypeAdapter(Baseline)
#: What a ``Stale`` of a baseline names.
BASELINE = "baseline audit"


def _baseline_document(baseline: Baseline) -> Document:
    return {"_id": baseline.id, "version": baseline.version, "baseline": _BASELINE.dump_python(baseline, mode="json")}


async def insert_baseline(tx: Transaction, db: AsyncDatabase[Document], baseline: Baseline) -> None:
    baseline.version = 1
    await db[BASELINES].insert_one(_baseline_document(baseline), session=tx.session)


async def save_baseline(tx: Transaction, db: AsyncDatabase[Document], baseline: Baseline) -> None:
    await save_next_version(db[BASELINES], baseline, _baseline_document, what=BASELINE, session=tx.session)


async def load_baseline(db: AsyncDatabase[Document], baseline_id: str, *, tx: Transaction | None = None) -> Baseline | None:
    doc = await db[BASELINES].find_one({"_id": baseline_id}, session=tx.session if tx else None)
    if doc is None:
        return None
    baseline = _BASELINE.validate_python(doc["baseline"])
    baseline.version = doc["version"]
    return baseline


async def store_baseline_pdf(tx: Transaction, db: AsyncDatabase[Document], *, pdf_id: str, baseline_id: str, content: bytes, at: datetime) -> None:
    await db[BASELINE_PDFS].insert_one(
        {"_id": pdf_id, "baseline_id": baseline_id, "content": Binary(content), "size": len(content), "created_at": at}, session=tx.session
    )


async def load_baseline_pdf(db: AsyncDatabase[Document], baseline_id: str, pdf_id: str) -> Document | None:
    return await db[BASELINE_PDFS].find_one({"_id": pdf_id, "baseline_id": baseline_id})
