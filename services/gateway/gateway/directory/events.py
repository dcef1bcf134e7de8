"""Directory events: what the services (and integrators) learn about staff, teams and cases.

They carry identifiers and the facts services act on. A child's name and date of birth never
leave the directory (Caldecott principle 3); services refer to a case by its id.
"""

from __future__ import annotations

from datetime import date

from shared.events import EventData, EventRegistry, EventType

#: The fields of a case that never leave the directory.
CHILD_DETAILS = frozenset({"child_name", "date_of_birth"})


class TeamChanged(EventData):
    team_id: str
    version: int
    name: str
    district: str
    area: str
    service: str
    manager_id: str | None = None


class PersonChanged(EventData):
    person_id: str
    version: int
    name: str
    email: str
    roles: list[str]
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool


class CaseChanged(EventData):
    case_id: str
    version: int
    case_type: str
    status: str
    team_id: str
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    sibling_case_ids: list[str]
    opened_on: date
    closed_on: date | None = None


TEAM_CHANGED = EventType(
    "directory.team.changed", 1, TeamChanged, "A team was added to the directory or changed.", "gateway"
)
PERSON_CHANGED = EventType(
    "directory.person.changed", 1, PersonChanged, "A member of staff was added or changed (roles, team, line manager, email).", "gateway",
    internal=True,  # staff names and email addresses: for the platform's own services only
)
CASE_CHANGED = EventType(
    "directory.case.changed", 1, CaseChanged, "A child's case was added or changed (type, status, team, worker, siblings).", "gateway"
)

EVENTS = EventRegistry([TEAM_CHANGED, PERSON_CHANGED, CASE_CHANGED])
