"""A small demo authority: a team structure, staff in every role and a few children's cases,
loaded through the gateway's directory API as the case-management system would."""

from __future__ import annotations

from typing import Any

import httpx

from .stack import INTEGRATION_CLIENT

SERVICE = "Children's Services"

TEAMS: dict[str, dict[str, Any]] = {
    "T-DA": {"name": "Duty and Assessment", "district": "Canterbury", "area": "East Kent", "service": SERVICE, "manager_id": "P-TM1"},
    "T-CIN": {"name": "Canterbury Children in Need", "district": "Canterbury", "area": "East Kent", "service": SERVICE, "manager_id": "P-TM2"},
    "T-CP": {"name": "Thanet Child Protection", "district": "Thanet", "area": "East Kent", "service": SERVICE, "manager_id": "P-TM3"},
    "T-CIC": {"name": "Thanet Children in Care", "district": "Thanet", "area": "East Kent", "service": SERVICE, "manager_id": "P-TM3"},
    "T-QA": {"name": "Safeguarding and Quality Assurance", "district": "County", "area": "County", "service": SERVICE, "manager_id": "P-QASM"},
}


def _person(name: str, roles: list[str], team: str | None, manager: str | None) -> dict[str, Any]:
    email = name.lower().replace(" ", ".").replace("'", "") + "@council.example"
    return {"name": name, "email": email, "roles": roles, "team_id": team, "line_manager_id": manager}


PEOPLE: dict[str, dict[str, Any]] = {
    "P-ED": _person("Evelyn Drummond", ["executive_director"], None, None),
    "P-AD": _person("Amira Dhillon", ["assistant_director"], "T-QA", "P-ED"),
    "P-HOS": _person("Hugh Osei", ["head_of_service", "service_director"], "T-QA", "P-AD"),
    "P-SM": _person("Sana Malik", ["service_manager"], "T-CIN", "P-HOS"),
    "P-DM": _person("Dev Mehta", ["district_manager"], "T-CIN", "P-SM"),
    "P-PSW": _person("Pat Sullivan", ["principal_social_worker"], "T-QA", "P-AD"),
    "P-TM1": _person("Tom Mercer", ["team_manager", "auditor"], "T-DA", "P-DM"),
    "P-TM2": _person("Grace Adeyemi", ["team_manager", "auditor"], "T-CIN", "P-DM"),
    "P-TM3": _person("Olu Bankole", ["team_manager", "auditor"], "T-CP", "P-DM"),
    "P-DS": _person("Dana Smith", ["duty_senior", "senior_practitioner"], "T-DA", "P-TM1"),
    "P-SP": _person("Sam Price", ["senior_practitioner", "practice_supervisor"], "T-CIN", "P-TM2"),
    "P-SW1": _person("Kerry Jones", ["social_worker"], "T-DA", "P-DS"),
    "P-AO": _person("Andy Okoro", ["admin_officer"], "T-DA", "P-DS"),
    "P-TL": _person("Tara Lewis", ["team_leader"], "T-CIN", "P-TM2"),
    "P-SW2": _person("Ravi Patel", ["social_worker"], "T-CIN", "P-SP"),
    "P-SW3": _person("Mia Novak", ["social_worker"], "T-CP", "P-TM3"),
    "P-IRO": _person("Irene Okafor", ["iro"], "T-QA", "P-QASM"),
    "P-CPC": _person("Colin Park", ["cp_chair"], "T-QA", "P-QASM"),
    "P-FGC": _person("Fay Green", ["fgc_coordinator"], "T-QA", "P-QASM"),
    "P-QASM": _person("Quinn Abara", ["service_manager", "lead_qa_auditor"], "T-QA", "P-AD"),
    "P-PR": _person("Priya Rao", ["peer_reviewer", "qa_officer"], "T-QA", "P-QASM"),
    "P-PDO": _person("Paul Dunne", ["practice_development_officer"], "T-QA", "P-QASM"),
    "P-PM": _person("Maya Pillai", ["practice_mentor"], "T-QA", "P-PSW"),
    "P-PO": _person("Perry Osborne", ["performance_officer"], "T-QA", "P-QASM"),
    "P-PMU": _person("Nina Mwangi", ["performance_management"], "T-QA", "P-QASM"),
    "P-PART": _person("Leo Barros", ["participation_officer"], "T-QA", "P-QASM"),
    "P-CM": _person("Carla Moss", ["complaints_manager"], "T-QA", "P-QASM"),
    "P-ADMIN": _person("Alex Admin", ["administrator"], "T-QA", "P-QASM"),
}

CASES: dict[str, dict[str, Any]] = {
    "C-1001": {"child_name": "Child A Example", "case_type": "CIN", "team_id": "T-DA", "allocated_worker_id": "P-SW1", "team_manager_id": "P-TM1", "sibling_case_ids": ["C-1002"], "opened_on": "2026-09-14"},
    "C-1002": {"child_name": "Child B Example", "case_type": "CIN", "team_id": "T-DA", "allocated_worker_id": "P-SW1", "team_manager_id": "P-TM1", "sibling_case_ids": ["C-1001"], "opened_on": "2026-09-14"},
    "C-2001": {"child_name": "Child C Example", "case_type": "CIN", "team_id": "T-CIN", "allocated_worker_id": "P-SW2", "team_manager_id": "P-TM2", "opened_on": "2026-03-02"},
    "C-3001": {"child_name": "Child D Example", "case_type": "CP", "team_id": "T-CP", "allocated_worker_id": "P-SW3", "team_manager_id": "P-TM3", "opened_on": "2026-06-20"},
    "C-4001": {"child_name": "Child E Example", "case_type": "CIC", "team_id": "T-CIC", "allocated_worker_id": "P-SW3", "team_manager_id": "P-TM3", "opened_on": "2025-11-03"},
}


def dev_token(client: httpx.Client, person_id: str) -> str:
    resp = client.post("/auth/dev/token", json={"person_id": person_id})
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def load(gateway_url: str) -> dict[str, int]:
    """Put the demo directory in place; safe to run again (unchanged records make no change)."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {dev_token(client, INTEGRATION_CLIENT)}"}
        counts = {}
        for plural, records in (("teams", TEAMS), ("people", PEOPLE), ("cases", CASES)):
            for record_id, body in records.items():
                resp = client.put(f"/api/v1/directory/{plural}/{record_id}", json=body, headers=headers)
                if resp.status_code not in (200, 201):
                    raise RuntimeError(f"loading {plural}/{record_id} failed: {resp.status_code} {resp.text}")
            counts[plural] = len(records)
        return counts


#: The themes a resolution's concerns are filed under (seed 001: "the concerns are collected into
#: themes so that we can monitor areas for team and service improvement"), seeded by ``./dev up``.
THEMES: dict[str, str] = {
    "Care planning": "The child's plan: its outcomes, actions, timescales and who is responsible.",
    "Contact arrangements": "Family time and contact with parents, siblings and others who matter to the child.",
    "Placement stability": "Moves, matching and the support a placement needs to last.",
    "Health": "Health assessments, appointments and the child's health needs.",
    "Education": "School place, attendance, the personal education plan and the virtual school.",
    "Assessment": "Assessments not done, out of date or not reflecting the child's needs.",
    "Timeliness of reports": "Reports and plans not shared before the review or conference.",
    "Multi-agency working": "Partners not involved, information not shared, actions not followed up.",
    "Voice of the child": "The child's wishes and feelings not sought or not reflected in the plan.",
}
#: Who adds the demo themes (administrators and QA officers manage the list).
THEME_OWNER = "P-ADMIN"


#: How a resolution may end when it is closed unresolved, as coded values (issue 21): seeded by
#: ``./dev up`` like the themes, so a demo form can be closed; an authority keeps its own list.
CLOSING_REASONS: dict[str, str] = {
    "Moved to another authority": "The child and the case moved to another local authority.",
    "Case closed": "The child's case was closed before the concern was resolved.",
    "Superseded by a new plan": "A new plan or review replaced the one the concern was about.",
    "Withdrawn by the independent reviewer": "The IRO or CP chair withdrew the concern.",
}


def _load_list(gateway_url: str, path: str, items: dict[str, str], what: str) -> int:
    """Add a managed list's demo entries through the gateway; safe to run again (an entry already
    there is left as it is). Returns how many the list holds of ours."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {dev_token(client, THEME_OWNER)}"}
        for name, description in items.items():
            resp = client.post(path, json={"name": name, "description": description},
                               headers={**headers, "Idempotency-Key": f"demo-{what}-{name.lower().replace(' ', '-')}"})
            if resp.status_code not in (200, 201, 409):
                raise RuntimeError(f"adding {what} {name!r} failed: {resp.status_code} {resp.text}")
        return len(items)


def load_themes(gateway_url: str) -> int:
    """The demo resolution themes."""
    return _load_list(gateway_url, "/api/v1/resolution/themes", THEMES, "theme")


def load_closing_reasons(gateway_url: str) -> int:
    """The demo closing reasons."""
    return _load_list(gateway_url, "/api/v1/resolution/closing-reasons", CLOSING_REASONS, "closing-reason")


def banner(gateway_url: str, *, data_dir: str) -> str:
    """What ``./dev up`` prints once the system runs: where the API is, each demo person's id and
    roles, and how to get a token for one (a front-end developer's starting point)."""
    width = max(len(person_id) for person_id in PEOPLE)
    people = "\n".join(
        f"    {person_id:<{width}}  {p['name']:<16} {', '.join(p['roles'])}" + (f"  ({TEAMS[p['team_id']]['name']})" if p.get("team_id") in TEAMS else "")
        for person_id, p in PEOPLE.items()
    )
    token = (
        f"TOKEN=$(curl -s -X POST {gateway_url}/auth/dev/token -H 'content-type: application/json' -d '{{\"person_id\": \"P-SW1\"}}' \\\n"
        "                  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
    )
    return (
        f"\nThe QA platform is running. Gateway: {gateway_url}\n"
        f"  API docs:       {gateway_url}/docs  (the whole API: {gateway_url}/api/openapi.json)\n"
        f"  Get a token:    {token}\n"
        f"                  (any person below; the case-management system is {INTEGRATION_CLIENT!r}; tokens last 8 hours and\n"
        "                  survive a restart of ./dev up: the dev signing keys are kept in var/dev-keys)\n"
        f"  Use it:         curl -s {gateway_url}/api/v1/me -H \"Authorization: Bearer $TOKEN\"\n"
        "  From a browser: CORS allows any http://localhost:<port> and http://127.0.0.1:<port> origin\n"
        f"  Demo people (id, name, roles, team):\n{people}\n"
        f"  Demo cases:     {', '.join(sorted(CASES))};  resolution themes: {len(THEMES)}\n"
        f"  Mail sent:      saved as .eml files in {data_dir}/mail\n"
        "Ctrl-C stops everything."
    )
