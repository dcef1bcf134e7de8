"""Domain events a team review records as it changes (``Review.events``): what happened, as plain
values (an enum member is carried as its ``str`` value). The one translator at the end of
``team_review.events`` turns them into integration events."""

from __future__ import annotations

from datetime import date, datetime

from ...common.events import Event


class DomainEvent(Event, kw_only=True):
    """Something that happened to a team review."""

    review_id: str
    team_id: str


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


class ServiceDevelopmentReferred(DomainEvent):
    """An action of the plan needs support beyond the team (6.4): for the assistant director."""

    action_number: int
    need: str
    assistant_director_id: str | None
    service_manager_id: str | None
    by: str
    at: datetime


class ImprovementActionEvent(DomainEvent):
    """Something that happened to one action of the plan."""

    action_number: int
    owner_id: str
    due_on: date


class ImprovementActionEnded(ImprovementActionEvent):
    """An action of the plan was completed or dropped."""

    by: str
    at: datetime
    #: Every action of the plan is now completed or dropped.
    plan_completed: bool


class ImprovementActionCompleted(ImprovementActionEnded):
    """The action was completed."""


class ImprovementActionDropped(ImprovementActionEnded):
    """The action was dropped (no longer needed)."""


class ImprovementActionDue(ImprovementActionEvent):
    """An unfinished action reached its due day (once per due day)."""

    #: An ``ActionStatus``.
    status: str
