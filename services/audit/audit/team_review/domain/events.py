"""Domain events a team review records as it changes (``Review.events``): what happened, as plain
values (an enum member is carried as its ``str`` value). The one translator at the end of
``team_review.events`` turns them into integration events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to a team review."""

    review_id: str
    team_id: str


@dataclass(frozen=True, kw_only=True)
class ReviewIssued(DomainEvent):
    months: tuple[str, ...]
    team_manager_id: str | None
    service_manager_id: str | None
    assistant_director_id: str | None
    completed_audits: int
    #: Completed audits by grade.
    grades: dict[str, int]
    by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ServiceDevelopmentReferred(DomainEvent):
    """An action of the plan needs support beyond the team (6.4): for the assistant director."""

    action_number: int
    need: str
    assistant_director_id: str | None
    service_manager_id: str | None
    by: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ImprovementActionCompleted(DomainEvent):
    action_number: int
    owner_id: str
    due_on: date
    by: str
    at: datetime
    #: Every action of the plan is now completed or dropped.
    plan_completed: bool


@dataclass(frozen=True, kw_only=True)
class ImprovementActionDropped(DomainEvent):
    action_number: int
    owner_id: str
    due_on: date
    by: str
    at: datetime
    #: Every action of the plan is now completed or dropped.
    plan_completed: bool


@dataclass(frozen=True, kw_only=True)
class ImprovementActionDue(DomainEvent):
    """An unfinished action reached its due day (once per due day)."""

    action_number: int
    owner_id: str
    due_on: date
    #: An ``ActionStatus``.
    status: str
