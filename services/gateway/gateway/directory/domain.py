"""Directory records and their rules (plain Python, no I/O).

A record is one team, one person (a member of staff) or one child's case. Each is identified by
the case-management system's own id, carries a version number (its ETag), and every change keeps
the previous version in the record's history. The API's request bodies, with their limits, are
``schemas``; the stored document is the record's fields as JSON (``store``).

A child's case (it carries the child's name) is read only by people with a reason to: see
``CaseReader`` (the need-to-know directory). Teams and people stay readable by all staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from shared.roles import Role

DIRECTORY_WRITERS = frozenset({Role.ADMINISTRATOR, Role.INTEGRATION})

#: QA staff, who run the quality-assurance programme across every team (the audit service's
#: ``QA_STAFF_ROLES``, less the administrator, who is already a directory writer).
QA_STAFF = frozenset({Role.QA_OFFICER, Role.LEAD_QA_AUDITOR})

#: Independent reviewers of children's plans, who raise a resolution about any child's plan
#: (seed 001) and need the child's details from the directory to do it: IROs, CP chairs and FGC
#: coordinators (sign-off lets the same roles read any case).
INDEPENDENT_REVIEWERS = frozenset({Role.IRO, Role.CP_CHAIR, Role.FGC_COORDINATOR})

#: Who reads every child's case: QA staff, the independent reviewers, administrators and the
#: case-management system (the integration clients, recognised by their ``integration`` role as
#: ``DIRECTORY_WRITERS`` are).
READS_EVERY_CASE = QA_STAFF | INDEPENDENT_REVIEWERS | DIRECTORY_WRITERS

#: How many levels of the line-management chain are followed (so a cycle in bad data cannot
#: loop). The same bound as sign-off's ``MAX_CHAIN``.
MAX_CHAIN = 8

#: The fields of a case that decide who reads it (each indexed with ``_id`` in the store).
CASE_ACCESS_FIELDS = ("team_id", "allocated_worker_id", "team_manager_id")


class CaseType(StrEnum):
    CIN = "CIN"
    CP = "CP"
    CIC = "CIC"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True)
class Team:
    """A team, and who manages it."""

    name: str
    district: str
    area: str
    service: str
    manager_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Person:
    """A member of staff: their roles, team and line manager."""

    name: str
    email: str
    #: Each role once, in order (the API's body sorts them).
    roles: list[Role]
    team_id: str | None = None
    line_manager_id: str | None = None
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class ChildCase:
    """A child's case: its type and status, team, allocated worker and siblings' cases."""

    child_name: str
    date_of_birth: date | None = None
    case_type: CaseType
    status: CaseStatus = CaseStatus.OPEN
    team_id: str
    allocated_worker_id: str | None = None
    team_manager_id: str | None = None
    #: Each sibling's case once, in order (the API's body sorts them).
    sibling_case_ids: list[str] = field(default_factory=list)
    opened_on: date
    closed_on: date | None = None

    def __post_init__(self) -> None:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError(f"closed_on ({self.closed_on}) is before opened_on ({self.opened_on})")


# --- the need-to-know directory: who may read a child's case ------------------------------------


class ChainBelow:
    """The line-management chain below a person, walked one level at a time.

    The store asks for everyone whose ``line_manager_id`` is in ``frontier``, hands them to
    ``add_level`` (or hands the whole graph to ``walk``), and repeats until ``done``: at most
    ``MAX_CHAIN`` levels, and a person already
    seen is never walked again (a cycle ends the walk). ``people`` is then the person and
    everyone below them: ``P`` is in the walk from ``X`` exactly when ``X`` stands at most
    ``MAX_CHAIN`` steps up ``P``'s chain of line managers ("above ``P``" read the other way round).
    """

    def __init__(self, person_id: str) -> None:
        self.people: set[str] = {person_id}
        self.frontier: frozenset[str] = frozenset({person_id})
        self.levels = 0

    @property
    def done(self) -> bool:
        return not self.frontier or self.levels >= MAX_CHAIN

    def add_level(self, reports: Iterable[str]) -> None:
        new = frozenset(reports) - self.people
        self.people |= new
        self.frontier = new
        self.levels += 1

    def walk(self, line_managers: Mapping[str, str | None]) -> None:
        """Finish the walk over the whole line-management graph at once (person -> line manager)."""
        reports: dict[str, list[str]] = {}
        for person, manager in line_managers.items():
            if manager:
                reports.setdefault(manager, []).append(person)
        while not self.done:
            self.add_level(r for m in self.frontier for r in reports.get(m, ()))


@dataclass(frozen=True)
class CaseReader:
    """A caller reading children's cases, and the rule for which ones.

    A case is readable by QA staff, administrators and the case-management system
    (``READS_EVERY_CASE``); by members of the case's team (``teams``: the caller's identity's
    teams, which include the teams they manage); by the case's allocated worker and the team
    manager recorded on the case; and by the manager of the case's team and everyone above that
    manager in the line-management chain (``managed_teams``: the teams managed by the caller or by
    anyone below them in the chain, see ``ChainBelow``). Nobody else: to them the case does not exist.
    """

    person_id: str
    roles: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    managed_teams: frozenset[str] = frozenset()

    @property
    def reads_every_case(self) -> bool:
        return not self.roles.isdisjoint(READS_EVERY_CASE)

    def may_read(self, case: Mapping[str, Any]) -> bool:
        """Whether this caller may read ``case`` (a case's data: ``team_id``, ``allocated_worker_id``, ...)."""
        if self.reads_every_case:
            return True
        team_id = case.get("team_id")
        if team_id is not None and (team_id in self.teams or team_id in self.managed_teams):
            return True
        return self.person_id in (case.get("allocated_worker_id"), case.get("team_manager_id"))

    def readable(self, filters: Mapping[str, str]) -> list[dict[str, frozenset[str]]]:
        """The cases matching ``filters`` (field: value) this caller may read, as alternatives.

        Each alternative maps a case field to the values it may take (all of them must hold);
        a case is readable when it satisfies any alternative. The caller's filters are folded
        into each alternative; an alternative they contradict is left out (an empty list means
        nothing is readable), and so is one another already covers (each costs a query). Every
        field used is one of ``CASE_ACCESS_FIELDS`` or a filter.
        """
        asked = {f: frozenset({v}) for f, v in filters.items()}
        if self.reads_every_case:
            return [asked]
        alternatives: list[dict[str, frozenset[str]]] = [
            {"team_id": self.teams | self.managed_teams},
            {"allocated_worker_id": frozenset({self.person_id})},
            {"team_manager_id": frozenset({self.person_id})},
        ]
        narrowed = []
        for alternative in alternatives:
            for f, values in asked.items():
                alternative[f] = alternative[f] & values if f in alternative else values
            if all(alternative.values()):
                narrowed.append(alternative)
        return [a for i, a in enumerate(narrowed) if not any(_covers(b, a) and (b != a or j < i) for j, b in enumerate(narrowed) if j != i)]


def _covers(wider: Mapping[str, frozenset[str]], narrower: Mapping[str, frozenset[str]]) -> bool:
    """Whether every case meeting ``narrower`` meets ``wider`` (each: field -> values allowed)."""
    return all(f in narrower and narrower[f] <= values for f, values in wider.items())
