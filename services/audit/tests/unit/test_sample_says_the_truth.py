"""Issue 21, "The sample must say the truth": every team without a file and every idle auditor
reported with the reason, the programme's own-service fallback (off by default), one audit per
peer reviewer with the rest awaiting QA staff, and a draw with another seed refused."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from audit.cycles import events as ce
from audit.cycles.domain.cycle import Cycle, DrawnWithAnotherSeed, PeerReviewerRefused
from audit.cycles.domain.sampling import (
    ALL_AUDITED_IN_LAST_12_MONTHS,
    NO_AVAILABLE_AUDITOR,
    NO_CASE_LEFT_IN_SERVICE,
    NO_ELIGIBLE_CASE,
    NO_LINE_MANAGED_CASE,
    NO_SERVICE,
    IdleAuditor,
    OpenCase,
    SampleInputs,
    UncoveredTeam,
    draw_sample,
)
from audit.cycles.domain.timetable import Month, timetable
from audit.cycles.store import cycle_document, cycle_from_document
from audit.tools.domain.definition import ProgrammeKind
from shared.mongo import Transaction

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def case(case_id: str, team: str, manager: str | None, service: str | None = None) -> OpenCase:
    return OpenCase(case_id=case_id, case_types=("CIN",), team_id=team, line_manager_id=manager, service_id=service)


def test_a_team_whose_every_case_was_audited_in_the_last_12_months_is_reported_without_a_file() -> None:
    """Kent 3: "The sample will be drawn from all caseloads where there is an open Child in Need,
    Child Protection or Child in Care / Care Leaver case": a caseload the draw cannot reach is said so."""
    cases = [case("C-A1", "TA", "TM-A"), case("C-B1", "TB", "TM-B"), case("C-B2", "TB", "TM-B")]
    inputs = SampleInputs(
        cases=cases, auditors=["TM-A", "TM-B"], peer_reviewers=["PR1", "PR2"], recently_audited=frozenset({"C-B1", "C-B2"})
    )
    sample = draw_sample(inputs, "s", peer_review=True)
    assert [a.team_id for a in sample.assignments] == ["TA"]
    assert sample.uncovered_team_ids == ["TB"]
    assert sample.uncovered_teams == [
        UncoveredTeam(team_id="TB", reason=NO_ELIGIBLE_CASE, open_cases=2, audited_in_last_12_months=2)
    ]


def test_a_team_with_cases_to_draw_and_no_auditor_left_is_reported_with_that_reason() -> None:
    """Kent 2: "The number of cases audited each month will be determined by how many Auditors
    are available to audit in any given month." """
    cases = [case("C-A1", "TA", "TM-A"), case("C-B1", "TB", "TM-B")]
    sample = draw_sample(
        SampleInputs(cases=cases, auditors=["TM-A", "TM-B"], peer_reviewers=["PR"], dispensed=frozenset({"TM-B"})),
        "s",
        peer_review=True,
    )
    assert sample.uncovered_teams == [
        UncoveredTeam(team_id="TB", reason=NO_AVAILABLE_AUDITOR, open_cases=1, audited_in_last_12_months=0)
    ]
    assert sample.uncovered_team_ids == ["TB"]


def test_every_idle_auditor_is_reported_with_why_no_line_managed_case_was_drawn() -> None:
    """Kent 2: "Each month every team manager in Specialist Children's Services is allocated a
    case they are responsible for line managing to audit under the QA online audit programme." """
    cases = [case("C-A1", "TA", "TM-A"), case("C-B1", "TA", "TM-B")]
    inputs = SampleInputs(
        cases=cases, auditors=["TM-A", "TM-B", "TM-C"], peer_reviewers=["PR1", "PR2", "PR3"], recently_audited=frozenset({"C-B1"})
    )
    sample = draw_sample(inputs, "s", peer_review=True)
    assert [(a.auditor_id, a.basis) for a in sample.assignments] == [("TM-A", "line_managed")]
    assert sample.idle_auditor_ids == ["TM-B", "TM-C"]
    assert sample.idle_auditors == [
        IdleAuditor(auditor_id="TM-B", reason=ALL_AUDITED_IN_LAST_12_MONTHS, fallback_reason=None),
        IdleAuditor(auditor_id="TM-C", reason=NO_LINE_MANAGED_CASE, fallback_reason=None),
    ]
    assert not sample.own_service_fallback


def service_authority() -> SampleInputs:
    """Service S1: TM-A (six cases), TM-B (every case audited recently), TM-C (manages nothing);
    service S2: TM-D (one case). TM-E has no service manager above them."""
    cases = [case(f"C-A{n}", "TA", "TM-A", "S1") for n in range(6)] + [
        case("C-B1", "TB", "TM-B", "S1"),
        case("C-D1", "TD", "TM-D", "S2"),
    ]
    return SampleInputs(
        cases=cases,
        auditors=["TM-A", "TM-B", "TM-C", "TM-D", "TM-E"],
        peer_reviewers=[f"PR{n}" for n in range(6)],
        recently_audited=frozenset({"C-B1"}),
        auditor_services={"TM-A": "S1", "TM-B": "S1", "TM-C": "S1", "TM-D": "S2", "TM-E": None},
    )


def test_the_own_service_fallback_is_off_by_default_and_kent_rule_stands() -> None:
    """Kent 2: "every team manager ... is allocated a case they are responsible for line managing":
    without the programme's fallback, nobody is given a case they do not manage."""
    sample = draw_sample(service_authority(), "s", peer_review=True)
    assert {a.basis for a in sample.assignments} == {"line_managed"}
    assert sample.idle_auditor_ids == ["TM-B", "TM-C", "TM-E"]
    assert {i.fallback_reason for i in sample.idle_auditors} == {None}


def test_with_the_fallback_an_idle_auditor_gets_an_unmanaged_case_of_their_own_service_marked_as_such() -> None:
    """Kent 2: "Each Team Manager and Peer Reviewer will audit one case per month" — the documented
    fallback when no case they are "responsible for line managing" can be drawn."""
    for seed in "abcdef":
        sample = draw_sample(service_authority(), seed, peer_review=True, own_service_fallback=True)
        by_auditor = {a.auditor_id: a for a in sample.assignments}
        assert by_auditor["TM-A"].basis == "line_managed"
        for auditor in ("TM-B", "TM-C"):
            assert by_auditor[auditor].basis == "own_service"
            assert by_auditor[auditor].team_id == "TA"  # S1's only eligible cases: TM-A's, not their own
        assert len({a.case_id for a in sample.assignments}) == len(sample.assignments)
        # TM-D's service has no case left; TM-E has no service manager above them.
        assert sample.idle_auditors == [
            IdleAuditor(auditor_id="TM-E", reason=NO_LINE_MANAGED_CASE, fallback_reason=NO_SERVICE),
        ]
        assert sample.own_service_fallback


def test_the_fallback_says_when_their_service_has_no_case_left() -> None:
    """Kent 2: "The number of cases audited each month will be determined by how many Auditors
    are available to audit in any given month." — and by the cases there are to audit."""
    inputs = SampleInputs(
        cases=[case("C-1", "T1", "TM-1", "S1")],
        auditors=["TM-1", "TM-2"],
        peer_reviewers=["PR1", "PR2"],
        auditor_services={"TM-1": "S1", "TM-2": "S1"},
    )
    sample = draw_sample(inputs, "s", peer_review=True, own_service_fallback=True)
    assert sample.idle_auditors == [
        IdleAuditor(auditor_id="TM-2", reason=NO_LINE_MANAGED_CASE, fallback_reason=NO_CASE_LEFT_IN_SERVICE)
    ]


def test_with_the_fallback_no_auditor_is_idle_while_an_eligible_case_of_their_service_remains() -> None:
    """Kent 2: "Each month every team manager in Specialist Children's Services is allocated a case"."""
    cases = [case(f"C-{n}", f"T{n % 40}", f"TM{n % 40}", f"S{n % 40 // 10}") for n in range(2000)]
    recently = frozenset(c.case_id for c in cases if int(c.team_id[1:]) % 4 == 0)  # a quarter of the teams audited recently
    auditors = [f"TM{n}" for n in range(40)] + [f"QA{n}" for n in range(8)]
    services = {f"TM{n}": f"S{n // 10}" for n in range(40)} | {f"QA{n}": f"S{n % 4}" for n in range(8)}
    inputs = SampleInputs(
        cases=cases,
        auditors=auditors,
        peer_reviewers=[f"PR{n}" for n in range(30)],
        recently_audited=recently,
        auditor_services=services,
    )
    sample = draw_sample(inputs, "big", peer_review=True, own_service_fallback=True)
    assert sample.idle_auditor_ids == []
    assert len(sample.assignments) == 48 and len({a.case_id for a in sample.assignments}) == 48
    assert Counter(a.basis for a in sample.assignments) == Counter({"line_managed": 30, "own_service": 18})
    assert max(Counter(a.peer_reviewer_id for a in sample.assignments if a.peer_reviewer_id).values()) == 1
    assert len(sample.awaiting_peer_reviewer) == 18
    # The teams whose every case was audited recently are reported, with the reason.
    assert {t.team_id for t in sample.uncovered_teams} == {f"T{n}" for n in range(0, 40, 4)}
    assert {t.reason for t in sample.uncovered_teams} == {NO_ELIGIBLE_CASE}


def drawn_cycle(peer_reviewers: list[str]) -> Cycle:
    cases = [case(f"C-{n}", f"T{n}", f"TM{n}") for n in range(3)]
    sample = draw_sample(
        SampleInputs(cases=cases, auditors=["TM0", "TM1", "TM2"], peer_reviewers=peer_reviewers), "seed-1", peer_review=True
    )
    month = Month.parse("2026-12")
    return Cycle.draw(
        tool_id="kent",
        tool_version=1,
        programme=ProgrammeKind.PEER_REVIEW,
        month=month,
        sample=sample,
        timetable=timetable(month),
        by="P-QA",
        at=AT,
    )


def test_an_audit_awaiting_a_peer_reviewer_is_not_allocated_until_qa_staff_assign_one() -> None:
    """Kent 2: "Each Team Manager and Peer Reviewer will audit one case per month." """
    cycle = drawn_cycle(["PR1"])
    waiting = cycle.sample.awaiting_peer_reviewer
    assert len(waiting) == 2
    tx = Transaction(session=cast(Any, None))
    ce.record(tx, cycle.events)
    items = [data.model_dump() for t, data, _ in tx.staged if t.type == "audit.allocation.requested.v1"]
    assert [i["peer_reviewer_id"] for i in items] == ["PR1"]

    cycle.events.clear()
    first = waiting[0]
    with pytest.raises(PeerReviewerRefused, match="one case per month"):
        cycle.assign_peer_reviewer(first, "PR1", auditors_line_manager=None, by="P-QA", at=AT)
    with pytest.raises(PeerReviewerRefused, match="independent"):
        cycle.assign_peer_reviewer(first, first, auditors_line_manager=None, by="P-QA", at=AT)
    with pytest.raises(PeerReviewerRefused, match="independent"):
        cycle.assign_peer_reviewer(first, "SM", auditors_line_manager="SM", by="P-QA", at=AT)
    reviewed = next(a.auditor_id for a in cycle.sample.assignments if a.peer_reviewer_id)
    with pytest.raises(PeerReviewerRefused, match="not awaiting"):
        cycle.assign_peer_reviewer(reviewed, "PR9", auditors_line_manager=None, by="P-QA", at=AT)
    assert cycle.events == []

    assigned = cycle.assign_peer_reviewer(first, "PR2", auditors_line_manager=None, by="P-QA", at=AT)
    assert assigned.peer_reviewer_id == "PR2" and cycle.sample.awaiting_peer_reviewer == waiting[1:]
    tx = Transaction(session=cast(Any, None))
    ce.record(tx, cycle.events)
    [(kind, data, subject)] = tx.staged
    assert kind.type == "audit.allocation.requested.v1" and subject == f"cycle/kent:2026-12/{first}"
    assert data.model_dump()["peer_reviewer_id"] == "PR2" and data.model_dump()["requested_by"] == "P-QA"


def test_drawing_a_month_again_with_another_seed_is_refused_naming_its_seed() -> None:
    """Kent 3: "The Management Information Unit will provide the information for the random audit
    sample": one sample a month, and a caller asking for another is told it was not applied."""
    cycle = drawn_cycle(["PR1", "PR2", "PR3"])
    assert cycle.drawn_again(None) is cycle and cycle.drawn_again("seed-1") is cycle
    with pytest.raises(DrawnWithAnotherSeed) as refused:
        cycle.drawn_again("seed-2")
    assert refused.value.existing_seed == "seed-1" and "not applied" in str(refused.value)


def test_a_cycle_keeps_its_reasons_in_its_document_and_an_older_cycle_reads_without_them() -> None:
    """Kent 2: "The number of cases audited each month will be determined by how many Auditors
    are available to audit in any given month." — what the month's cycle said stays said."""
    cycle = drawn_cycle(["PR1"])
    doc = cycle_document(cycle)
    again = cycle_from_document(doc)
    assert again.sample == cycle.sample and again.sample.awaiting_peer_reviewer == cycle.sample.awaiting_peer_reviewer
    for recorded_since_issue_21 in ("idle_auditors", "uncovered_teams", "awaiting_peer_reviewer", "own_service_fallback"):
        del doc[recorded_since_issue_21]
    older = cycle_from_document(doc)
    assert (
        older.sample.idle_auditors,
        older.sample.uncovered_teams,
        older.sample.awaiting_peer_reviewer,
        older.sample.own_service_fallback,
    ) == ([], [], [], False)
