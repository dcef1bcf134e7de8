"""Who a person is to a child's case, from the team structure: a member of the child's team, one
of its managers, or neither. Sign-off's "Sign Now" permissions follow the team structure (seed
000), so every rule about signing, editing and unlocking asks this first.

A person *manages* the child's team when they are the case's or the team's manager, stand above
that manager in the line-management chain, or are a district manager whose own team is in the same
district. A member is anyone in the team (by the gateway's identity or the directory) or the
case's allocated worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from . import roles as r

#: How far up the line-management chain a manager may stand (guards against cycles in bad data).
MAX_CHAIN = 8


class Relation(StrEnum):
    MEMBER = "member"
    MANAGER = "manager"
    NONE = "none"


@dataclass(frozen=True)
class CaseView:
    """What sign-off knows of a child's case (from the directory's events; never the child's name)."""

    case_id: str
    team_id: str
    status: str = "open"
    case_type: str = "CIN"
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    sibling_case_ids: frozenset[str] = frozenset()

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class TeamView:
    team_id: str
    manager_id: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class PersonView:
    person_id: str
    roles: frozenset[str] = frozenset()
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Actor:
    """A person acting on an exemplar: who, their roles, and what they are to the child's team."""

    person_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    relation: Relation = Relation.NONE

    def has_role(self, allowed: frozenset[str] | set[str]) -> bool:
        return not self.roles.isdisjoint(allowed)

    @property
    def in_team_structure(self) -> bool:
        return self.relation is not Relation.NONE

    @property
    def is_administrator(self) -> bool:
        return r.ADMINISTRATOR in self.roles


def relation_to_case(
    person_id: str,
    roles: frozenset[str],
    identity_teams: frozenset[str],
    case: CaseView,
    team: TeamView | None,
    people: Mapping[str, PersonView],
    teams: Mapping[str, TeamView],
) -> Relation:
    """What ``person_id`` is to ``case``'s team. ``people`` and ``teams`` are the projection's
    records the caller could look up (the person, the team managers and their chain)."""
    me = people.get(person_id)
    if case.team_id in identity_teams or (me is not None and me.team_id == case.team_id):
        return Relation.MEMBER
    if person_id == case.allocated_worker_id:
        return Relation.MEMBER
    managers = {m for m in (case.team_manager_id, team.manager_id if team else None) if m}
    if person_id in managers:
        return Relation.MANAGER
    if person_id in line_chain_above(managers, people):
        return Relation.MANAGER
    if r.DISTRICT_MANAGER in roles and team is not None and team.district:
        my_teams = set(identity_teams) | ({me.team_id} if me is not None and me.team_id else set())
        if any(teams.get(t) is not None and teams[t].district == team.district for t in my_teams):
            return Relation.MANAGER
    return Relation.NONE


def line_chain_above(start: set[str], people: Mapping[str, PersonView]) -> set[str]:
    """Everyone above ``start`` in the line-management chain (not ``start`` themselves)."""
    above: set[str] = set()
    frontier = set(start)
    for _ in range(MAX_CHAIN):
        nxt = set()
        for pid in frontier:
            person = people.get(pid)
            if person is not None and person.line_manager_id and person.line_manager_id not in above:
                nxt.add(person.line_manager_id)
        if not nxt:
            break
        above |= nxt
        frontier = nxt
    return above
