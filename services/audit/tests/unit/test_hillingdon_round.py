"""Hillingdon's single-agency audit round (seed 002, Appendix D and 5.2.1): the QA team's case list
of three cases each for a service manager and a team manager within their area of expertise, the
two months given, the QA team's sample of audits graded good or above, and the team manager's
overview reported to the service manager."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from audit.common.errors import InvalidEntries, NotAllowed, WrongStage
from audit.common.grades import Grade
from audit.cycles.domain.cycle import DRAWN_PROGRAMMES
from audit.cycles.domain.timetable import Month
from audit.hillingdon.domain import single_agency_round as sr
from audit.hillingdon.domain.single_agency_round import (
    AskedAllocation,
    AuditFacts,
    Auditor,
    RoundCase,
    RoundStatus,
    SingleAgencyRound,
)
from audit.tools.domain.definition import ProgrammeKind

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
QA = frozenset({"qa_officer"})
SM = Auditor("P-SM2", frozenset({"service_manager"}))
TM = Auditor("P-TM9", frozenset({"team_manager"}))
CASES = {
    "C-1": RoundCase("C-1", "T-1", "CP"),
    "C-2": RoundCase("C-2", "T-1", "CIN"),
    "C-3": RoundCase("C-3", "T-1", "CP"),
    "C-4": RoundCase("C-4", "T-1", "CIC"),
    "C-5": RoundCase("C-5", "T-1", "CIC"),
    "C-6": RoundCase("C-6", "T-1", "CIC"),
    "C-7": RoundCase("C-7", "T-1", "CP"),
    "C-8": RoundCase("C-8", "T-1", "CP"),
    "C-10": RoundCase("C-10", "T-1", "CP"),
    "C-9": RoundCase("C-9", "T-2", "CIC"),
}


def asked(auditor: Auditor | None, cases: list[str], area: list[str], auditor_id: str | None = None) -> AskedAllocation:
    return AskedAllocation(
        auditor_id=auditor_id or (auditor.person_id if auditor else "P-?"),
        area_of_expertise=area,
        case_ids=cases,
        auditor=auditor,
        cases={c: CASES[c] for c in cases if c in CASES},
    )


def good_list() -> list[AskedAllocation]:
    return [asked(SM, ["C-1", "C-2", "C-3"], ["CIN", "CP"]), asked(TM, ["C-4", "C-5", "C-6"], ["CIC"])]


def draw(
    allocations: list[AskedAllocation] | None = None,
    *,
    roles: frozenset[str] = QA,
    team_manager: str | None = "P-TM1",
    service_manager: str | None = "P-SM1",
) -> SingleAgencyRound:
    allocations = good_list() if allocations is None else allocations
    ids = {c: f"A-{c}" for a in allocations for c in a.case_ids}
    return SingleAgencyRound.draw_up(
        round_id="R-1",
        month=Month.parse("2026-12"),
        team_id="T-1",
        team_manager_id=team_manager,
        service_manager_id=service_manager,
        asked=allocations,
        audit_ids=ids,
        by="P-QA",
        roles=roles,
        at=T0,
    )


def fields(exc: pytest.ExceptionInfo[InvalidEntries]) -> list[str]:
    return [e["message"] for e in exc.value.errors]


def all_audits(r: SingleAgencyRound, grade: Grade = Grade.GOOD, *, completed: bool = True) -> list[AuditFacts]:
    return [AuditFacts(a, completed, grade if completed else None) for a in r.audit_ids()]


def test_the_case_list_is_drawn_up_by_the_qa_team_three_cases_each_to_a_service_manager_and_a_team_manager() -> None:
    """Appendix D: "The case list is drawn up by the QA Team and three cases are allocated to a
    Service manager and Team Manager using a bespoke audit tool." """
    r = draw()
    assert [(a.auditor_id, a.case_ids, a.audit_ids) for a in r.allocations] == [
        ("P-SM2", ["C-1", "C-2", "C-3"], ["A-C-1", "A-C-2", "A-C-3"]),
        ("P-TM9", ["C-4", "C-5", "C-6"], ["A-C-4", "A-C-5", "A-C-6"]),
    ]
    assert r.drawn_up_by == "P-QA" and [e.name for e in r.events] == [sr.ALLOCATED]
    assert r.viewers() == ["P-SM1", "P-SM2", "P-TM1", "P-TM9"]
    with pytest.raises(NotAllowed):
        draw(roles=frozenset({"team_manager", "service_manager"}))
    with pytest.raises(InvalidEntries) as two:
        draw([asked(SM, ["C-1", "C-2"], ["CIN", "CP"]), asked(TM, ["C-4", "C-5", "C-6", "C-1"], ["CIC", "CP"])])
    assert [m for m in fields(two) if "three different cases" in m] == [
        "three different cases are allocated to each auditor (given 2)",
        "three different cases are allocated to each auditor (given 4)",
    ]
    with pytest.raises(InvalidEntries) as no_team_manager:
        draw(
            [
                asked(SM, ["C-1", "C-2", "C-3"], ["CIN", "CP"]),
                asked(Auditor("P-SM3", frozenset({"service_manager"})), ["C-4", "C-5", "C-6"], ["CIC"]),
            ]
        )
    assert fields(no_team_manager) == ["three cases are allocated to a service manager and to a team manager: name one of each"]
    # One person holding both roles is not both managers.
    both = Auditor("P-B", frozenset({"service_manager", "team_manager"}))
    with pytest.raises(InvalidEntries):
        draw([asked(both, ["C-1", "C-2", "C-3"], ["CIN", "CP"])])
    with pytest.raises(InvalidEntries) as twice:
        draw([*good_list(), asked(SM, ["C-4", "C-9", "C-6"], ["CIC"])])
    assert "this auditor is allocated cases twice in the round" in fields(twice)
    assert "case 'C-4' is on the list twice" in fields(twice) and "case 'C-9' is not one of the team's cases" in fields(twice)


def test_peer_audits_are_completed_by_the_managers_of_5_2_1() -> None:
    """5.2.1: "Children's Social Care teams will carry out peer audits completed by Team Managers,
    Service Managers, Independent Reviewing Officers, Child Protection Chairs and Assistant
    Directors." """
    chair = Auditor("P-CPC", frozenset({"cp_chair"}))
    r = draw([*good_list(), asked(chair, ["C-7", "C-8", "C-10"], ["CP"])])
    assert [a.auditor_id for a in r.allocations] == ["P-SM2", "P-TM9", "P-CPC"]
    worker = Auditor("P-SW", frozenset({"social_worker"}))
    with pytest.raises(InvalidEntries) as refused:
        draw([*good_list(), AskedAllocation("P-SW", ["CIC"], ["C-7", "C-8", "C-0"], worker, {})])
    assert "peer audits are completed by team managers, service managers, IROs, CP chairs and assistant directors" in fields(
        refused
    )
    with pytest.raises(InvalidEntries) as gone:
        draw(
            [*good_list()[:1], asked(Auditor("P-TM9", frozenset({"team_manager"}), active=False), ["C-4", "C-5", "C-6"], ["CIC"])]
        )
    assert "'P-TM9' is not an active person in the directory" in fields(gone)
    with pytest.raises(InvalidEntries) as unknown:
        draw([*good_list()[:1], asked(None, ["C-4", "C-5", "C-6"], ["CIC"], auditor_id="P-NOBODY")])
    assert "'P-NOBODY' is not an active person in the directory" in fields(unknown)


def test_each_is_assigned_cases_within_their_own_area_of_expertise() -> None:
    """Appendix D: "Each are assigned cases within their own area of expertise and knowledge." """
    with pytest.raises(InvalidEntries) as outside:
        draw([asked(SM, ["C-1", "C-2", "C-4"], ["CIN", "CP"]), asked(TM, ["C-5", "C-6", "C-3"], ["CIC"])])
    assert fields(outside) == [
        "case 'C-4' (CIC) is outside the auditor's area of expertise (CIN, CP)",
        "case 'C-3' (CP) is outside the auditor's area of expertise (CIC)",
    ]
    with pytest.raises(InvalidEntries) as none:
        draw([asked(SM, ["C-1", "C-2", "C-3"], []), asked(TM, ["C-4", "C-5", "C-6"], ["looked after"])])
    assert len([m for m in fields(none) if m.startswith("give the auditor's area of expertise")]) == 2


def test_the_managers_are_given_two_months() -> None:
    """Appendix D: "The managers are given Two months to complete the audits" """
    assert draw().due_on == date(2027, 1, 31)
    assert sr.round_due_on(Month.parse("2026-11")) == date(2026, 12, 31)
    assert sr.round_due_on(Month.parse("2027-01")) == date(2027, 2, 28)


def test_the_random_monthly_draw_is_not_how_the_single_agency_audit_is_run() -> None:
    """Appendix D: "The case list is drawn up by the QA Team" (not drawn at random)."""
    assert ProgrammeKind.SINGLE_AGENCY not in DRAWN_PROGRAMMES
    assert ProgrammeKind.PEER_REVIEW in DRAWN_PROGRAMMES


def test_the_qa_team_reviews_a_sample_of_cases_graded_good_or_above() -> None:
    """Appendix D: "The QA team will also review a sample of cases that have been graded "good" or above." """
    r = draw()
    facts = {a: AuditFacts(a, True, Grade.GOOD) for a in r.audit_ids()}
    facts["A-C-2"] = AuditFacts("A-C-2", True, Grade.REQUIRES_IMPROVEMENT)
    facts["A-C-3"] = AuditFacts("A-C-3", False, None)
    facts["A-C-4"] = AuditFacts("A-C-4", True, Grade.OUTSTANDING)
    with pytest.raises(NotAllowed):
        r.select_qa_sample(by="P-TM1", roles=frozenset({"team_manager"}), audits=[facts["A-C-1"]], at=T0)
    with pytest.raises(InvalidEntries) as wrong:
        r.select_qa_sample(
            by="P-QA", roles=QA, audits=[facts["A-C-2"], facts["A-C-3"], AuditFacts("A-X", True, Grade.GOOD)], at=T0
        )
    assert fields(wrong) == [
        "audit 'A-C-2' is graded Requires improvement: the sample is of cases graded good or above",
        "audit 'A-C-3' is not complete: only graded audits are sampled",
        "audit 'A-X' is not one of the round's",
    ]
    with pytest.raises(InvalidEntries):
        r.select_qa_sample(by="P-QA", roles=QA, audits=[], at=T0)
    assert r.qa_sample == [] and r.version == 0
    r.select_qa_sample(by="P-QA", roles=QA, audits=[facts["A-C-1"], facts["A-C-4"]], at=T0)
    assert [(s.audit_id, s.grade) for s in r.qa_sample] == [("A-C-1", Grade.GOOD), ("A-C-4", Grade.OUTSTANDING)]
    with pytest.raises(InvalidEntries) as again:
        r.select_qa_sample(by="P-QA", roles=QA, audits=[facts["A-C-1"]], at=T0)
    assert fields(again) == ["audit 'A-C-1' is in the sample already"]

    with pytest.raises(InvalidEntries):
        r.review_sampled(audit_id="A-C-5", by="P-QA", roles=QA, finding="Fine", agrees_with_grade=True, at=T0)
    with pytest.raises(InvalidEntries):
        r.review_sampled(audit_id="A-C-1", by="P-QA", roles=QA, finding="  ", agrees_with_grade=True, at=T0)
    with pytest.raises(NotAllowed):
        r.review_sampled(
            audit_id="A-C-1", by="P-SM1", roles=frozenset({"service_manager"}), finding="Fine", agrees_with_grade=True, at=T0
        )
    r.review_sampled(
        audit_id="A-C-1", by="P-QA", roles=QA, finding="The grade is supported by the evidence.", agrees_with_grade=True, at=T0
    )
    with pytest.raises(WrongStage):
        r.review_sampled(audit_id="A-C-1", by="P-QA", roles=QA, finding="Changed my mind", agrees_with_grade=False, at=T0)
    assert r.qa_sample[0].finding == "The grade is supported by the evidence." and r.qa_sample[0].reviewed_by == "P-QA"
    assert [e.name for e in r.events] == [sr.ALLOCATED, sr.SAMPLED, f"{sr.SAMPLE_REVIEWED}/A-C-1"]


def test_the_team_manager_completes_an_overview_of_all_the_findings_and_reports_it_to_the_service_manager() -> None:
    """Appendix D: "The Team Manager will subsequently complete an overview of all the findings of
    all the audits of cases within the team, report this to the Service Manager" """
    r = draw()
    with pytest.raises(WrongStage) as early:
        r.save_overview(by="P-TM1", text="Too soon", audits=[*all_audits(r)[:5], *all_audits(r, completed=False)[5:]], at=T0)
    assert "1 of the round's audits are not complete yet" in str(early.value)
    with pytest.raises(NotAllowed):
        r.save_overview(by="P-TM9", text="Not my team", audits=all_audits(r), at=T0)
    with pytest.raises(WrongStage):
        r.report_overview(by="P-TM1", at=T0)
    with pytest.raises(InvalidEntries):
        r.save_overview(by="P-TM1", text=" ", audits=all_audits(r), at=T0)
    r.save_overview(by="P-TM1", text="Chronologies are weak across the team.", audits=all_audits(r), at=T0)
    r.save_overview(by="P-TM1", text="Chronologies are weak; visits are timely.", audits=all_audits(r), at=T0)
    assert [v.text for v in r.overview_history] == [
        "Chronologies are weak across the team.",
        "Chronologies are weak; visits are timely.",
    ]
    with pytest.raises(NotAllowed):
        r.report_overview(by="P-SM1", at=T0)
    r.report_overview(by="P-TM1", at=T0)
    assert r.status is RoundStatus.OVERVIEW_REPORTED and r.overview_reported_at == T0
    with pytest.raises(WrongStage):
        r.save_overview(by="P-TM1", text="Rewritten", audits=all_audits(r), at=T0)
    with pytest.raises(WrongStage):
        r.report_overview(by="P-TM1", at=T0)
    assert r.overview == "Chronologies are weak; visits are timely."
    assert [e.name for e in r.events][-1] == sr.OVERVIEW_REPORTED


def test_a_round_needs_the_team_manager_and_the_service_manager_above_them() -> None:
    """Appendix D: the Team Manager reports the overview "to the Service Manager": both must be known."""
    with pytest.raises(InvalidEntries) as no_tm:
        draw(team_manager=None)
    assert fields(no_tm) == ["the directory names no manager for this team (they write the overview)"]
    with pytest.raises(InvalidEntries) as no_sm:
        draw(service_manager=None)
    assert fields(no_sm) == ["the directory names no service manager above the team's manager (the overview is reported to them)"]
