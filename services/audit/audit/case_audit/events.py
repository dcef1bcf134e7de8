"""The audit service's integration events: what notify, the case-management system and
integrators learn about audits. Data carries identifiers and facts, never a child's name, never a
document; a multi-agency audit names its case by its code (``case_ref``), never its id nor its
team, in every event: it publishes no case-note summary (its note stays with the audit, read
through the API by the auditors and the coordinator, who may know the child)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field
from shared.events import EventData, EventType

SERVICE = "audit"


class AuditAllocated(EventData):
    audit_id: str
    tool_id: str
    tool_version: int
    programme: str
    case_ref: str
    case_type: str
    auditor_id: str
    peer_reviewer_id: str | None = None
    coordinator_id: str | None = None
    month: str | None = None
    #: When the audit is to be completed (the end of its month in a monthly cycle).
    due_on: date | None = None
    allocated_by: str
    allocated_at: datetime


class AuditSubmitted(EventData):
    audit_id: str
    case_ref: str
    auditor_id: str
    peer_reviewer_id: str | None = None
    overall_grade: str | None = None
    submitted_at: datetime


class PeerReviewSubmitted(EventData):
    audit_id: str
    case_ref: str
    auditor_id: str
    peer_reviewer_id: str
    overall_grade: str | None = None
    differing_answers: list[str]
    submitted_at: datetime


class ModerationRequired(EventData):
    audit_id: str
    case_ref: str
    auditor_id: str
    peer_reviewer_id: str
    grades_differ: bool
    supervision_inadequate: bool
    differing_sections: list[str]
    overall_grades_differ: bool
    required_at: datetime


class ModerationProposed(EventData):
    audit_id: str
    proposal: int
    proposed_by: str
    #: Who is asked to accept it (the other party).
    awaiting_id: str
    overall_grade: str
    proposed_at: datetime


class ModerationAgreed(EventData):
    audit_id: str
    case_ref: str
    proposed_by: str
    accepted_by: str
    moderated_grade: str
    agreed_at: datetime


class ModerationEscalated(EventData):
    audit_id: str
    case_ref: str
    escalated_by: str
    reason: str
    escalated_at: datetime


class OfficerAppointed(EventData):
    audit_id: str
    case_ref: str
    #: ``moderation`` (an escalated moderation) or ``critical_confirmation``.
    purpose: str
    officer_id: str
    appointed_by: str
    appointed_at: datetime


class ModerationFinalised(EventData):
    audit_id: str
    case_ref: str
    officer_id: str
    moderated_grade: str
    finalised_at: datetime


class CopyRecipient(EventData):
    person_id: str
    reasons: list[str]


# ``audit.copy.routed.v1`` was withdrawn: it carried the routed PDF itself (``pdf_base64``) to
# every subscriber, and a document never travels on the bus. It is no longer published;
# ``audit.copy.routed.v2`` below says where the PDF is, and the PDF stays in the audit service.


class CopyRouted(EventData):
    """A mailing instruction for notify (platform-internal): who is to be told of a copy and where
    they fetch it. No document: the PDF is read at ``document_path``, by its recipients and the
    audit's parties only."""

    audit_id: str
    #: The case's reference: its code in a multi-agency audit (never to be put in an email).
    case_ref: str
    programme: str
    #: The case is known by a code (a multi-agency audit): say nothing of it in an email.
    coded_case: bool
    #: ``audit`` (stage 1), ``peer_review`` (both stages side by side) or ``moderated``.
    stage: str
    pdf_id: str
    document_path: str = Field(
        description="Where an entitled person fetches the PDF through the gateway (authenticated; 404 to anyone else)."
    )
    recipients: list[CopyRecipient]
    recipient_ids: list[str]
    grade: str | None = None
    routed_at: datetime


class AuditCompleted(EventData):
    audit_id: str
    tool_id: str
    programme: str
    case_ref: str
    case_type: str
    #: The child's team; omitted for a multi-agency audit (the team beside the code would point at the child).
    team_id: str | None = None
    month: str | None = None
    auditor_id: str
    peer_reviewer_id: str | None = None
    grade: str | None = None
    moderated: bool
    completed_at: datetime


class CaseNoteSummary(EventData):
    """For the case-management system: the case note recording the audit on the child's file
    ("Case Audit - Online Audit Programme"), with the overview's analysis and actions. Never
    published for a multi-agency audit (its case id would sit beside the audit id that every other
    event of that audit pairs with the code): the coordinator reads that note through the API."""

    audit_id: str
    case_id: str
    note_type: str
    author_id: str
    analysis: str
    recommended_actions: str
    grade: str | None = None
    moderated_on: date | None = None
    completed_at: datetime


class CriticalGradeConfirmed(EventData):
    audit_id: str
    case_ref: str
    officer_id: str
    confirmed: bool
    grade: str
    confirmed_at: datetime


class InadequateActionOpened(EventData):
    audit_id: str
    case_ref: str
    #: The operational service manager (None when the directory does not say who it is).
    owner_id: str | None = None
    escalate_on: date
    opened_at: datetime


class InadequateActionEscalated(EventData):
    audit_id: str
    case_ref: str
    owner_id: str | None = None
    assistant_director_id: str | None = None
    escalated_at: datetime


class InadequateActionResolved(EventData):
    audit_id: str
    case_ref: str
    resolved_by: str
    resolved_at: datetime


def _type(name: str, model: type[EventData], summary: str) -> EventType:
    return EventType(name, 1, model, summary, SERVICE)


AUDIT_ALLOCATED = _type("audit.audit.allocated", AuditAllocated, "An audit was allocated to an auditor (and a peer reviewer).")
AUDIT_SUBMITTED = _type("audit.audit.submitted", AuditSubmitted, "The auditor submitted stage 1; the peer review can start.")
PEER_REVIEW_SUBMITTED = _type("audit.peer-review.submitted", PeerReviewSubmitted, "The peer reviewer submitted stage 2.")
MODERATION_REQUIRED = _type(
    "audit.moderation.required", ModerationRequired, "Grades differ or supervision was graded inadequate: auditor and peer reviewer must moderate."
)
MODERATION_PROPOSED = _type("audit.moderation.proposed", ModerationProposed, "A party proposed a moderated grading; the other is asked to accept it.")
MODERATION_AGREED = _type("audit.moderation.agreed", ModerationAgreed, "Auditor and peer reviewer agreed a moderated grading.")
MODERATION_ESCALATED = _type(
    "audit.moderation.escalated", ModerationEscalated, "No moderated grading could be agreed; a practice development officer is to moderate."
)
OFFICER_APPOINTED = _type(
    "audit.officer.appointed", OfficerAppointed, "A practice development officer was appointed to moderate or to confirm an inadequate (critical) grade."
)
MODERATION_FINALISED = _type("audit.moderation.finalised", ModerationFinalised, "The practice development officer's grading, which is final.")
COPY_ROUTED = EventType(
    "audit.copy.routed", 2, CopyRouted,
    "A PDF of the audit was produced: tell these people where to read it (the PDF stays in the audit service).", SERVICE,
    internal=True,  # a mailing instruction for notify only
)
AUDIT_COMPLETED = _type("audit.audit.completed", AuditCompleted, "An audit was completed, with its grade of record.")
CASE_NOTE_SUMMARY = _type(
    "audit.case-note.summary", CaseNoteSummary, "The case note recording a completed audit, for the case-management system."
)
CRITICAL_GRADE_CONFIRMED = _type(
    "audit.critical-grade.confirmed", CriticalGradeConfirmed, "A practice development officer confirmed (or revised) an inadequate (critical) grade."
)
INADEQUATE_ACTION_OPENED = _type(
    "audit.inadequate-action.opened", InadequateActionOpened, "Practice graded inadequate: an action opened for the operational service manager."
)
INADEQUATE_ACTION_ESCALATED = _type(
    "audit.inadequate-action.escalated", InadequateActionEscalated, "Practice still inadequate a month later: escalated to the assistant director."
)
INADEQUATE_ACTION_RESOLVED = _type(
    "audit.inadequate-action.resolved", InadequateActionResolved, "The steps to bring practice to an adequate level were implemented."
)

EVENTS: list[EventType] = [
    AUDIT_ALLOCATED, AUDIT_SUBMITTED, PEER_REVIEW_SUBMITTED, MODERATION_REQUIRED, MODERATION_PROPOSED, MODERATION_AGREED,
    MODERATION_ESCALATED, OFFICER_APPOINTED, MODERATION_FINALISED, COPY_ROUTED, AUDIT_COMPLETED, CASE_NOTE_SUMMARY,
    CRITICAL_GRADE_CONFIRMED, INADEQUATE_ACTION_OPENED, INADEQUATE_ACTION_ESCALATED, INADEQUATE_ACTION_RESOLVED,
]
