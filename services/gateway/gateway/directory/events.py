"""Directory events: what the services (and integrators) learn about staff, teams and cases.

They carry identifiers and the facts services act on. A child's name and date of birth never
leave the directory (Caldecott principle 3); services refer to a case by its id.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field
from shared.events import EventData, EventRegistry, EventType

#: What ``sequence`` means on every directory event (the directory sync signal, ``shared.directory_sync``).
SEQUENCE_DOC = (
    "The directory's number for this change: changes of each kind (team, person, case) are numbered 1, 2, 3, ... in the order "
    "they were committed, with no gaps; services report how far they have applied them (``GET /api/v1/directory/sync``)."
)

#: The fields of a case that never leave the directory.
CHILD_DETAILS = frozenset({"child_name", "date_of_birth"})


class TeamChanged(EventData):
    team_id: str
    version: int
    """The team record's version in the directory: each change counts one more; a consumer keeps the highest it has seen."""
    sequence: int = Field(ge=1, description=SEQUENCE_DOC)
    name: str
    """The team's name (a team, not a person)."""
    district: str
    """The district the team works in."""
    area: str
    """The area the team's district belongs to."""
    service: str
    """The service the team belongs to, e.g. Children's Services."""
    manager_id: str | None = None
    """The person id of the team's manager; null when the directory names none."""


class PersonChanged(EventData):
    person_id: str
    version: int
    """The person record's version in the directory: each change counts one more; a consumer keeps the highest it has seen."""
    sequence: int = Field(ge=1, description=SEQUENCE_DOC)
    name: str
    """The member of staff's name (staff only, never a child: this type is platform-internal)."""
    email: str
    """The member of staff's work email address (platform-internal: notify mails it)."""
    roles: list[str]
    """The person's roles on the platform, e.g. social_worker, team_manager, auditor, service_manager."""
    team_id: str | None = None
    """The id of the team the person works in; null when they belong to none."""
    line_manager_id: str | None = None
    """The person id of their line manager; null when the directory names none."""
    active: bool
    """False once the person has left: they are no longer allocated work."""


class CaseChanged(EventData):
    case_id: str
    version: int
    """The case record's version in the directory: each change counts one more; a consumer keeps the highest it has seen."""
    sequence: int = Field(ge=1, description=SEQUENCE_DOC)
    case_type: str
    status: str
    """open or closed."""
    team_id: str
    """The id of the team that holds the case."""
    allocated_worker_id: str | None = None
    """The person id of the worker allocated to the case; null when none is allocated."""
    team_manager_id: str | None = None
    """The person id of the case's team manager; null when the directory names none."""
    sibling_case_ids: list[str]
    """The case ids of the child's siblings known to the directory (an exemplar can be cloned to them)."""
    opened_on: date
    """The date the case was opened."""
    closed_on: date | None = None
    """The date the case was closed; null while it is open."""


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
