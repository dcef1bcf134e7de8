"""Integration events of the six-monthly team review (imports only shared.*, pydantic,
``common.translation`` and the plain domain events), and at the end the one translator from the domain events (``domain.events``) to
them, staged in the transaction that wrote the review (the outbox)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from shared.event_translation import carried
from shared.events import EventData, EventType
from shared.mongo import Transaction

from ..common.translation import event_type, stage
from .domain import events as ev


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


class _ActionEvent(EventData):
    review_id: str
    """The team review's id in the audit service."""
    team_id: str
    action_number: int


class _OwnedActionEvent(_ActionEvent):
    owner_id: str
    """The person id of the action's owner."""
    due_on: date
    """The action's due date."""


class ImprovementActionDue(_OwnedActionEvent):
    status: str
    """The action's status on its due day: open or in_progress."""


class ImprovementActionCompleted(_OwnedActionEvent):
    completed_by: str
    completed_at: datetime
    plan_completed: bool
    """Every action of the plan is now completed or dropped."""


class ImprovementActionDropped(_OwnedActionEvent):
    """An action of the plan was dropped (no longer needed); the reason stays on the review."""

    dropped_by: str
    dropped_at: datetime
    plan_completed: bool
    """Every action of the plan is now completed or dropped."""


class ServiceDevelopmentReferred(_ActionEvent):
    """A need for support beyond the team (6.4), for the assistant director for service development."""

    need: str
    """The need for support beyond the team, as written on the review's plan."""
    assistant_director_id: str | None = None
    """The assistant director for service development; null when unknown."""
    service_manager_id: str | None = None
    """The team's service manager; null when unknown."""
    referred_by: str
    referred_at: datetime


TEAM_REVIEW_ISSUED = event_type("audit.team-review.issued", TeamReviewIssued, "A team's six-monthly structured review pack was issued.")
IMPROVEMENT_ACTION_DUE = event_type("audit.improvement-action.due", ImprovementActionDue, "An action of a team's improvement plan reached its due day unfinished.")
IMPROVEMENT_ACTION_COMPLETED = event_type("audit.improvement-action.completed", ImprovementActionCompleted, "An action of a team's improvement plan was completed.")
IMPROVEMENT_ACTION_DROPPED = event_type("audit.improvement-action.dropped", ImprovementActionDropped, "An action of a team's improvement plan was dropped.")
SERVICE_DEVELOPMENT_REFERRED = event_type(
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
            return TEAM_REVIEW_ISSUED, carried(TeamReviewIssued, e, issued_by=e.by, issued_at=e.at), subject
        case ev.ServiceDevelopmentReferred():
            return SERVICE_DEVELOPMENT_REFERRED, carried(ServiceDevelopmentReferred, e, referred_by=e.by, referred_at=e.at), subject
        case ev.ImprovementActionCompleted():
            return IMPROVEMENT_ACTION_COMPLETED, carried(ImprovementActionCompleted, e, completed_by=e.by, completed_at=e.at), subject
        case ev.ImprovementActionDropped():
            return IMPROVEMENT_ACTION_DROPPED, carried(ImprovementActionDropped, e, dropped_by=e.by, dropped_at=e.at), subject
        case ev.ImprovementActionDue():
            return IMPROVEMENT_ACTION_DUE, carried(ImprovementActionDue, e), subject
    return None


def record(tx: Transaction, happened: Iterable[ev.DomainEvent]) -> None:
    """Stage the integration events of what happened, in order, in the transaction that wrote it."""
    stage(tx, integration_event, happened)
