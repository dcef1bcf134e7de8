"""A case's team manager or allocated worker entered on a resolution form, applied to the directory.

Seed 001: "If there is no recorded Team Manager or Allocated Case Worker they will need to be
recorded here. This will then feed back into the child's demographics." Resolution publishes
``resolution.case-contact.reported.v1``; this consumer applies it to the directory's case, with
the directory's own rules:

- the case and the person must be known to the directory, the person active and holding a role
  that can be the case's team manager (``team_manager``) or allocated worker (a practitioner);
- the case-management system's own import stays the authority: a report fills only a field the
  directory still has empty. When the directory already names someone (an import newer than the
  form said so), the report is kept but not applied, never overwriting the import silently;
- every report is kept in ``directory_contact_reports`` with what became of it, and an applied
  one makes a new version of the case whose history entry says where the value came from
  (``source: resolution-form``, the form and who entered it). The case's event goes out as for
  any other change, so every service's copy follows.

A later import that names nobody does clear the field again: the case-management system is the
authority, and the report stays in the case's history and here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from shared.consumer import ReceivedEvent, Subscription
from shared.events import EventType
from shared.mongo import Document, Indexes, Transaction
from shared.roles import Role
from shared.versioned import replace_versioned

from . import store

#: Every report received, and what became of it (``{_id: event id}``).
REPORTS = "directory_contact_reports"
INDEXES = [Indexes(REPORTS, [IndexModel([("case_id", ASCENDING), ("reported_at", ASCENDING)])])]

SOURCE = "resolution-form"

#: Who can be entered as what (directory role names).
FIELD_ROLES: Mapping[str, frozenset[str]] = {
    "team_manager_id": frozenset({Role.TEAM_MANAGER}),
    "allocated_worker_id": frozenset({Role.SOCIAL_WORKER, Role.SENIOR_PRACTITIONER, Role.PRACTICE_SUPERVISOR, Role.TEAM_LEADER}),
}


class CaseContactReported(BaseModel):
    """What the directory reads of ``resolution.case-contact.reported.v1``."""

    model_config = ConfigDict(extra="ignore")

    form_id: str
    case_id: str
    team_manager_id: str | None = None
    allocated_worker_id: str | None = None
    reported_by: str
    reported_at: datetime


CASE_CONTACT_REPORTED = EventType(
    "resolution.case-contact.reported",
    1,
    CaseContactReported,
    "A team manager or allocated worker missing from the directory was entered on a resolution form.",
    "resolution",
)


@dataclass(frozen=True)
class Outcome:
    """Per field reported: ``applied`` (the value to set) or why not (``refused``)."""

    applied: dict[str, str]
    refused: dict[str, str]


def decide(
    case: Mapping[str, Any] | None, people: Mapping[str, Mapping[str, Any]], reported: Mapping[str, str | None]
) -> Outcome:
    """Which reported contacts the directory takes (no I/O). ``case``: the case's stored data;
    ``people``: the stored data of the people named; ``reported``: field -> person id (or None)."""
    applied: dict[str, str] = {}
    refused: dict[str, str] = {}
    for field_name, person_id in reported.items():
        if person_id is None:
            continue
        if case is None:
            refused[field_name] = "unknown-case"
            continue
        current = case.get(field_name)
        if current == person_id:
            refused[field_name] = "already-recorded"
            continue
        if current is not None:
            refused[field_name] = "directory-names-another"
            continue
        person = people.get(person_id)
        if person is None:
            refused[field_name] = "unknown-person"
        elif not person.get("active", True):
            refused[field_name] = "person-inactive"
        elif FIELD_ROLES[field_name].isdisjoint(person.get("roles", [])):
            refused[field_name] = "role-does-not-fit"
        else:
            applied[field_name] = person_id
    return Outcome(applied, refused)


async def apply_report(db: AsyncDatabase[Document], report: CaseContactReported, event_id: str, tx: Transaction) -> Outcome:
    kind = store.CASES
    current = await db[kind.collection].find_one({"_id": report.case_id}, session=tx.session)
    reported = {"team_manager_id": report.team_manager_id, "allocated_worker_id": report.allocated_worker_id}
    ids = [p for p in reported.values() if p is not None]
    people = {d["_id"]: d["data"] async for d in db[store.PEOPLE.collection].find({"_id": {"$in": ids}}, session=tx.session)}
    outcome = decide(None if current is None else current["data"], people, reported)
    if outcome.applied and current is not None:
        data = {**current["data"], **outcome.applied}
        kind.record_of(data)  # still a valid case
        version = current["version"] + 1
        doc = {**current, "version": version, "data": data, "updated_at": report.reported_at, "updated_by": report.reported_by}
        await replace_versioned(db[kind.collection], report.case_id, doc, current["version"], what=kind.name, session=tx.session)
        await db[store.HISTORY].insert_one(
            {
                "kind": kind.name,
                "record_id": report.case_id,
                "version": version,
                "data": data,
                "at": report.reported_at,
                "by": report.reported_by,
                "source": SOURCE,
                "form_id": report.form_id,
                "event_id": event_id,
            },
            session=tx.session,
        )
        sequence = await store.take_sequences(db, kind, 1, tx)
        tx.record(
            kind.event_type, kind.to_event(report.case_id, version, sequence, data), subject=f"{kind.name}/{report.case_id}"
        )
    await db[REPORTS].update_one(
        {"_id": event_id},
        {
            "$setOnInsert": {
                "case_id": report.case_id,
                "form_id": report.form_id,
                "reported_by": report.reported_by,
                "reported_at": report.reported_at,
                "reported": {k: v for k, v in reported.items() if v is not None},
                "applied": outcome.applied,
                "refused": outcome.refused,
                "source": SOURCE,
            }
        },
        upsert=True,
        session=tx.session,
    )
    return outcome


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    async def on_reported(event: ReceivedEvent, tx: Transaction) -> None:
        await apply_report(db, event.data, event.id, tx)

    return [Subscription(CASE_CONTACT_REPORTED, on_reported)]


async def reports_for(db: AsyncDatabase[Document], case_id: str) -> list[Document]:
    return await db[REPORTS].find({"case_id": case_id}).sort("reported_at", ASCENDING).to_list()
