"""Issue 18, "a sample anyone can verify": every case of a draw with its reason (drawn: its rank
under the seed, the auditor it serves, the basis; left out: why), a re-draw from the recorded
inputs that reproduces the stored sample (and says where one altered afterwards differs), and the
inputs kept compactly beside the cycle."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from audit.cycles import store as cycle_store
from audit.cycles.domain.cycle import Cycle
from audit.cycles.domain.sampling import (
    AUDITED_IN_LAST_12_MONTHS,
    LEFT_OUT_REASONS,
    LOWER_PRECEDENCE,
    NOT_A_DRAWN_CASE_TYPE,
    NOT_LINE_MANAGED_BY_AN_AVAILABLE_AUDITOR,
    CaseReason,
    OpenCase,
    SampleInputs,
    draw_sample,
)
from audit.cycles.domain.timetable import Month, timetable
from audit.cycles.domain.verification import MAX_LISTED, verify
from audit.tools.domain.definition import ProgrammeKind

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def case(case_id: str, team: str, manager: str | None, *types: str, service: str | None = None) -> OpenCase:
    return OpenCase(case_id=case_id, case_types=types or ("CIN",), team_id=team, line_manager_id=manager, service_id=service)


def reasons_by_case(inputs: SampleInputs, seed: str, **settings: bool) -> dict[str, CaseReason]:
    sample = draw_sample(
        inputs,
        seed,
        peer_review=settings.get("peer_review", False),
        own_service_fallback=settings.get("own_service_fallback", False),
    )
    return {r.case_id: r for r in sample.case_reasons}


def test_a_drawn_case_names_its_rank_under_the_seed_the_auditor_it_serves_and_the_basis() -> None:
    """Kent 2: "Each month every team manager in Specialist Children's Services is allocated a case
    they are responsible for line managing to audit under the QA online audit programme." """
    inputs = SampleInputs(cases=[case("C-1", "T1", "TM1"), case("C-2", "T1", "TM1")], auditors=["TM1"], peer_reviewers=[])
    reasons = reasons_by_case(inputs, "dec")
    drawn = [r for r in reasons.values() if r.picked]
    assert len(drawn) == 1
    (picked,) = drawn
    assert picked.auditor_id == "TM1" and picked.basis == "line_managed" and picked.reason is None
    assert picked.rank == hashlib.sha256(f"dec|case|{picked.case_id}".encode()).hexdigest()


def test_a_case_audited_in_the_last_12_months_is_left_out_with_that_reason() -> None:
    """Kent 3: "The sample will be drawn from all caseloads where there is an open Child in Need,
    Child Protection or Child in Care / Care Leaver case" (and not one audited in the last 12 months)."""
    inputs = SampleInputs(
        cases=[case("C-1", "T1", "TM1"), case("C-2", "T1", "TM1")],
        auditors=["TM1"],
        peer_reviewers=[],
        recently_audited=frozenset({"C-2"}),
    )
    reasons = reasons_by_case(inputs, "dec")
    assert reasons["C-1"].picked and reasons["C-1"].basis == "line_managed"
    assert reasons["C-2"] == CaseReason(
        case_id="C-2", picked=False, rank=hashlib.sha256(b"dec|case|C-2").hexdigest(), reason=AUDITED_IN_LAST_12_MONTHS
    )


def test_a_case_whose_line_manager_is_not_an_available_auditor_is_left_out_with_that_reason() -> None:
    """Kent 2: "Suitable reasons for dispensation from auditing would be: On long term sick leave
    for more than two-thirds of their work-time in any given month" (their cases are not theirs to
    audit that month), and "The number of cases audited each month will be determined by how many
    Auditors are available to audit in any given month." """
    inputs = SampleInputs(
        cases=[case("C-A", "TA", "TM-A"), case("C-B", "TB", "TM-B"), case("C-X", "TA", "SW-not-an-auditor")],
        auditors=["TM-A", "TM-B"],
        peer_reviewers=[],
        dispensed=frozenset({"TM-B"}),
    )
    reasons = reasons_by_case(inputs, "dec")
    assert reasons["C-A"].picked
    assert reasons["C-B"].reason == NOT_LINE_MANAGED_BY_AN_AVAILABLE_AUDITOR and reasons["C-B"].outranked_by is None
    # TA has its file (TM-A's own case): C-X's line manager audits nothing.
    assert reasons["C-X"].reason == NOT_LINE_MANAGED_BY_AN_AVAILABLE_AUDITOR


def test_a_case_outranked_by_the_case_drawn_from_the_same_choice_is_left_out_for_lower_precedence() -> None:
    """Kent 3: "The Management Information Unit will provide the information for the random audit
    sample." The random choice is the lowest rank under the seed: a case left out names the case
    drawn ahead of it, and anyone can check its rank is higher."""
    cases = [case(f"C-{n}", "T1", "TM1") for n in range(12)]
    reasons = reasons_by_case(SampleInputs(cases=cases, auditors=["TM1"], peer_reviewers=[]), "jan")
    (drawn,) = [r for r in reasons.values() if r.picked]
    left = [r for r in reasons.values() if not r.picked]
    assert len(left) == 11
    assert all(r.reason == LOWER_PRECEDENCE and r.outranked_by == drawn.case_id and r.rank > drawn.rank for r in left)


def test_a_covered_teams_other_cases_are_outranked_by_the_case_drawn_for_the_team() -> None:
    """Kent 2: "Each Team Manager and Peer Reviewer will audit one case per month": a team whose
    manager is away is given to an auditor with no case of their own, one case of it."""
    cases = [case(f"C-B{n}", "TB", "TM-B") for n in range(4)]
    reasons = reasons_by_case(
        SampleInputs(cases=cases, auditors=["QA-1", "TM-B"], peer_reviewers=[], dispensed=frozenset({"TM-B"})), "feb"
    )
    (drawn,) = [r for r in reasons.values() if r.picked]
    assert drawn.auditor_id == "QA-1" and drawn.basis == "team_cover"
    assert {r.reason for r in reasons.values() if not r.picked} == {LOWER_PRECEDENCE}
    assert {r.outranked_by for r in reasons.values() if not r.picked} == {drawn.case_id}


def test_a_case_of_no_drawn_type_is_said_so() -> None:
    """Kent 3: "The sample will be drawn from all caseloads where there is an open Child in Need,
    Child Protection or Child in Care / Care Leaver case (if a case is both Child in Care and Child
    Protection, the Child Protection categorisation will take precedence for the purpose of the
    audit)." """
    inputs = SampleInputs(
        cases=[case("C-EH", "T1", "TM1", "EARLY_HELP"), case("C-CP", "T1", "TM1", "CIC", "CP")],
        auditors=["TM1"],
        peer_reviewers=[],
    )
    sample = draw_sample(inputs, "mar", peer_review=False)
    reasons = {r.case_id: r for r in sample.case_reasons}
    assert reasons["C-EH"].reason == NOT_A_DRAWN_CASE_TYPE
    assert reasons["C-CP"].picked and sample.assignments[0].case_type == "CP"


def authority(teams: int = 6, per_team: int = 5) -> SampleInputs:
    """Teams whose managers audit, one away, one team managed by someone who is no auditor, an
    extra auditor, a case audited recently in each team, and a service for the fallback."""
    cases = [
        case(f"C-{t}-{n}", f"T{t}", f"TM{t}" if t != teams - 1 else "SW-1", ("CIN", "CP", "CIC")[n % 3], service=f"SM{t % 2}")
        for t in range(teams)
        for n in range(per_team)
    ]
    cases.append(case("C-EH", "T0", "TM0", "EARLY_HELP"))
    return SampleInputs(
        cases=cases,
        auditors=[f"TM{t}" for t in range(teams - 1)] + ["AUD-X"],
        peer_reviewers=["PR1", "PR2", "TM0"],
        dispensed=frozenset({"TM2"}),
        recently_audited=frozenset(f"C-{t}-0" for t in range(teams)),
        line_managers={f"TM{t}": "SM0" for t in range(teams)},
        auditor_services={"AUD-X": "SM1", **{f"TM{t}": f"SM{t % 2}" for t in range(teams)}},
    )


@pytest.mark.parametrize("fallback", [False, True])
@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
def test_every_case_has_exactly_one_reason_and_every_drawn_case_its_auditor(seed: str, fallback: bool) -> None:
    """Kent 2: "Each Team Manager and Peer Reviewer will audit one case per month." Every case
    the draw read is either drawn (for one auditor) or left out with a reason."""
    inputs = authority()
    sample = draw_sample(inputs, seed, peer_review=True, own_service_fallback=fallback)
    assert [r.case_id for r in sample.case_reasons] == sorted(c.case_id for c in inputs.cases)
    drawn = {r.case_id: r for r in sample.case_reasons if r.picked}
    assert {(a.case_id, a.auditor_id, a.basis) for a in sample.assignments} == {
        (r.case_id, r.auditor_id, r.basis) for r in drawn.values()
    }
    for r in sample.case_reasons:
        assert r.picked or (r.reason in LEFT_OUT_REASONS and r.auditor_id is None and r.basis is None)
        if r.reason == LOWER_PRECEDENCE:
            assert r.outranked_by in drawn and drawn[r.outranked_by].rank < r.rank
        else:
            assert r.outranked_by is None


def drawn_cycle(inputs: SampleInputs, seed: str = "apr") -> Cycle:
    month = Month.parse("2026-12")
    sample = draw_sample(inputs, seed, peer_review=True)
    return Cycle.draw(
        tool_id="kent",
        tool_version=1,
        programme=ProgrammeKind.PEER_REVIEW,
        month=month,
        sample=sample,
        timetable=timetable(month),
        by="P-QA",
        at=AT,
        directory_version={"case": 7, "person": 3, "team": 2},
        dispensation_ids=["d2", "d1"],
    )


def test_a_re_draw_from_the_recorded_inputs_reproduces_the_sample() -> None:
    """Kent 3: "The Management Information Unit will provide the information for the random audit
    sample": the same seed on the recorded inputs draws the same sample, whatever their order."""
    inputs = authority()
    cycle = drawn_cycle(inputs)
    shuffled = replace(inputs, cases=list(reversed(inputs.cases)), auditors=list(reversed(inputs.auditors)))
    found = verify(cycle.id, cycle.sample, cycle.sample.case_reasons, shuffled, assigned_by_qa={})
    assert found.reproduced and found.inputs_digest_matches and found.inputs_recorded and found.differences == []


def test_an_altered_assignment_is_a_difference() -> None:
    """Kent 2: "Each month every team manager ... is allocated a case they are responsible for line
    managing": a stored sample that gives an auditor another case is not the draw's."""
    inputs = authority()
    cycle = drawn_cycle(inputs)
    first = cycle.sample.assignments[0]
    altered = replace(cycle.sample, assignments=[replace(first, case_id="C-SWAPPED"), *cycle.sample.assignments[1:]])
    found = verify(cycle.id, altered, cycle.sample.case_reasons, inputs, assigned_by_qa={})
    assert not found.reproduced and found.inputs_digest_matches
    (diff,) = found.differences
    assert diff.what == "assignment" and diff.id == first.auditor_id
    assert diff.stored is not None and diff.redrawn is not None
    assert diff.stored["case_id"] == "C-SWAPPED" and diff.redrawn["case_id"] == first.case_id


def test_altered_inputs_do_not_match_the_recorded_digest() -> None:
    """Kent 3: "The sample will be drawn from all caseloads where there is an open ... case": inputs
    with a case more are not the inputs the month was drawn from."""
    inputs = authority()
    cycle = drawn_cycle(inputs)
    more = replace(inputs, cases=[*inputs.cases, case("C-NEW", "T9", "TM9")])
    found = verify(cycle.id, cycle.sample, cycle.sample.case_reasons, more, assigned_by_qa={})
    assert not found.reproduced and not found.inputs_digest_matches
    assert {"inputs", "case"} <= {d.what for d in found.differences}
    assert any(d.what == "case" and d.id == "C-NEW" and d.stored is None for d in found.differences)


def test_an_altered_reason_and_a_missing_one_are_differences() -> None:
    """Kent 3: "The Management Information Unit will provide the information for the random audit
    sample": every case's recorded reason is the draw's own, and a missing one is a difference."""
    inputs = authority()
    cycle = drawn_cycle(inputs)
    reasons = cycle.sample.case_reasons
    left = next(i for i, r in enumerate(reasons) if r.reason == AUDITED_IN_LAST_12_MONTHS)
    altered = [*reasons[:left], replace(reasons[left], reason=LOWER_PRECEDENCE), *reasons[left + 1 :]]
    found = verify(cycle.id, cycle.sample, altered[:-1], inputs, assigned_by_qa={})
    assert not found.reproduced and found.differences_total == 2
    assert {(d.what, d.id) for d in found.differences} == {("case", reasons[left].case_id), ("case", reasons[-1].case_id)}


def test_a_peer_reviewer_qa_staff_assigned_after_the_draw_is_not_a_difference_but_another_is() -> None:
    """Kent 2: "Each Team Manager and Peer Reviewer will audit one case per month": the audits left
    awaiting a reviewer are given one by QA staff, which the stored sample then shows."""
    inputs = replace(authority(), peer_reviewers=["PR1"])
    cycle = drawn_cycle(inputs)
    waiting = cycle.sample.awaiting_peer_reviewer[0]
    cycle.assign_peer_reviewer(waiting, "PR-LATER", auditors_line_manager="SM0", by="P-QA", at=AT)
    assert cycle.peer_reviewers_assigned == {waiting: "PR-LATER"}
    found = verify(cycle.id, cycle.sample, cycle.sample.case_reasons, inputs, assigned_by_qa=cycle.peer_reviewers_assigned)
    assert found.reproduced, found.differences
    # The same change without QA staff's record of it is not the draw's.
    found = verify(cycle.id, cycle.sample, cycle.sample.case_reasons, inputs, assigned_by_qa={})
    assert {(d.what, d.id) for d in found.differences} == {("assignment", waiting), ("awaiting_peer_reviewer", waiting)}


def test_a_cycle_without_recorded_inputs_cannot_be_reproduced() -> None:
    """Kent 3: "The Management Information Unit will provide the information for the random audit
    sample": without the information recorded, nothing can be re-drawn."""
    cycle = drawn_cycle(authority())
    found = verify(cycle.id, cycle.sample, [], None, assigned_by_qa={})
    assert not found.reproduced and not found.inputs_recorded and [d.what for d in found.differences] == ["inputs"]


def test_the_differences_listed_are_capped_and_all_counted() -> None:
    """Kent 3: "The Management Information Unit will provide the information for the random audit
    sample": a sample altered wholesale says how much differs."""
    cases = [case(f"C-{n:04d}", "T1", "TM1") for n in range(MAX_LISTED + 50)]
    inputs = SampleInputs(cases=cases, auditors=["TM1"], peer_reviewers=[])
    cycle = drawn_cycle(replace(inputs, peer_reviewers=["PR1"]))
    found = verify(cycle.id, cycle.sample, [], replace(inputs, peer_reviewers=["PR1"]), assigned_by_qa={})
    assert found.differences_total == MAX_LISTED + 50 and len(found.differences) == MAX_LISTED


def test_the_recorded_inputs_round_trip_in_chunks_with_their_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kent 3: "The sample will be drawn from all caseloads": the caseloads read are kept, compactly,
    and give back inputs of the same digest."""
    monkeypatch.setattr(cycle_store, "INPUT_CHUNK", 7)
    inputs = replace(authority(teams=5, per_team=4), line_managers={"TM0": "SM0", "TM1": None})
    docs = cycle_store.inputs_documents("kent:2026-12", inputs)
    assert len(docs) == 3 and all(len(d["cases"]) <= 7 for d in docs)
    back = cycle_store.inputs_from_documents(list(reversed(docs)))
    assert back is not None and back.digest() == inputs.digest()
    assert back.line_managers == inputs.line_managers and back.auditor_services == inputs.auditor_services
    assert cycle_store.inputs_from_documents(docs[:1] + docs[2:]) is None  # a chunk missing: not the inputs
    assert cycle_store.inputs_from_documents([]) is None


def test_the_case_reasons_round_trip_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kent 3: "The sample will be drawn from all caseloads where there is an open Child in Need,
    Child Protection or Child in Care / Care Leaver case": every case's reason is kept as drawn."""
    monkeypatch.setattr(cycle_store, "REASON_CHUNK", 4)
    sample = draw_sample(authority(), "may", peer_review=True)
    docs = cycle_store.reason_documents("kent:2026-12", sample.case_reasons)
    assert len(docs) == -(-len(sample.case_reasons) // 4)
    assert all(d["first"] <= d["last"] for d in docs) and [d["last"] for d in docs] == sorted(d["last"] for d in docs)
    back = [cycle_store._reason_of(row) for d in docs for row in d["rows"]]
    assert back == sample.case_reasons


def test_the_cycles_record_says_which_inputs_it_used() -> None:
    """Kent 2: "Suitable reasons for dispensation from auditing would be: ..." — the cycle names the
    dispensations it left people out for, and the directory's version it read."""
    cycle = drawn_cycle(authority())
    cycle.peer_reviewers_assigned = {"TM1": "PR9"}
    doc = cycle_store.cycle_document(cycle)
    assert "case_reasons" not in doc and doc["peer_review"] is True
    back = cycle_store.cycle_from_document(doc)
    assert back.directory_version == {"case": 7, "person": 3, "team": 2}
    assert back.dispensation_ids == ["d1", "d2"] and back.peer_reviewers_assigned == {"TM1": "PR9"}
    assert back.sample.peer_review is True
