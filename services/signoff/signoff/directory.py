"""Sign-off's own copy of the directory (children's cases, staff, teams), projected from the
gateway's ``directory.*.changed.v1`` events. It answers: is this case known, which team is it in,
who are its siblings, who manages that team, who is this person's line manager.

Readers are tolerant (fields sign-off does not use are ignored), and an older or repeated version
never overwrites a newer one, whatever order the broker delivers them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from shared.consumer import ReceivedEvent, Subscription
from shared.directory_cache import CachedView, DirectoryCache
from shared.directory_readers import CaseRecord, PersonRecord, TeamRecord, case_changed, person_changed, team_changed
from shared.directory_sync import applied_type, projected, record_of
from shared.mongo import Document, Indexes
from shared.projection import apply_if_newer

from .domain.access import CaseView, PersonView, TeamView

CASES = "directory_cases"
PEOPLE = "directory_people"
TEAMS = "directory_teams"


class CaseChanged(CaseRecord):
    case_type: str
    status: str
    team_id: str
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    sibling_case_ids: list[str] = []
    opened_on: date | None = None
    closed_on: date | None = None


class PersonChanged(PersonRecord):
    roles: list[str] = []
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool = True


class TeamChanged(TeamRecord):
    district: str | None = None
    area: str | None = None
    manager_id: str | None = None


CASE_CHANGED = case_changed(CaseChanged)
PERSON_CHANGED = person_changed(PersonChanged)
TEAM_CHANGED = team_changed(TeamChanged)
#: What sign-off reports of its copy (the directory sync signal).
APPLIED = applied_type("signoff")

INDEXES = [
    Indexes(CASES, [IndexModel([("team_id", ASCENDING)])]),
    Indexes(PEOPLE, [IndexModel([("team_id", ASCENDING)])]),
    Indexes(TEAMS, []),
]


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    def record(key: str) -> Callable[[ReceivedEvent], tuple[str, int, dict[str, Any]]]:
        return lambda event: record_of(event.data, key, stamped=event)

    return [
        projected(db, CASE_CHANGED, CASES, record("case_id"), applied=APPLIED, kind="case"),
        projected(db, PERSON_CHANGED, PEOPLE, record("person_id"), applied=APPLIED, kind="person"),
        projected(db, TEAM_CHANGED, TEAMS, record("team_id"), applied=APPLIED, kind="team"),
    ]


# --- writing directly (tests and tools that do not go through the broker) -------------------


async def put(db: AsyncDatabase[Document], record: CaseChanged | PersonChanged | TeamChanged) -> None:
    """Store a directory record as the projection would (only if newer), outside a consumer."""
    collection, key = {CaseChanged: (CASES, "case_id"), PersonChanged: (PEOPLE, "person_id"), TeamChanged: (TEAMS, "team_id")}[type(record)]
    await apply_if_newer(db[collection], *record_of(record, key))
    CACHE.invalidate(db)


# --- reading ---------------------------------------------------------------------------------


async def case(db: AsyncDatabase[Document], case_id: str, session: AsyncClientSession | None = None) -> CaseView | None:
    doc = await db[CASES].find_one({"_id": case_id}, session=session)
    if doc is None:
        return None
    return CaseView(
        case_id=doc["_id"], team_id=doc["team_id"], status=doc.get("status", "open"), case_type=doc.get("case_type", ""),
        allocated_worker_id=doc.get("allocated_worker_id"), team_manager_id=doc.get("team_manager_id"),
        sibling_case_ids=frozenset(doc.get("sibling_case_ids") or ()),
    )


async def person(db: AsyncDatabase[Document], person_id: str, session: AsyncClientSession | None = None) -> PersonView | None:
    doc = await db[PEOPLE].find_one({"_id": person_id}, session=session)
    return _person(doc) if doc is not None else None


async def people(db: AsyncDatabase[Document], ids: set[str], session: AsyncClientSession | None = None) -> dict[str, PersonView]:
    if not ids:
        return {}
    docs = await db[PEOPLE].find({"_id": {"$in": sorted(ids)}}, session=session).to_list()
    return {d["_id"]: _person(d) for d in docs}


async def people_and_chains(
    db: AsyncDatabase[Document], ids: set[str], levels: int, session: AsyncClientSession | None = None
) -> dict[str, PersonView]:
    """People ``ids`` and everyone up to ``levels`` above each in the line-management chain, in
    one command (``$graphLookup`` along ``line_manager_id``) rather than one read per level."""
    if not ids:
        return {}
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": {"$in": sorted(ids)}}},
        {"$graphLookup": {"from": PEOPLE, "startWith": "$line_manager_id", "connectFromField": "line_manager_id",
                          "connectToField": "_id", "as": "chain", "maxDepth": levels - 1}},
    ]
    found: dict[str, PersonView] = {}
    async for doc in await db[PEOPLE].aggregate(pipeline, session=session):
        for each in (doc, *doc.pop("chain", ())):
            found[each["_id"]] = _person(each)
    return found


async def teams(db: AsyncDatabase[Document], ids: set[str], session: AsyncClientSession | None = None) -> dict[str, TeamView]:
    if not ids:
        return {}
    docs = await db[TEAMS].find({"_id": {"$in": sorted(ids)}}, session=session).to_list()
    return {d["_id"]: TeamView(d["_id"], d.get("manager_id"), d.get("district")) for d in docs}


# --- reading through the cache ---------------------------------------------------------------

#: What this process has read of its directory copy, exactly as fresh as the copy (``shared.directory_cache``).
CACHE = DirectoryCache()


class Cached:
    """The reads a permission check makes (a case, its team, people and their chains), answered
    from ``CACHE`` once one read of the applied record has shown the copy has not moved."""

    def __init__(self, db: AsyncDatabase[Document], session: AsyncClientSession | None, view: CachedView) -> None:
        self.db, self.session, self.view = db, session, view

    async def case(self, case_id: str) -> CaseView | None:
        return await self.view.get(("case", case_id), lambda: case(self.db, case_id, self.session))

    async def person(self, person_id: str) -> PersonView | None:
        return await self.view.get(("person", person_id), lambda: person(self.db, person_id, self.session))

    async def teams(self, ids: set[str]) -> dict[str, TeamView]:
        return dict(await self.view.get(("teams", frozenset(ids)), lambda: teams(self.db, ids, self.session)))

    async def people_and_chains(self, ids: set[str], levels: int) -> dict[str, PersonView]:
        return dict(await self.view.get(("chains", frozenset(ids), levels), lambda: people_and_chains(self.db, ids, levels, self.session)))


async def cached(db: AsyncDatabase[Document], session: AsyncClientSession | None = None) -> Cached:
    return Cached(db, session, await CACHE.view(db, session))


def _person(doc: Document) -> PersonView:
    return PersonView(
        doc["_id"], frozenset(doc.get("roles") or ()), doc.get("team_id"), doc.get("line_manager_id"), bool(doc.get("active", True))
    )
