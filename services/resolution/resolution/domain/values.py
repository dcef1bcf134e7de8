"""The parts of a resolution form: what the directory says of the case and of people, the
concerns, each activated stage with its dates, section and resolution details."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from shared.calendar import local_date

from .section import Section
from .stages import Stage

MAX_DETAIL = 4000
MAX_CONCERNS = 30


class FormStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED_UNRESOLVED = "closed-unresolved"

    @property
    def finished(self) -> bool:
        return self in (FormStatus.RESOLVED, FormStatus.CLOSED_UNRESOLVED)


class NextStep(StrEnum):
    ESCALATE = "escalate"
    CLOSE_UNRESOLVED = "close-unresolved"


@dataclass(frozen=True)
class CaseSnapshot:
    """A child's case as the directory (our projection of it) knows it: identifiers only."""

    case_id: str
    case_type: str
    status: str
    team_id: str
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None


@dataclass(frozen=True)
class PersonRef:
    """A member of staff as the directory knows them."""

    person_id: str
    roles: frozenset[str]
    active: bool = True


@dataclass
class CaseContacts:
    """The case's team manager and allocated worker; ``*_from_form`` when the owner entered one
    the directory lacked (it is then reported to the directory)."""

    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    allocated_worker_from_form: bool = False
    team_manager_from_form: bool = False


@dataclass
class Concern:
    number: int
    theme_id: str
    detail: str
    added_by: str
    added_at: datetime


@dataclass
class StageDates:
    raised_on: date | None = None
    response_due_on: date | None = None
    response_received_on: date | None = None


@dataclass
class StageResolution:
    """The owner's resolution details at the end of a stage."""

    resolved: bool
    recorded_by: str
    recorded_at: datetime
    impact: str | None = None
    next_step: NextStep | None = None
    escalated_to: Stage | None = None
    close_reason: str | None = None
    #: The coded closing reason (``closing_reasons``); None on forms closed before reasons were coded.
    closing_reason_id: str | None = None


@dataclass
class StageRecord:
    stage: Stage
    activated_by: str
    activated_at: datetime
    dates: StageDates = field(default_factory=StageDates)
    section: Section = field(default_factory=Section)
    resolution: StageResolution | None = None

    @property
    def started_on(self) -> date:
        return self.dates.raised_on or local_date(self.activated_at)
