"""Hillingdon's rules: the review of a requires-improvement or inadequate audit with the case's
service manager, the lead QA auditor's monthly report (draft, edits kept, issued and then never
changed), the crib sheet's 16 points and the service manager's monthly session."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from audit.case_audit.domain.work import ActionItem
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.hillingdon import events as hillingdon_events
from audit.hillingdon import pdf
from audit.hillingdon.domain import report as rp
from audit.hillingdon.domain.crib_points import CRIB_POINTS
from audit.hillingdon.domain.crib_sheet import CribEntry, CribSheet, ManagementSession, SheetFacts, Tick
from audit.hillingdon.domain.errors import Issued
from audit.hillingdon.domain.review import PracticeReview, ReviewOutcome, ReviewStatus, needs_review
from audit.reporting.domain.figures import Row
from pypdf import PdfReader
from shared.mongo import Transaction

T0 = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
LEAD = frozenset({"lead_qa_auditor"})


def review(grade: Grade = Grade.REQUIRES_IMPROVEMENT, *, manager: str | None = "P-SM", director: str | None = "P-AD") -> PracticeReview:
    r = PracticeReview.open(
        review_id="R-1", audit_id="A-1", case_ref="C-1", team_id="T-1", month="2026-10", grade=grade, auditor_id="P-TM",
        service_manager_id=manager, assistant_director_id=director, by="audit-service", at=T0,
    )
    return r


def outcome(*, issues: bool = True, plan: bool = True) -> ReviewOutcome:
    return ReviewOutcome(
        outcome="Discussed with the team manager: visits lapsed over the summer.",
        actions_taken=["Visits restarted weekly"],
        practice_issues=issues,
        improvement_plan=[ActionItem(action="See the child alone every other visit", owner="Social worker", due=date(2026, 11, 30))] if plan else [],
    )


# --- which audits are reviewed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("programme", "grade", "reviewed"),
    [
        ("single_agency", "requires_improvement", True),
        ("single_agency", "inadequate", True),
        ("single_agency", "inadequate_critical", True),
        ("single_agency", "good", False),
        ("single_agency", "outstanding", False),
        ("single_agency", None, False),
        ("peer_review", "inadequate", False),
        ("themed", "requires_improvement", False),
    ],
)
def test_a_review_opens_for_every_requires_improvement_or_inadequate_hillingdon_audit_only(programme: str, grade: str | None, reviewed: bool) -> None:
    assert needs_review(programme, grade) is reviewed


def test_a_good_case_is_not_opened_for_review() -> None:
    with pytest.raises(WrongStage):
        review(Grade.GOOD)


def test_opening_records_the_task_for_the_service_manager() -> None:
    r = review(Grade.INADEQUATE)
    assert r.status is ReviewStatus.OPEN and not r.closed
    assert [e.name for e in r.events] == ["opened"]
    assert r.viewers() == ["P-AD", "P-SM", "P-TM"]


def test_a_transaction_run_again_stages_the_same_events() -> None:
    """UnitOfWork.run re-runs the work after a transient conflict; what the record recorded must
    be staged again, not lost with the aborted attempt."""
    r = review(Grade.INADEQUATE)
    first, again = Transaction(session=None), Transaction(session=None)  # staging needs no session
    hillingdon_events.record(first, r)
    hillingdon_events.record(again, r)
    assert [t.routing_key for t, _, _ in first.staged] == [hillingdon_events.PRACTICE_REVIEW_OPENED.routing_key]
    assert again.staged == first.staged


# --- the review loop -----------------------------------------------------------------------------


def test_the_loop_review_then_report_to_the_assistant_director_closes_it() -> None:
    r = review()
    r.record_outcome(by="P-SM", outcome=outcome(), at=T0)
    assert r.status is ReviewStatus.REVIEWED and not r.closed
    r.report(by="P-SM", at=T0 + timedelta(days=1))
    assert r.closed and r.reported_by == "P-SM"
    assert [e.name for e in r.events] == ["opened", "recorded", "reported"]


def test_only_the_cases_service_manager_records_the_review_or_reports_it() -> None:
    r = review()
    for other in ("P-AD", "P-TM", "P-QA"):
        with pytest.raises(NotAllowed):
            r.record_outcome(by=other, outcome=outcome(), at=T0)
    r.record_outcome(by="P-SM", outcome=outcome(), at=T0)
    with pytest.raises(NotAllowed):
        r.report(by="P-AD", at=T0)
    assert not r.closed


def test_outcome_and_actions_are_required() -> None:
    r = review()
    with pytest.raises(InvalidEntries) as refused:
        r.record_outcome(by="P-SM", outcome=ReviewOutcome(outcome=" ", actions_taken=[], practice_issues=False), at=T0)
    assert [e["field"] for e in refused.value.errors] == ["outcome", "actions_taken"]
    with pytest.raises(InvalidEntries):
        r.record_outcome(by="P-SM", outcome=ReviewOutcome(outcome="Discussed.", actions_taken=[""], practice_issues=False), at=T0)
    assert r.outcome is None and r.history == [] and r.status is ReviewStatus.OPEN


def test_practice_issues_need_an_improvement_plan_and_a_refusal_changes_nothing() -> None:
    r = review()
    with pytest.raises(InvalidEntries) as refused:
        r.record_outcome(by="P-SM", outcome=outcome(issues=True, plan=False), at=T0)
    assert refused.value.errors[0]["field"] == "improvement_plan"
    assert r.outcome is None and r.history == [] and r.status is ReviewStatus.OPEN
    r.record_outcome(by="P-SM", outcome=outcome(issues=False, plan=False), at=T0)
    assert r.status is ReviewStatus.REVIEWED


def test_it_is_not_reported_before_the_review_is_recorded() -> None:
    r = review()
    with pytest.raises(WrongStage):
        r.report(by="P-SM", at=T0)
    assert not r.closed


def test_a_reported_review_is_closed_and_never_changed() -> None:
    r = review()
    r.record_outcome(by="P-SM", outcome=outcome(), at=T0)
    r.report(by="P-SM", at=T0)
    with pytest.raises(WrongStage):
        r.record_outcome(by="P-SM", outcome=outcome(issues=False, plan=False), at=T0)
    with pytest.raises(WrongStage):
        r.report(by="P-SM", at=T0)
    assert r.outcome == outcome()


def test_every_recorded_outcome_is_kept() -> None:
    r = review()
    r.record_outcome(by="P-SM", outcome=outcome(), at=T0)
    r.record_outcome(by="P-SM", outcome=outcome(issues=False, plan=False), at=T0 + timedelta(hours=1))
    assert [h.number for h in r.history] == [1, 2]
    assert r.history[0].outcome.practice_issues and not r.history[1].outcome.practice_issues


def test_without_an_assistant_director_the_review_waits_for_qa_staff_to_name_one() -> None:
    r = review(manager=None, director=None)
    with pytest.raises(NotAllowed):
        r.reassign(by="P-TM", roles=frozenset({"team_manager"}), service_manager_id="P-SM", assistant_director_id=None, at=T0)
    r.reassign(by="P-QA", roles=frozenset({"qa_officer"}), service_manager_id="P-SM", assistant_director_id=None, at=T0)
    r.record_outcome(by="P-SM", outcome=outcome(), at=T0)
    with pytest.raises(WrongStage):
        r.report(by="P-SM", at=T0)
    r.reassign(by="P-QA", roles=frozenset({"qa_officer"}), service_manager_id=None, assistant_director_id="P-AD", at=T0)
    r.report(by="P-SM", at=T0)
    assert r.closed


def test_the_qa_auditor_verifies_the_action_taken_once_the_review_is_reported() -> None:
    r = review()
    with pytest.raises(WrongStage):
        r.verify(by="P-QA", roles=frozenset({"lead_qa_auditor"}), verification="Chronology updated", at=T0)
    r.record_outcome(by="P-SM", outcome=outcome(), at=T0)
    r.report(by="P-SM", at=T0)
    with pytest.raises(NotAllowed):
        r.verify(by="P-AD", roles=frozenset({"assistant_director"}), verification="Done", at=T0)
    with pytest.raises(InvalidEntries):
        r.verify(by="P-QA", roles=frozenset({"lead_qa_auditor"}), verification="  ", at=T0)
    r.verify(by="P-QA", roles=frozenset({"lead_qa_auditor"}), verification="Chronology updated; plan reviewed in supervision", at=T0)
    assert (r.status.value, r.verified_by, r.closed) == ("verified", "P-QA", True)
    with pytest.raises(WrongStage):
        r.verify(by="P-QA", roles=frozenset({"lead_qa_auditor"}), verification="Again", at=T0)
    assert r.verification == "Chronology updated; plan reviewed in supervision"
    with pytest.raises(WrongStage):
        r.record_outcome(by="P-SM", outcome=outcome(), at=T0)


def test_only_parties_and_qa_staff_see_a_review() -> None:
    r = review()
    assert r.visible_to("P-SM", frozenset()) and r.visible_to("P-AD", frozenset()) and r.visible_to("P-TM", frozenset())
    assert r.visible_to("P-QA", frozenset({"qa_officer"}))
    assert not r.visible_to("P-X", frozenset({"service_manager", "team_manager"}))


# --- the monthly audit report --------------------------------------------------------------------


def rows() -> list[Row]:
    weak = (("partnership_and_oversight", "Inter-agency working and management oversight"),)
    return [
        Row("A1", "2026-10", "T-1", "P1", "completed", True, "good"),
        Row("A2", "2026-10", "T-1", "P2", "completed", True, "requires_improvement", weak),
        Row("A3", "2026-10", "T-2", "P3", "completed", True, "inadequate", weak, (("wishes_inform_care", "Do the child's wishes..."),)),
        Row("A4", "2026-10", "T-2", "P4", "audit", False),
    ]


def monthly() -> rp.EditableReport:
    figures = rp.monthly_figures(rows(), reviews_opened=2, reviews_reported=1)
    return rp.EditableReport.generate(
        kind=rp.ReportKind.MONTHLY, period="2026-10", title="Monthly audit report - October 2026", figures=figures,
        sections=rp.monthly_draft("October 2026", figures), by="P-LEAD", roles=LEAD, at=T0,
    )


def test_the_draft_counts_the_months_audits_and_writes_its_headlines() -> None:
    report = monthly()
    assert report.figures["audits"] == 4 and report.figures["completed"] == 3
    assert report.figures["grades"] == {"outstanding": 0, "good": 1, "requires_improvement": 1, "inadequate": 1, "inadequate_critical": 0}
    assert report.figures["themes"][0]["key"] == "partnership_and_oversight" and report.figures["themes"][0]["audits"] == 2
    assert "3 of 4 single agency audits completed" in report.sections["headlines"]
    assert "Requires improvement: 1" in report.sections["headlines"] and "2 opened, 1 reported" in report.sections["headlines"]
    assert "Inter-agency working and management oversight" in report.sections["themes"]
    assert report.sections["recommendations"] == "" and report.status is rp.ReportStatus.DRAFT


def test_only_the_lead_qa_auditor_generates_edits_and_issues() -> None:
    with pytest.raises(NotAllowed):
        rp.EditableReport.generate(kind=rp.ReportKind.MONTHLY, period="2026-10", title="t", figures={}, sections={}, by="P-QA", roles=frozenset({"qa_officer"}), at=T0)
    report = monthly()
    with pytest.raises(NotAllowed):
        report.edit(by="P-QA", roles=frozenset({"qa_officer"}), sections={"recommendations": "x"}, at=T0)
    with pytest.raises(NotAllowed):
        report.issue(by="P-QA", roles=frozenset({"qa_officer"}), pdf_id="p", at=T0)


def test_edits_are_kept_in_history_and_unknown_sections_refused() -> None:
    report = monthly()
    report.edit(by="P-LEAD", roles=LEAD, sections={"recommendations": "Train managers on chronologies."}, at=T0)
    report.edit(by="P-LEAD", roles=LEAD, sections={"recommendations": "Train managers on chronologies and risk."}, at=T0)
    with pytest.raises(InvalidEntries):
        report.edit(by="P-LEAD", roles=LEAD, sections={"findings": "x"}, at=T0)
    assert [h.what for h in report.history] == ["generated", "edited", "edited"]
    assert report.history[1].sections["recommendations"] == "Train managers on chronologies."
    assert report.sections["recommendations"] == "Train managers on chronologies and risk."


def test_issuing_needs_every_section_then_nothing_changes_it() -> None:
    report = monthly()
    with pytest.raises(Gaps) as gaps:
        report.issue(by="P-LEAD", roles=LEAD, pdf_id="p", at=T0)
    assert [e["field"] for e in gaps.value.errors] == ["sections.recommendations"]
    report.edit(by="P-LEAD", roles=LEAD, sections={"recommendations": "Train managers."}, at=T0)
    report.issue(by="P-LEAD", roles=LEAD, pdf_id="p", at=T0)
    assert report.status is rp.ReportStatus.ISSUED
    for change in (
        lambda: report.edit(by="P-LEAD", roles=LEAD, sections={"recommendations": "Changed."}, at=T0),
        lambda: report.refresh(by="P-LEAD", roles=LEAD, figures={}, at=T0),
        lambda: report.issue(by="P-LEAD", roles=LEAD, pdf_id="q", at=T0),
    ):
        with pytest.raises(Issued):
            change()
    assert report.sections["recommendations"] == "Train managers." and report.pdf_id == "p"


def test_drafts_are_for_qa_staff_and_issued_reports_for_managers_too() -> None:
    report = monthly()
    readers = frozenset({"team_manager"})
    assert report.visible_to(frozenset({"qa_officer"}), readers) and not report.visible_to(frozenset({"team_manager"}), readers)
    report.edit(by="P-LEAD", roles=LEAD, sections={"recommendations": "Train."}, at=T0)
    report.issue(by="P-LEAD", roles=LEAD, pdf_id="p", at=T0)
    assert report.visible_to(frozenset({"team_manager"}), readers) and not report.visible_to(frozenset({"social_worker"}), readers)


def test_the_pdf_holds_the_figures_and_the_text() -> None:
    report = monthly()
    report.edit(by="P-LEAD", roles=LEAD, sections={"recommendations": "Train managers on chronologies."}, at=T0)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render(report, at=T0))).pages)
    assert "DRAFT" in text and "Audits: 4" in text and "Completed: 3" in text
    assert "Good: 1" in text and "Requires improvement: 1" in text and "Inadequate: 1" in text and "Outstanding: 0" in text
    assert "2 opened, 1 reported" in text and "Train managers on chronologies." in text


# --- the crib sheet and the monthly session -------------------------------------------------------


def test_the_crib_sheet_has_appendix_as_16_points_in_its_own_words() -> None:
    assert [p.number for p in CRIB_POINTS] == list(range(1, 17))
    assert CRIB_POINTS[0].text == "Ensure relevant partner agencies are invited to strategy meetings (if appropriate)"
    assert CRIB_POINTS[12].text == "RISK ASSESSMENT:" and len(CRIB_POINTS[12].details) == 4
    assert CRIB_POINTS[15].text == "No Further Action on Cases:"


def sheet() -> CribSheet:
    return CribSheet(
        id="S-1", case_id="C-1", team_id="T-1", month="2026-10", social_worker_id="P-SW", team_manager_id="P-TM", service_manager_id="P-SM",
        created_by="P-TM", created_at=T0,
    )


def all_checked(**overrides: CribEntry) -> dict[str, CribEntry]:
    entries = {str(p.number): CribEntry(social_worker=Tick.YES, manager=Tick.YES, checked_on=date(2026, 10, 20)) for p in CRIB_POINTS}
    entries.update(overrides)
    return entries


def test_a_crib_sheet_is_checked_when_every_point_is_checked_and_dated() -> None:
    s = sheet()
    s.save(by="P-TM", entries={"1": CribEntry(social_worker=Tick.YES)}, at=T0)
    with pytest.raises(Gaps) as gaps:
        s.check(by="P-TM", at=T0)
    assert {"entries.1.manager", "entries.16.checked_on"} <= {e["field"] for e in gaps.value.errors}
    s.save(by="P-TM", entries=all_checked(**{"12": CribEntry(social_worker=Tick.NO, manager=Tick.NO, checked_on=date(2026, 10, 20))}), at=T0)
    with pytest.raises(Gaps) as gaps:
        s.check(by="P-TM", at=T0)
    assert [e["field"] for e in gaps.value.errors] == ["entries.12.follow_up"]
    s.save(by="P-TM", entries={"12": CribEntry(social_worker=Tick.NO, manager=Tick.NO, follow_up="See the child alone next visit", checked_on=date(2026, 10, 20))}, at=T0)
    s.check(by="P-TM", at=T0)
    assert s.status.value == "checked" and len(s.history) == 3 and s.follow_ups() == ["12: See the child alone next visit"]
    with pytest.raises(WrongStage):
        s.save(by="P-TM", entries={"1": CribEntry()}, at=T0)


def test_the_social_worker_reads_the_sheet_but_the_manager_fills_it_in() -> None:
    s = sheet()
    assert s.visible_to("P-SW", frozenset()) and not s.visible_to("P-X", frozenset({"team_manager"}))
    with pytest.raises(NotAllowed):
        s.save(by="P-SW", entries={"1": CribEntry(social_worker=Tick.YES)}, at=T0)
    with pytest.raises(InvalidEntries):
        s.save(by="P-TM", entries={"17": CribEntry()}, at=T0)
    assert s.entries == {} and s.history == []


def facts(n: int, *, case: str | None = None, checked: bool = True, team: str = "T-1") -> SheetFacts:
    return SheetFacts(f"S-{n}", case or f"C-{n}", team, "2026-10", checked)


def hold(sheets: list[SheetFacts], roles: frozenset[str] = frozenset({"service_manager"})) -> ManagementSession:
    return ManagementSession.hold(
        month="2026-10", team_id="T-1", service_manager_id="P-SM", roles=roles, team_manager_id="P-TM", assistant_director_id="P-AD", sheets=sheets, at=T0,
    )


def test_a_session_is_two_cases_of_one_team_in_the_month() -> None:
    with pytest.raises(NotAllowed):
        hold([facts(1), facts(2)], roles=frozenset({"team_manager"}))
    for wrong in ([facts(1)], [facts(1), facts(2), facts(3)], [facts(1), facts(2, case="C-1")], [facts(1), facts(2, team="T-2")]):
        with pytest.raises(InvalidEntries):
            hold(wrong)
    session = hold([facts(1), facts(2)])
    assert session.id == "2026-10:T-1" and session.crib_sheet_ids == ["S-1", "S-2"]


def test_a_session_is_reported_to_the_assistant_director_once_its_sheets_are_checked_and_summarised() -> None:
    session = hold([facts(1), facts(2)])
    with pytest.raises(Gaps):
        session.report(by="P-SM", sheets=[facts(1), facts(2, checked=False)], at=T0)
    with pytest.raises(NotAllowed):
        session.write_summary(by="P-TM", summary="x", at=T0)
    session.write_summary(by="P-SM", summary="Actions on both cases progressed; chronology still to update.", at=T0)
    session.report(by="P-SM", sheets=[facts(1), facts(2)], at=T0)
    assert session.status.value == "reported" and [e.name for e in session.events] == ["reported"]
    with pytest.raises(WrongStage):
        session.write_summary(by="P-SM", summary="Changed.", at=T0)
