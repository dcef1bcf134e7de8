"""The need-to-know directory's rule: who may read a child's case, without the database."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest
from gateway.directory.domain import CASE_ACCESS_FIELDS, MAX_CHAIN, CaseReader, ChainBelow
from gateway.directory.store import CASES, INDEXES, PEOPLE, TEAMS

CASE = {"team_id": "T-1", "allocated_worker_id": "P-SW", "team_manager_id": "P-TM", "case_type": "CIN"}


@pytest.mark.parametrize("role", ["qa_officer", "lead_qa_auditor", "iro", "cp_chair", "fgc_coordinator", "administrator", "integration"])
def test_qa_staff_administrators_and_the_case_management_system_read_every_case(role: str) -> None:
    reader = CaseReader("P-X", frozenset({role, "social_worker"}))
    assert reader.reads_every_case
    assert reader.may_read(CASE) and reader.may_read({"team_id": "T-9"})
    assert reader.readable({}) == [{}]
    assert reader.readable({"team_id": "T-9"}) == [{"team_id": {"T-9"}}]


@pytest.mark.parametrize(
    "role",
    ["social_worker", "team_manager", "service_manager", "head_of_service", "executive_director", "auditor", "peer_reviewer",
     "practice_development_officer", "performance_officer"],
)
def test_no_other_role_reads_a_case_by_its_role_alone(role: str) -> None:
    reader = CaseReader("P-X", frozenset({role}), frozenset({"T-2"}))
    assert not reader.reads_every_case
    assert not reader.may_read(CASE)


def test_the_team_the_allocated_worker_and_the_recorded_team_manager_read_the_case() -> None:
    assert CaseReader("P-OTHER", frozenset({"social_worker"}), frozenset({"T-1"})).may_read(CASE)  # a member of the team
    assert CaseReader("P-SW", frozenset({"social_worker"}), frozenset({"T-2"})).may_read(CASE)  # allocated, though in another team
    assert CaseReader("P-TM", frozenset({"team_manager"})).may_read(CASE)  # the team manager recorded on the case
    assert not CaseReader("P-SW2", frozenset({"social_worker"}), frozenset({"T-2"})).may_read(CASE)
    assert not CaseReader("P-SW2", frozenset({"social_worker"})).may_read({"team_id": "T-1"})  # no worker, no manager: not None == None


def test_a_manager_up_the_line_reads_the_cases_of_the_teams_managed_below_them() -> None:
    head = CaseReader("P-HOS", frozenset({"head_of_service"}), frozenset({"T-HQ"}), managed_teams=frozenset({"T-1", "T-3"}))
    assert head.may_read(CASE) and head.may_read({"team_id": "T-3"})
    assert not head.may_read({"team_id": "T-2", "allocated_worker_id": "P-SW", "team_manager_id": "P-TM"})


def test_a_list_is_the_team_cases_or_those_allocated_to_or_managed_by_the_caller() -> None:
    reader = CaseReader("P-SW", frozenset({"social_worker"}), frozenset({"T-1"}), managed_teams=frozenset({"T-3"}))
    assert reader.readable({}) == [
        {"team_id": {"T-1", "T-3"}},
        {"allocated_worker_id": {"P-SW"}},
        {"team_manager_id": {"P-SW"}},
    ]


def test_the_callers_filters_narrow_each_alternative_and_drop_those_they_contradict() -> None:
    reader = CaseReader("P-SW", frozenset({"social_worker"}), frozenset({"T-1"}))
    # Their own team: every case of it (the narrower alternatives are covered by it, so not queried).
    assert reader.readable({"team_id": "T-1"}) == [{"team_id": {"T-1"}}]
    assert reader.readable({"team_id": "T-1", "case_type": "CP"}) == [{"team_id": {"T-1"}, "case_type": {"CP"}}]
    # Another team: only what is allocated to or managed by them there.
    assert reader.readable({"team_id": "T-2"}) == [
        {"allocated_worker_id": {"P-SW"}, "team_id": {"T-2"}},
        {"team_manager_id": {"P-SW"}, "team_id": {"T-2"}},
    ]
    assert reader.readable({"team_id": "T-2", "allocated_worker_id": "P-SW"}) == [{"allocated_worker_id": {"P-SW"}, "team_id": {"T-2"}}]
    assert reader.readable({"allocated_worker_id": "P-SW"}) == [{"allocated_worker_id": {"P-SW"}}]
    assert reader.readable({"team_id": "T-2", "allocated_worker_id": "P-OTHER"}) == [
        {"team_manager_id": {"P-SW"}, "team_id": {"T-2"}, "allocated_worker_id": {"P-OTHER"}},
    ]
    assert reader.readable({"team_id": "T-2", "allocated_worker_id": "P-OTHER", "team_manager_id": "P-TM"}) == []
    assert reader.readable({"allocated_worker_id": "P-SW", "team_manager_id": "P-SW"}) == [{"allocated_worker_id": {"P-SW"}, "team_manager_id": {"P-SW"}}]
    assert reader.readable({"allocated_worker_id": "P-OTHER"}) == [
        {"team_id": {"T-1"}, "allocated_worker_id": {"P-OTHER"}},
        {"team_manager_id": {"P-SW"}, "allocated_worker_id": {"P-OTHER"}},
    ]
    # No team at all: only what is allocated to or managed by them.
    assert CaseReader("P-PR", frozenset({"peer_reviewer"})).readable({}) == [{"allocated_worker_id": {"P-PR"}}, {"team_manager_id": {"P-PR"}}]


def _walk(start: str, line_manager: Mapping[str, str | None]) -> ChainBelow:
    """Walk down as the store does, level by level over an in-memory directory (person -> line
    manager); and check that walking the whole graph at once (as for a director) ends the same."""
    chain = ChainBelow(start)
    queries = 0
    while not chain.done:
        queries += 1
        chain.add_level(p for p, m in line_manager.items() if m in chain.frontier)
    assert queries <= MAX_CHAIN
    at_once = ChainBelow(start)
    at_once.walk(line_manager)
    assert at_once.people == chain.people
    return chain


def _above(person: str, line_manager: Mapping[str, str | None]) -> set[str]:
    """Everyone up ``person``'s chain of line managers, at most MAX_CHAIN steps (sign-off's walk)."""
    above: list[str] = []
    current = line_manager.get(person)
    while current is not None and len(above) < MAX_CHAIN:
        above.append(current)
        current = line_manager.get(current)
    return set(above)


def test_the_chain_below_follows_every_level_stops_at_the_bound_and_survives_a_cycle() -> None:
    line = {f"P-{i}": f"P-{i + 1}" for i in range(20)}  # P-0 reports to P-1, ... P-19 to P-20
    assert _walk("P-20", line).people == {f"P-{i}" for i in range(20 - MAX_CHAIN, 21)}
    assert _walk("P-0", line).people == {"P-0"}
    cycle = {"P-A": "P-B", "P-B": "P-C", "P-C": "P-A", "P-D": "P-C"}
    assert _walk("P-A", cycle).people == {"P-A", "P-B", "P-C", "P-D"}
    assert _walk("P-A", {"P-A": "P-A"}).people == {"P-A"}


def test_being_above_a_team_manager_and_finding_them_down_the_chain_agree() -> None:
    rng = random.Random(7)
    people = [f"P-{i}" for i in range(60)]
    for _ in range(20):  # random forests with the odd cycle and long chains
        line: dict[str, str | None] = {p: (rng.choice(people) if rng.random() < 0.9 else None) for p in people}
        below = {x: _walk(x, line).people for x in people}
        for manager in people:
            for x in people:
                assert (manager in below[x]) == (x == manager or x in _above(manager, line)), (x, manager)


def test_every_field_the_rule_queries_is_indexed() -> None:
    indexed = {(ix.collection, next(iter(model.document["key"]))) for ix in INDEXES for model in ix.models}
    assert set(CASE_ACCESS_FIELDS) <= set(CASES.filters)
    for field in CASE_ACCESS_FIELDS:
        assert (CASES.collection, f"data.{field}") in indexed
    assert (PEOPLE.collection, "data.line_manager_id") in indexed
    assert (TEAMS.collection, "data.manager_id") in indexed
