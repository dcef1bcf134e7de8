"""Integration events of the six-monthly team review (imports only shared.* and pydantic)."""

from __future__ import annotations

from datetime import date, datetime

from shared.events import EventData, EventType

SERVICE = "audit"


class TeamReviewIssued(EventData):
    review_id: str
    team_id: str
    months: list[str]
    team_manager_id: str | None = None
    service_manager_id: str | None = None
    assistant_director_id: str | None = None
    completed_audits: int
    grades: dict[str, int]
    issued_by: str
    issued_at: datetime


class ImprovementActionDue(EventData):
    review_id: str
    team_id: str
    action_number: int
    owner_id: str
    due_on: date
    status: str


class ImprovementActionCompleted(EventData):
    review_id: str
    team_id: str
    action_number: int
    owner_id: str
    due_on: date
    completed_by: str
    completed_at: datetime
    #: Every action of the plan is now completed or dropped.
    plan_completed: bool


class ImprovementActionDropped(EventData):
    """An action of the plan was dropped (no longer needed); the reason stays on the review."""

    review_id: str
    team_id: str
    action_number: int
    owner_id: str
    due_on: date
    dropped_by: str
    dropped_at: datetime
    #: Every action of the plan is now completed or dropped.
    plan_completed: bool


class ServiceDevelopmentReferred(EventData):
    """A need for support beyond the team (6.4), for the assistant director for service development."""

    review_id: str
    team_id: str
    action_number: int
    need: str
    assistant_director_id: str | None = None
    service_manager_id: str | None = None
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
