"""Builders for the audit service's integration tests: a small authority in the service's own
directory projection, and complete answers for a form as the API returns it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from audit.common.directory import (
    CaseChanged,
    PersonChanged,
    TeamChanged,
    project_case,
    project_many,
    project_person,
    project_team,
)
from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import ServiceClient, running_service

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)

PEOPLE: dict[str, tuple[list[str], str | None, str]] = {
    # person: (roles, line manager, team)
    "P-AD": (["assistant_director"], None, "T-QA"),
    "P-HOS": (["head_of_service"], "P-AD", "T-QA"),
    "P-SM": (["service_manager"], "P-HOS", "T-CP"),
    "P-DM": (["district_manager"], "P-SM", "T-CP"),
    "P-TM3": (["team_manager", "auditor"], "P-DM", "T-CP"),
    "P-TM4": (["team_manager", "auditor"], "P-DM", "T-CIC"),
    "P-PR": (["peer_reviewer", "service_manager"], "P-HOS", "T-QA"),
    "P-QASM": (["service_manager", "lead_qa_auditor"], "P-AD", "T-QA"),
    "P-IROM": (["team_manager"], "P-QASM", "T-QA"),
    "P-IRO": (["iro"], "P-IROM", "T-QA"),
    "P-CPC": (["cp_chair"], "P-QASM", "T-QA"),
    "P-PDO": (["practice_development_officer"], "P-QASM", "T-QA"),
    "P-QA": (["qa_officer"], "P-QASM", "T-QA"),
    "P-BDM": (["qa_officer"], "P-QASM", "T-QA"),
    "P-X": (["team_manager", "auditor"], "P-DM", "T-CIN"),
}

QA_OFFICER = ("P-QA", ["qa_officer"])


def clock() -> FixedClock:
    return FixedClock(NOW)


async def seed_directory(db: Any) -> None:
    """The audit service's projection of the directory, as the directory events would leave it."""
    for person_id, (roles, manager, team) in PEOPLE.items():
        await project_person(db, PersonChanged(person_id=person_id, version=1, name=f"Name of {person_id}", roles=roles, team_id=team, line_manager_id=manager))
    await project_team(db, TeamChanged(team_id="T-CP", version=1, name="Thanet Child Protection", manager_id="P-TM3"))
    await project_case(db, CaseChanged(case_id="C-3001", version=1, case_type="CP", team_id="T-CP", team_manager_id="P-TM3", opened_on=date(2026, 6, 20)))
    await project_case(db, CaseChanged(case_id="C-4001", version=1, case_type="CIC", team_id="T-CIC", team_manager_id="P-TM4", opened_on=date(2026, 9, 1)))


def complete(form: dict[str, Any], *, grade: str = "good", peer: bool = False, **changes: Any) -> dict[str, Any]:
    """A complete stage for ``form`` (the ``form`` of an audit as the API returns it)."""
    answers: dict[str, Any] = {}
    grades: dict[str, str] = {}
    for section in form["sections"]:
        for question in section["questions"]:
            answers[question["key"]] = {"value": "yes" if question["scale"] != "text" else "Recorded."}
        if section["graded"] or (section["oversight"] and peer):
            grades[section["key"]] = grade
    work: dict[str, Any] = {
        "answers": answers,
        "section_grades": grades,
        "oversight_comment": "" if peer else "I supervise this case monthly; two sessions were not recorded.",
        "analysis": "The risk of neglect is well understood and the plan is clear.",
        "recommendations": "Record supervision on the file; review the chronology.",
        "overall_grade": grade,
    }
    work.update(changes)
    return work


def grading(form: dict[str, Any], grade: str, overall: str, **overrides: str) -> dict[str, Any]:
    keys = [s["key"] for s in form["sections"] if s["graded"] or s["oversight"]]
    return {"section_grades": {k: overrides.get(k, grade) for k in keys}, "overall_grade": overall, "comment": "Agreed after discussion."}


# --- the monthly cycle --------------------------------------------------------------------------

#: The draw day of December 2026 (5 working days before Tuesday 1 December).
DRAW_DAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_scheduled_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests draw when they mean to; the scheduler would draw next month on its own."""
    monkeypatch.setenv("AUDIT_CYCLE_SCHEDULER_ENABLED", "false")


def small_authority(teams: int, cases_per_team: int = 3, peer_reviewers: int = 2) -> tuple[list[PersonChanged], list[TeamChanged], list[CaseChanged]]:
    """``teams`` teams, each managed by an auditing team manager ``TM<n>``, in two districts of one
    area; ``peer_reviewers`` peer reviewers ``PR<n>``; a QA officer ``P-QA``."""
    people = [PersonChanged(person_id="P-SM", version=1, roles=["service_manager"]), PersonChanged(person_id="P-QA", version=1, roles=["qa_officer"])]
    people += [PersonChanged(person_id=f"TM{t}", version=1, roles=["team_manager"], team_id=f"T{t}", line_manager_id="P-SM") for t in range(teams)]
    people += [PersonChanged(person_id=f"PR{n}", version=1, roles=["peer_reviewer"], line_manager_id="P-SM") for n in range(peer_reviewers)]
    team_list = [
        TeamChanged(team_id=f"T{t}", version=1, name=f"Team {t}", district=f"District {t % 2}", area="East Kent", manager_id=f"TM{t}")
        for t in range(teams)
    ]
    cases = [
        CaseChanged(
            case_id=f"C-{t}-{n}", version=1, case_type=("CIN", "CP", "CIC")[n % 3], team_id=f"T{t}", team_manager_id=f"TM{t}",
            opened_on=date(2026, 3, 1),
        )
        for t in range(teams) for n in range(cases_per_team)
    ]
    return people, team_list, cases


async def load_authority(db: Any, teams: int, cases_per_team: int = 3, peer_reviewers: int = 2) -> None:
    await project_many(db, *small_authority(teams, cases_per_team, peer_reviewers))


@pytest.fixture
async def svc(service_env: dict[str, str]) -> AsyncIterator[ServiceClient]:
    """The audit service running on the fixed clock, with the directory of ``seed_directory``."""
    async with running_service(lambda: create_app(clock=clock())) as service:
        await seed_directory(service.db)
        yield service
