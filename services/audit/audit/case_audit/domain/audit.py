"""The audit aggregate: the life of one audit of one child's case.

Stage 1 (audit) by the assigned auditor; stage 2 (peer review) by the assigned peer reviewer, who
sees stage 1; stage 3 (moderation) when grades differ or supervision is graded inadequate. The
grade of record is the moderated one where there is one. Completion writes the case note (kept
with the audit; published as the case-note summary unless the case is coded); an inadequate grade
opens an action for the operational service manager, and an inadequate (critical) grade is
confirmed by a practice development officer.

Every change is attributed and recorded as a domain event in ``events``; the version number is
the audit's ETag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from shared.calendar import local_date

from ...common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from ...common.grades import Grade
from ...common.roles import APPOINTING_ROLES, QA_STAFF_ROLES, Role
from ...tools.domain.definition import AuditForm, CaseType
from . import events as ev
from .during_audit import DuringAudit, PractitionerViews, SafeguardingConcern, takes_practitioner_views
from .follow_ups import CriticalConfirmation, FollowUps, InadequateAction
from .moderation import Grading, Moderation, Proposal, grading_errors, moderation_trigger
from .routing import CopyStage, Recipient
from .work import Evidence, StageWork, differing_answers, entry_errors, evidence_errors, gaps


class AuditStatus(StrEnum):
    AUDIT = "audit"
    PEER_REVIEW = "peer_review"
    MODERATION = "moderation"
    COMPLETED = "completed"


class AllocationBasis(StrEnum):
    """How the monthly draw chose the audit's case for its auditor (issue 21)."""

    #: A case the auditor line-manages (Kent 2: "a case they are responsible for line managing").
    LINE_MANAGED = "line_managed"
    #: A case of a team no auditor of its own could take (Hampshire 10.2: every team has a file).
    TEAM_COVER = "team_cover"
    #: The programme's documented fallback (off by default): a case of the auditor's own service
    #: they do not line-manage.
    OWN_SERVICE = "own_service"


class OfficerPurpose(StrEnum):
    MODERATION = "moderation"
    CRITICAL_CONFIRMATION = "critical_confirmation"


@dataclass(frozen=True)
class CaseFacts:
    case_id: str
    case_type: CaseType
    opened_on: date
    team_id: str | None = None
    #: Multi-agency audits: the code everyone but the auditors and the coordinator knows it by.
    case_code: str | None = None


@dataclass
class Stage:
    work: StageWork = field(default_factory=StageWork)
    drafts: int = 0
    saved_by: str | None = None
    saved_at: datetime | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


@dataclass
class Copy:
    stage: CopyStage
    pdf_id: str
    recipients: list[Recipient]
    at: datetime


#: The note type the case-management system files an audit's case note under.
CASE_NOTE_TYPE = "Case Audit - Online Audit Programme"


@dataclass(frozen=True)
class CaseNote:
    """The case note recording a completed audit on the child's file: the overview's analysis and
    the recommended actions (with the action plan). Kept with the audit as written at completion;
    a multi-agency audit's note is read only through the API, by those who may know the child."""

    note_type: str
    author_id: str
    analysis: str
    recommended_actions: str
    grade: Grade | None
    moderated_on: date | None
    written_at: datetime


@dataclass
class Audit(FollowUps, DuringAudit):
    id: str
    form: AuditForm
    case: CaseFacts
    auditor_id: str
    peer_reviewer_id: str | None
    coordinator_id: str | None
    created_by: str
    created_at: datetime
    version: int = 0
    month: str | None = None
    allocation_key: str | None = None
    #: When it is due where the programme sets it (Hillingdon's round: two months); else the end of ``month``.
    due_on: date | None = None
    #: How the monthly draw chose the case; None for an audit allocated by hand, in a round, or
    #: stored before the basis was kept (unknown).
    basis: AllocationBasis | None = None
    #: Hampshire: the worker and supervisor who prepare the file (list the evidence) for audit.
    preparer_ids: list[str] = field(default_factory=list)
    #: The evidence list by question: what, when and where (not how the standard was met).
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    evidence_lists_saved: int = 0
    status: AuditStatus = AuditStatus.AUDIT
    stage1: Stage = field(default_factory=Stage)
    stage2: Stage | None = None
    moderation: Moderation | None = None
    critical: CriticalConfirmation | None = None
    inadequate_action: InadequateAction | None = None
    copies: list[Copy] = field(default_factory=list)
    completed_at: datetime | None = None
    #: Written when the audit completes.
    case_note: CaseNote | None = None
    #: Immediate safeguarding concerns raised during the audit (Kent 4.7), in the order raised.
    concerns: list[SafeguardingConcern] = field(default_factory=list)
    #: Kent: the case's allocated social worker when the audit was allocated, who gives their views.
    social_worker_id: str | None = None
    #: Every save of the social worker's views and reflections (the last is the current one).
    practitioner_views: list[PractitionerViews] = field(default_factory=list)
    updated_by: str | None = None
    updated_at: datetime | None = None
    events: list[ev.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    # --- creation ------------------------------------------------------------------------------

    @classmethod
    def allocate(
        cls,
        *,
        audit_id: str,
        form: AuditForm,
        case: CaseFacts,
        auditor_id: str,
        peer_reviewer_id: str | None,
        coordinator_id: str | None,
        by: str,
        at: datetime,
        month: str | None = None,
        allocation_key: str | None = None,
        preparer_ids: list[str] | None = None,
        social_worker_id: str | None = None,
        due_on: date | None = None,
        basis: AllocationBasis | None = None,
    ) -> Audit:
        errors = []
        if preparer_ids and not any(q.evidence_list for q in form.questions().values()):
            errors.append({"field": "evidence_preparer_ids", "message": "this tool takes no evidence list"})
        if form.peer_review and not peer_reviewer_id:
            errors.append({"field": "peer_reviewer_id", "message": "this programme needs a peer reviewer"})
        if not form.peer_review and peer_reviewer_id:
            errors.append({"field": "peer_reviewer_id", "message": "this programme has no peer review stage"})
        if peer_reviewer_id and peer_reviewer_id == auditor_id:
            errors.append({"field": "peer_reviewer_id", "message": "the peer reviewer must be someone other than the auditor"})
        if form.coded_case and not coordinator_id:
            errors.append({"field": "coordinator_id", "message": "a multi-agency audit needs its coordinator"})
        if form.coded_case and not case.case_code:
            errors.append({"field": "case_code", "message": "a multi-agency audit knows its case by a code"})
        if errors:
            raise InvalidEntries("The audit cannot be allocated as asked.", errors)
        audit = cls(
            id=audit_id, form=form, case=case, auditor_id=auditor_id, peer_reviewer_id=peer_reviewer_id,
            coordinator_id=coordinator_id, created_by=by, created_at=at, month=month, allocation_key=allocation_key, due_on=due_on,
            basis=basis, preparer_ids=sorted(set(preparer_ids or [])), updated_by=by, updated_at=at,
            social_worker_id=social_worker_id if takes_practitioner_views(form) else None,
        )
        audit.events.append(ev.AuditAllocated(at=at, by=by))
        return audit

    # --- who may see what ----------------------------------------------------------------------

    def party_roles(self, person_id: str) -> set[str]:
        """The parts this person plays in the audit (empty if they are not party to it)."""
        roles: set[str] = set()
        if person_id == self.auditor_id:
            roles.add(Role.AUDITOR)
        if person_id == self.peer_reviewer_id:
            roles.add(Role.PEER_REVIEWER)
        if person_id == self.coordinator_id:
            roles.add("coordinator")
        if person_id in self.preparer_ids:
            roles.add("evidence_preparer")
        if self.moderation and person_id == self.moderation.officer_id:
            roles.add("moderating_officer")
        if self.critical and person_id == self.critical.officer_id:
            roles.add("confirming_officer")
        if any(person_id == r.person_id for c in self.copies for r in c.recipients):
            roles.add("copy_recipient")
        if person_id == self.social_worker_id:
            roles.add("allocated_social_worker")
        if self.concern_recipient(person_id):
            roles.add("safeguarding_concern_recipient")
        if self.inadequate_action and person_id in (self.inadequate_action.owner_id, self.inadequate_action.escalated_to):
            roles.add("action_owner")
        return roles

    def visible_to(self, person_id: str, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.party_roles(person_id)) or not QA_STAFF_ROLES.isdisjoint(roles)

    def child_identity_visible_to(self, person_id: str) -> bool:
        """A multi-agency audit's case id only for the auditors and the coordinator (Appendix E 6)."""
        if not self.form.coded_case:
            return True
        return person_id in (self.auditor_id, self.peer_reviewer_id, self.coordinator_id)

    @property
    def case_ref(self) -> str:
        """How the case is named to anyone: its code in a multi-agency audit, else its id."""
        return self.case.case_code if self.form.coded_case and self.case.case_code else self.case.case_id

    def viewers(self) -> list[str]:
        """Every person party to the audit (kept on the document, indexed, for 'my audits')."""
        people = [self.auditor_id, self.peer_reviewer_id, self.coordinator_id, *self.preparer_ids]
        if self.moderation:
            people.append(self.moderation.officer_id)
        if self.critical:
            people.append(self.critical.officer_id)
        people += [r.person_id for c in self.copies for r in c.recipients]
        people += [self.social_worker_id, *(p for c in self.concerns for p in c.recipients)]
        if self.inadequate_action:
            people += [self.inadequate_action.owner_id, self.inadequate_action.escalated_to]
        return sorted({p for p in people if p})

    # --- the grade -----------------------------------------------------------------------------

    @property
    def moderated_grading(self) -> Grading | None:
        return self.moderation.outcome if self.moderation else None

    @property
    def grade_of_record(self) -> Grade | None:
        """A confirming officer's revised grade, else the moderated grade, else the audit's."""
        if self.critical and self.critical.grade is not None:
            return self.critical.grade
        moderated = self.moderated_grading
        if moderated is not None:
            return moderated.overall_grade
        return self.stage1.work.overall_grade

    @property
    def submitted_stage1(self) -> bool:
        return self.stage1.submitted

    # --- stage 1: audit ------------------------------------------------------------------------

    def save_evidence(self, *, by: str, evidence: dict[str, list[Evidence]], at: datetime) -> None:
        """The worker and supervisor (or the auditor) list the evidence on file for each standard."""
        if by not in self.preparer_ids and by != self.auditor_id:
            raise NotAllowed("The evidence list is prepared by the worker and supervisor named on the audit, or the auditor.")
        self._at_status(AuditStatus.AUDIT, "The audit has been submitted; its evidence list can no longer be changed.")
        errors = evidence_errors(self.form, evidence)
        if errors:
            raise InvalidEntries("The evidence list does not fit this audit's form.", errors)
        self.evidence = {k: list(v) for k, v in evidence.items() if v}
        self.evidence_lists_saved += 1
        self._touch(by, at)
        self.events.append(ev.DraftSaved(at=at, stage="evidence", number=self.evidence_lists_saved, by=by, work=dict(self.evidence)))

    def save_audit_draft(self, *, by: str, work: StageWork, at: datetime) -> None:
        self._only(by, self.auditor_id, "Only the assigned auditor writes stage 1 of this audit.")
        self._at_status(AuditStatus.AUDIT, "Stage 1 has been submitted; it can no longer be changed.")
        self._check_entries(work, by_peer_reviewer=False)
        self.stage1 = self._saved(self.stage1, "audit", work, by, at)

    def submit_audit(self, *, by: str, at: datetime) -> None:
        self._only(by, self.auditor_id, "Only the assigned auditor submits stage 1 of this audit.")
        self._at_status(AuditStatus.AUDIT, "Stage 1 has already been submitted.")
        found = gaps(self.form, self.stage1.work, by_peer_reviewer=False, evidence=self.evidence)
        if found:
            raise Gaps(f"Stage 1 cannot be submitted: {len(found)} gap(s) to fill first.", found)
        self.stage1.submitted_by, self.stage1.submitted_at = by, at
        self._touch(by, at)
        self.events.append(ev.AuditSubmitted(at=at, by=by, overall_grade=self.stage1.work.overall_grade))
        self.events.append(ev.CopyDue(at=at, stage=CopyStage.AUDIT))
        if self.form.peer_review:
            self.status = AuditStatus.PEER_REVIEW
            self.stage2 = Stage()
        else:
            self._complete(at)

    # --- stage 2: peer review ------------------------------------------------------------------

    def save_peer_review_draft(self, *, by: str, work: StageWork, at: datetime) -> None:
        self._only(by, self.peer_reviewer_id, "Only the assigned peer reviewer writes the peer review.")
        self._peer_review_open()
        self._check_entries(work, by_peer_reviewer=True)
        assert self.stage2 is not None
        self.stage2 = self._saved(self.stage2, "peer_review", work, by, at)

    def submit_peer_review(self, *, by: str, at: datetime) -> None:
        self._only(by, self.peer_reviewer_id, "Only the assigned peer reviewer submits the peer review.")
        self._peer_review_open()
        assert self.stage2 is not None
        review = self.stage2.work
        found = gaps(self.form, review, by_peer_reviewer=True, stage1=self.stage1.work)
        if found:
            raise Gaps(f"The peer review cannot be submitted: {len(found)} gap(s) to fill first.", found)
        self.stage2.submitted_by, self.stage2.submitted_at = by, at
        self._touch(by, at)
        self.events.append(
            ev.PeerReviewSubmitted(
                at=at, by=by, overall_grade=review.overall_grade, differing_answers=tuple(differing_answers(self.stage1.work, review))
            )
        )
        self.events.append(ev.CopyDue(at=at, stage=CopyStage.PEER_REVIEW))
        trigger = moderation_trigger(self.form, self.stage1.work, review)
        if self.form.moderation and trigger.required:
            self.status = AuditStatus.MODERATION
            self.moderation = Moderation(started_at=at, trigger=trigger)
            self.events.append(
                ev.ModerationRequired(
                    at=at,
                    grades_differ=trigger.grades_differ,
                    supervision_inadequate=trigger.supervision_inadequate,
                    differing_sections=trigger.differing_sections,
                    overall_grades_differ=trigger.overall_grades_differ,
                )
            )
        else:
            self._complete(at)

    # --- stage 3: moderation -------------------------------------------------------------------

    def propose_moderated_grading(self, *, by: str, grading: Grading, at: datetime) -> Proposal:
        moderation = self._moderation_open()
        if by not in (self.auditor_id, self.peer_reviewer_id):
            raise NotAllowed("Only the auditor and the peer reviewer agree a moderated grading.")
        self._check_grading(grading)
        proposal = Proposal(number=len(moderation.proposals) + 1, grading=grading, by=by, at=at)
        moderation.proposals.append(proposal)
        self._touch(by, at)
        self.events.append(ev.ModerationProposed(at=at, by=by, number=proposal.number, overall_grade=grading.overall_grade))
        return proposal

    def accept_moderated_grading(self, *, by: str, at: datetime) -> None:
        moderation = self._moderation_open()
        if by not in (self.auditor_id, self.peer_reviewer_id):
            raise NotAllowed("Only the auditor and the peer reviewer agree a moderated grading.")
        latest = moderation.latest
        if latest is None:
            raise WrongStage("Nothing has been proposed yet: propose a moderated grading first.")
        if latest.by == by:
            raise NotAllowed("You proposed this grading; the other party accepts it (or proposes another).")
        moderation.agreed_number, moderation.accepted_by, moderation.accepted_at = latest.number, by, at
        self._touch(by, at)
        self.events.append(ev.ModerationAgreed(at=at, proposed_by=latest.by, accepted_by=by, overall_grade=latest.grading.overall_grade))
        self.events.append(ev.CopyDue(at=at, stage=CopyStage.MODERATED))
        self._complete(at)

    def escalate_moderation(self, *, by: str, reason: str, at: datetime) -> None:
        moderation = self._moderation_open()
        if by != self.peer_reviewer_id:
            raise NotAllowed("The peer reviewer asks for further moderation when no grading can be agreed.")
        moderation.escalated_by, moderation.escalated_at, moderation.escalation_reason = by, at, reason
        self._touch(by, at)
        self.events.append(ev.ModerationEscalated(at=at, by=by, reason=reason))

    def appoint_officer(self, *, purpose: OfficerPurpose, officer_id: str, by: str, by_roles: frozenset[str], at: datetime) -> None:
        """A QA officer or the lead QA auditor appoints (or replaces) a practice development officer."""
        if APPOINTING_ROLES.isdisjoint(by_roles):
            raise NotAllowed("A QA officer or the lead QA auditor appoints a practice development officer.")
        self.assign_officer(purpose=purpose, officer_id=officer_id, by=by, at=at)

    def assign_officer(self, *, purpose: OfficerPurpose, officer_id: str, by: str, at: datetime) -> None:
        """Assign the officer (also used when the service chooses one from the directory)."""
        if officer_id in (self.auditor_id, self.peer_reviewer_id):
            raise InvalidEntries(
                "The officer must be independent of the audit.",
                [{"field": "person_id", "message": "the auditor or peer reviewer cannot be the practice development officer"}],
            )
        if purpose is OfficerPurpose.MODERATION:
            moderation = self.moderation
            if self.status is not AuditStatus.MODERATION or moderation is None or not moderation.escalated:
                raise WrongStage("A practice development officer moderates only once moderation has been escalated.")
            moderation.officer_id, moderation.officer_appointed_by, moderation.officer_appointed_at = officer_id, by, at
        else:
            critical = self.critical
            if critical is None or critical.confirmed is not None:
                raise WrongStage("There is no inadequate (critical) grade waiting to be confirmed.")
            critical.officer_id, critical.appointed_by, critical.appointed_at = officer_id, by, at
        self._touch(by, at)
        self.events.append(ev.OfficerAppointed(at=at, purpose=purpose, officer_id=officer_id, by=by))

    def record_final_grading(self, *, by: str, grading: Grading, at: datetime) -> None:
        moderation = self.moderation
        if self.status is not AuditStatus.MODERATION or moderation is None or not moderation.escalated:
            raise WrongStage("Only an escalated moderation takes a practice development officer's grading.")
        if moderation.officer_id is None:
            raise WrongStage("No practice development officer has been appointed yet.")
        if by != moderation.officer_id:
            raise NotAllowed("Only the appointed practice development officer gives the final grading.")
        self._check_grading(grading)
        moderation.final_grading, moderation.final_by, moderation.final_at = grading, by, at
        self._touch(by, at)
        self.events.append(ev.ModerationFinalised(at=at, by=by, overall_grade=grading.overall_grade))
        self.events.append(ev.CopyDue(at=at, stage=CopyStage.MODERATED))
        self._complete(at)

    # --- copies --------------------------------------------------------------------------------

    def route_copy(self, *, stage: CopyStage, pdf_id: str, recipients: list[Recipient], at: datetime) -> None:
        self.copies.append(Copy(stage=stage, pdf_id=pdf_id, recipients=recipients, at=at))
        self.events.append(
            ev.CopyRouted(at=at, stage=stage, pdf_id=pdf_id, recipients=tuple((r.person_id, r.reasons) for r in recipients))
        )

    # --- completion and follow-up --------------------------------------------------------------

    def _complete(self, at: datetime) -> None:
        self.status = AuditStatus.COMPLETED
        self.completed_at = at
        grade = self.grade_of_record
        self.events.append(ev.AuditCompleted(at=at, grade=grade, moderated=self.moderated_grading is not None))
        note = self.case_note = self._case_note(at)
        self.events.append(
            ev.CaseNoteSummary(
                at=at, analysis=note.analysis, recommended_actions=note.recommended_actions, grade=note.grade,
                moderated_on=note.moderated_on, author_id=note.author_id,
            )
        )
        if grade is Grade.INADEQUATE_CRITICAL:
            self.critical = CriticalConfirmation(requested_at=at)

    def _case_note(self, at: datetime) -> CaseNote:
        work, moderation = self.stage1.work, self.moderation
        actions = work.recommendations.strip()
        if work.action_plan:
            plan = "\n".join(f"- {a.action} (owner: {a.owner}{', by ' + a.due.isoformat() if a.due else ''})" for a in work.action_plan)
            actions = f"{actions}\nAction plan:\n{plan}".strip()
        return CaseNote(
            note_type=CASE_NOTE_TYPE,
            author_id=self.auditor_id,
            analysis=work.analysis.strip(),
            recommended_actions=actions,
            grade=self.grade_of_record,
            moderated_on=local_date(moderation.concluded_at) if moderation and moderation.concluded_at else None,
            written_at=at,
        )

    @property
    def case_note_of_record(self) -> CaseNote | None:
        """The case note written at completion (rebuilt for an audit completed before notes were kept)."""
        if self.case_note is None and self.completed_at is not None:
            return self._case_note(self.completed_at)
        return self.case_note

    # --- helpers -------------------------------------------------------------------------------

    def _only(self, by: str, expected: str | None, message: str) -> None:
        if by != expected:
            raise NotAllowed(message)

    def _at_status(self, status: AuditStatus, message: str) -> None:
        if self.status is not status:
            raise WrongStage(message)

    def _peer_review_open(self) -> None:
        if self.status is AuditStatus.AUDIT:
            raise WrongStage("The auditor has not submitted stage 1 yet; the peer review starts after it.")
        self._at_status(AuditStatus.PEER_REVIEW, "The peer review has been submitted; it can no longer be changed.")

    def _moderation_open(self) -> Moderation:
        if self.status is not AuditStatus.MODERATION or self.moderation is None:
            raise WrongStage("This audit is not in moderation.")
        if self.moderation.escalated:
            raise WrongStage("Moderation was escalated: the practice development officer's grading is final.")
        return self.moderation

    def _check_entries(self, work: StageWork, *, by_peer_reviewer: bool) -> None:
        errors = entry_errors(self.form, work, by_peer_reviewer=by_peer_reviewer)
        if errors:
            raise InvalidEntries("The draft does not fit this audit's form.", errors)

    def _check_grading(self, grading: Grading) -> None:
        errors = grading_errors(self.form, grading)
        if errors:
            raise Gaps("The grading must grade every sub-section (supervision included) and the case overall.", errors)

    def _saved(self, stage: Stage, name: str, work: StageWork, by: str, at: datetime) -> Stage:
        saved = Stage(work=work, drafts=stage.drafts + 1, saved_by=by, saved_at=at)
        self._touch(by, at)
        self.events.append(ev.DraftSaved(at=at, stage=name, number=saved.drafts, by=by, work=work))
        return saved

    def _touch(self, by: str, at: datetime) -> None:
        self.updated_by, self.updated_at = by, at
