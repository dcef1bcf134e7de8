"""After completion: the case-note summary, a critical grade confirmed by a practice development
officer, and the action for the operational service manager that escalates a month later."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from audit.case_audit.domain import events as ev
from audit.case_audit.domain.audit import Audit, OfficerPurpose
from audit.case_audit.domain.follow_ups import ActionStatus
from audit.case_audit.domain.moderation import Grading
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade

from .conftest import T0, complete_work, in_moderation, submitted


def _completed(grade: Grade) -> Audit:
    audit = submitted(grade=grade)
    review = complete_work(audit.form, grade=grade, by_peer_reviewer=True)
    # Supervision graded well, so that only the practice is inadequate (no moderation).
    grades = {**review.section_grades, "supervision_and_oversight": Grade.GOOD}
    audit.save_peer_review_draft(by="P-PR", work=replace(review, section_grades=grades), at=T0)
    audit.submit_peer_review(by="P-PR", at=T0)
    assert audit.completed_at is not None
    return audit


def test_completion_produces_the_case_note_summary_from_the_overview() -> None:
    audit = _completed(Grade.GOOD)
    note = next(e for e in audit.events if isinstance(e, ev.CaseNoteSummary))
    assert note.analysis == "Risk is well understood; plans are clear."
    assert note.recommended_actions == "Record supervision on the file."
    assert note.grade is Grade.GOOD and note.moderated_on is None and note.author_id == "P-TM"


def test_the_case_note_is_kept_with_the_audit_as_written_at_completion() -> None:
    audit = _completed(Grade.GOOD)
    note = next(e for e in audit.events if isinstance(e, ev.CaseNoteSummary))
    kept = audit.case_note
    assert kept is not None and kept.written_at == audit.completed_at and kept.note_type == "Case Audit - Online Audit Programme"
    assert (kept.analysis, kept.recommended_actions, kept.grade, kept.author_id) == (note.analysis, note.recommended_actions, note.grade, note.author_id)
    # An audit completed before notes were kept has one rebuilt from the same facts.
    audit.case_note = None
    assert audit.case_note_of_record == kept
    assert submitted(grade=Grade.GOOD).case_note_of_record is None


def test_a_moderated_audits_case_note_says_when_it_was_moderated() -> None:
    audit = in_moderation()
    grading = Grading(section_grades={k: Grade.GOOD for k in audit.form.graded_sections(by_peer_reviewer=True)}, overall_grade=Grade.GOOD)
    audit.propose_moderated_grading(by="P-PR", grading=grading, at=T0)
    audit.accept_moderated_grading(by="P-TM", at=T0 + timedelta(days=2))
    note = next(e for e in audit.events if isinstance(e, ev.CaseNoteSummary))
    assert note.moderated_on == date(2026, 10, 3)


@pytest.mark.parametrize("grade", [Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT])
def test_an_adequate_grade_needs_no_follow_up(grade: Grade) -> None:
    audit = _completed(grade)
    assert not audit.needs_inadequate_action and not audit.needs_confirming_officer


def test_an_inadequate_critical_grade_waits_for_a_practice_development_officer_to_confirm_it() -> None:
    audit = _completed(Grade.INADEQUATE_CRITICAL)
    assert audit.needs_confirming_officer and audit.needs_inadequate_action
    audit.assign_officer(purpose=OfficerPurpose.CRITICAL_CONFIRMATION, officer_id="P-PDO", by="audit-service", at=T0)
    assert not audit.needs_confirming_officer
    with pytest.raises(NotAllowed):
        audit.confirm_critical_grade(by="P-TM", confirmed=True, revised_grade=None, comment="", at=T0)
    audit.confirm_critical_grade(by="P-PDO", confirmed=True, revised_grade=None, comment="Immediate concerns: strategy meeting held.", at=T0)
    assert audit.grade_of_record is Grade.INADEQUATE_CRITICAL
    with pytest.raises(WrongStage):
        audit.confirm_critical_grade(by="P-PDO", confirmed=True, revised_grade=None, comment="", at=T0)


def test_an_officer_who_does_not_confirm_gives_the_grade_instead_and_an_adequate_one_closes_the_action() -> None:
    audit = _completed(Grade.INADEQUATE_CRITICAL)
    audit.open_inadequate_action(owner_id="P-SM", at=T0)
    audit.assign_officer(purpose=OfficerPurpose.CRITICAL_CONFIRMATION, officer_id="P-PDO", by="P-QA", at=T0)
    with pytest.raises(InvalidEntries):
        audit.confirm_critical_grade(by="P-PDO", confirmed=False, revised_grade=None, comment="", at=T0)
    audit.confirm_critical_grade(by="P-PDO", confirmed=False, revised_grade=Grade.REQUIRES_IMPROVEMENT, comment="Risk managed.", at=T0)
    assert audit.grade_of_record is Grade.REQUIRES_IMPROVEMENT
    assert audit.inadequate_action is not None and audit.inadequate_action.status is ActionStatus.RESOLVED


def test_inadequate_practice_opens_an_action_that_escalates_after_a_month_if_not_resolved() -> None:
    audit = _completed(Grade.INADEQUATE)
    assert audit.needs_inadequate_action and not audit.needs_confirming_officer
    audit.open_inadequate_action(owner_id="P-SM", at=T0)
    action = audit.inadequate_action
    assert action is not None and action.escalate_on == date(2026, 11, 1)
    assert not audit.inadequate_action_due(date(2026, 10, 31))
    with pytest.raises(WrongStage):
        audit.escalate_inadequate_action(today=date(2026, 10, 31), assistant_director_id="P-AD", at=T0)
    assert audit.inadequate_action_due(date(2026, 11, 1))
    audit.escalate_inadequate_action(today=date(2026, 11, 1), assistant_director_id="P-AD", at=T0)
    assert action.status is ActionStatus.ESCALATED and action.escalated_to == "P-AD"
    assert not audit.inadequate_action_due(date(2026, 12, 1))  # escalated once
    assert "action_owner" in audit.party_roles("P-AD")


def test_an_action_resolved_within_the_month_does_not_escalate_and_only_its_owner_resolves_it() -> None:
    audit = _completed(Grade.INADEQUATE)
    audit.open_inadequate_action(owner_id="P-SM", at=T0)
    with pytest.raises(NotAllowed):
        audit.resolve_inadequate_action(by="P-TM", note="done", at=T0)
    audit.resolve_inadequate_action(by="P-SM", note="Plan reviewed, visits now weekly.", at=T0)
    assert not audit.inadequate_action_due(date(2027, 1, 1))
    with pytest.raises(WrongStage):
        audit.open_inadequate_action(owner_id="P-SM", at=T0)


def test_an_action_is_opened_only_once_and_only_for_a_completed_inadequate_audit() -> None:
    audit = submitted(grade=Grade.INADEQUATE)  # still in peer review
    with pytest.raises(WrongStage):
        audit.open_inadequate_action(owner_id="P-SM", at=T0)
