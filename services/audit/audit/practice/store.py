"""Every MongoDB access of the practice records. Versioned records, shared by the practice records
and the team reviews: each is a document with a ``version``; every write is version-guarded and
every version is kept whole in ``practice_history`` (nothing anyone wrote is lost, nothing is
deleted). Also the observations' reminder bookkeeping, and the few questions the practice records
ask of the directory projection."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.keyset import page_by_id
from shared.mongo import Document, Indexes, Transaction
from shared.versioned import replace_versioned

from ..common.directory import PEOPLE, TEAMS, ContactOverrides, Directory
from ..common.roles import Role
from .domain.observation import Observation, ObservationStatus
from .domain.records import Entries, month_of

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
    """Replace the record if it is still at ``expected``; else ``Stale``. Keeps the new version."""
    doc = {**doc, "version": expected + 1}
    await replace_versioned(db[collection], doc["_id"], doc, expected, what=what, session=tx.session)
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
    return await page_by_id(db[collection], {"team_id": team_id, "month": month}, after=after, limit=limit)


async def history(db: AsyncDatabase[Document], collection: str, record_id: str, *, after: int, limit: int) -> list[Document]:
    query = {"collection": collection, "record_id": record_id, "version": {"$gt": after}}
    return await db[HISTORY].find(query).sort("version", ASCENDING).limit(limit).to_list()


# --- the directory projection (read only) -------------------------------------------------------


async def team(db: AsyncDatabase[Document], team_id: str) -> Document | None:
    return await db[TEAMS].find_one({"_id": team_id})


async def team_manager_of(db: AsyncDatabase[Document], team_id: str, *, tx: Transaction | None = None) -> str | None:
    return await Directory(db, ContactOverrides(), tx.session if tx else None).team_manager(team_id)


async def social_workers(db: AsyncDatabase[Document]) -> list[Document]:
    """Every active social worker (with their line manager and team), by id."""
    found = await db[PEOPLE].find({"roles": Role.SOCIAL_WORKER}, {"line_manager_id": 1, "team_id": 1, "active": 1}).sort("_id", ASCENDING).to_list()
    return [w for w in found if w.get("active", True)]


# --- observations ---------------------------------------------------------------------------------

_OBSERVATION = TypeAdapter(Observation)


def observation_document(o: Observation) -> Document:
    doc: Document = _OBSERVATION.dump_python(o, mode="json", exclude={"version", "events"})
    doc["_id"] = doc.pop("id")
    doc.update({"viewers": o.viewers(), "month": month_of(o.observed_on) if o.observed_on else None,
                "observed_on": o.observed_on.isoformat() if o.observed_on else None, "created_at": o.created_at, "updated_at": o.updated_at})
    return doc


def observation_from(doc: Document) -> Observation:
    body = {k: v for k, v in doc.items() if k not in ("_id", "viewers", "month", "observed_on", "version")}
    return _OBSERVATION.validate_python({**body, "id": doc["_id"], "version": doc["version"]})


async def insert_observation(tx: Transaction, db: AsyncDatabase[Document], o: Observation, *, by: str, at: datetime) -> None:
    stored = await insert(tx, db, OBSERVATIONS, observation_document(o), by=by, at=at)
    o.version = stored["version"]


async def save_observation(tx: Transaction, db: AsyncDatabase[Document], o: Observation, *, expected: int, by: str, at: datetime) -> None:
    stored = await replace(tx, db, OBSERVATIONS, observation_document(o), expected=expected, what="observation", by=by, at=at)
    o.version = stored["version"]


async def load_observation(db: AsyncDatabase[Document], observation_id: str, *, tx: Transaction | None = None) -> Observation | None:
    doc = await load(db, OBSERVATIONS, observation_id, tx=tx)
    return observation_from(doc) if doc is not None else None


async def observations(
    db: AsyncDatabase[Document], *, viewer: str | None, social_worker_id: str | None, after: str | None, limit: int
) -> list[Observation]:
    """A page of observations by id; ``viewer``: only those they are party to."""
    docs = await page_by_id(db[OBSERVATIONS], {"viewers": viewer, "social_worker_id": social_worker_id}, after=after, limit=limit)
    return [observation_from(d) for d in docs]


async def observed_on(db: AsyncDatabase[Document], social_worker_id: str, *, limit: int = 12) -> list[date]:
    """The days the social worker's latest reported (or reflected on) observations took place, latest first."""
    query = {
        "social_worker_id": social_worker_id, "observed_on": {"$ne": None},
        "status": {"$in": [ObservationStatus.REPORTED.value, ObservationStatus.REFLECTED.value]},
    }
    docs = await db[OBSERVATIONS].find(query, {"observed_on": 1}).sort("observed_on", -1).limit(limit).to_list()
    return [date.fromisoformat(d["observed_on"]) for d in docs]


async def counted_since(db: AsyncDatabase[Document], social_worker_id: str, today: date) -> date:
    """The day the reminders first counted this social worker (kept: a later run does not move it)."""
    await db[OBSERVATION_SCHEDULES].update_one({"_id": social_worker_id}, {"$setOnInsert": {"counted_since": today.isoformat()}}, upsert=True)
    schedule = await db[OBSERVATION_SCHEDULES].find_one({"_id": social_worker_id})
    return date.fromisoformat(schedule["counted_since"]) if schedule else today


def reminder_id(social_worker_id: str, due_on: date) -> str:
    return f"{social_worker_id}:{due_on.isoformat()}"


async def reminded(db: AsyncDatabase[Document], social_worker_id: str, due_on: date) -> bool:
    """Whether the social worker was reminded of this due day already."""
    return await db[OBSERVATION_REMINDERS].find_one({"_id": reminder_id(social_worker_id, due_on)}, {"_id": 1}) is not None


async def remember_reminder(tx: Transaction, db: AsyncDatabase[Document], social_worker_id: str, due_on: date, *, today: date) -> None:
    """Once per social worker and due day: a second one raises ``DuplicateKeyError``."""
    await db[OBSERVATION_REMINDERS].insert_one(
        {"_id": reminder_id(social_worker_id, due_on), "social_worker_id": social_worker_id, "due_on": due_on.isoformat(), "sent_on": today.isoformat()},
        session=tx.session,
    )


# --- monitoring forms, feedback, complaints, compliments ----------------------------------------


def entries_document(entries: Entries) -> Document:
    """The entries as stored (JSON values: enum values, ISO dates)."""
    doc: Document = to_jsonable_python(entries)
    return doc


def record_document(doc_id: str, entries: Entries, *, day: date, team_id: str, by: str, at: datetime) -> Document:
    """A record's stored shape: its entries with the team, the month and who recorded it when."""
    return {
        "_id": doc_id, **entries_document(entries), "team_id": team_id, "month": month_of(day),
        "recorded_by": by, "recorded_at": at, "updated_by": by, "updated_at": at,
    }


async def complaint_lessons_of(db: AsyncDatabase[Document], complaint_ref: str) -> str | None:
    """The id of the lessons recorded for this complaint reference, if any."""
    found = await db[COMPLAINT_LESSONS].find_one({"complaint_ref": complaint_ref}, {"_id": 1})
    return found["_id"] if found else None


async def logged_complaints(db: AsyncDatabase[Document], *, level_from: int, months: tuple[str, str] | None = None) -> list[Document]:
    """Complaints of ``level_from`` and above (4.5.2), of the months ``(first, last)`` when given."""
    query: dict[str, Any] = {"kind": "complaint", "level": {"$gte": level_from}}
    if months is not None:
        query["month"] = {"$gte": months[0], "$lte": months[1]}
    return await db[COMPLAINT_LESSONS].find(query).sort([("date_responded", ASCENDING), ("complaint_ref", ASCENDING)]).to_list()
