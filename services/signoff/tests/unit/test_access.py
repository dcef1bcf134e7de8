"""Who a person is to a child's team: member, manager (directly, up the line, or the district), or neither."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from signoff.domain.access import CaseView, PersonView, Relation, TeamView, relation_to_case

CASE = CaseView("C-1", "T-DA", allocated_worker_id="P-SW1", team_manager_id="P-TM1")
TEAM = TeamView("T-DA", manager_id="P-TM1", district="Canterbury")
PEOPLE = {
    "P-TM1": PersonView("P-TM1", frozenset({"team_manager"}), "T-DA", "P-DM"),
    "P-DM": PersonView("P-DM", frozenset({"district_manager"}), "T-CIN", "P-SM"),
    "P-SM": PersonView("P-SM", frozenset({"service_manager"}), "T-CIN", None),
    "P-SP": PersonView("P-SP", frozenset({"senior_practitioner"}), "T-CIN", "P-TM2"),
    "P-DS": PersonView("P-DS", frozenset({"duty_senior"}), "T-DA", "P-TM1"),
    "P-DM2": PersonView("P-DM2", frozenset({"district_manager"}), "T-THANET", None),
    "P-DM3": PersonView("P-DM3", frozenset({"district_manager"}), "T-CIN2", None),
}
TEAMS = {
    "T-DA": TEAM,
    "T-CIN": TeamView("T-CIN", "P-TM2", "Canterbury"),
    "T-THANET": TeamView("T-THANET", "P-TM3", "Thanet"),
    "T-CIN2": TeamView("T-CIN2", "P-TM4", "Canterbury"),
}


def rel(person_id: str, roles: AbstractSet[str] = frozenset(), teams: AbstractSet[str] = frozenset(),
        people: Mapping[str, PersonView] = PEOPLE) -> Relation:
    return relation_to_case(person_id, frozenset(roles), frozenset(teams), CASE, TEAM, people, TEAMS)


def test_a_member_by_the_gateways_identity_or_the_directory() -> None:
    assert rel("P-X", {"social_worker"}, {"T-DA"}) is Relation.MEMBER
    assert rel("P-DS", {"duty_senior"}) is Relation.MEMBER


def test_the_allocated_worker_is_a_member() -> None:
    assert rel("P-SW1", {"social_worker"}) is Relation.MEMBER


def test_the_team_manager_and_those_above_them_manage_the_team() -> None:
    elsewhere = {**PEOPLE, "P-TM1": PersonView("P-TM1", frozenset({"team_manager"}), "T-OTHER", "P-DM")}
    assert rel("P-TM1", {"team_manager"}, {"T-OTHER"}, people=elsewhere) is Relation.MANAGER
    assert rel("P-SM", {"service_manager"}) is Relation.MANAGER


def test_a_district_manager_of_the_teams_district_manages_it() -> None:
    assert rel("P-DM3", {"district_manager"}) is Relation.MANAGER


def test_a_district_manager_of_another_district_does_not() -> None:
    assert rel("P-DM2", {"district_manager"}) is Relation.NONE


def test_a_manager_of_another_team_is_nothing_to_this_one() -> None:
    assert rel("P-SP", {"senior_practitioner"}, {"T-CIN"}) is Relation.NONE
    assert rel("P-TM2", {"team_manager"}, {"T-CIN"}) is Relation.NONE


def test_someone_unknown_to_the_directory_is_nothing() -> None:
    assert rel("P-NOBODY", {"senior_practitioner"}) is Relation.NONE


def test_a_cycle_in_line_management_ends() -> None:
    cyclic = {**PEOPLE, "P-TM1": PersonView("P-TM1", frozenset(), "T-DA", "P-A"), "P-A": PersonView("P-A", frozenset(), None, "P-TM1")}
    assert rel("P-A", {"service_manager"}, people=cyclic) is Relation.MANAGER
    assert rel("P-Z", {"service_manager"}, people=cyclic) is Relation.NONE
