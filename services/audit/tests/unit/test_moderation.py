"""Stage 3: when moderation starts, agreeing a moderated grading, escalation to a practice
development officer whose grading is final."""

from __future__ import annotations

from dataclasses import replace

import pytest
from audit.case_audit.domain import events as ev
from audit.case_audit.domain.audit import AuditStatus, OfficerPurpose
from audit.case_audit.domain.moderation import Grading
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.tools.domain.definition import AuditForm

from .conftest import T0, complete_work, in_moderation, submitted

QA = frozenset({"qa_officer"})


def _grading(form: AuditForm, grade: Grade = Grade.GOOD, overall: Grade = Grade.GOOD) -> Grading:
    return Grading(section_grades={k: grade for k in form.graded_sections(by_peer_reviewer=True)}, overall_grade=overall)


def _review(audit, **grades: Grade):
    review = complete_work(audit.form, by_peer_reviewer=True)
    return replace(review, section_grades={**review.section_grades, **grades})


def test_a_differing_sub_section_grade_starts_moderation(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    audit.save_peer_review_draft(by="P-PR", work=_review(audit, planning=Grade.REQUIRES_IMPROVEMENT), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    assert audit.status is AuditStatus.MODERATION
    required = [e for e in audit.events if isinstance(e, ev.ModerationRequired)]
    assert len(required) == 1
    assert required[0].grades_differ and not required[0].supervision_inadequate
    assert required[0].differing_sections == ("planning",)
    assert not any(isinstance(e, ev.AuditCompleted) for e in audit.events)


def test_supervision_graded_inadequate_starts_moderation_even_when_every_grade_agrees(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    audit.save_peer_review_draft(by="P-PR", work=_review(audit, supervision_and_oversight=Grade.INADEQUATE), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    assert audit.status is AuditStatus.MODERATION
    required = next(e for e in audit.events if isinstance(e, ev.ModerationRequired))
    assert required.supervision_inadequate and not required.grades_differ and required.differing_sections == ()


def test_supervision_graded_requires_improvement_alone_does_not_start_moderation(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    audit.save_peer_review_draft(by="P-PR", work=_review(audit, supervision_and_oversight=Grade.REQUIRES_IMPROVEMENT), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    assert audit.status is AuditStatus.COMPLETED


def test_a_differing_overall_grade_starts_moderation(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    audit.save_peer_review_draft(by="P-PR", work=replace(_review(audit), overall_grade=Grade.OUTSTANDING), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    required = next(e for e in audit.events if isinstance(e, ev.ModerationRequired))
    assert required.overall_grades_differ and required.grades_differ


def test_both_agree_a_moderated_grade_and_it_becomes_the_grade_of_record() -> None:
    audit = in_moderation()
    later = T0.replace(hour=11)
    proposal = audit.propose_moderated_grading(by="P-TM", grading=_grading(audit.form, overall=Grade.REQUIRES_IMPROVEMENT), at=T0)
    assert proposal.number == 1 and audit.status is AuditStatus.MODERATION
    audit.accept_moderated_grading(by="P-PR", at=later)
    assert audit.status is AuditStatus.COMPLETED
    assert audit.grade_of_record is Grade.REQUIRES_IMPROVEMENT
    assert audit.moderation is not None
    assert (audit.moderation.agreed.by, audit.moderation.agreed.at) == ("P-TM", T0)
    assert (audit.moderation.accepted_by, audit.moderation.accepted_at) == ("P-PR", later)
    kinds = [type(e) for e in audit.events]
    assert kinds == [ev.ModerationProposed, ev.ModerationAgreed, ev.CopyDue, ev.AuditCompleted, ev.CaseNoteSummary]
    assert next(e for e in audit.events if isinstance(e, ev.AuditCompleted)).moderated


def test_the_proposer_cannot_accept_their_own_proposal_and_the_latest_proposal_is_the_one_accepted() -> None:
    audit = in_moderation()
    audit.propose_moderated_grading(by="P-TM", grading=_grading(audit.form), at=T0)
    with pytest.raises(NotAllowed, match="other party"):
        audit.accept_moderated_grading(by="P-TM", at=T0)
    audit.propose_moderated_grading(by="P-PR", grading=_grading(audit.form, overall=Grade.REQUIRES_IMPROVEMENT), at=T0)
    audit.accept_moderated_grading(by="P-TM", at=T0)
    assert audit.grade_of_record is Grade.REQUIRES_IMPROVEMENT
    assert audit.moderation is not None and len(audit.moderation.proposals) == 2  # nothing proposed is lost


def test_nothing_to_accept_before_a_proposal_and_no_one_else_proposes() -> None:
    audit = in_moderation()
    with pytest.raises(WrongStage, match="Nothing has been proposed"):
        audit.accept_moderated_grading(by="P-PR", at=T0)
    with pytest.raises(NotAllowed):
        audit.propose_moderated_grading(by="P-OTHER", grading=_grading(audit.form), at=T0)


def test_a_moderated_grading_must_grade_every_sub_section_including_supervision() -> None:
    audit = in_moderation()
    grading = _grading(audit.form)
    partial = Grading(section_grades={k: g for k, g in grading.section_grades.items() if k != "supervision_and_oversight"}, overall_grade=Grade.GOOD)
    with pytest.raises(Gaps) as gaps:
        audit.propose_moderated_grading(by="P-TM", grading=partial, at=T0)
    assert [e["field"] for e in gaps.value.errors] == ["section_grades.supervision_and_oversight"]


def test_moderation_is_not_open_before_the_peer_review(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    with pytest.raises(WrongStage, match="not in moderation"):
        audit.propose_moderated_grading(by="P-TM", grading=_grading(kent_cp), at=T0)


def test_only_the_peer_reviewer_escalates_and_then_the_parties_can_no_longer_agree() -> None:
    audit = in_moderation()
    with pytest.raises(NotAllowed, match="peer reviewer"):
        audit.escalate_moderation(by="P-TM", reason="We disagree", at=T0)
    audit.escalate_moderation(by="P-PR", reason="We disagree on the assessment", at=T0)
    assert isinstance(audit.events[-1], ev.ModerationEscalated)
    with pytest.raises(WrongStage, match="final"):
        audit.propose_moderated_grading(by="P-TM", grading=_grading(audit.form), at=T0)


def test_a_practice_development_officer_is_appointed_by_qa_staff_and_is_independent() -> None:
    audit = in_moderation()
    with pytest.raises(WrongStage, match="escalated"):
        audit.appoint_officer(purpose=OfficerPurpose.MODERATION, officer_id="P-PDO", by="P-QA", by_roles=QA, at=T0)
    audit.escalate_moderation(by="P-PR", reason="No agreement", at=T0)
    with pytest.raises(NotAllowed):
        audit.appoint_officer(purpose=OfficerPurpose.MODERATION, officer_id="P-PDO", by="P-TM", by_roles=frozenset({"team_manager"}), at=T0)
    with pytest.raises(InvalidEntries):
        audit.appoint_officer(purpose=OfficerPurpose.MODERATION, officer_id="P-PR", by="P-QA", by_roles=QA, at=T0)
    audit.appoint_officer(purpose=OfficerPurpose.MODERATION, officer_id="P-PDO", by="P-QA", by_roles=QA, at=T0)
    assert audit.moderation is not None and audit.moderation.officer_id == "P-PDO"
    assert "moderating_officer" in audit.party_roles("P-PDO")


def test_the_practice_development_officers_grading_is_final() -> None:
    audit = in_moderation()
    audit.propose_moderated_grading(by="P-TM", grading=_grading(audit.form, overall=Grade.GOOD), at=T0)
    audit.escalate_moderation(by="P-PR", reason="No agreement", at=T0)
    with pytest.raises(WrongStage, match="No practice development officer"):
        audit.record_final_grading(by="P-PDO", grading=_grading(audit.form), at=T0)
    audit.appoint_officer(purpose=OfficerPurpose.MODERATION, officer_id="P-PDO", by="P-QA", by_roles=QA, at=T0)
    with pytest.raises(NotAllowed):
        audit.record_final_grading(by="P-PR", grading=_grading(audit.form), at=T0)
    audit.record_final_grading(by="P-PDO", grading=_grading(audit.form, Grade.REQUIRES_IMPROVEMENT, Grade.REQUIRES_IMPROVEMENT), at=T0)
    assert audit.status is AuditStatus.COMPLETED
    assert audit.grade_of_record is Grade.REQUIRES_IMPROVEMENT  # not the earlier proposal's Good
    assert audit.moderation is not None and audit.moderation.final_by == "P-PDO"
    with pytest.raises(WrongStage):
        audit.record_final_grading(by="P-PDO", grading=_grading(audit.form, Grade.GOOD, Grade.GOOD), at=T0)
