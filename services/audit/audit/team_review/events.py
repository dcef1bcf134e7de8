"""Integration events of the six-monthly team review (imports only shared.*, pydantic and the plain
domain events), and at the end the one translator from the domain events (``domain.events``) to
them, staged in the transaction that wrote the review (the outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from shared.events import EventData, EventType
from shared.mongo import Transaction

from .domain import events as ev

SERVICE = "audit"


class TeamReviewIssued(EventData):
    review_id: str
    """The team review's id in the audit service."""
    team_id: str
    """The team reviewed."""
    months: list[str]
    """The six months (YYYY-MM) the review covers."""
    team_manager_id: str | None = None
    """The team's manager; null when unknown."""
    service_manager_id: str | None = None
    """The team's service manager; null when unknown."""
    assistant_director_id: str | None = None
    """The assistant director; null when unknown."""
    completed_audits: int
    """How many of the team's audits were completed in those months."""
    grades: dict[str, int]
    issued_by: str
    issued_at: datetime


class ImprovementActionDue(EventData):
    review_id: str
    """The team review's id in the audit service."""
    team_id: str
    action_number: int
    owner_id: str
    """The person id of the action's owner."""
    due_on: date
    """The action's due date."""
    status: str
    """The action's status on its due day: open or in_progress."""


class ImprovementActionCompleted(EventData):
    review_id: str
    """The team review's id in the audit service."""
    team_id: str
    action_number: int
    owner_id: str
    """The person id of the action's owner."""
    due_on: date
    """The action's due date."""
    completed_by: str
    completed_at: datetime
    plan_completed: bool
    """Every action of the plan is now completed or dropped."""


class ImprovementActionDropped(EventData):
    """An action of the plan was dropped (no longer needed); the reason stays on the review."""

    review_id: str
    """The team review's id in the audit service."""
    team_id: str
    action_number: int
    owner_id: str
    """The person id of the action's owner."""
    due_on: date
    """The action's due date."""
    dropped_by: str
    dropped_at: datetime
    plan_completed: bool
    """Every action of the plan is now completed or dropped."""


class ServiceDevelopmentReferred(EventData):
    """A need for support beyond the team (6.4), for the assistant director for service development."""

    review_id: str
    """The team review's id in the audit service."""
    team_id: str
    action_number: int
    need: str
    """The need for support beyond the team, as written on the review's plan."""
    assistant_director_id: str | None = None
    """The assistant director for service development; null when unknown."""
    service_manager_id: str | None = None
    """The team's service manager; null when unknown."""
    referred_by: str
    referred_at: datetime


def _type(name: str, model: type[EventData], summary: str) -> EventType:
    return EventType(name, 1, model, summary, SERVICE)


TEAM_REVIEW_ISSUED = _type("audit.team-review.issued", TeamReviewIssued, "A team's six-monthly structured review pack was issued.")
IMPROVEMENT_ACTION_DUE = _type("audit.improvement-action.due", ImprovementActionDue, "An action of a team's improvement plan reached its due day unfinished.")
IMPROVEMENT_ACTION_COMPLETED = _type("audit.improvement-action.completed", ImprovementActionCompleted, "An action of a team's improvement plan was completed.")
IMPROVEMENT_ACTION_DROPPED = _type("audit.improvement-action.dropped", ImprovementActionDropped, "An action of a team's improvement plan was dropped.")
SERVICE_DEVELOPMENT_REFERRED = _type(
    "audit.service-development.referred", ServiceDevelopmentReferred, "A team review found a need for departmental support: referred to the assistant director."
)

EVENTS: list[EventType] = [
    TEAM_REVIEW_ISSUED, IMPROVEMENT_ACTION_DUE, IMPROVEMENT_ACTION_COMPLETED, IMPROVEMENT_ACTION_DROPPED, SERVICE_DEVELOPMENT_REFERRED,
]


# --- from domain events to integration events --------------------------------------------------


def integration_event(e: ev.DomainEvent) -> tuple[EventType, EventData, str] | None:
    """The integration event a domain event publishes, with its subject (None: not published)."""
    subject = f"team-review/{e.review_id}"
    match e:
        case ev.ReviewIssued():
            return TEAM_REVIEW_ISSUED, TeamReviewIssued(
                review_id=e.review_id, team_id=e.team_id, months=list(e.months), team_manager_id=e.team_manager_id,
                service_manager_id=e.service_manager_id, assistant_director_id=e.assistant_director_id, completed_audits=e.completed_audits,
                grades=dict(e.grades), issued_by=e.by, issued_at=e.at,
            ), subject
        case ev.ServiceDevelopmentReferred():
            return SERVICE_DEVELOPMENT_REFERRED, ServiceDevelopmentReferred(
                review_id=e.review_id, team_id=e.team_id, action_number=e.action_number, need=e.need,
                assistant_director_id=e.assistant_director_id, service_manager_id=e.service_manager_id, referred_by=e.by, referred_at=e.at,
            ), subject
        case ev.ImprovementActionCompleted():
            return IMPROVEMENT_ACTION_COMPLETED, ImprovementActionCompleted(
                review_id=e.review_id, team_id=e.team_id, action_number=e.action_number, owner_id=e.owner_id, due_on=e.due_on,
                completed_by=e.by, completed_at=e.at, plan_completed=e.plan_completed,
            ), subject
        case ev.ImprovementActionDropped():
            return IMPROVEMENT_ACTION_DROPPED, ImprovementActionDropped(
                review_id=e.review_id, team_id=e.team_id, action_number=e.action_number, owner_id=e.owner_id, due_on=e.due_on,
                dropped_by=e.by, dropped_at=e.at, plan_completed=e.plan_completed,
            ), subject
        case ev.ImprovementActionDue():
            return IMPROVEMENT_ACTION_DUE, ImprovementActionDue(
                review_id=e.review_id, team_id=e.team_id, action_number=e.action_number, owner_id=e.owner_id, due_on=e.due_on,
                status=e.status,
            ), subject
    return None


def record(tx: Transaction, happened: Iterable[ev.DomainEvent]) -> None:
    """Stage the integration events of what happened, in order, in the transaction that wrote it."""
    for e in happened:
        staged = integration_event(e)
        if staged is not None:
            event_type, data, subject = staged
            tx.record(event_type, data, subject=subject)
