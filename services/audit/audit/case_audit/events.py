"""The audit service's integration events: what notify, the case-management system and
integrators learn about audits. Data carries identifiers and facts, never a child's name, never a
document; a multi-agency audit names its case by its code (``case_ref``), never its id nor its
team, in every event: it publishes no case-note summary (its note stays with the audit, read
through the API by the auditors and the coordinator, who may know the child)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from pydantic import Field
from shared.events import EventData, EventType
from shared.mongo import Transaction

from ..common.translation import SERVICE, AuditEvent, event_type
from ..cycles.domain.timetable import Month, audit_due_on
from .domain import events as ev
from .domain.audit import CASE_NOTE_TYPE, Audit


class AuditAllocated(EventData):
    audit_id: str
    tool_id: str
    tool_version: int
    programme: str
    case_ref: str
    case_type: str
    auditor_id: str
    """The auditor the audit is allocated to (stage 1)."""
    peer_reviewer_id: str | None = None
    coordinator_id: str | None = None
    month: str | None = None
    """The audit month (YYYY-MM) of a monthly cycle; null for an audit allocated outside one."""
    due_on: date | None = None
    """When the audit is to be completed (the end of its month in a monthly cycle)."""
    basis: str | None = None
    """How the draw chose the case: line_managed, team_cover, or own_service (the programme's fallback); null outside a drawn cycle."""
    allocated_by: str
    allocated_at: datetime


class AuditSubmitted(AuditEvent):
    auditor_id: str
    peer_reviewer_id: str | None = None
    overall_grade: str | None = None
    """The auditor's overall grade on the Ofsted scale; null when the tool has none."""
    submitted_at: datetime


class PeerReviewSubmitted(AuditEvent):
    auditor_id: str
    peer_reviewer_id: str
    """The peer reviewer who submitted stage 2."""
    overall_grade: str | None = None
    """The peer reviewer's overall grade on the Ofsted scale; null when the tool has none."""
    differing_answers: list[str]
    """The keys of the questions the peer reviewer answered differently from the auditor."""
    submitted_at: datetime


class ModerationRequired(AuditEvent):
    auditor_id: str
    peer_reviewer_id: str
    """The peer reviewer who moderates with the auditor."""
    grades_differ: bool
    """True when the auditor's and the peer reviewer's grades differ."""
    supervision_inadequate: bool
    """True when supervision was graded inadequate (moderation is then required whatever the grades)."""
    differing_sections: list[str]
    """The keys of the sections whose grades differ."""
    overall_grades_differ: bool
    """True when the two overall grades differ."""
    required_at: datetime
    """When moderation was found to be required: an RFC 3339 timestamp in UTC."""


class ModerationProposed(EventData):
    audit_id: str
    proposal: int
    """The proposal's number in the moderation (1 for the first)."""
    proposed_by: str
    """The party who proposed it: the auditor or the peer reviewer."""
    awaiting_id: str
    """Who is asked to accept it (the other party)."""
    overall_grade: str
    """The proposed overall grade on the Ofsted scale."""
    proposed_at: datetime


class ModerationAgreed(AuditEvent):
    proposed_by: str
    """The party whose proposal was accepted."""
    accepted_by: str
    """The other party, who accepted it."""
    moderated_grade: str
    agreed_at: datetime


class ModerationEscalated(AuditEvent):
    escalated_by: str
    """The peer reviewer, who asked for further moderation."""
    reason: str
    """Why no moderated grading could be agreed, as the peer reviewer wrote it."""
    escalated_at: datetime


class OfficerAppointed(AuditEvent):
    purpose: str
    """``moderation`` (an escalated moderation) or ``critical_confirmation``."""
    officer_id: str
    """The practice development officer appointed."""
    appointed_by: str
    appointed_at: datetime


class ModerationFinalised(AuditEvent):
    officer_id: str
    """The practice development officer whose grading is final."""
    moderated_grade: str
    finalised_at: datetime


class CopyRecipient(EventData):
    person_id: str
    """The recipient's person id in the directory."""
    reasons: list[str]
    """Why they receive a copy, e.g. auditor, peer_reviewer, accountable_service_manager, iro_team_manager, qa_team."""


# ``audit.copy.routed.v1`` was withdrawn: it carried the routed PDF itself (``pdf_base64``) to
# every subscriber, and a document never travels on the bus. It is no longer published;
# ``audit.copy.routed.v2`` below says where the PDF is, and the PDF stays in the audit service.


class CopyRouted(EventData):
    """A mailing instruction for notify (platform-internal): who is to be told of a copy and where
    they fetch it. No document: the PDF is read at ``document_path``, by its recipients and the
    audit's parties only."""

    audit_id: str
    case_ref: str
    """The case's reference: its code in a multi-agency audit (never to be put in an email)."""
    programme: str
    coded_case: bool
    """The case is known by a code (a multi-agency audit): say nothing of it in an email."""
    stage: str
    """``audit`` (stage 1), ``peer_review`` (both stages side by side) or ``moderated``."""
    pdf_id: str
    """The stored PDF's id in the audit service."""
    document_path: str = Field(
        description="Where an entitled person fetches the PDF through the gateway (authenticated; 404 to anyone else)."
    )
    recipients: list[CopyRecipient]
    """Who is to be told of the copy, each with why."""
    recipient_ids: list[str]
    """The recipients' person ids (the same people as recipients)."""
    grade: str | None = None
    """The audit's grade of record when the copy was made, on the Ofsted scale; null before there is one."""
    routed_at: datetime


class AuditCompleted(EventData):
    audit_id: str
    tool_id: str
    programme: str
    case_ref: str
    case_type: str
    team_id: str | None = None
    """The child's team; omitted for a multi-agency audit (the team beside the code would point at the child)."""
    month: str | None = None
    """The audit month (YYYY-MM) of a monthly cycle; null for an audit outside one."""
    auditor_id: str
    peer_reviewer_id: str | None = None
    grade: str | None = None
    """The grade of record on the Ofsted scale (the moderated grade when the audit was moderated); null when the tool has none."""
    moderated: bool
    """True when the grade of record came from moderation."""
    completed_at: datetime


class CaseNoteSummary(EventData):
    """For the case-management system: the case note recording the audit on the child's file
    ("Case Audit - Online Audit Programme"), with the overview's analysis and actions. Never
    published for a multi-agency audit (its case id would sit beside the audit id that every other
    event of that audit pairs with the code): the coordinator reads that note through the API."""

    audit_id: str
    case_id: str
    note_type: str
    """The case note's type on the child's record: 'Case Audit - Online Audit Programme'."""
    author_id: str
    """The person id of the note's author."""
    analysis: str
    """The overview's analysis, as written for the child's record."""
    recommended_actions: str
    """The overview's recommended actions, as written for the child's record."""
    grade: str | None = None
    """The grade of record on the Ofsted scale; null when the tool has none."""
    moderated_on: date | None = None
    """The date the grading was moderated; null when it was not."""
    completed_at: datetime


class CriticalGradeConfirmed(AuditEvent):
    officer_id: str
    """The practice development officer who confirmed or revised the grade."""
    confirmed: bool
    """True when the inadequate (critical) grade was confirmed, false when it was revised."""
    grade: str
    """The grade after the officer's decision, on the Ofsted scale."""
    confirmed_at: datetime


class InadequateActionOpened(AuditEvent):
    owner_id: str | None = None
    """The operational service manager (None when the directory does not say who it is)."""
    escalate_on: date
    """The date the action is escalated to the assistant director if practice is still inadequate (a month later)."""
    opened_at: datetime


class InadequateActionEscalated(AuditEvent):
    owner_id: str | None = None
    """The operational service manager who owns the action; null when the directory does not say who it is."""
    assistant_director_id: str | None = None
    """The assistant director it is escalated to; null when the directory does not say who it is."""
    escalated_at: datetime


class InadequateActionResolved(AuditEvent):
    resolved_by: str
    resolved_at: datetime


class _ConcernEvent(EventData):
    audit_id: str
    concern_id: str
    """The concern's id within the audit."""
    case_ref: str
    """The case's reference: its id (its code in a multi-agency audit)."""


class SafeguardingConcernRaised(_ConcernEvent):
    """An immediate concern about the child's safety or wellbeing was raised during the audit (Kent
    4.7: action should not wait until auditing is completed). The concern itself stays in the audit
    service: the recipients read it on the audit."""

    raised_by: str
    """The auditor or peer reviewer who raised it."""
    team_manager_id: str | None = None
    """The case's team manager, who is to act on it; null when the directory does not say who it is."""
    service_manager_id: str | None = None
    """The accountable service manager; null when the directory does not say who it is."""
    recipient_ids: list[str]
    """Everyone it went to at once (the team manager and the service manager, each once)."""
    raised_at: datetime


class SafeguardingConcernAcknowledged(_ConcernEvent):
    """The team manager or service manager (or QA staff) recorded the action taken on a concern and
    its outcome (the outcome's text stays in the audit service)."""

    acknowledged_by: str
    """Who recorded the outcome."""
    acknowledged_at: datetime


#: ``cycles.events`` declares its types with this too.
_type = event_type


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

SAFEGUARDING_CONCERN_RAISED = _type(
    "audit.safeguarding-concern.raised", SafeguardingConcernRaised,
    "An immediate safeguarding concern was raised during an audit: to the case's team manager and the accountable service manager at once.",
)
SAFEGUARDING_CONCERN_ACKNOWLEDGED = _type(
    "audit.safeguarding-concern.acknowledged", SafeguardingConcernAcknowledged,
    "The action taken on a safeguarding concern raised during an audit, and its outcome, were recorded.",
)

EVENTS: list[EventType] = [
    AUDIT_ALLOCATED, AUDIT_SUBMITTED, PEER_REVIEW_SUBMITTED, MODERATION_REQUIRED, MODERATION_PROPOSED, MODERATION_AGREED,
    MODERATION_ESCALATED, OFFICER_APPOINTED, MODERATION_FINALISED, COPY_ROUTED, AUDIT_COMPLETED, CASE_NOTE_SUMMARY,
    CRITICAL_GRADE_CONFIRMED, INADEQUATE_ACTION_OPENED, INADEQUATE_ACTION_ESCALATED, INADEQUATE_ACTION_RESOLVED,
    SAFEGUARDING_CONCERN_RAISED, SAFEGUARDING_CONCERN_ACKNOWLEDGED,
]


# --- from domain events to integration events --------------------------------------------------
# From the domain events an audit recorded to the integration events it publishes.
#
# A multi-agency audit (its case known by a code) publishes nothing that identifies the child next
# to that code: no case-note summary (the note stays with the audit, ``GET /v1/audits/{id}/case-note``)
# and no team in its completed event. A routed copy carries no document, only where to fetch it.

def _grade(grade: object) -> str | None:
    return str(grade) if grade is not None else None


#: The gateway's path of the audit service's routes (``/api/v1/audit/<path>`` -> ``/v1/<path>``).
GATEWAY_PREFIX = "/api/v1/audit"


def pdf_path(audit_id: str, pdf_id: str) -> str:
    """The audit service's route of one stored PDF (``GET``; the audit's parties and the copy's recipients)."""
    return f"/v1/audits/{audit_id}/pdfs/{pdf_id}"


def document_path(audit_id: str, pdf_id: str) -> str:
    """Where a person fetches that PDF through the gateway."""
    return GATEWAY_PREFIX + pdf_path(audit_id, pdf_id).removeprefix("/v1")


def integration_events(audit: Audit, recorded: list[ev.DomainEvent]) -> Iterator[tuple[EventType, EventData]]:
    ref, a = audit.case_ref, audit
    coded = a.form.coded_case
    for e in recorded:
        match e:
            case ev.AuditAllocated():
                yield AUDIT_ALLOCATED, AuditAllocated(
                    audit_id=a.id, tool_id=a.form.tool_id, tool_version=a.form.tool_version, programme=a.form.programme, case_ref=ref,
                    case_type=a.case.case_type, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id,
                    coordinator_id=a.coordinator_id, month=a.month, due_on=a.due_on or (audit_due_on(Month.parse(a.month)) if a.month else None),
                    basis=a.basis.value if a.basis else None, allocated_by=e.by, allocated_at=e.at,
                )
            case ev.AuditSubmitted():
                yield AUDIT_SUBMITTED, AuditSubmitted(
                    audit_id=a.id, case_ref=ref, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id,
                    overall_grade=_grade(e.overall_grade), submitted_at=e.at,
                )
            case ev.PeerReviewSubmitted():
                yield PEER_REVIEW_SUBMITTED, PeerReviewSubmitted(
                    audit_id=a.id, case_ref=ref, auditor_id=a.auditor_id, peer_reviewer_id=e.by, overall_grade=_grade(e.overall_grade),
                    differing_answers=list(e.differing_answers), submitted_at=e.at,
                )
            case ev.ModerationRequired():
                yield MODERATION_REQUIRED, ModerationRequired(
                    audit_id=a.id, case_ref=ref, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id or "",
                    grades_differ=e.grades_differ, supervision_inadequate=e.supervision_inadequate,
                    differing_sections=list(e.differing_sections), overall_grades_differ=e.overall_grades_differ, required_at=e.at,
                )
            case ev.ModerationProposed():
                other = a.peer_reviewer_id if e.by == a.auditor_id else a.auditor_id
                yield MODERATION_PROPOSED, ModerationProposed(
                    audit_id=a.id, proposal=e.number, proposed_by=e.by, awaiting_id=other or "", overall_grade=str(e.overall_grade),
                    proposed_at=e.at,
                )
            case ev.ModerationAgreed():
                yield MODERATION_AGREED, ModerationAgreed(
                    audit_id=a.id, case_ref=ref, proposed_by=e.proposed_by, accepted_by=e.accepted_by,
                    moderated_grade=str(e.overall_grade), agreed_at=e.at,
                )
            case ev.ModerationEscalated():
                yield MODERATION_ESCALATED, ModerationEscalated(
                    audit_id=a.id, case_ref=ref, escalated_by=e.by, reason=e.reason, escalated_at=e.at
                )
            case ev.OfficerAppointed():
                yield OFFICER_APPOINTED, OfficerAppointed(
                    audit_id=a.id, case_ref=ref, purpose=e.purpose, officer_id=e.officer_id, appointed_by=e.by, appointed_at=e.at
                )
            case ev.ModerationFinalised():
                yield MODERATION_FINALISED, ModerationFinalised(
                    audit_id=a.id, case_ref=ref, officer_id=e.by, moderated_grade=str(e.overall_grade), finalised_at=e.at
                )
            case ev.CopyRouted():
                yield COPY_ROUTED, CopyRouted(
                    audit_id=a.id, case_ref=ref, programme=a.form.programme, coded_case=coded, stage=e.stage, pdf_id=e.pdf_id,
                    document_path=document_path(a.id, e.pdf_id),
                    recipients=[CopyRecipient(person_id=p, reasons=list(r)) for p, r in e.recipients],
                    recipient_ids=[p for p, _ in e.recipients], grade=_grade(a.grade_of_record), routed_at=e.at,
                )
            case ev.AuditCompleted():
                yield AUDIT_COMPLETED, AuditCompleted(
                    audit_id=a.id, tool_id=a.form.tool_id, programme=a.form.programme, case_ref=ref, case_type=a.case.case_type,
                    team_id=None if coded else a.case.team_id, month=a.month, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id,
                    grade=_grade(e.grade), moderated=e.moderated, completed_at=e.at,
                )
            case ev.CaseNoteSummary() if not coded:
                yield CASE_NOTE_SUMMARY, CaseNoteSummary(
                    audit_id=a.id, case_id=a.case.case_id, note_type=CASE_NOTE_TYPE, author_id=e.author_id,
                    analysis=e.analysis, recommended_actions=e.recommended_actions, grade=_grade(e.grade), moderated_on=e.moderated_on,
                    completed_at=e.at,
                )
            case ev.CriticalGradeConfirmed():
                yield CRITICAL_GRADE_CONFIRMED, CriticalGradeConfirmed(
                    audit_id=a.id, case_ref=ref, officer_id=e.by, confirmed=e.confirmed, grade=str(e.grade), confirmed_at=e.at
                )
            case ev.InadequateActionOpened():
                yield INADEQUATE_ACTION_OPENED, InadequateActionOpened(
                    audit_id=a.id, case_ref=ref, owner_id=e.owner_id, escalate_on=e.escalate_on, opened_at=e.at
                )
            case ev.InadequateActionEscalated():
                yield INADEQUATE_ACTION_ESCALATED, InadequateActionEscalated(
                    audit_id=a.id, case_ref=ref, owner_id=a.inadequate_action.owner_id if a.inadequate_action else None,
                    assistant_director_id=e.assistant_director_id, escalated_at=e.at,
                )
            case ev.InadequateActionResolved():
                yield INADEQUATE_ACTION_RESOLVED, InadequateActionResolved(
                    audit_id=a.id, case_ref=ref, resolved_by=e.by, resolved_at=e.at
                )
            case ev.SafeguardingConcernRaised():
                yield SAFEGUARDING_CONCERN_RAISED, SafeguardingConcernRaised(
                    audit_id=a.id, concern_id=e.concern_id, case_ref=ref, raised_by=e.by, team_manager_id=e.team_manager_id,
                    service_manager_id=e.service_manager_id,
                    recipient_ids=list(dict.fromkeys(p for p in (e.team_manager_id, e.service_manager_id) if p)), raised_at=e.at,
                )
            case ev.SafeguardingConcernAcknowledged():
                yield SAFEGUARDING_CONCERN_ACKNOWLEDGED, SafeguardingConcernAcknowledged(
                    audit_id=a.id, concern_id=e.concern_id, case_ref=ref, acknowledged_by=e.by, acknowledged_at=e.at
                )
            case _:
                # Draft saves go to the draft history, due copies become PDFs: neither is published
                # (nor the social worker's views, kept with the audit);
                # a coded case's case note stays with the audit.
                continue


def record(tx: Transaction, audit: Audit) -> None:
    """Stage, in the transaction that saves ``audit``, the integration events of what it recorded."""
    for type_, data in integration_events(audit, audit.events):
        tx.record(type_, data, subject=f"audit/{audit.id}")
