"""The sampling rules: one line-managed case per available auditor, dispensations, the 12-month
exclusion, team coverage, CP precedence, peer reviewers, and the same seed giving the same sample."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from audit.cycles import events as ce
from audit.cycles.domain.cycle import Cycle
from audit.cycles.domain.sampling import Assignment, NoPeerReviewers, OpenCase, Sample, SampleInputs, audit_case_type, draw_sample
from audit.cycles.domain.timetable import Month, timetable
from audit.tools.domain.definition import ProgrammeKind
from shared.mongo import Transaction


def case(case_id: str, team: str, manager: str | None, *types: str) -> OpenCase:
    return OpenCase(case_id=case_id, case_types=types or ("CIN",), team_id=team, line_manager_id=manager)


def authority(teams: int = 4, cases_per_team: int = 6) -> SampleInputs:
    cases = [case(f"C-{t}-{n}", f"T{t}", f"TM{t}", ("CIN", "CP", "CIC")[n % 3]) for t in range(teams) for n in range(cases_per_team)]
    return SampleInputs(
        cases=cases, auditors=[f"TM{t}" for t in range(teams)], peer_reviewers=["PR1", "PR2"],
        line_managers={f"TM{t}": "SM" for t in range(teams)},
    )


def test_each_available_auditor_gets_one_case_they_line_manage() -> None:
    sample = draw_sample(authority(), "seed-1", peer_review=True)
    assert [a.auditor_id for a in sample.assignments] == ["TM0", "TM1", "TM2", "TM3"]
    for a in sample.assignments:
        assert a.case_id.startswith(f"C-{a.auditor_id[2:]}-")
        assert a.basis == "line_managed"
        assert a.team_id == f"T{a.auditor_id[2:]}"
    assert len({a.case_id for a in sample.assignments}) == 4


def test_same_seed_same_sample_whatever_the_order_of_the_inputs() -> None:
    inputs = authority(teams=8, cases_per_team=20)
    shuffled_cases = list(inputs.cases)
    random.Random(7).shuffle(shuffled_cases)
    shuffled = SampleInputs(
        cases=shuffled_cases, auditors=list(reversed(inputs.auditors)), peer_reviewers=list(reversed(inputs.peer_reviewers)),
        line_managers=inputs.line_managers,
    )
    first, again = draw_sample(inputs, "2026-11-a", peer_review=True), draw_sample(shuffled, "2026-11-a", peer_review=True)
    assert first == again
    assert first.inputs_digest == again.inputs_digest


def test_another_seed_draws_other_cases() -> None:
    inputs = authority(teams=8, cases_per_team=20)
    samples = {tuple(a.case_id for a in draw_sample(inputs, f"seed-{n}", peer_review=True).assignments) for n in range(5)}
    assert len(samples) > 1


def test_an_auditor_on_dispensation_is_left_out_and_their_team_covered_by_an_idle_auditor() -> None:
    inputs = authority()
    inputs = SampleInputs(
        cases=inputs.cases, auditors=[*inputs.auditors, "QA-AUDITOR"], peer_reviewers=inputs.peer_reviewers,
        dispensed=frozenset({"TM1"}), line_managers=inputs.line_managers,
    )
    sample = draw_sample(inputs, "s", peer_review=True)
    auditors = {a.auditor_id: a for a in sample.assignments}
    assert "TM1" not in auditors
    assert sample.dispensed_ids == ["TM1"]
    assert auditors["QA-AUDITOR"].team_id == "T1"
    assert auditors["QA-AUDITOR"].basis == "team_cover"
    assert sample.uncovered_team_ids == []


def test_a_team_nobody_can_take_is_reported_uncovered_and_nobody_gets_two_audits() -> None:
    inputs = authority()
    inputs = SampleInputs(cases=inputs.cases, auditors=inputs.auditors, peer_reviewers=inputs.peer_reviewers, dispensed=frozenset({"TM2"}))
    sample = draw_sample(inputs, "s", peer_review=True)
    assert sample.uncovered_team_ids == ["T2"]
    assert Counter(a.auditor_id for a in sample.assignments).most_common(1)[0][1] == 1
    assert {a.team_id for a in sample.assignments} == {"T0", "T1", "T3"}


def test_every_team_has_a_file_when_auditors_allow() -> None:
    # Two teams managed by people who are not auditors; two QA auditors with no cases of their own.
    cases = [case("C-1", "TA", "TM-A"), case("C-2", "TB", "NOT-AUDITOR"), case("C-3", "TC", None), case("C-4", "TA", "TM-A")]
    sample = draw_sample(SampleInputs(cases=cases, auditors=["TM-A", "QA1", "QA2"], peer_reviewers=["PR"]), "x", peer_review=True)
    assert {a.team_id for a in sample.assignments} == {"TA", "TB", "TC"}
    assert sample.idle_auditor_ids == []


def test_a_case_audited_in_the_last_12_months_is_not_drawn_again() -> None:
    cases = [case("C-1", "T", "TM"), case("C-2", "T", "TM"), case("C-3", "T", "TM")]
    for seed in ("a", "b", "c", "d", "e", "f"):
        sample = draw_sample(SampleInputs(cases=cases, auditors=["TM"], peer_reviewers=["PR"], recently_audited=frozenset({"C-1", "C-3"})), seed, peer_review=True)
        assert [a.case_id for a in sample.assignments] == ["C-2"]
        assert sample.eligible_cases == 1


def test_when_every_case_was_audited_recently_the_auditor_has_nothing_to_audit() -> None:
    sample = draw_sample(SampleInputs(cases=[case("C-1", "T", "TM")], auditors=["TM"], peer_reviewers=["PR"], recently_audited=frozenset({"C-1"})), "s", peer_review=True)
    assert sample.assignments == []
    assert sample.idle_auditor_ids == ["TM"]


def test_cp_takes_precedence_over_cic_and_cic_over_cin() -> None:
    assert audit_case_type(["CIC", "CP"]) == "CP"
    assert audit_case_type(["cin", "cic"]) == "CIC"
    assert audit_case_type(["CIN"]) == "CIN"
    assert audit_case_type(["adoption"]) is None
    sample = draw_sample(SampleInputs(cases=[case("C-1", "T", "TM", "CIC", "CP")], auditors=["TM"], peer_reviewers=["PR"]), "s", peer_review=True)
    assert sample.assignments[0].case_type == "CP"


def test_cases_of_other_types_are_not_drawn() -> None:
    sample = draw_sample(SampleInputs(cases=[case("C-1", "T", "TM", "ADOPTION")], auditors=["TM"], peer_reviewers=["PR"]), "s", peer_review=True)
    assert sample.assignments == [] and sample.eligible_cases == 0


def test_peer_reviewers_take_one_audit_each_and_the_audits_left_over_await_qa_staff() -> None:
    """Kent 2: "Each Team Manager and Peer Reviewer will audit one case per month." """
    inputs = authority(teams=6)
    inputs = SampleInputs(cases=inputs.cases, auditors=inputs.auditors, peer_reviewers=["PR1", "PR2", "PR3", "PR4"])
    sample = draw_sample(inputs, "s", peer_review=True)
    loads = Counter(a.peer_reviewer_id for a in sample.assignments if a.peer_reviewer_id)
    assert sorted(loads.values()) == [1, 1, 1, 1]
    waiting = [a.auditor_id for a in sample.assignments if a.peer_reviewer_id is None]
    assert len(waiting) == 2 and sample.awaiting_peer_reviewer == sorted(waiting)
    many = SampleInputs(cases=inputs.cases, auditors=inputs.auditors, peer_reviewers=[f"PR{n}" for n in range(10)])
    loads = Counter(a.peer_reviewer_id for a in draw_sample(many, "s", peer_review=True).assignments)
    assert set(loads.values()) == {1}


def test_the_peer_reviewer_is_neither_the_auditor_nor_their_line_manager() -> None:
    inputs = SampleInputs(
        cases=[case("C-1", "T1", "A1"), case("C-2", "T2", "A2")], auditors=["A1", "A2"], peer_reviewers=["A1", "A2", "SM1"],
        line_managers={"A1": "SM1", "A2": "SM1"},
    )
    for seed in "abcdefgh":
        for a in draw_sample(inputs, seed, peer_review=True).assignments:
            assert a.peer_reviewer_id not in (a.auditor_id, "SM1")


def test_peer_reviewers_on_dispensation_are_left_out() -> None:
    inputs = authority()
    inputs = SampleInputs(cases=inputs.cases, auditors=inputs.auditors, peer_reviewers=["PR1", "PR2"], dispensed=frozenset({"PR1"}))
    sample = draw_sample(inputs, "s", peer_review=True)
    assert {a.peer_reviewer_id for a in sample.assignments} == {"PR2", None}
    assert "PR1" in sample.dispensed_ids and len(sample.awaiting_peer_reviewer) == 3


def test_no_peer_reviewer_available_refuses_a_programme_with_peer_review_but_not_one_without() -> None:
    inputs = authority()
    none = SampleInputs(cases=inputs.cases, auditors=inputs.auditors, peer_reviewers=["PR1"], dispensed=frozenset({"PR1"}))
    with pytest.raises(NoPeerReviewers):
        draw_sample(none, "s", peer_review=True)
    sample = draw_sample(none, "s", peer_review=False)
    assert len(sample.assignments) == 4 and all(a.peer_reviewer_id is None for a in sample.assignments)


def test_a_large_authority_draws_one_audit_per_auditor_quickly() -> None:
    cases = [case(f"C{n}", f"T{n % 600}", f"TM{n % 600}", ("CIN", "CP", "CIC")[n % 3]) for n in range(20_000)]
    inputs = SampleInputs(cases=cases, auditors=[f"TM{n}" for n in range(600)], peer_reviewers=[f"PR{n}" for n in range(300)])
    sample = draw_sample(inputs, "big", peer_review=True)
    assert len(sample.assignments) == 600
    assert len({a.case_id for a in sample.assignments}) == 600
    assert set(Counter(a.peer_reviewer_id for a in sample.assignments if a.peer_reviewer_id).values()) == {1}
    assert len(sample.awaiting_peer_reviewer) == 300


# --- what a drawn cycle publishes ---------------------------------------------------------------


def test_a_drawn_cycle_publishes_the_draw_then_one_allocation_work_item_per_auditor() -> None:
    month = Month.parse("2026-11")
    sample = Sample(
        seed="seed-1", inputs_digest="d", eligible_cases=12, uncovered_team_ids=["T9"], dispensed_ids=["TM7"], idle_auditor_ids=["TM5"],
        assignments=[
            Assignment(auditor_id="TM0", case_id="C-0-1", case_type="CIN", team_id="T0", peer_reviewer_id="PR1", basis="line_managed"),
            Assignment(auditor_id="TM1", case_id="C-1-2", case_type="CP", team_id="T1", peer_reviewer_id=None, basis="team_cover"),
        ],
    )
    plan = timetable(month)
    at = datetime(2026, 10, 23, 6, 0, tzinfo=UTC)
    cycle = Cycle.draw(
        tool_id="kent", tool_version=3, programme=ProgrammeKind.PEER_REVIEW, month=month, sample=sample, timetable=plan, by="audit-scheduler", at=at
    )
    tx = Transaction(session=cast(Any, None))
    ce.record(tx, cycle.events)
    item = {"cycle_id": "kent:2026-11", "tool_id": "kent", "tool_version": 3, "month": "2026-11", "requested_by": "audit-scheduler"}
    assert [(t.type, data.model_dump(mode="json"), subject) for t, data, subject in tx.staged] == [
        ("audit.cycle.drawn.v1", {
            "cycle_id": "kent:2026-11", "tool_id": "kent", "programme": "peer_review", "month": "2026-11", "seed": "seed-1", "audits": 2,
            "eligible_cases": 12, "uncovered_team_ids": ["T9"], "dispensed_ids": ["TM7"], "draw_on": plan.draw_on.isoformat(),
            "due_on": plan.due_on.isoformat(), "drawn_by": "audit-scheduler", "drawn_at": "2026-10-23T06:00:00Z",
        }, "cycle/kent:2026-11"),
        ("audit.allocation.requested.v1", {
            **item, "allocation_key": "kent:2026-11:TM0", "auditor_id": "TM0", "case_id": "C-0-1", "peer_reviewer_id": "PR1",
            "basis": "line_managed",
        }, "cycle/kent:2026-11/TM0"),
        ("audit.allocation.requested.v1", {
            **item, "allocation_key": "kent:2026-11:TM1", "auditor_id": "TM1", "case_id": "C-1-2", "peer_reviewer_id": None,
            "basis": "team_cover",
        }, "cycle/kent:2026-11/TM1"),
    ]
