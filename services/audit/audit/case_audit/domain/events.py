"""Domain events an audit records as it changes; the use cases turn them into integration
events (``audit.events``) and side effects (PDF copies, follow-up actions)."""

from __future__ import annotations

from datetime import date

from ...common.events import DomainEvent
from ...common.grades import Grade
from .work import Evidence, StageWork


class AuditAllocated(DomainEvent):
    by: str


class DraftSaved(DomainEvent):
    """A draft was saved: kept in the audit's draft history so nothing written is lost."""

    stage: str
    number: int
    by: str
    #: What was saved: a party's work, or the evidence list by question.
    work: StageWork | dict[str, list[Evidence]]


class AuditSubmitted(DomainEvent):
    by: str
    overall_grade: Grade | None


class PeerReviewSubmitted(DomainEvent):
    by: str
    overall_grade: Grade | None
    differing_answers: tuple[str, ...]


class ModerationRequired(DomainEvent):
    grades_differ: bool
    supervision_inadequate: bool
    differing_sections: tuple[str, ...]
    overall_grades_differ: bool


class ModerationProposed(DomainEvent):
    by: str
    number: int
    overall_grade: Grade


class ModerationAgreed(DomainEvent):
    proposed_by: str
    accepted_by: str
    overall_grade: Grade


class ModerationEscalated(DomainEvent):
    by: str
    reason: str


class OfficerAppointed(DomainEvent):
    """A practice development officer appointed to moderate, or to confirm a critical grade."""

    purpose: str
    officer_id: str
    by: str


class ModerationFinalised(DomainEvent):
    """The practice development officer's grading, which is final."""

    by: str
    overall_grade: Grade


class CopyDue(DomainEvent):
    """A stage ended: a PDF of the audit is due, and its copies routed."""

    stage: str


class CopyRouted(DomainEvent):
    stage: str
    pdf_id: str
    recipients: tuple[tuple[str, tuple[str, ...]], ...]


class AuditCompleted(DomainEvent):
    grade: Grade | None
    moderated: bool


class CaseNoteSummary(DomainEvent):
    analysis: str
    recommended_actions: str
    grade: Grade | None
    moderated_on: date | None
    author_id: str


class CriticalGradeConfirmed(DomainEvent):
    by: str
    confirmed: bool
    grade: Grade


class InadequateActionOpened(DomainEvent):
    owner_id: str | None
    escalate_on: date


class InadequateActionEscalated(DomainEvent):
    assistant_director_id: str | None


class InadequateActionResolved(DomainEvent):
    by: str
    note: str


class SafeguardingConcernRaised(DomainEvent):
    """An immediate safeguarding concern raised during the audit (its text stays with the audit)."""

    concern_id: str
    by: str
    team_manager_id: str | None
    service_manager_id: str | None


class SafeguardingConcernAcknowledged(DomainEvent):
    concern_id: str
    by: str


class PractitionerViewsGiven(DomainEvent):
    """The allocated social worker saved their views and reflections (kept with every earlier save)."""

    by: str
    number: int
