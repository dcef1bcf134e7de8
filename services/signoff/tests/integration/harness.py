"""A small authority for sign-off's integration tests: teams, staff and children's cases written
into sign-off's directory projection, the callers' signed identities, and request helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from signoff import directory
from signoff.directory import CaseChanged, PersonChanged, TeamChanged
from signoff.domain.catalogue import INITIAL_ASSESSMENT

from devstack.testing import ServiceClient

#: Monday 2 March 2026, 10:00 UTC.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

TEAMS = [
    TeamChanged(team_id="T-DA", version=1, district="Canterbury", manager_id="P-TM1"),
    TeamChanged(team_id="T-CIN", version=1, district="Canterbury", manager_id="P-TM2"),
    TeamChanged(team_id="T-CP", version=1, district="Thanet", manager_id="P-TM3"),
]
#: person id -> (roles, team, line manager)
STAFF: dict[str, tuple[list[str], str | None, str | None]] = {
    "P-SW1": (["social_worker"], "T-DA", "P-DS"),
    "P-SW2": (["social_worker"], "T-DA", "P-DS"),
    "P-DS": (["duty_senior", "senior_practitioner"], "T-DA", "P-TM1"),
    "P-AO": (["admin_officer"], "T-DA", "P-DS"),
    "P-AO2": (["admin_officer"], "T-CP", "P-TM3"),
    "P-PS": (["practice_supervisor"], "T-DA", "P-TM1"),
    "P-TM1": (["team_manager"], "T-DA", "P-DM"),
    "P-DM": (["district_manager"], "T-CIN", None),
    "P-SP": (["senior_practitioner"], "T-CIN", "P-TM2"),
    "P-SWCP": (["social_worker"], "T-CP", "P-TM3"),
    "P-ADMIN": (["administrator"], None, None),
    "P-PERF": (["performance_officer"], None, None),
}
CASES = [
    CaseChanged(case_id="C-1001", version=1, case_type="CIN", status="open", team_id="T-DA", allocated_worker_id="P-SW1",
                team_manager_id="P-TM1", sibling_case_ids=["C-1002", "C-1003"]),
    CaseChanged(case_id="C-1002", version=1, case_type="CIN", status="open", team_id="T-DA", allocated_worker_id="P-SW1",
                team_manager_id="P-TM1", sibling_case_ids=["C-1001", "C-1003"]),
    CaseChanged(case_id="C-1003", version=1, case_type="CIN", status="open", team_id="T-DA", allocated_worker_id="P-SW1",
                team_manager_id="P-TM1", sibling_case_ids=["C-1001", "C-1002"]),
    CaseChanged(case_id="C-2001", version=1, case_type="CIN", status="open", team_id="T-CIN", allocated_worker_id=None,
                team_manager_id="P-TM2", sibling_case_ids=[]),
    CaseChanged(case_id="C-3001", version=1, case_type="CP", status="closed", team_id="T-CP", sibling_case_ids=[]),
]


async def load_directory(svc: ServiceClient) -> None:
    for team in TEAMS:
        await directory.put(svc.db, team)
    for person_id, (roles, team_id, manager) in STAFF.items():
        await directory.put(svc.db, PersonChanged(person_id=person_id, version=1, roles=roles, team_id=team_id, line_manager_id=manager))
    for case in CASES:
        await directory.put(svc.db, case)


def who(svc: ServiceClient, person_id: str) -> dict[str, str]:
    roles, team_id, _ = STAFF[person_id]
    return svc.as_person(person_id, roles=roles, teams=[team_id] if team_id else [])


def complete_ia(start: str = "2026-03-02") -> dict[str, Any]:
    return {
        "date_commenced": start, "child_seen": True, "analysis": "Needs are met; advice given.",
        "further_action": INITIAL_ASSESSMENT.questions[4].options[2],
    }


def if_match(response: Any) -> dict[str, str]:
    return {"If-Match": response.headers["ETag"]}


async def create(svc: ServiceClient, person: str = "P-SW1", case_id: str = "C-1001", type_code: str = "INIASS",
                 answers: dict[str, Any] | None = None) -> Any:
    resp = await svc.http.post(
        "/v1/exemplars", json={"case_id": case_id, "type_code": type_code, "answers": complete_ia() if answers is None else answers},
        headers=who(svc, person),
    )
    assert resp.status_code == 201, resp.text
    return resp


async def act(svc: ServiceClient, person: str, exemplar: Any, action: str, body: dict[str, Any] | None = None, *, expect: int = 200) -> Any:
    """POST ``/v1/exemplars/{id}/{action}`` with the If-Match of ``exemplar`` (a response)."""
    resp = await svc.http.post(
        f"/v1/exemplars/{exemplar.json()['id']}/{action}", json=body or {}, headers={**who(svc, person), **if_match(exemplar)}
    )
    assert resp.status_code == expect, resp.text
    return resp


async def signed_off(svc: ServiceClient, case_id: str = "C-1001") -> Any:
    """An Initial Assessment first-signed by the social worker and counter-signed by the duty senior."""
    created = await create(svc, case_id=case_id)
    first = await act(svc, "P-SW1", created, "first-signature")
    return await act(svc, "P-DS", first, "counter-signature", {"comments": "Agreed"})
