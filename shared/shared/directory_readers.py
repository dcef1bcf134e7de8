"""What every service's copy of the directory reads of the gateway's ``directory.*.changed.v1``
events: the fields each record's event always leads with (its id, its version, the sync signal's
sequence) and the three event types. A service's reader model extends ``PersonRecord``,
``CaseRecord`` or ``TeamRecord`` with the fields it uses (tolerant: any others are ignored) and
names its model in ``person_changed`` / ``case_changed`` / ``team_changed``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .events import EventType

PUBLISHER = "gateway"


class DirectoryReader(BaseModel):
    """A service's reader model of a directory event: fields it does not use are ignored."""

    model_config = ConfigDict(extra="ignore")


class PersonRecord(DirectoryReader):
    person_id: str
    version: int
    #: The directory's number for this change (the sync signal, ``shared.directory_sync``).
    sequence: int | None = None


class CaseRecord(DirectoryReader):
    case_id: str
    version: int
    #: The directory's number for this change (the sync signal, ``shared.directory_sync``).
    sequence: int | None = None


class TeamRecord(DirectoryReader):
    team_id: str
    version: int
    #: The directory's number for this change (the sync signal, ``shared.directory_sync``).
    sequence: int | None = None


def person_changed(model: type[PersonRecord]) -> EventType:
    """``directory.person.changed.v1`` read with ``model``; platform-internal as the gateway
    publishes it (staff contact details travel only on the platform exchange)."""
    return EventType("directory.person.changed", 1, model, "A member of staff was added or changed.", PUBLISHER, internal=True)


def case_changed(model: type[CaseRecord]) -> EventType:
    """``directory.case.changed.v1`` read with ``model``."""
    return EventType("directory.case.changed", 1, model, "A child's case was added or changed.", PUBLISHER)


def team_changed(model: type[TeamRecord]) -> EventType:
    """``directory.team.changed.v1`` read with ``model``."""
    return EventType("directory.team.changed", 1, model, "A team was added or changed.", PUBLISHER)
