"""Stage 1 (audit) and stage 2 (peer review): drafts, the gaps that stop a submission, and who
may write what."""

from __future__ import annotations

from dataclasses import replace

import pytest
from audit.case_audit.domain import events as ev
from audit.case_audit.domain.audit import AuditStatus
from audit.case_audit.domain.work import ActionItem, Answer, StageWork
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.tools.catalogue import HAMPSHIRE, HILLINGDON
from audit.tools.domain.definition import AuditForm, CaseType

from .conftest import T0, complete_work, form, full_evidence, new_audit, submitted


def _fields(exc: pytest.ExceptionInfo[InvalidEntries]) -> list[str]:
    return [e["field"] for e in exc.value.errors]


def test_submitting_an_empty_stage_1_lists_every_gap(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    with pytest.raises(Gaps) as gaps:
        audit.submit_audit(by="P-TM", at=T0)
    fields = _fields(gaps)
    assert sum(f.startswith("answers.") for f in fields) == len(kent_cp.questions())
    assert [f for f in fields if f.startswith("section_grades.")] == [f"section_grades.{k}" for k in kent_cp.graded_sections(by_peer_reviewer=False)]
    assert {"oversight_comment", "analysis", "recommendations", "overall_grade"} <= set(fields)
    assert audit.status is AuditStatus.AUDIT and audit.stage1.submitted_at is None
    assert audit.events == []


def test_a_single_gap_is_named(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    work = complete_work(kent_cp)
    answers = dict(work.answers)
    del answers["conference_timely"]
    audit.save_audit_draft(by="P-TM", work=replace(work, answers=answers, oversight_comment=" "), at=T0)
    with pytest.raises(Gaps) as gaps:
        audit.submit_audit(by="P-TM", at=T0)
    assert _fields(gaps) == ["answers.conference_timely", "oversight_comment"]


def test_the_auditor_comments_on_supervision_and_may_not_grade_it(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    work = complete_work(kent_cp)
    grades = {**work.section_grades, "supervision_and_oversight": Grade.GOOD}
    with pytest.raises(InvalidEntries) as refused:
        audit.save_audit_draft(by="P-TM", work=replace(work, section_grades=grades), at=T0)
    assert _fields(refused) == ["section_grades.supervision_and_oversight"]
    assert "peer reviewer" in refused.value.errors[0]["message"]


def test_a_draft_may_be_incomplete_but_never_off_the_form(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    audit.save_audit_draft(by="P-TM", work=StageWork(answers={"plan_smart": Answer(value="no")}), at=T0)
    assert audit.stage1.drafts == 1
    bad = StageWork(answers={"no_such_question": Answer(value="yes"), "plan_smart": Answer(value="maybe")}, section_grades={"child_in_care": Grade.GOOD})
    with pytest.raises(InvalidEntries) as refused:
        audit.save_audit_draft(by="P-TM", work=bad, at=T0)
    assert _fields(refused) == ["answers.no_such_question", "answers.plan_smart", "section_grades.child_in_care"]
    assert audit.stage1.work.answers["plan_smart"].value == "no"  # the refused draft changed nothing


def test_every_saved_draft_is_recorded_for_the_history(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    audit.save_audit_draft(by="P-TM", work=StageWork(analysis="first"), at=T0)
    audit.save_audit_draft(by="P-TM", work=StageWork(analysis="second"), at=T0)
    saved = [e for e in audit.events if isinstance(e, ev.DraftSaved)]
    assert [(e.stage, e.number, e.work.analysis) for e in saved] == [("audit", 1, "first"), ("audit", 2, "second")]


def test_only_the_assigned_auditor_writes_and_submits_stage_1(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    with pytest.raises(NotAllowed):
        audit.save_audit_draft(by="P-PR", work=complete_work(kent_cp), at=T0)
    with pytest.raises(NotAllowed):
        audit.submit_audit(by="P-PR", at=T0)


def test_submitting_stage_1_starts_the_peer_review_and_a_copy_is_due(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    audit.save_audit_draft(by="P-TM", work=complete_work(kent_cp), at=T0)
    audit.events.clear()
    audit.submit_audit(by="P-TM", at=T0)
    assert audit.status is AuditStatus.PEER_REVIEW
    assert [type(e) for e in audit.events] == [ev.AuditSubmitted, ev.CopyDue]
    with pytest.raises(WrongStage):
        audit.save_audit_draft(by="P-TM", work=complete_work(kent_cp), at=T0)


def test_hampshire_a_standard_judged_met_needs_its_evidence_listed_and_the_audit_completes_on_submission() -> None:
    f = form(HAMPSHIRE, CaseType.CIN)
    audit = new_audit(f)
    audit.preparer_ids = ["P-SW", "P-SUP"]
    evidence = full_evidence(f)
    del evidence["standard_04"]
    audit.save_evidence(by="P-SW", evidence=evidence, at=T0)
    answers = {**complete_work(f).answers, "standard_14": Answer(value="n/a")}
    audit.save_audit_draft(by="P-TM", work=replace(complete_work(f), answers=answers), at=T0)
    with pytest.raises(Gaps) as gaps:
        audit.submit_audit(by="P-TM", at=T0)
    assert _fields(gaps) == ["evidence.standard_04"]
    audit.save_evidence(by="P-SUP", evidence=full_evidence(f), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    assert audit.status is AuditStatus.COMPLETED
    assert audit.grade_of_record is None
    with pytest.raises(WrongStage):
        audit.save_evidence(by="P-SW", evidence=full_evidence(f), at=T0)


def test_the_evidence_list_is_for_the_preparers_and_the_auditor_and_only_for_standards_that_take_it() -> None:
    f = form(HAMPSHIRE, CaseType.CP)
    audit = new_audit(f)
    audit.preparer_ids = ["P-SW"]
    with pytest.raises(NotAllowed):
        audit.save_evidence(by="P-OTHER", evidence=full_evidence(f), at=T0)
    with pytest.raises(InvalidEntries) as refused:
        audit.save_evidence(by="P-TM", evidence={"no_such_standard": []}, at=T0)
    assert _fields(refused) == ["evidence.no_such_standard"]
    audit.save_evidence(by="P-SW", evidence=full_evidence(f), at=T0)
    saved = [e for e in audit.events if isinstance(e, ev.DraftSaved)]
    assert [(e.stage, e.by) for e in saved] == [("evidence", "P-SW")]
    assert "evidence_preparer" in audit.party_roles("P-SW") and "P-SW" in audit.viewers()


def test_kent_takes_no_evidence_list(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    with pytest.raises(InvalidEntries):
        audit.save_evidence(by="P-TM", evidence={"plan_smart": []}, at=T0)


def test_hillingdon_requires_an_action_plan_for_a_case_that_requires_improvement() -> None:
    f = form(HILLINGDON, CaseType.CIC)
    audit = new_audit(f)
    audit.save_audit_draft(by="P-TM", work=complete_work(f, grade=Grade.REQUIRES_IMPROVEMENT), at=T0)
    with pytest.raises(Gaps) as gaps:
        audit.submit_audit(by="P-TM", at=T0)
    assert _fields(gaps) == ["action_plan"]
    plan = [ActionItem(action="Update the care plan", owner="Team manager")]
    audit.save_audit_draft(by="P-TM", work=complete_work(f, grade=Grade.REQUIRES_IMPROVEMENT, action_plan=plan), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    assert audit.status is AuditStatus.COMPLETED and audit.grade_of_record is Grade.REQUIRES_IMPROVEMENT


def test_hillingdon_needs_no_action_plan_for_a_good_case() -> None:
    f = form(HILLINGDON, CaseType.CIN)
    audit = new_audit(f)
    audit.save_audit_draft(by="P-TM", work=complete_work(f, grade=Grade.GOOD), at=T0)
    audit.submit_audit(by="P-TM", at=T0)
    assert audit.status is AuditStatus.COMPLETED


# --- stage 2 -----------------------------------------------------------------------------------


def test_the_peer_review_waits_for_stage_1(kent_cp: AuditForm) -> None:
    audit = new_audit(kent_cp)
    with pytest.raises(WrongStage, match="not submitted stage 1"):
        audit.save_peer_review_draft(by="P-PR", work=complete_work(kent_cp, by_peer_reviewer=True), at=T0)


def test_only_the_assigned_peer_reviewer_writes_the_peer_review(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    with pytest.raises(NotAllowed):
        audit.save_peer_review_draft(by="P-TM", work=complete_work(kent_cp, by_peer_reviewer=True), at=T0)


def test_a_peer_answer_differing_from_stage_1_needs_a_comment(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    review = complete_work(kent_cp, by_peer_reviewer=True)
    answers = {**review.answers, "plan_smart": Answer(value="no"), "chronology_current": Answer(value="no", comment="The chronology stops in March.")}
    audit.save_peer_review_draft(by="P-PR", work=replace(review, answers=answers), at=T0)
    with pytest.raises(Gaps) as gaps:
        audit.submit_peer_review(by="P-PR", at=T0)
    assert _fields(gaps) == ["answers.plan_smart.comment"]
    assert "'yes'" in gaps.value.errors[0]["message"]
    assert audit.status is AuditStatus.PEER_REVIEW


def test_the_peer_reviewer_must_grade_supervision(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    review = complete_work(kent_cp, by_peer_reviewer=True)
    grades = {k: g for k, g in review.section_grades.items() if k != "supervision_and_oversight"}
    audit.save_peer_review_draft(by="P-PR", work=replace(review, section_grades=grades), at=T0)
    with pytest.raises(Gaps) as gaps:
        audit.submit_peer_review(by="P-PR", at=T0)
    assert _fields(gaps) == ["section_grades.supervision_and_oversight"]


def test_when_all_agree_the_audit_completes_without_moderation(kent_cp: AuditForm) -> None:
    audit = submitted(kent_cp)
    audit.save_peer_review_draft(by="P-PR", work=complete_work(kent_cp, by_peer_reviewer=True), at=T0)
    audit.events.clear()
    audit.submit_peer_review(by="P-PR", at=T0)
    assert audit.status is AuditStatus.COMPLETED and audit.moderation is None
    assert audit.grade_of_record is Grade.GOOD
    kinds = [type(e) for e in audit.events]
    assert kinds == [ev.PeerReviewSubmitted, ev.CopyDue, ev.AuditCompleted, ev.CaseNoteSummary]
    assert not any(isinstance(e, ev.ModerationRequired) for e in audit.events)
