"""The audit service's own copy of the directory (people, teams, cases), projected from the
gateway's directory events, and the questions the audit workflow asks of it: the case's type and
opening date, the accountable service manager, the managers copies go to, the assistant director
above a manager, a practice development officer to appoint.

Directory events carry a version per record; an older or repeated version never overwrites a
newer one, whatever order the broker delivers them in.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from shared.consumer import ReceivedEvent, Subscription
from shared.directory_readers import CaseRecord, PersonRecord, TeamRecord, case_changed, person_changed, team_changed
from shared.directory_sync import applied_type, not_yet_known, projected, record_of
from shared.mongo import Document, Indexes
from shared.projection import apply_if_newer

from ..case_audit.domain.routing import Contacts
from ..cycles.domain.sampling import OpenCase, audit_case_type
from .roles import AUDITOR_ROLES, PEER_REVIEWER_ROLE, Role

PEOPLE = "directory_people"
TEAMS = "directory_teams"
CASES = "directory_cases"

#: How far up the line-management chain we look for a service manager or an assistant director.
MAX_CHAIN = 8


class PersonChanged(PersonRecord):
    """What audit reads of ``directory.person.changed.v1``."""

    name: str = ""
    roles: list[str] = []
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool = True


class TeamChanged(TeamRecord):
    name: str = ""
    district: str = ""
    area: str = ""
    manager_id: str | None = None


class CaseChanged(CaseRecord):
    case_type: str
    #: Not in the directory's v1 event (one type per case); read when an integration flags a case
    #: as more than one type (a child in care who is also subject to a CP plan). The case is
    #: audited as the type that takes precedence (``domain.sampling.audit_case_type``).
    case_types: list[str] = []
    status: str = "open"
    team_id: str | None = None
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    opened_on: date
    closed_on: date | None = None


PERSON_CHANGED = person_changed(PersonChanged)
TEAM_CHANGED = team_changed(TeamChanged)
CASE_CHANGED = case_changed(CaseChanged)
#: What audit reports of its copy (the directory sync signal).
APPLIED = applied_type("audit")

INDEXES = [
    Indexes(PEOPLE, [IndexModel([("roles", ASCENDING), ("_id", ASCENDING)])]),
    # The monthly draw reads every open case (and only those).
    Indexes(CASES, [IndexModel([("status", ASCENDING), ("_id", ASCENDING)])]),
]

#: Who audits in a monthly cycle (Kent 2: team managers are the auditors) and who peer reviews.


async def project(db: AsyncDatabase[Document], collection: str, record_id: str, version: int, fields: dict[str, object], *, session: AsyncClientSession | None = None) -> bool:
    """Apply one record's state if it is newer than what we hold; returns whether it was applied."""
    return await apply_if_newer(db[collection], record_id, version, fields, session=session)


async def project_person(db: AsyncDatabase[Document], person: PersonChanged, *, session: AsyncClientSession | None = None) -> bool:
    return await project(db, PEOPLE, *record_of(person, "person_id"), session=session)


async def project_team(db: AsyncDatabase[Document], team: TeamChanged, *, session: AsyncClientSession | None = None) -> bool:
    return await project(db, TEAMS, *record_of(team, "team_id"), session=session)


def _case_fields(case: CaseChanged) -> dict[str, object]:
    fields = case.model_dump(mode="json", exclude={"case_id", "version", "case_types", "sequence"})
    types = sorted({case.case_type.upper(), *(t.upper() for t in case.case_types)})
    fields["case_types"] = types
    fields["audit_case_type"] = audit_case_type(types) or case.case_type
    return fields


async def project_case(db: AsyncDatabase[Document], case: CaseChanged, *, session: AsyncClientSession | None = None) -> bool:
    return await project(db, CASES, case.case_id, case.version, _case_fields(case), session=session)


async def project_many(db: AsyncDatabase[Document], people: list[PersonChanged], teams: list[TeamChanged], cases: list[CaseChanged]) -> None:
    """Apply many records at once (a directory snapshot: a bulk import, the benchmark's authority),
    each only where it is newer than what is held, like the events."""
    batches = [
        (PEOPLE, [record_of(p, "person_id") for p in people]),
        (TEAMS, [record_of(t, "team_id") for t in teams]),
        (CASES, [(c.case_id, c.version, _case_fields(c)) for c in cases]),
    ]
    for collection, records in batches:
        for start in range(0, len(records), 1000):
            ops = [
                UpdateOne({"_id": rid, "version": {"$lt": version}}, {"$set": {**fields, "version": version}}, upsert=True)
                for rid, version, fields in records[start : start + 1000]
            ]
            if not ops:
                continue
            try:
                await db[collection].bulk_write(ops, ordered=False)
            except BulkWriteError as exc:
                # A record already held at a newer version: the upsert's insert collides; keep ours.
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                    raise


def audit_type_of(case: Document) -> str:
    """The type a projected case is audited as (CP over CIC over CIN)."""
    return str(case.get("audit_case_type") or case["case_type"])


@dataclass(frozen=True)
class Staffing:
    """What the monthly draw reads of the directory (open cases, auditors, peer reviewers)."""

    cases: list[OpenCase]
    auditors: list[str]
    peer_reviewers: list[str]
    line_managers: dict[str, str | None]


async def staffing(db: AsyncDatabase[Document]) -> Staffing:
    """Open cases with their line manager (the case's team manager, else its team's manager),
    active auditors and active peer reviewers."""
    teams = {t["_id"]: t.get("manager_id") for t in await db[TEAMS].find({}, {"manager_id": 1}).to_list()}
    # Every open case, read whole and put in order here: a projected case is a dozen short fields,
    # and the embedded server projects and sorts each of tens of thousands of documents in Python
    # (a third of the read's CPU), where MongoDB would take the order from the (status, _id) index.
    cases = [
        OpenCase(
            case_id=c["_id"], case_types=tuple(c.get("case_types") or [c["case_type"]]), team_id=c.get("team_id") or "",
            line_manager_id=c.get("team_manager_id") or teams.get(c.get("team_id") or ""),
        )
        for c in await db[CASES].find({"status": "open"}).to_list()
    ]
    cases.sort(key=lambda c: c.case_id)
    roles = [*AUDITOR_ROLES, PEER_REVIEWER_ROLE]
    people = await db[PEOPLE].find({"roles": {"$in": roles}}, {"roles": 1, "active": 1, "line_manager_id": 1}).to_list()
    active = [p for p in people if p.get("active", True)]
    return Staffing(
        cases=cases,
        auditors=sorted(p["_id"] for p in active if set(AUDITOR_ROLES) & set(p.get("roles", []))),
        peer_reviewers=sorted(p["_id"] for p in active if PEER_REVIEWER_ROLE in p.get("roles", [])),
        line_managers={p["_id"]: p.get("line_manager_id") for p in active},
    )


async def teams_by_id(db: AsyncDatabase[Document], team_ids: list[str]) -> dict[str, Document]:
    docs = await db[TEAMS].find({"_id": {"$in": sorted(set(team_ids))}}).to_list()
    return {d["_id"]: d for d in docs}


async def unknown(db: AsyncDatabase[Document], kind: str, record_id: str, refusal: Exception, *, field: str | None = None) -> Exception:
    """What to raise for a ``kind`` the projection does not hold: a retryable 409 while the
    directory's changes of that kind are still arriving (``shared.directory_sync.not_yet_known``),
    else ``refusal`` (the 422 "Unknown ...")."""
    return await not_yet_known(db, kind, record_id, field=field or f"{kind}_id", service="audit", otherwise=refusal)


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    """Each kind of directory change kept as the service's projection (a run of changes of one kind
    in a batch: one read, one bulk write), with how far each kind is applied."""

    def person(event: ReceivedEvent) -> tuple[str, int, dict[str, Any]]:
        return record_of(event.data, "person_id")

    def team(event: ReceivedEvent) -> tuple[str, int, dict[str, Any]]:
        return record_of(event.data, "team_id")

    def case(event: ReceivedEvent) -> tuple[str, int, dict[str, Any]]:
        c: CaseChanged = event.data
        return c.case_id, c.version, _case_fields(c)

    return [
        projected(db, PERSON_CHANGED, PEOPLE, person, applied=APPLIED, kind="person"),
        projected(db, TEAM_CHANGED, TEAMS, team, applied=APPLIED, kind="team"),
        projected(db, CASE_CHANGED, CASES, case, applied=APPLIED, kind="case"),
    ]


@dataclass(frozen=True)
class ContactOverrides:
    """Configured people who take precedence over what the directory projection suggests."""

    iro_team_manager_id: str | None = None
    cp_chairs_manager_id: str | None = None
    qa_service_manager_id: str | None = None


class Directory:
    """Read questions over the projection, inside a transaction when given a session."""

    def __init__(self, db: AsyncDatabase[Document], overrides: ContactOverrides, session: AsyncClientSession | None = None) -> None:
        self.db, self.overrides, self.session = db, overrides, session

    async def case(self, case_id: str) -> Document | None:
        return await self.db[CASES].find_one({"_id": case_id}, session=self.session)

    async def person(self, person_id: str) -> Document | None:
        return await self.db[PEOPLE].find_one({"_id": person_id}, session=self.session)

    async def team_manager(self, team_id: str) -> str | None:
        """The manager of a team as the directory copy names it (None for a team it does not know,
        or one it names no manager of)."""
        team = await self.db[TEAMS].find_one({"_id": team_id}, {"manager_id": 1}, session=self.session)
        return team.get("manager_id") if team else None

    async def names(self, person_ids: list[str]) -> dict[str, str]:
        docs = await self.db[PEOPLE].find({"_id": {"$in": sorted(set(person_ids))}}, {"name": 1}, session=self.session).to_list()
        return {d["_id"]: d.get("name") or d["_id"] for d in docs}

    async def _with_role(self, role: str) -> list[Document]:
        docs = await self.db[PEOPLE].find({"roles": role}, session=self.session).sort("_id", ASCENDING).to_list()
        return [d for d in docs if d.get("active", True)]

    async def up_the_line(self, start_id: str | None, role: str, *, include_start: bool = True) -> str | None:
        """The first active person holding ``role`` on the line-management chain from ``start_id``."""
        seen: set[str] = set()
        current, hops = start_id, 0
        while current and current not in seen and hops <= MAX_CHAIN:
            seen.add(current)
            person = await self.person(current)
            if person is None:
                return None
            if (include_start or hops) and role in person.get("roles", []) and person.get("active", True):
                return current
            current, hops = person.get("line_manager_id"), hops + 1
        return None

    async def accountable_service_manager(self, case_id: str) -> str | None:
        """The service manager above the case's team manager (or its team's manager)."""
        case = await self.case(case_id)
        if case is None:
            return None
        start = case.get("team_manager_id")
        if start is None and case.get("team_id"):
            start = await self.team_manager(case["team_id"])
        return await self.up_the_line(start, Role.SERVICE_MANAGER)

    async def assistant_director_above(self, person_id: str | None) -> str | None:
        return await self.up_the_line(person_id, Role.ASSISTANT_DIRECTOR, include_start=False)

    async def _manager_of(self, role: str) -> str | None:
        """The line manager most of the active holders of ``role`` report to (ties: lowest id)."""
        managers = Counter(p["line_manager_id"] for p in await self._with_role(role) if p.get("line_manager_id"))
        if not managers:
            return None
        return sorted(managers.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

    async def qa_service_manager(self) -> str | None:
        if self.overrides.qa_service_manager_id:
            return self.overrides.qa_service_manager_id
        leads = await self._with_role(Role.LEAD_QA_AUDITOR)
        return next((p["_id"] for p in leads if Role.SERVICE_MANAGER in p.get("roles", [])), None)

    async def contacts(self, case_id: str, *, case_team: bool = False) -> Contacts:
        """The managers a copy may go to; with ``case_team``, also the case's social worker, its
        team manager and the QA team (read only for the programmes that copy them)."""
        contacts = Contacts(
            accountable_service_manager_id=await self.accountable_service_manager(case_id),
            iro_team_manager_id=self.overrides.iro_team_manager_id or await self._manager_of(Role.IRO),
            cp_chairs_manager_id=self.overrides.cp_chairs_manager_id or await self._manager_of(Role.CP_CHAIR),
            qa_service_manager_id=await self.qa_service_manager(),
        )
        if not case_team:
            return contacts
        case = await self.case(case_id) or {}
        team_manager = case.get("team_manager_id")
        if not team_manager and case.get("team_id"):
            team_manager = await self.team_manager(case["team_id"])
        qa_team = [p["_id"] for role in (Role.LEAD_QA_AUDITOR, Role.QA_OFFICER) for p in await self._with_role(role)]
        return replace(contacts, social_worker_id=case.get("allocated_worker_id"), team_manager_id=team_manager, qa_team_ids=tuple(dict.fromkeys(qa_team)))

    async def choose_practice_development_officer(self, audit_id: str, exclude: set[str]) -> str | None:
        """An active practice development officer, spread over them by the audit's id."""
        officers = [p["_id"] for p in await self._with_role(Role.PRACTICE_DEVELOPMENT_OFFICER) if p["_id"] not in exclude]
        if not officers:
            return None
        index = int(hashlib.sha256(audit_id.encode()).hexdigest(), 16) % len(officers)
        return officers[index]
