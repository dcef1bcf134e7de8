"""The audit API's request and response shapes (kept apart from the aggregate and its document).

What a party writes (``StageWork`` and its answers and action plan), a grading (``Grading``) and
the evidence list are plain values in the domain (``domain.work``, ``domain.moderation``); here
they have their limits and descriptions (the OpenAPI document). ``common.schemas.to_domain`` turns a body into
the domain's value; a response reads the domain's values by attribute.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field
from shared.ids import IdField

from ..common.api_params import MONTH_PATTERN
from ..common.grades import Grade
from ..common.schemas import InputModel, to_domain
from ..tools.schemas import AuditForm
from .domain import moderation as domain_moderation
from .domain import work as domain_work
from .domain.audit import AllocationBasis, Audit, Stage

PersonId: TypeAlias = IdField


class _Value(BaseModel):
    """A value a party writes: taken in a request, answered back from the domain's own value."""

    model_config = ConfigDict(extra="forbid", frozen=True, from_attributes=True)


class Evidence(_Value):
    """Hampshire's evidence list: what, when and where, not how the standard was met."""

    what: str = Field(min_length=1, max_length=500)
    when: str = Field(min_length=1, max_length=100)
    where: str = Field(min_length=1, max_length=200)


class Answer(_Value):
    value: str = Field(min_length=1, max_length=8000)
    comment: str = Field(default="", max_length=8000)


class ActionItem(_Value):
    action: str = Field(min_length=1, max_length=2000)
    owner: str = Field(min_length=1, max_length=200)
    due: date | None = None


class StageWork(_Value):
    """One party's form: answers by question key, grades by section key, and the overview."""

    answers: dict[str, Answer] = Field(default_factory=dict)
    section_grades: dict[str, Grade] = Field(default_factory=dict)
    oversight_comment: str = Field(default="", max_length=8000)
    analysis: str = Field(default="", max_length=20000)
    recommendations: str = Field(default="", max_length=20000)
    overall_grade: Grade | None = None
    action_plan: list[ActionItem] = Field(default_factory=list, max_length=50)


class Grading(_Value):
    """A full grading of the case: every graded sub-section (supervision included) and overall."""

    section_grades: dict[str, Grade]
    overall_grade: Grade
    comment: str = Field(default="", max_length=8000)


class AuditCreate(InputModel):
    tool_id: str = Field(min_length=1, max_length=64)
    tool_version: int | None = Field(default=None, ge=1, description="Defaults to the tool's latest version")
    case_id: PersonId
    auditor_id: PersonId
    peer_reviewer_id: PersonId | None = None
    coordinator_id: PersonId | None = Field(default=None, description="Multi-agency audits: the coordinator")
    month: str | None = Field(default=None, pattern=MONTH_PATTERN, description="The audit month, YYYY-MM")
    case_code: str | None = Field(default=None, min_length=3, max_length=32, pattern=r"^[A-Z0-9-]+$", description="Multi-agency: the case's code (generated when absent)")
    evidence_preparer_ids: tuple[PersonId, ...] = Field(default=(), max_length=5, description="Quality practice audits: the worker and supervisor who list the evidence")


class EvidenceIn(InputModel):
    evidence: dict[str, list[Evidence]] = Field(description="By question key: the evidence on file (what, when, where)")


class EscalationIn(InputModel):
    reason: str = Field(min_length=1, max_length=4000, description="Why no moderated grading could be agreed")


class OfficerIn(InputModel):
    person_id: PersonId


class CriticalConfirmationIn(InputModel):
    confirmed: bool
    revised_grade: Grade | None = Field(default=None, description="When not confirmed: the grade the case should have")
    comment: str = Field(default="", max_length=8000)


class ResolutionIn(InputModel):
    note: str = Field(min_length=1, max_length=8000, description="What was done to bring practice to an adequate level")


class SafeguardingConcernIn(InputModel):
    concern: str = Field(
        min_length=1, max_length=8000,
        description="The immediate concern about the child's safety or wellbeing (kept in the audit service, never on the bus)",
    )


class ConcernOutcomeIn(InputModel):
    outcome: str = Field(min_length=1, max_length=8000, description="The action taken on the concern and its outcome")


class PractitionerViewsIn(InputModel):
    views: str = Field(
        min_length=1, max_length=8000,
        description="The allocated social worker's views and reflections on their practice in the case, for the auditor",
    )


class EscalationRunIn(InputModel):
    today: date | None = Field(default=None, description="The day to escalate as of (defaults to today)")


class EscalationRunOut(BaseModel):
    escalated: list[str]


class StageOut(BaseModel):
    #: Only shown to others once submitted; its author always sees their own draft.
    work: StageWork | None
    drafts: int
    saved_by: str | None
    saved_at: datetime | None
    submitted_by: str | None
    submitted_at: datetime | None


class SafeguardingConcernOut(BaseModel):
    """An immediate safeguarding concern raised during the audit (Kent 4.7), tracked to its outcome."""

    id: str
    raised_by: str
    raised_as: str = Field(description="The part the person raising it plays: auditor or peer_reviewer")
    raised_at: datetime
    concern: str
    team_manager_id: str | None = Field(description="The case's team manager it went to (null when the directory does not say)")
    service_manager_id: str | None = Field(description="The accountable service manager it went to (null when the directory does not say)")
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    outcome: str = Field(description="The action taken and its outcome; empty until acknowledged")


class PractitionerViewsOut(BaseModel):
    """The allocated social worker's views and reflections (the latest save; every save is kept)."""

    views: str
    by: str
    at: datetime
    saves: int = Field(description="How many times the views were saved (earlier saves are kept)")


class ProposalOut(BaseModel):
    number: int
    grading: Grading
    by: str
    at: datetime


class ModerationOut(BaseModel):
    started_at: datetime
    grades_differ: bool
    supervision_inadequate: bool
    differing_sections: list[str]
    overall_grades_differ: bool
    proposals: list[ProposalOut]
    agreed_proposal: int | None
    accepted_by: str | None
    accepted_at: datetime | None
    escalated_by: str | None
    escalated_at: datetime | None
    escalation_reason: str
    officer_id: str | None
    officer_appointed_by: str | None
    officer_appointed_at: datetime | None
    final_grading: Grading | None
    final_by: str | None
    final_at: datetime | None
    moderated_grading: Grading | None


class CopyOut(BaseModel):
    stage: str
    pdf_id: str
    recipients: list[dict[str, Any]]
    at: datetime


class AuditOut(BaseModel):
    id: str
    version: int
    status: str
    programme: str
    tool_id: str
    tool_version: int
    #: The case as the caller may know it: its code in a multi-agency audit, else its id.
    case_ref: str
    #: The case id, only for those allowed the child's identity.
    case_id: str | None
    case_type: str
    open_band: str
    auditor_id: str
    peer_reviewer_id: str | None
    coordinator_id: str | None
    month: str | None
    basis: AllocationBasis | None = Field(
        description=(
            "How the monthly draw chose the case for its auditor: line_managed (a case they line-manage), team_cover (a team "
            "left without a file) or own_service (the programme's documented fallback, off by default: a case of the auditor's "
            "own service they do not line-manage). Null for an audit allocated by hand or in a round, or drawn before the "
            "basis was recorded (unknown)."
        ),
    )
    evidence_preparer_ids: list[str]
    evidence: dict[str, list[Evidence]]
    your_parts: list[str]
    form: AuditForm
    stage1: StageOut
    stage2: StageOut | None
    moderation: ModerationOut | None
    grade_of_record: Grade | None
    critical_confirmation: dict[str, Any] | None
    inadequate_action: dict[str, Any] | None
    copies: list[CopyOut]
    safeguarding_concerns: list[SafeguardingConcernOut] = Field(description="Immediate safeguarding concerns raised during the audit, in order")
    social_worker_id: str | None = Field(description="Kent: the case's allocated social worker, who gives their views before the audit")
    practitioner_views: PractitionerViewsOut | None = Field(description="Kent: the social worker's views and reflections on their practice")
    created_by: str
    created_at: datetime
    completed_at: datetime | None
    updated_by: str | None
    updated_at: datetime | None


class AuditSummaryOut(BaseModel):
    id: str
    version: int
    status: str
    tool_id: str
    case_ref: str
    case_type: str
    auditor_id: str
    peer_reviewer_id: str | None
    month: str | None
    basis: AllocationBasis | None = Field(description="How the monthly draw chose the case (see the audit's own basis); null when unknown")
    grade_of_record: Grade | None
    created_at: datetime


class PdfOut(BaseModel):
    pdf_id: str
    stage: str
    at: datetime
    href: str


class CaseNoteOut(BaseModel):
    """The case note recording a completed audit, for the child's record. A multi-agency audit
    publishes no event of it: its coordinator enters it on the child's record from here."""

    audit_id: str
    case_id: str
    case_ref: str
    note_type: str
    author_id: str
    analysis: str
    recommended_actions: str
    grade: Grade | None
    moderated_on: date | None
    written_at: datetime


class DraftOut(BaseModel):
    stage: str
    number: int
    by: str
    at: datetime
    work: dict[str, Any]


def evidence_of(body: EvidenceIn) -> dict[str, list[domain_work.Evidence]]:
    return {key: [to_domain(e, domain_work.Evidence) for e in items] for key, items in body.evidence.items()}


def _stage(stage: Stage, *, shown: bool) -> StageOut:
    return StageOut(
        work=StageWork.model_validate(stage.work) if shown else None, drafts=stage.drafts, saved_by=stage.saved_by, saved_at=stage.saved_at,
        submitted_by=stage.submitted_by, submitted_at=stage.submitted_at,
    )


def _dump(value: Any) -> dict[str, Any] | None:
    return asdict(value) if value is not None else None


def _grading(value: domain_moderation.Grading | None) -> Grading | None:
    return Grading.model_validate(value) if value is not None else None


def audit_out(audit: Audit, caller_id: str) -> AuditOut:
    stage1_shown = audit.stage1.submitted or caller_id == audit.auditor_id
    stage2 = audit.stage2
    moderation = audit.moderation
    moderation_out = None
    if moderation is not None:
        moderation_out = ModerationOut(
            started_at=moderation.started_at,
            grades_differ=moderation.trigger.grades_differ,
            supervision_inadequate=moderation.trigger.supervision_inadequate,
            differing_sections=list(moderation.trigger.differing_sections),
            overall_grades_differ=moderation.trigger.overall_grades_differ,
            proposals=[ProposalOut(number=p.number, grading=Grading.model_validate(p.grading), by=p.by, at=p.at) for p in moderation.proposals],
            agreed_proposal=moderation.agreed_number, accepted_by=moderation.accepted_by, accepted_at=moderation.accepted_at,
            escalated_by=moderation.escalated_by, escalated_at=moderation.escalated_at, escalation_reason=moderation.escalation_reason,
            officer_id=moderation.officer_id, officer_appointed_by=moderation.officer_appointed_by,
            officer_appointed_at=moderation.officer_appointed_at, final_grading=_grading(moderation.final_grading), final_by=moderation.final_by,
            final_at=moderation.final_at, moderated_grading=_grading(moderation.outcome),
        )
    return AuditOut(
        id=audit.id, version=audit.version, status=audit.status.value, programme=audit.form.programme.value,
        tool_id=audit.form.tool_id, tool_version=audit.form.tool_version, case_ref=audit.case_ref,
        case_id=audit.case.case_id if audit.child_identity_visible_to(caller_id) else None,
        case_type=audit.case.case_type.value, open_band=audit.form.open_band.value, auditor_id=audit.auditor_id,
        peer_reviewer_id=audit.peer_reviewer_id, coordinator_id=audit.coordinator_id, month=audit.month, basis=audit.basis,
        evidence_preparer_ids=audit.preparer_ids, evidence={k: [Evidence.model_validate(e) for e in v] for k, v in audit.evidence.items()}, your_parts=sorted(audit.party_roles(caller_id)), form=AuditForm.model_validate(audit.form),
        stage1=_stage(audit.stage1, shown=stage1_shown),
        stage2=_stage(stage2, shown=stage2.submitted or caller_id == audit.peer_reviewer_id) if stage2 else None,
        moderation=moderation_out, grade_of_record=audit.grade_of_record if audit.stage1.submitted else None,
        critical_confirmation=_dump(audit.critical), inadequate_action=_dump(audit.inadequate_action),
        copies=[CopyOut(stage=c.stage.value, pdf_id=c.pdf_id, recipients=[{"person_id": r.person_id, "reasons": list(r.reasons)} for r in c.recipients], at=c.at) for c in audit.copies],
        safeguarding_concerns=[SafeguardingConcernOut.model_validate(asdict(c)) for c in audit.concerns],
        social_worker_id=audit.social_worker_id,
        practitioner_views=_views(audit),
        created_by=audit.created_by, created_at=audit.created_at, completed_at=audit.completed_at,
        updated_by=audit.updated_by, updated_at=audit.updated_at,
    )


def _views(audit: Audit) -> PractitionerViewsOut | None:
    current = audit.current_practitioner_views
    if current is None:
        return None
    return PractitionerViewsOut(views=current.views, by=current.by, at=current.at, saves=len(audit.practitioner_views))


def audit_summary(audit: Audit) -> AuditSummaryOut:
    return AuditSummaryOut(
        id=audit.id, version=audit.version, status=audit.status.value, tool_id=audit.form.tool_id, case_ref=audit.case_ref,
        case_type=audit.case.case_type.value, auditor_id=audit.auditor_id, peer_reviewer_id=audit.peer_reviewer_id,
        month=audit.month, basis=audit.basis, grade_of_record=audit.grade_of_record if audit.stage1.submitted else None,
        created_at=audit.created_at,
    )
