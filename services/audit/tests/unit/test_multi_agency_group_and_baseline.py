"""The audit group's rules (Hillingdon QAF Appendix E): each agency's lead auditor had no casework
involvement with the case (checked against the directory's allocation for the authority's own staff,
declared by everyone), the baseline audit of eight to ten cases with its figures, and a baseline
report that names no case, not even by its code."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from audit.common.errors import Gaps, InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.multi_agency import pdf
from audit.multi_agency.domain.audit import (
    NO_INVOLVEMENT,
    CaseAllocation,
    ConsultationInput,
    ConsultedParty,
    MultiAgencyAudit,
    Partner,
)
from audit.multi_agency.domain.baseline import FEWEST_CASES, MOST_CASES, Baseline, figures_of, size_errors
from audit.multi_agency.domain.errors import NoSuchCase
from audit.multi_agency.events import integration_events
from pypdf import PdfReader

from .conftest import T0
from .test_multi_agency import LEAD, PARTNERS, meeting

#: The case's allocation as the directory holds it.
ALLOCATION = CaseAllocation(allocated_worker_id="P-SW", team_manager_id="P-TM", team_manager_of_team_id="P-TM-TEAM")
QA = frozenset({"qa_officer"})


def audit_on(case_ref: str = "MA-0001", *, partners: list[Partner] = PARTNERS, audit_id: str = "A-1", baseline_id: str | None = None) -> MultiAgencyAudit:
    return MultiAgencyAudit.set_up(
        audit_id=audit_id, tool_id="multi-agency-b-1", tool_version=1, case_ref=case_ref, theme="Neglect", auditor_id="P-AUD", coordinator_id="P-BDM",
        partners=partners, consultation_worker_ids=["P-PART"], by="P-QA", at=T0, allocation=ALLOCATION,
        known_to_directory=frozenset({"P-SM", "P-AUD"}), baseline_id=baseline_id,
    )


def consulted(audit: MultiAgencyAudit) -> MultiAgencyAudit:
    for party in ConsultedParty:
        audit.record_consultation(party=party, consultation=ConsultationInput(method="visit", held_on=T0.date(), views="Better."), by="P-PART", at=T0)
    return audit


def declared(audit: MultiAgencyAudit) -> MultiAgencyAudit:
    for partner in audit.partners:
        audit.declare_no_involvement(agency=partner.agency, by=partner.representative_id, at=T0)
    return audit


# --- lead auditors with no casework involvement (Appendix E 1) -------------------------------------


@pytest.mark.parametrize(
    ("person", "reason"),
    [("P-SW", "the case's allocated worker"), ("P-TM", "the case's team manager"), ("P-TM-TEAM", "the manager of the case's team")],
)
def test_a_lead_auditor_involved_with_the_case_is_refused(person: str, reason: str) -> None:
    """Appendix E 1: "Each agency would need to appoint a lead practitioner or manager from that agency
    who had not case work involvement or responsibility for the cases being audited to carry out the audit.\""""
    involved = [replace(PARTNERS[0], representative_id=person), *PARTNERS[1:]]
    with pytest.raises(InvalidEntries) as refused:
        audit_on(partners=involved)
    [error] = refused.value.errors
    assert error["field"] == "partners.0.representative_id" and reason in error["message"] and person in error["message"]
    assert ALLOCATION.involvement_of(person) == [reason] and ALLOCATION.involvement_of("P-SM") == []


def test_the_auditor_of_the_case_audit_is_checked_too() -> None:
    """Appendix E 1: the audit is carried out by someone "who had not case work involvement or responsibility for the cases being audited"."""
    with pytest.raises(InvalidEntries) as refused:
        MultiAgencyAudit.set_up(
            audit_id="A-1", tool_id="t", tool_version=1, case_ref="MA-1", theme="Neglect", auditor_id="P-TM", coordinator_id="P-BDM",
            partners=PARTNERS, consultation_worker_ids=[], by="P-QA", at=T0, allocation=ALLOCATION,
        )
    assert [e["field"] for e in refused.value.errors] == ["auditor_id"]


def test_own_staff_are_checked_against_the_directory_and_everyone_declares_before_the_meeting() -> None:
    """Appendix E 1: lead auditors "who had not case work involvement or responsibility for the cases being audited":
    the directory is checked for the authority's own staff; every lead auditor declares, partners' staff only so."""
    audit = consulted(audit_on())
    assert audit.directory_checked == ["P-SM"]  # P-HEALTH and P-POLICE are partner agencies' staff
    with pytest.raises(Gaps) as gaps:
        audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    assert [e["field"] for e in gaps.value.errors] == ["declarations.childrens_social_care", "declarations.health", "declarations.police"]
    assert audit.meeting is None

    # Only the lead auditor themself, or the coordinator recording their written declaration; once each.
    with pytest.raises(NotAllowed):
        audit.declare_no_involvement(agency="health", by="P-POLICE", at=T0)
    with pytest.raises(InvalidEntries):
        audit.declare_no_involvement(agency="education", by="P-BDM", at=T0)
    made = audit.declare_no_involvement(agency="health", by="P-HEALTH", at=T0)
    assert (made.person_id, made.by, made.at, made.statement) == ("P-HEALTH", "P-HEALTH", T0, NO_INVOLVEMENT)
    with pytest.raises(WrongStage):
        audit.declare_no_involvement(agency="health", by="P-HEALTH", at=T0)
    audit.declare_no_involvement(agency="police", by="P-BDM", at=T0)
    audit.declare_no_involvement(agency="childrens_social_care", by="P-SM", at=T0)
    assert audit.awaiting_declaration() == []
    audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    with pytest.raises(WrongStage):
        audit.declare_no_involvement(agency="health", by="P-HEALTH", at=T0)


def test_a_lead_auditor_is_replaced_with_history_kept_and_the_new_one_checked_and_declaring() -> None:
    """Appendix E 1: "The lead agency auditors can be replaced or alternated as the year progresses to share the skills, learning and work load.\""""
    audit = declared(consulted(audit_on()))
    kwargs = {"agency": "health", "reason": "Alternated for the workload.", "allocation": ALLOCATION, "known_to_directory": False, "at": T0}
    with pytest.raises(NotAllowed):
        audit.replace_lead_auditor(person_id="P-HEALTH-2", by="P-POLICE", by_roles=frozenset(), **kwargs)
    with pytest.raises(InvalidEntries) as involved:
        audit.replace_lead_auditor(person_id="P-SW", by="P-BDM", by_roles=frozenset(), **kwargs)
    assert [e["field"] for e in involved.value.errors] == ["representative_id"]
    with pytest.raises(InvalidEntries) as no_reason:
        audit.replace_lead_auditor(person_id="P-HEALTH-2", by="P-BDM", by_roles=frozenset(), **{**kwargs, "reason": " "})
    assert [e["field"] for e in no_reason.value.errors] == ["reason"]
    assert audit.partner("health") == PARTNERS[1] and audit.lead_auditor_changes == []

    change = audit.replace_lead_auditor(person_id="P-HEALTH-2", by="P-QA", by_roles=QA, **kwargs)
    assert (change.previous_id, change.new_id, change.by) == ("P-HEALTH", "P-HEALTH-2", "P-QA")
    assert audit.partner("health").representative_id == "P-HEALTH-2"
    # The earlier declaration is kept; the new lead auditor has yet to make theirs.
    assert [d.person_id for d in audit.declarations if d.agency == "health"] == ["P-HEALTH"]
    assert [p.agency for p in audit.awaiting_declaration()] == ["health"]
    assert "P-HEALTH" not in audit.viewers() and "P-HEALTH-2" in audit.viewers()
    audit.declare_no_involvement(agency="health", by="P-HEALTH-2", at=T0)
    audit.hold_meeting(meeting=meeting(), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
    with pytest.raises(WrongStage):
        audit.replace_lead_auditor(person_id="P-HEALTH-3", by="P-BDM", by_roles=frozenset(), **kwargs)


def test_declarations_and_replacements_publish_nothing() -> None:
    """Appendix E 6: "Each case will receive a code ... to avoid identifying the child or family": the group's records stay in the service."""
    audit = consulted(audit_on())
    audit.events.clear()
    declared(audit)
    audit.replace_lead_auditor(
        agency="police", person_id="P-POLICE-2", reason="Alternated.", allocation=ALLOCATION, known_to_directory=False, by="P-BDM", by_roles=frozenset(), at=T0,
    )
    assert list(integration_events(audit, audit.events)) == []


# --- the baseline: an eight to ten case audit (Appendix E 3) ---------------------------------------


@pytest.mark.parametrize(("cases", "fits"), [(0, False), (7, False), (8, True), (9, True), (10, True), (11, False)])
def test_a_baseline_holds_eight_to_ten_cases(cases: int, fits: bool) -> None:
    """Appendix E 3: "The audit group would set a baseline for improvement and would complete an eight to ten case audit on children
    within a specific area of the service\""""
    assert (FEWEST_CASES, MOST_CASES) == (8, 10)
    errors = size_errors(cases)
    assert (errors == []) is fits
    if not fits:
        assert errors == [{"field": "cases", "message": f"a baseline audit is an eight to ten case audit: {cases} case(s) given"}]


def _baseline(n: int = 8, *, case_ids: list[str] | None = None) -> Baseline:
    ids = case_ids or [f"C-{i}" for i in range(n)]
    return Baseline.set_up(
        baseline_id="B-1", theme="Neglect", service_area="child_protection_plan", coordinator_id="P-BDM", partners=PARTNERS, case_ids=ids,
        audit_ids=[f"A-{i}" for i in range(len(ids))], auditor_ids=["P-AUD"], by="P-QA", at=T0,
    )


def test_a_baseline_is_set_up_only_with_eight_to_ten_distinct_cases_in_an_area_of_the_service() -> None:
    """Appendix E 3: "an eight to ten case audit on children within a specific area of the service, i.e. subject to child protection plans,
    children looked after etc.\""""
    for n in (7, 11):
        with pytest.raises(InvalidEntries) as refused:
            _baseline(n)
        assert refused.value.errors[0]["field"] == "cases" and "eight to ten" in refused.value.errors[0]["message"]
    with pytest.raises(InvalidEntries) as twice:
        _baseline(case_ids=[f"C-{i}" for i in range(7)] + ["C-0"])
    assert [e["message"] for e in twice.value.errors] == ["the case C-0 is listed twice"]
    with pytest.raises(InvalidEntries) as no_area:
        Baseline.set_up(
            baseline_id="B-1", theme="Neglect", service_area=" ", coordinator_id="P-BDM", partners=PARTNERS, case_ids=[f"C-{i}" for i in range(8)],
            audit_ids=[f"A-{i}" for i in range(8)], auditor_ids=["P-AUD"], by="P-QA", at=T0,
        )
    assert [e["field"] for e in no_area.value.errors] == ["service_area"]
    assert _baseline(10).service_area == "child_protection_plan"


def _met(n: int, grades: list[Grade]) -> list[MultiAgencyAudit]:
    audits = []
    for i in range(n):
        audit = declared(consulted(audit_on(f"MA-{i:04d}", audit_id=f"A-{i}", baseline_id="B-1")))
        if i < len(grades):
            audit.hold_meeting(meeting=meeting(agreed_grade=grades[i]), by="P-LEAD", by_roles=LEAD, case_audit_completed=True, at=T0)
        audits.append(audit)
    return audits


GRADES = [Grade.GOOD] * 4 + [Grade.OUTSTANDING] + [Grade.REQUIRES_IMPROVEMENT] * 2 + [Grade.INADEQUATE]


def test_the_baseline_is_completed_once_every_case_has_had_its_meeting_and_keeps_its_figures_as_the_benchmark() -> None:
    """Appendix E 3: "This would enable the audit group to bench mark quality of practice and enable comparisons to be made in subsequent audits\""""
    baseline = _baseline(8)
    with pytest.raises(WrongStage) as unmet:
        baseline.complete(audits=_met(8, GRADES[:6]), summary="Key learning.", by="P-BDM", by_roles=frozenset(), at=T0)
    assert "2 case(s) have not had their multi-agency meeting yet: MA-0006, MA-0007." in str(unmet.value)
    audits = _met(8, GRADES)
    with pytest.raises(NotAllowed):
        baseline.complete(audits=audits, summary="Key learning.", by="P-AUD", by_roles=frozenset({"auditor"}), at=T0)
    with pytest.raises(WrongStage) as too_few:
        baseline.complete(audits=audits[:7], summary="Key learning.", by="P-BDM", by_roles=frozenset(), at=T0)
    assert "holds 7 case(s): a baseline audit is an eight to ten case audit" in str(too_few.value)
    with pytest.raises(InvalidEntries):
        baseline.complete(audits=audits, summary=" ", by="P-BDM", by_roles=frozenset(), at=T0)
    assert baseline.report is None

    later = T0 + timedelta(days=40)
    report = baseline.complete(audits=audits, summary="Early help comes late.", by="P-LEAD", by_roles=LEAD, at=later)
    f = report.figures
    assert (f.cases, f.meetings_held, f.good_or_better, f.good_or_better_percent) == (8, 8, 5, 62)
    assert f.by_grade == {"outstanding": 1, "good": 4, "requires_improvement": 2, "inadequate": 1}
    assert (f.consultations_obtained, f.consultations_not_obtained, f.actions_total, f.actions_done) == (32, 0, 0, 0)
    assert baseline.completed and baseline.updated_at == later
    with pytest.raises(WrongStage):
        baseline.complete(audits=audits, summary="Again.", by="P-BDM", by_roles=frozenset(), at=later)
    # The benchmark stays as it stood; the live figures count the cases as they are now.
    assert figures_of(audits[:3]).cases == 3 and baseline.report is not None and baseline.report.figures.cases == 8


def test_live_figures_count_cases_without_a_meeting_as_not_graded() -> None:
    """Appendix E 3: the baseline's figures while the audit group works through its eight to ten cases."""
    f = figures_of(_met(9, GRADES[:3]))
    assert (f.cases, f.meetings_held, f.by_grade, f.good_or_better_percent) == (9, 3, {"good": 3, "not_graded": 6}, 100)
    assert figures_of([]).good_or_better_percent is None


def test_the_baseline_report_names_no_case_not_even_by_its_code() -> None:
    """Appendix E 6: "Audits will be circulated electronically by email, with a password sent separately, and without the code.\""""
    baseline = _baseline(8)
    audits = _met(8, GRADES)
    baseline.complete(audits=audits, summary="Early help comes late for Łukasz Wiśniewski's siblings.", by="P-BDM", by_roles=frozenset(), at=T0)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.render_baseline(baseline, audits))).pages)
    assert "Baseline audit report" in text and "Cases audited" in text and "5 of 8 (62%)" in text and "Requires improvement" in text
    assert "Łukasz Wiśniewski" in text
    for audit in audits:
        assert audit.case_ref not in text and audit.id not in text.split()
    assert pdf.baseline_filename("B-1") == "multi-agency-baseline-B-1.pdf"


def test_cases_are_added_and_withdrawn_before_completion_never_an_eleventh_and_completion_needs_eight() -> None:
    """Appendix E 3: "would complete an eight to ten case audit on children within a specific area of the service\""""
    baseline = _baseline(8)
    with pytest.raises(NotAllowed):
        baseline.withdraw_case(audit_id="A-7", reason="Consent withdrawn.", by="P-AUD", by_roles=frozenset({"auditor"}), at=T0)
    with pytest.raises(NoSuchCase):
        baseline.withdraw_case(audit_id="A-99", reason="Consent withdrawn.", by="P-BDM", by_roles=frozenset(), at=T0)
    with pytest.raises(InvalidEntries):
        baseline.withdraw_case(audit_id="A-7", reason=" ", by="P-BDM", by_roles=frozenset(), at=T0)
    withdrawal = baseline.withdraw_case(audit_id="A-7", reason="Consent withdrawn (child in need).", by="P-BDM", by_roles=frozenset(), at=T0)
    assert baseline.audit_ids == [f"A-{i}" for i in range(7)] and baseline.withdrawn == [withdrawal]

    audits = _met(7, GRADES)
    with pytest.raises(WrongStage) as too_few:
        baseline.complete(audits=audits, summary="Learning.", by="P-BDM", by_roles=frozenset(), at=T0)
    assert "holds 7 case(s)" in str(too_few.value)

    for n in (8, 9, 10):
        baseline.add_case(audit_id=f"A-{n}", auditor_id="P-AUD-2", by="P-QA", by_roles=QA, at=T0)
    with pytest.raises(WrongStage) as eleventh:
        baseline.add_case(audit_id="A-11", auditor_id="P-AUD", by="P-QA", by_roles=QA, at=T0)
    assert "holds 10 cases already: a baseline audit is an eight to ten case audit" in str(eleventh.value)
    assert len(baseline.audit_ids) == 10 and "P-AUD-2" in baseline.auditor_ids

    baseline.complete(audits=_met(10, GRADES + [Grade.GOOD, Grade.GOOD]), summary="Learning.", by="P-BDM", by_roles=frozenset(), at=T0)
    with pytest.raises(WrongStage):
        baseline.add_case(audit_id="A-12", auditor_id="P-AUD", by="P-QA", by_roles=QA, at=T0)
    with pytest.raises(WrongStage):
        baseline.withdraw_case(audit_id="A-1", reason="Late.", by="P-QA", by_roles=QA, at=T0)
