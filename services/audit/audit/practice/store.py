"""Versioned records in MongoDB, shared by the practice records and the team reviews: each is a
document with a ``version``; every write is version-guarded and every version is kept whole in
``practice_history`` (nothing anyone wrote is lost, nothing is deleted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.mongo import Document, Indexes, Transaction

from .domain.errors import StaleRecord

OBSERVATIONS = "practice_observations"
OBSERVATION_SCHEDULES = "practice_observation_schedules"
OBSERVATION_REMINDERS = "practice_observation_reminders"
MONITORING_FORMS = "monitoring_forms"
MONITORING_COLLATIONS = "monitoring_collations"
FEEDBACK = "service_user_feedback"
COMPLAINT_LESSONS = "complaint_lessons"
COMPLIMENTS = "compliments"
HISTORY = "practice_history"

_TEAM_MONTH = [IndexModel([("team_id", ASCENDING), ("month", ASCENDING), ("_id", ASCENDING)])]

INDEXES = [
    Indexes(
        OBSERVATIONS,
        [
            IndexModel([("social_worker_id", ASCENDING), ("observed_on", DESCENDING)]),
            IndexModel([("viewers", ASCENDING), ("_id", ASCENDING)]),
            *_TEAM_MONTH,
        ],
    ),
    Indexes(MONITORING_FORMS, _TEAM_MONTH),
    Indexes(MONITORING_COLLATIONS, [IndexModel([("month", ASCENDING), ("team_id", ASCENDING)], unique=True)]),
    Indexes(FEEDBACK, _TEAM_MONTH),
    Indexes(COMPLAINT_LESSONS, [*_TEAM_MONTH, IndexModel([("complaint_ref", ASCENDING)], unique=True)]),
    Indexes(COMPLIMENTS, _TEAM_MONTH),
    Indexes(HISTORY, [IndexModel([("collection", ASCENDING), ("record_id", ASCENDING), ("version", ASCENDING)], unique=True)]),
]


async def _keep(tx: Transaction, db: AsyncDatabase[Document], collection: str, doc: Document, by: str, at: datetime) -> None:
    await db[HISTORY].insert_one(
        {"collection": collection, "record_id": doc["_id"], "version": doc["version"], "record": doc, "changed_by": by, "changed_at": at},
        session=tx.session,
    )


async def insert(tx: Transaction, db: AsyncDatabase[Document], collection: str, doc: Document, *, by: str, at: datetime) -> Document:
    doc = {**doc, "version": 1}
    await db[collection].insert_one(doc, session=tx.session)
    await _keep(tx, db, collection, doc, by, at)
    return doc


async def replace(
    tx: Transaction, db: AsyncDatabase[Document], collection: str, doc: Document, *, expected: int, what: str, by: str, at: datetime
) -> Document:
    """Replace the record if it is still at ``expected``; else ``StaleRecord``. Keeps the new version."""
    doc = {**doc, "version": expected + 1}
    result = await db[collection].replace_one({"_id": doc["_id"], "version": expected}, doc, session=tx.session)
    if result.matched_count != 1:
        current = await db[collection].find_one({"_id": doc["_id"]}, {"version": 1}, session=tx.session)
        raise StaleRecord(what, current["version"] if current else None, expected)
    await _keep(tx, db, collection, doc, by, at)
    return doc


async def load(db: AsyncDatabase[Document], collection: str, record_id: str, *, tx: Transaction | None = None) -> Document | None:
    return await db[collection].find_one({"_id": record_id}, session=tx.session if tx else None)


async def for_team(db: AsyncDatabase[Document], collection: str, team_id: str, months: list[str]) -> list[Document]:
    """A team's records of the given months, through the (team, month) index."""
    query: dict[str, Any] = {"team_id": team_id, "month": {"$in": months}}
    return await db[collection].find(query).sort("_id", ASCENDING).to_list()


async def page_for_team(
    db: AsyncDatabase[Document], collection: str, team_id: str, *, month: str | None, after: str | None, limit: int
) -> list[Document]:
    query: dict[str, Any] = {"team_id": team_id}
    if month is not None:
        query["month"] = month
    if after is not None:
        query["_id"] = {"$gt": after}
    return await db[collection].find(query).sort("_id", ASCENDING).limit(limit).to_list()


async def history(db: AsyncDatabase[Document], collection: str, record_id: str, *, after: int, limit: int) -> list[Document]:
    query = {"collection": collection, "record_id": record_id, "version": {"$gt": after}}
    return await db[HISTORY].find(query).sort("version", ASCENDING).limit(limit).to_list()
