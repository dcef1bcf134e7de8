"""What the Hampshire month's integration tests set up the same way: a directory of people, teams
and cases, and the bodies of a file's preparation and an auditor's judgements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from audit.common.directory import CaseChanged, PersonChanged, TeamChanged, project_case, project_person, project_team

#: person: (roles, line manager, team)
People = dict[str, tuple[list[str], str | None, str | None]]


async def seed(db: Any, people: People, teams: Iterable[tuple[str, str]], cases: Iterable[tuple[str, str]]) -> None:
    """The people, the teams (team, manager) and the CIN cases (case, team) the directory tells of."""
    for person_id, (roles, manager, team) in people.items():
        await project_person(db, PersonChanged(person_id=person_id, version=1, roles=roles, team_id=team, line_manager_id=manager))
    for team_id, manager in teams:
        await project_team(db, TeamChanged(team_id=team_id, version=1, name=f"Team {team_id}", manager_id=manager))
    for case_id, team in cases:
        await project_case(db, CaseChanged(case_id=case_id, version=1, case_type="CIN", team_id=team, opened_on=date(2026, 3, 1)))


def preparation(*, action: str, comments: str) -> dict[str, Any]:
    """Evidence for standards 1-13 but the 8th (missing, with ``action``); the 14th not applicable."""
    standards: dict[str, Any] = {f"standard_{n:02d}": {"evidence": [{"what": "Risk assessment", "when": "14/06/2026", "where": "SWIFT"}]} for n in range(1, 14)}
    standards["standard_08"] = {"missing": True, "action": action}
    standards["standard_14"] = {"not_applicable": True}
    return {"standards": standards, "comments": comments}
