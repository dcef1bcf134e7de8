"""What follows a completed audit whose grade needs it (Kent 4.7): an inadequate (critical) grade
is confirmed by a practice development officer; practice graded inadequate opens an action for the
operational service manager, escalated to the assistant director if still open a month later.

``FollowUps`` is part of the audit aggregate (``Audit`` inherits it); it is kept apart because it
is its own concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.calendar import local_date

from ...common.errors import InvalidEntries, NotAllowed, WrongStage
from ...common.grades import Grade
from ...tools.domain.definition import add_months
from . import events as ev

#: Months after which inadequate practice not yet improved goes to the assistant director.
ESCALATION_MONTHS = 1


@dataclass
class CriticalConfirmation:
    requested_at: datetime
    officer_id: str | None = None
    appointed_by: str | None = None
    appointed_at: datetime | None = None
    confirmed: bool | None = None
    grade: Grade | None = None
    comment: str = ""
    by: str | None = None
    at: datetime | None = None


class ActionStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


@dataclass
class InadequateAction:
    owner_id: str | None
    opened_at: datetime
    escalate_on: date
    status: ActionStatus = ActionStatus.OPEN
    escalated_to: str | None = None
    escalated_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str = ""


class FollowUps:
    """The follow-up rules of the audit aggregate (mixed into ``Audit``, which holds the state)."""

    critical: CriticalConfirmation | None
    inadequate_action: InadequateAction | None
    completed_at: datetime | None
    events: list[ev.DomainEvent]

    @property
    def grade_of_record(self) -> Grade | None:  # pragma: no cover - defined by Audit
        raise NotImplementedError

    def _touch(self, by: str, at: datetime) -> None:  # pragma: no cover - defined by Audit
        raise NotImplementedError

    @property
    def needs_confirming_officer(self) -> bool:
        return self.critical is not None and self.critical.officer_id is None and self.critical.confirmed is None

    @property
    def needs_inadequate_action(self) -> bool:
        grade = self.grade_of_record
        return self.completed_at is not None and grade is not None and grade.is_inadequate and self.inadequate_action is None

    def confirm_critical_grade(self, *, by: str, confirmed: bool, revised_grade: Grade | None, comment: str, at: datetime) -> None:
        critical = self.critical
        if critical is None or critical.confirmed is not None:
            raise WrongStage("There is no inadequate (critical) grade waiting to be confirmed.")
        if by != critical.officer_id:
            raise NotAllowed("Only the practice development officer assigned to it confirms an inadequate (critical) grade.")
        if confirmed:
            grade = Grade.INADEQUATE_CRITICAL
        elif revised_grade is None or revised_grade is Grade.INADEQUATE_CRITICAL:
            raise InvalidEntries(
                "A grade that is not confirmed needs the revised grade.",
                [{"field": "revised_grade", "message": "give the grade the case should have instead"}],
            )
        else:
            grade = revised_grade
        critical.confirmed, critical.grade, critical.comment, critical.by, critical.at = confirmed, grade, comment, by, at
        self._touch(by, at)
        self.events.append(ev.CriticalGradeConfirmed(at=at, by=by, confirmed=confirmed, grade=grade))
        action = self.inadequate_action
        if not grade.is_inadequate and action is not None and action.status is not ActionStatus.RESOLVED:
            self._resolve_action(action, by=by, note=f"Grade revised to {grade.label} by the practice development officer.", at=at)

    def open_inadequate_action(self, *, owner_id: str | None, at: datetime) -> None:
        """An action for the operational service manager, escalating a month later if unresolved."""
        if not self.needs_inadequate_action:
            raise WrongStage("Only a completed audit graded inadequate opens an action.")
        escalate_on = add_months(local_date(at), ESCALATION_MONTHS)
        self.inadequate_action = InadequateAction(owner_id=owner_id, opened_at=at, escalate_on=escalate_on)
        self.events.append(ev.InadequateActionOpened(at=at, owner_id=owner_id, escalate_on=escalate_on))

    def inadequate_action_due(self, today: date) -> bool:
        action = self.inadequate_action
        return action is not None and action.status is ActionStatus.OPEN and today >= action.escalate_on

    def escalate_inadequate_action(self, *, today: date, assistant_director_id: str | None, at: datetime) -> None:
        action = self.inadequate_action
        if action is None or not self.inadequate_action_due(today):
            raise WrongStage("The action is not open past its escalation date.")
        action.status, action.escalated_to, action.escalated_at = ActionStatus.ESCALATED, assistant_director_id, at
        self.events.append(ev.InadequateActionEscalated(at=at, assistant_director_id=assistant_director_id))

    def resolve_inadequate_action(self, *, by: str, note: str, at: datetime) -> None:
        action = self.inadequate_action
        if action is None or action.status is ActionStatus.RESOLVED:
            raise WrongStage("There is no open action on this audit.")
        if by not in (action.owner_id, action.escalated_to):
            raise NotAllowed("Only the operational service manager (or the assistant director it went to) resolves the action.")
        self._resolve_action(action, by=by, note=note, at=at)

    def _resolve_action(self, action: InadequateAction, *, by: str, note: str, at: datetime) -> None:
        action.status, action.resolved_by, action.resolved_at, action.note = ActionStatus.RESOLVED, by, at, note
        self._touch(by, at)
        self.events.append(ev.InadequateActionResolved(at=at, by=by, note=note))
