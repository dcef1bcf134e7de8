"""From the domain events an audit recorded to the integration events it publishes.

A multi-agency audit (its case known by a code) publishes nothing that identifies the child next
to that code: no case-note summary (the note stays with the audit, ``GET /v1/audits/{id}/case-note``)
and no team in its completed event. A routed copy carries no document, only where to fetch it.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.events import EventData, EventType

from ..cycles.domain.timetable import Month, audit_due_on
from . import events as ie
from .domain import events as ev
from .domain.audit import CASE_NOTE_TYPE, Audit


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
                yield ie.AUDIT_ALLOCATED, ie.AuditAllocated(
                    audit_id=a.id, tool_id=a.form.tool_id, tool_version=a.form.tool_version, programme=a.form.programme, case_ref=ref,
                    case_type=a.case.case_type, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id,
                    coordinator_id=a.coordinator_id, month=a.month, due_on=audit_due_on(Month.parse(a.month)) if a.month else None,
                    allocated_by=e.by, allocated_at=e.at,
                )
            case ev.AuditSubmitted():
                yield ie.AUDIT_SUBMITTED, ie.AuditSubmitted(
                    audit_id=a.id, case_ref=ref, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id,
                    overall_grade=_grade(e.overall_grade), submitted_at=e.at,
                )
            case ev.PeerReviewSubmitted():
                yield ie.PEER_REVIEW_SUBMITTED, ie.PeerReviewSubmitted(
                    audit_id=a.id, case_ref=ref, auditor_id=a.auditor_id, peer_reviewer_id=e.by, overall_grade=_grade(e.overall_grade),
                    differing_answers=list(e.differing_answers), submitted_at=e.at,
                )
            case ev.ModerationRequired():
                yield ie.MODERATION_REQUIRED, ie.ModerationRequired(
                    audit_id=a.id, case_ref=ref, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id or "",
                    grades_differ=e.grades_differ, supervision_inadequate=e.supervision_inadequate,
                    differing_sections=list(e.differing_sections), overall_grades_differ=e.overall_grades_differ, required_at=e.at,
                )
            case ev.ModerationProposed():
                other = a.peer_reviewer_id if e.by == a.auditor_id else a.auditor_id
                yield ie.MODERATION_PROPOSED, ie.ModerationProposed(
                    audit_id=a.id, proposal=e.number, proposed_by=e.by, awaiting_id=other or "", overall_grade=str(e.overall_grade),
                    proposed_at=e.at,
                )
            case ev.ModerationAgreed():
                yield ie.MODERATION_AGREED, ie.ModerationAgreed(
                    audit_id=a.id, case_ref=ref, proposed_by=e.proposed_by, accepted_by=e.accepted_by,
                    moderated_grade=str(e.overall_grade), agreed_at=e.at,
                )
            case ev.ModerationEscalated():
                yield ie.MODERATION_ESCALATED, ie.ModerationEscalated(
                    audit_id=a.id, case_ref=ref, escalated_by=e.by, reason=e.reason, escalated_at=e.at
                )
            case ev.OfficerAppointed():
                yield ie.OFFICER_APPOINTED, ie.OfficerAppointed(
                    audit_id=a.id, case_ref=ref, purpose=e.purpose, officer_id=e.officer_id, appointed_by=e.by, appointed_at=e.at
                )
            case ev.ModerationFinalised():
                yield ie.MODERATION_FINALISED, ie.ModerationFinalised(
                    audit_id=a.id, case_ref=ref, officer_id=e.by, moderated_grade=str(e.overall_grade), finalised_at=e.at
                )
            case ev.CopyRouted():
                yield ie.COPY_ROUTED, ie.CopyRouted(
                    audit_id=a.id, case_ref=ref, programme=a.form.programme, coded_case=coded, stage=e.stage, pdf_id=e.pdf_id,
                    document_path=document_path(a.id, e.pdf_id),
                    recipients=[ie.CopyRecipient(person_id=p, reasons=list(r)) for p, r in e.recipients],
                    recipient_ids=[p for p, _ in e.recipients], grade=_grade(a.grade_of_record), routed_at=e.at,
                )
            case ev.AuditCompleted():
                yield ie.AUDIT_COMPLETED, ie.AuditCompleted(
                    audit_id=a.id, tool_id=a.form.tool_id, programme=a.form.programme, case_ref=ref, case_type=a.case.case_type,
                    team_id=None if coded else a.case.team_id, month=a.month, auditor_id=a.auditor_id, peer_reviewer_id=a.peer_reviewer_id,
                    grade=_grade(e.grade), moderated=e.moderated, completed_at=e.at,
                )
            case ev.CaseNoteSummary() if not coded:
                yield ie.CASE_NOTE_SUMMARY, ie.CaseNoteSummary(
                    audit_id=a.id, case_id=a.case.case_id, note_type=CASE_NOTE_TYPE, author_id=e.author_id,
                    analysis=e.analysis, recommended_actions=e.recommended_actions, grade=_grade(e.grade), moderated_on=e.moderated_on,
                    completed_at=e.at,
                )
            case ev.CriticalGradeConfirmed():
                yield ie.CRITICAL_GRADE_CONFIRMED, ie.CriticalGradeConfirmed(
                    audit_id=a.id, case_ref=ref, officer_id=e.by, confirmed=e.confirmed, grade=str(e.grade), confirmed_at=e.at
                )
            case ev.InadequateActionOpened():
                yield ie.INADEQUATE_ACTION_OPENED, ie.InadequateActionOpened(
                    audit_id=a.id, case_ref=ref, owner_id=e.owner_id, escalate_on=e.escalate_on, opened_at=e.at
                )
            case ev.InadequateActionEscalated():
                yield ie.INADEQUATE_ACTION_ESCALATED, ie.InadequateActionEscalated(
                    audit_id=a.id, case_ref=ref, owner_id=a.inadequate_action.owner_id if a.inadequate_action else None,
                    assistant_director_id=e.assistant_director_id, escalated_at=e.at,
                )
            case ev.InadequateActionResolved():
                yield ie.INADEQUATE_ACTION_RESOLVED, ie.InadequateActionResolved(
                    audit_id=a.id, case_ref=ref, resolved_by=e.by, resolved_at=e.at
                )
            case _:
                # Draft saves go to the draft history, due copies become PDFs: neither is published;
                # a coded case's case note stays with the audit.
                continue
