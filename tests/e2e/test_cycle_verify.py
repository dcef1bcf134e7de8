"""A sample anyone can verify (issue 18), through the gateway: a few teams loaded by the
directory's bulk imports, a month previewed (nothing written), drawn with the previewed seed,
every case of it served with its reason, and ``verify`` reproducing the sample from the recorded
seed and inputs, then saying so when the stored sample is altered in the audit database.

The system is shared with the other end-to-end tests, so the draw also takes in their people and
cases: the rules about this test's own people and cases are checked one by one, the rules that
hold for every case (a reason for each, the drawn ones the assignments) over the whole cycle.
The programme is this test's own tool, so its cycles are its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.testing import eventually

pytestmark = pytest.mark.e2e

KENT = "kent-online-peer-review"
MONTH = "2027-03"
TEAMS = 3
CASES_PER_TEAM = 4
LEFT_OUT = {
    "audited_in_last_12_months",
    "not_line_managed_by_an_available_auditor",
    "lower_precedence",
    "not_child_in_need_protection_or_care",
}


async def _import(gateway: Any, writer: dict[str, str], plural: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    resp = await gateway.http.post(f"/api/v1/directory/{plural}:import", json=rows, headers=writer, timeout=120)
    assert resp.status_code == 200, resp.text
    report: dict[str, Any] = resp.json()
    assert report["rejected"] == 0 and report["accepted"] == len(rows), report

    async def applied() -> bool:
        return bool((await gateway.http.get(report["sync"]["href"], headers=writer)).json()["synced"])

    await eventually(applied, timeout=120, interval=0.5, message=f"every service applied the {plural} import")
    return report


async def _pages(gateway: Any, qa: dict[str, str], path: str, tool: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"tool_id": tool, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await gateway.http.get(path, params=params, headers=qa)
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            return rows


@dataclass
class Verify:
    """What the phases share: the gateway, the integration's and the QA service manager's headers, this run's tag, and
    this test's team managers and their teams."""

    gateway: Any
    writer: dict[str, str]
    qa: dict[str, str]
    n: str
    tm: list[str]
    teams: list[str]


async def three_team_managers_and_two_peer_reviewers(gateway: Any) -> tuple[Verify, dict[str, Any]]:
    """The people, loaded by the directory's bulk import; returns the import's report (how far it synced)."""
    n = uuid.uuid4().hex[:6].upper()
    writer = await gateway.as_integration()
    qa = await gateway.as_person("P-QASM")
    tm = [f"CV{n}-TM{t}" for t in range(TEAMS)]
    teams = [f"CV{n}-T{t}" for t in range(TEAMS)]
    reviewers = [f"CV{n}-PR{p}" for p in range(2)]

    def person(pid: str, roles: list[str], team: str | None = None) -> dict[str, Any]:
        return {
            "id": pid,
            "name": f"Person {pid}",
            "email": f"{pid.lower()}@council.example",
            "roles": roles,
            "team_id": team,
            "line_manager_id": None,
        }

    people = await _import(
        gateway,
        writer,
        "people",
        [person(tm[t], ["team_manager"], teams[t]) for t in range(TEAMS)] + [person(p, ["peer_reviewer"]) for p in reviewers],
    )
    return Verify(gateway, writer, qa, n, tm, teams), people


async def their_three_teams_of_four_cases(v: Verify) -> tuple[dict[str, Any], set[str]]:
    """The teams and their cases, loaded by the directory's bulk imports; returns the cases' import report and the ids of
    this test's own cases."""
    gateway, writer, n, tm, teams = v.gateway, v.writer, v.n, v.tm, v.teams
    team_rows = [
        {
            "id": teams[t],
            "name": f"Team {t}",
            "district": "District V",
            "area": "Verify",
            "service": "Specialist Children's Services",
            "manager_id": tm[t],
        }
        for t in range(TEAMS)
    ]
    await _import(gateway, writer, "teams", team_rows)
    cases = await _import(
        gateway,
        writer,
        "cases",
        [
            {
                "id": f"CV{n}-C{t}-{c}",
                "child_name": f"Child {t}-{c}",
                "case_type": ("CIN", "CP", "CIC")[c % 3],
                "team_id": teams[t],
                "team_manager_id": tm[t],
                "opened_on": "2026-02-02",
            }
            for t in range(TEAMS)
            for c in range(CASES_PER_TEAM)
        ],
    )
    own_cases = {f"CV{n}-C{t}-{c}" for t in range(TEAMS) for c in range(CASES_PER_TEAM)}
    return cases, own_cases


async def this_tests_own_programme(v: Verify) -> str:
    """The Kent tool's definition under a new id; returns the programme's tool id."""
    gateway, qa, n = v.gateway, v.qa, v.n
    kent = (await gateway.http.get(f"/api/v1/audit/tools/{KENT}", headers=qa)).json()["definition"]
    tool = f"kent-verify-{n.lower()}"
    assert (await gateway.http.post(f"/api/v1/audit/tools/{tool}/versions", json=kent, headers=qa)).status_code == 201
    return tool


async def a_dry_run_the_sample_and_nothing_written(v: Verify, tool: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A dry run: the sample, and nothing written; a team manager may not preview. Returns the previewed sample and the
    team manager's headers."""
    gateway, qa, n, tm = v.gateway, v.qa, v.n, v.tm
    previewed = await gateway.http.post(
        f"/api/v1/audit/cycles/{MONTH}/preview", json={"tool_id": tool, "seed": f"mar-{n}"}, headers=qa, timeout=120
    )
    assert previewed.status_code == 200, previewed.text
    dry = previewed.json()
    assert (await gateway.http.get(f"/api/v1/audit/cycles/{MONTH}", params={"tool_id": tool}, headers=qa)).status_code == 404
    manager = await gateway.as_person(tm[0])
    refused = await gateway.http.post(f"/api/v1/audit/cycles/{MONTH}/preview", json={"tool_id": tool}, headers=manager)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    return dry, manager


async def the_month_drawn_with_the_previewed_seed_is_the_previewed_sample(
    v: Verify, tool: str, dry: dict[str, Any], people: dict[str, Any], cases: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Drawn with the previewed seed: each team manager audits a case of their own team, the one previewed. Returns the
    cycle, its assignments, and this test's team managers' assignments by auditor."""
    gateway, qa, n, tm, teams = v.gateway, v.qa, v.n, v.tm, v.teams
    drawn = await gateway.http.post(
        f"/api/v1/audit/cycles/{MONTH}/draw", json={"tool_id": tool, "seed": f"mar-{n}"}, headers=qa, timeout=120
    )
    assert drawn.status_code == 201, drawn.text
    cycle = drawn.json()
    # The inputs it used: the directory as far as this test's imports, at least.
    assert cycle["directory_version"]["person"] >= people["sync"]["through"]
    assert cycle["directory_version"]["case"] >= cases["sync"]["through"]
    rows = await _pages(gateway, qa, f"/api/v1/audit/cycles/{MONTH}/assignments", tool)
    mine = {r["auditor_id"]: r for r in rows if r["auditor_id"] in tm}
    assert {a: (r["basis"], r["team_id"]) for a, r in mine.items()} == {tm[t]: ("line_managed", teams[t]) for t in range(TEAMS)}
    previewed_mine = {a["auditor_id"]: a for a in dry["assignments"] if a["auditor_id"] in tm}
    assert {a: r["case_id"] for a, r in mine.items()} == {a: p["case_id"] for a, p in previewed_mine.items()}
    return cycle, rows, mine


async def every_case_with_its_reason_the_drawn_ones_the_assignments(
    v: Verify, tool: str, rows: list[dict[str, Any]], own_cases: set[str]
) -> None:
    """Every case with its reason; the drawn ones are the assignments, and each of this test's cases left out was
    outranked by a picked one."""
    gateway, qa = v.gateway, v.qa
    reasons = await _pages(gateway, qa, f"/api/v1/audit/cycles/{MONTH}/cases", tool)
    assert len({r["case_id"] for r in reasons}) == len(reasons) and own_cases <= {r["case_id"] for r in reasons}
    picked = {r["case_id"]: r for r in reasons if r["picked"]}
    assert {(r["case_id"], r["auditor_id"], r["basis"]) for r in rows} == {
        (c, r["auditor_id"], r["basis"]) for c, r in picked.items()
    }
    assert all(r["reason"] in LEFT_OUT for r in reasons if not r["picked"])
    for r in reasons:
        if r["case_id"] in own_cases and not r["picked"]:
            assert r["reason"] == "lower_precedence" and picked[r["outranked_by"]]["rank"] < r["rank"], r


async def verify_reproduces_the_sample_from_the_recorded_seed_and_inputs(v: Verify, tool: str) -> str:
    """``verify`` redraws the month from its recorded seed and inputs: the same sample. Returns verify's path."""
    gateway, qa = v.gateway, v.qa
    verify = f"/api/v1/audit/cycles/{MONTH}/verify"
    result = (await gateway.http.post(verify, params={"tool_id": tool}, headers=qa, timeout=120)).json()
    assert result["reproduced"] is True and result["inputs_digest_matches"] is True and result["differences"] == [], result
    return verify


async def verify_says_where_the_stored_sample_was_altered(
    v: Verify,
    mongo: Any,
    tool: str,
    verify: str,
    cycle: dict[str, Any],
    mine: dict[str, dict[str, Any]],
    own_cases: set[str],
    manager: dict[str, str],
) -> None:
    """The stored sample altered in the audit database (the first team manager's case swapped for another of their
    team's): verify says so, and where; a team manager may not verify."""
    gateway, qa, n, tm = v.gateway, v.qa, v.n, v.tm
    cycles = mongo[f"{gateway.stack.namespace}_audit"]["cycles"]
    stored = await cycles.find_one({"_id": cycle["cycle_id"]})
    at = next(i for i, a in enumerate(stored["assignments"]) if a["auditor_id"] == tm[0])
    other = next(c for c in sorted(own_cases) if c.startswith(f"CV{n}-C0-") and c != mine[tm[0]]["case_id"])
    await cycles.update_one({"_id": cycle["cycle_id"]}, {"$set": {f"assignments.{at}.case_id": other}})
    result = (await gateway.http.post(verify, params={"tool_id": tool}, headers=qa, timeout=120)).json()
    assert result["reproduced"] is False and result["inputs_digest_matches"] is True
    assert [(d["what"], d["id"], d["stored"]["case_id"], d["redrawn"]["case_id"]) for d in result["differences"]] == [
        ("assignment", tm[0], other, mine[tm[0]]["case_id"])
    ]
    refused = await gateway.http.post(verify, params={"tool_id": tool}, headers=manager)
    assert refused.status_code == 403


@pytest.mark.timeout(600)
async def test_a_drawn_month_is_reproduced_by_verify_and_an_altered_one_is_not(gateway, mongo) -> None:
    v, people = await three_team_managers_and_two_peer_reviewers(gateway)
    cases, own_cases = await their_three_teams_of_four_cases(v)
    tool = await this_tests_own_programme(v)
    dry, manager = await a_dry_run_the_sample_and_nothing_written(v, tool)
    cycle, rows, mine = await the_month_drawn_with_the_previewed_seed_is_the_previewed_sample(v, tool, dry, people, cases)
    await every_case_with_its_reason_the_drawn_ones_the_assignments(v, tool, rows, own_cases)
    verify = await verify_reproduces_the_sample_from_the_recorded_seed_and_inputs(v, tool)
    await verify_says_where_the_stored_sample_was_altered(v, mongo, tool, verify, cycle, mine, own_cases, manager)
