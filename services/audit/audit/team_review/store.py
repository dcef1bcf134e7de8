"""Team reviews in MongoDB: one per team and period (unique), version-guarded, every version kept
in ``practice_history``; the scheduler finds due actions through ``next_notice_on``. Also the
team's social workers, read from the directory projection for the pack."""

from __future__ import annotations

from pydantic import TypeAdapter
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction

from ..common.directory import PEOPLE
from ..common.roles import Role
from ..practice import store as rs
from ..practice.domain.errors import RecordExists
from .domain.review import Review

TEAM_REVIEWS = "team_reviews"

INDEXES = [
    Indexes(
        TEAM_REVIEWS,
        [
            IndexModel([("team_id", ASCENDING), ("to_month", ASCENDING)], unique=True),
            IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
            IndexModel([("next_notice_on", ASCENDING)], sparse=True),
        ],
    )
]


_REVIEW = TypeAdapter(Review)


def to_document(review: Review) -> Document:
    doc: Document = _REVIEW.dump_python(review, mode="json", exclude={"version", "events"})
    doc["_id"] = doc.pop("id")
    doc.update({
        "issued_at": review.issued_at, "updated_at": review.updated_at,
        "viewers": review.parties(),
    })
    if review.next_notice_on:
        doc["next_notice_on"] = review.next_notice_on
    return doc


def from_document(doc: Document) -> Review:
    body = {k: v for k, v in doc.items() if k not in ("_id", "viewers", "next_notice_on", "version")}
    return _REVIEW.validate_python({**body, "id": doc["_id"], "version": doc["version"]})


async def insert(tx: Transaction, db: AsyncDatabase[Document], review: Review) -> None:
    try:
        stored = await rs.insert(tx, db, TEAM_REVIEWS, to_document(review), by=review.issued_by, at=review.issued_at)
    except DuplicateKeyError:
        raise RecordExists("Team review", f"team {review.team_id} already has a review of the six months to {review.to_month}") from None
    review.version = stored["version"]


async def save(tx: Transaction, db: AsyncDatabase[Document], review: Review, expected: int, *, by: str | None = None) -> None:
    """Version-guarded; ``by`` names who changed it when not the one recorded (the scheduler)."""
    doc = to_document(review)
    stored = await rs.replace(tx, db, TEAM_REVIEWS, doc, expected=expected, what="team review", by=by or review.updated_by, at=review.updated_at)
    review.version = stored["version"]


async def load(db: AsyncDatabase[Document], review_id: str, *, tx: Transaction | None = None) -> Review | None:
    doc = await rs.load(db, TEAM_REVIEWS, review_id, tx=tx)
    return from_document(doc) if doc else None


async def find(db: AsyncDatabase[Document], team_id: str, to_month: str) -> Review | None:
    doc = await db[TEAM_REVIEWS].find_one({"team_id": team_id, "to_month": to_month})
    return from_document(doc) if doc else None


async def listing(db: AsyncDatabase[Document], *, viewer: str | None, team_id: str | None, after: str | None, limit: int) -> list[Review]:
    return [from_document(d) for d in await page_by_id(db[TEAM_REVIEWS], {"viewers": viewer, "team_id": team_id}, after=after, limit=limit)]


async def with_notices_due(db: AsyncDatabase[Document], today: str, *, limit: int = 500) -> list[str]:
    return [d["_id"] for d in await db[TEAM_REVIEWS].find({"next_notice_on": {"$lte": today}}, {"_id": 1}).limit(limit).to_list()]


async def social_worker_ids(db: AsyncDatabase[Document], team_id: str) -> list[str]:
    """The team's active social workers (the directory projection), by id."""
    found = await db[PEOPLE].find({"roles": Role.SOCIAL_WORKER, "team_id": team_id}, {"active": 1}).sort("_id", ASCENDING).to_list()
    return [w["_id"] for w in found if w.get("active", True)]
