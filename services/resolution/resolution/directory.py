"""The resolution service's own copy of the directory: children's cases (the form takes its
case's type, team, team manager and allocated worker from here) and staff (delegates and
contacts entered on a form must be active people holding the right role).

Projected from the gateway's directory events with tolerant reader models; each record keeps
the directory's version, and an older or repeated version never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from shared.consumer import ReceivedEvent, Subscription
from shared.directory_readers import CaseRecord, PersonRecord, case_changed, person_changed
from shared.directory_sync import applied_type, projected, record_of
from shared.mongo import Document, Indexes
from shared.projection import apply_if_newer

from .domain import CaseSnapshot, PersonRef

CASES = "cases"
PEOPLE = "people"


class CaseChanged(CaseRecord):
    """What resolution reads of ``directory.case.changed.v1``."""

    case_type: str
    status: str = "open"
    team_id: str
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    opened_on: date | None = None
    closed_on: date | None = None


class PersonChanged(PersonRecord):
    """What resolution reads of ``directory.person.changed.v1``."""

    roles: list[str]
    team_id: str | None = None
    active: bool = True


CASE_CHANGED = case_changed(CaseChanged)
PERSON_CHANGED = person_changed(PersonChanged)
#: What resolution reports of its copy (the directory sync signal).
APPLIED = applied_type("resolution")

INDEXES = [Indexes(CASES, [IndexModel([("team_id", ASCENDING)])]), Indexes(PEOPLE, [IndexModel([("team_id", ASCENDING)])])]


async def _project(db: AsyncDatabase[Document], collection: str, record: CaseChanged | PersonChanged, key: str, session: AsyncClientSession | None) -> bool:
    ident, version, fields = record_of(record, key)
    return await apply_if_newer(db[collection], ident, version, fields, session=session)


async def project_case(db: AsyncDatabase[Document], case: CaseChanged, session: AsyncClientSession | None = None) -> bool:
    return await _project(db, CASES, case, "case_id", session)


async def project_person(db: AsyncDatabase[Document], person: PersonChanged, session: AsyncClientSession | None = None) -> bool:
    return await _project(db, PEOPLE, person, "person_id", session)


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    def record(key: str) -> Callable[[ReceivedEvent], tuple[str, int, dict[str, Any]]]:
        return lambda event: record_of(event.data, key)

    return [
        projected(db, CASE_CHANGED, CASES, record("case_id"), applied=APPLIED, kind="case"),
        projected(db, PERSON_CHANGED, PEOPLE, record("person_id"), applied=APPLIED, kind="person"),
    ]


async def case_snapshot(db: AsyncDatabase[Document], case_id: str, session: AsyncClientSession | None = None) -> CaseSnapshot | None:
    doc: dict[str, Any] | None = await db[CASES].find_one({"_id": case_id}, session=session)
    if doc is None:
        return None
    return CaseSnapshot(
        case_id=case_id, case_type=doc["case_type"], status=doc.get("status", "open"), team_id=doc["team_id"],
        allocated_worker_id=doc.get("allocated_worker_id"), team_manager_id=doc.get("team_manager_id"),
    )


async def person(db: AsyncDatabase[Document], person_id: str, session: AsyncClientSession | None = None) -> PersonRef | None:
    doc = await db[PEOPLE].find_one({"_id": person_id}, session=session)
    if doc is None:
        return None
    return PersonRef(person_id, frozenset(doc.get("roles", [])), bool(doc.get("active", True)))
