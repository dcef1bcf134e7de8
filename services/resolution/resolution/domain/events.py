"""What happens to a resolution form, as the aggregate records it (domain events), and the
entries of its history.

The use case turns each domain event into an integration event (``resolution/events.py``)
and writes it to the outbox with the form, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .stages import Stage


@dataclass(frozen=True)
class DomainEvent:
    form_id: str
    case_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class TeamEvent(DomainEvent):
    """An event that names the team holding the child's case."""

    team_id: str


@dataclass(frozen=True)
class SectionEvent(DomainEvent):
    """An event about the section of one stage."""

    stage: Stage


@dataclass(frozen=True)
class StageEnded(TeamEvent):
    """A stage's outcome recorded: the resolution was resolved, or closed unresolved, at ``stage``."""

    stage: Stage


@dataclass(frozen=True)
class ResolutionRaised(DomainEvent):
    case_type: str
    team_id: str
    owner_role: str
    first_stage: Stage
    theme_ids: tuple[str, ...]
    #: Every stage activated on raising, lowest first (one or more).
    stages: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class CaseContactReported(DomainEvent):
    """A team manager or allocated worker the directory lacked, entered on the form."""

    team_manager_id: str | None
    allocated_worker_id: str | None


@dataclass(frozen=True)
class SectionDelegated(SectionEvent):
    delegate_id: str
    delegation_number: int
    due_on: date | None
    #: Whoever held the section before this re-delegation (their task is over).
    recalled_delegate_id: str | None = None


@dataclass(frozen=True)
class SectionFinalised(SectionEvent):
    #: None when the owner finalised a section they held themselves (e.g. CAFCASS's response).
    delegate_id: str | None
    delegation_number: int | None


@dataclass(frozen=True)
class SectionReactivated(SectionEvent):
    delegate_id: str | None
    delegation_number: int | None
    due_on: date | None


@dataclass(frozen=True)
class SectionRetracted(SectionEvent):
    delegate_id: str
    delegation_number: int
    #: Whether the delegate had written anything: it stays in the section and its history.
    draft_kept: bool


@dataclass(frozen=True)
class StageEscalated(TeamEvent):
    from_stage: Stage
    to_stage: Stage


@dataclass(frozen=True)
class StagesActivated(TeamEvent):
    """The owner activated one or more further stages at once, each with its own section."""

    stages: tuple[Stage, ...]
    #: Every stage open after the activation, lowest first.
    active_stages: tuple[Stage, ...]


@dataclass(frozen=True)
class ResolutionResolved(StageEnded):
    days_to_resolution: int


@dataclass(frozen=True)
class ResolutionClosedUnresolved(StageEnded):
    days_open: int
    closing_reason_id: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a form: who, when, what (``part`` is form, stage or section)."""

    version: int
    action: str
    part: str
    by: str
    at: datetime
    stage: Stage | None = None
    details: dict[str, Any] = field(default_factory=dict)
