"""Hillingdon's records in MongoDB: reviews, reports (and their issued PDFs), crib sheets and
management sessions. Each record is stored whole under ``body`` with the fields queries filter on
at the top level; every write is guarded by the version read (the ETag)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from bson import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction

from ..case_audit.store import AUDITS
from ..common.directory import ContactOverrides, Directory
from ..common.saving import Embedded, save_next_version
from ..reporting.domain.figures import Row
from .domain.crib_sheet import CribSheet, ManagementSession
from .domain.report import EditableReport
from .domain.review import PracticeReview
from .domain.single_agency_round import SingleAgencyRound

REVIEWS = "hillingdon_reviews"
REPORTS = "hillingdon_reports"
REPORT_PDFS = "hillingdon_report_pdfs"
CRIB_SHEETS = "hillingdon_crib_sheets"
SESSIONS = "hillingdon_sessions"
ROUNDS = "hillingdon_single_agency_rounds"

INDEXES = [
    Indexes(REVIEWS, [
        # One review per audit, whatever happens to the event that opens it.
        IndexModel([("audit_id", ASCENDING)], unique=True),
        IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("month", ASCENDING)]),
    ]),
    Indexes(REPORTS, [IndexModel([("kind", ASCENDING), ("period", ASCENDING)])]),
    Indexes(CRIB_SHEETS, [IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]), IndexModel([("team_id", ASCENDING), ("month", ASCENDING)])]),
    Indexes(SESSIONS, [IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)])]),
    # One single-agency audit round per team and month (Appendix D).
    Indexes(ROUNDS, [
        IndexModel([("team_id", ASCENDING), ("month", ASCENDING)], unique=True),
        IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("audit_ids", ASCENDING)]),
    ]),
]

T = TypeVar("T", PracticeReview, EditableReport, CribSheet, ManagementSession, SingleAgencyRound)


class Exists(Exception):
    """A record with this id exists already (a second report for the period, a second session)."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} exists already")
        self.what, self.ident = what, ident


@dataclass(frozen=True)
class Collection(Generic[T]):
    name: str
    what: str
    kind: type[T]

    @property
    def embedded(self) -> Embedded[T]:
        return _embedded(self.kind)  # type: ignore[arg-type]  # a model class is hashable; mypy checks the instances' __hash__

    def to_document(self, record: T) -> Document:
        doc: Document = {"_id": record.id, "version": record.version, "body": self.embedded.dumped(record)}
        doc.update(_query_fields(record))
        return doc

    def from_document(self, doc: Document) -> T:
        return self.embedded.loaded(doc)

    async def insert(self, tx: Transaction, db: AsyncDatabase[Document], record: T) -> None:
        if await db[self.name].find_one({"_id": record.id}, {"_id": 1}, session=tx.session):
            raise Exists(self.what, record.id)
        record.version = 1
        await db[self.name].insert_one(self.to_document(record), session=tx.session)

    async def save(self, tx: Transaction, db: AsyncDatabase[Document], record: T) -> None:
        await save_next_version(db[self.name], record, self.to_document, what=self.what, session=tx.session)

    async def load(self, db: AsyncDatabase[Document], record_id: str, *, tx: Transaction | None = None) -> T | None:
        doc = await db[self.name].find_one({"_id": record_id}, session=tx.session if tx else None)
        return self.from_document(doc) if doc else None

    async def page(self, db: AsyncDatabase[Document], query: dict[str, Any], *, after: str | None, limit: int) -> list[T]:
        return [self.from_document(d) for d in await page_by_id(db[self.name], query, after=after, limit=limit)]


@cache
def _embedded(kind: type) -> Embedded[Any]:
    return Embedded(kind, "body")


def _query_fields(record: Any) -> dict[str, Any]:
    if isinstance(record, PracticeReview):
        return {"audit_id": record.audit_id, "viewers": record.viewers(), "month": record.month, "status": record.status.value}
    if isinstance(record, EditableReport):
        return {"kind": record.kind.value, "period": record.period, "status": record.status.value}
    if isinstance(record, SingleAgencyRound):
        return {"viewers": record.viewers(), "team_id": record.team_id, "month": record.month, "status": record.status.value, "audit_ids": record.audit_ids()}
    if isinstance(record, CribSheet):
        return {"viewers": record.viewers(), "team_id": record.team_id, "month": record.month, "status": record.status.value}
    return {"viewers": record.viewers(), "month": record.month, "team_id": record.team_id, "status": record.status.value}


REVIEW_RECORDS: Collection[PracticeReview] = Collection(REVIEWS, "review", PracticeReview)
REPORT_RECORDS: Collection[EditableReport] = Collection(REPORTS, "report", EditableReport)
CRIB_SHEET_RECORDS: Collection[CribSheet] = Collection(CRIB_SHEETS, "crib sheet", CribSheet)
SESSION_RECORDS: Collection[ManagementSession] = Collection(SESSIONS, "session", ManagementSession)
ROUND_RECORDS: Collection[SingleAgencyRound] = Collection(ROUNDS, "round", SingleAgencyRound)


async def round_of_team(db: AsyncDatabase[Document], team_id: str, month: str, *, tx: Transaction | None = None) -> str | None:
    doc = await db[ROUNDS].find_one({"team_id": team_id, "month": month}, {"_id": 1}, session=tx.session if tx else None)
    return str(doc["_id"]) if doc else None


async def audit_facts(db: AsyncDatabase[Document], audit_ids: list[str], *, tx: Transaction | None = None) -> dict[str, tuple[bool, str | None]]:
    """audit id -> (completed, grade of record) for the audits of a round."""
    docs = await db[AUDITS].find({"_id": {"$in": audit_ids}}, {"status": 1, "grade": 1}, session=tx.session if tx else None).to_list()
    return {str(d["_id"]): (d.get("status") == "completed", d.get("grade")) for d in docs}


async def review_of_audit(db: AsyncDatabase[Document], audit_id: str, *, tx: Transaction | None = None) -> str | None:
    doc = await db[REVIEWS].find_one({"audit_id": audit_id}, {"_id": 1}, session=tx.session if tx else None)
    return str(doc["_id"]) if doc else None


async def review_counts(db: AsyncDatabase[Document], month: str) -> tuple[int, int]:
    """Reviews of the month's audits: (opened, reported)."""
    docs = await db[REVIEWS].find({"month": month}, {"status": 1}).to_list()
    return len(docs), sum(d["status"] in ("reported", "verified") for d in docs)


async def store_pdf(tx: Transaction, db: AsyncDatabase[Document], *, pdf_id: str, report_id: str, content: bytes, at: datetime) -> None:
    await db[REPORT_PDFS].insert_one(
        {"_id": pdf_id, "report_id": report_id, "content": Binary(content), "size": len(content), "created_at": at}, session=tx.session
    )


async def load_pdf(db: AsyncDatabase[Document], pdf_id: str) -> bytes | None:
    doc = await db[REPORT_PDFS].find_one({"_id": pdf_id})
    return bytes(doc["content"]) if doc else None


async def reports_of_kind(db: AsyncDatabase[Document], kind: str, periods: list[str]) -> list[Document]:
    return await db[REPORTS].find({"kind": kind, "period": {"$in": periods}}, {"period": 1, "status": 1, "body.title": 1, "body.figures.theme": 1}).to_list()


# --- what the reports and crib sheets read of other records ---------------------------------------

_ROW_FIELDS = {"month": 1, "team_id": 1, "auditor_id": 1, "status": 1, "submitted": 1, "grade": 1, "weak_sections": 1, "no_answers": 1}


async def audit_rows(db: AsyncDatabase[Document], programme: str, months: list[str]) -> list[Row]:
    """The figures' facts of every audit of ``programme`` in ``months`` (the monthly and themed reports)."""
    # The (month, team_id) index of the audits narrows this to the period's audits.
    query = {"month": {"$in": months}, "programme": programme}
    return [Row.from_document(d) for d in await db[AUDITS].find(query, _ROW_FIELDS).to_list()]


async def team_manager(db: AsyncDatabase[Document], team_id: str, *, tx: Transaction | None = None) -> str | None:
    """The manager of a team as the directory projection names it (None for a team it does not know)."""
    return await Directory(db, ContactOverrides(), tx.session if tx else None).team_manager(team_id)
