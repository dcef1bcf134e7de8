"""A month start of more than 2,000 cases through the gateway (issue 21, "The sample must say the
truth"): the directory loaded by the gateway's bulk imports, a month drawn for a programme, then
the next month with the programme's own-service fallback switched on (a new tool version, who
and when kept).

Without the fallback: every available auditor with an eligible case they line-manage gets one
(Kent 2), every idle auditor is listed with the reason, no peer reviewer has more than one audit
(the rest await QA staff), and every team without a file is listed with the reason. With it: no
auditor is idle while an eligible case of their service remains, and its audits are marked.

The system is shared with the other end-to-end tests, so the draw also takes in their people and
cases: the rules about this test's own people are checked person by person, and the rules that
hold for everyone (one audit per peer reviewer, a reason for every idle auditor and every team
without a file) over the whole cycle. The programme is this test's own tool, so its cycles are
its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from devstack.testing import eventually

pytestmark = pytest.mark.e2e

KENT = "kent-online-peer-review"
TEAMS = 40
#: Cases per team; the last four teams have one case each, audited by hand before the draw.
CASES_PER_TEAM = 56
SINGLE_CASE_TEAMS = range(36, 40)
EXTRA_AUDITORS = 8
PEER_REVIEWERS = 30
IDLE_REASONS = {"no_line_managed_case", "all_line_managed_cases_audited_in_last_12_months"}
FALLBACK_REASONS = {"no_service_manager_above_them", "no_eligible_case_left_in_their_service"}


async def _import(gateway: Any, writer: dict[str, str], plural: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    resp = await gateway.http.post(f"/api/v1/directory/{plural}:import", json=rows, headers=writer, timeout=180)
    assert resp.status_code == 200, resp.text
    report: dict[str, Any] = resp.json()
    assert report["rejected"] == 0 and report["accepted"] == len(rows), report
    return report


async def _synced(gateway: Any, writer: dict[str, str], report: dict[str, Any]) -> None:
    async def applied() -> bool:
        status = (await gateway.http.get(report["sync"]["href"], headers=writer)).json()
        return bool(status["synced"])

    await eventually(applied, timeout=180, interval=0.5, message=f"every service applied the {report['kind']} import")


async def _assignments(gateway: Any, qa: dict[str, str], month: str, tool_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"tool_id": tool_id, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await gateway.http.get(f"/api/v1/audit/cycles/{month}/assignments", params=params, headers=qa)
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        cursor = page.json()["next"]
        if cursor is None:
            return rows


def _whole_cycle_rules(cycle: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """What holds for everyone in the cycle, this test's people or not."""
    assert len(rows) == cycle["audits"]
    reviewers = [r["peer_reviewer_id"] for r in rows if r["peer_reviewer_id"]]
    assert len(reviewers) == len(set(reviewers)), "a peer reviewer has two audits"
    assert sorted(r["auditor_id"] for r in rows if r["peer_reviewer_id"] is None) == cycle["awaiting_peer_reviewer"]
    assert len({r["auditor_id"] for r in rows}) == len(rows) and len({r["case_id"] for r in rows}) == len(rows)
    assert [i["auditor_id"] for i in cycle["idle_auditors"]] == cycle["idle_auditor_ids"]
    assert {i["reason"] for i in cycle["idle_auditors"]} <= IDLE_REASONS
    assert [t["team_id"] for t in cycle["uncovered_teams"]] == cycle["uncovered_team_ids"]
    assert {t["reason"] for t in cycle["uncovered_teams"]} <= {"no_eligible_case", "no_available_auditor"}
    with_file = {r["team_id"] for r in rows}
    assert not with_file & set(cycle["uncovered_team_ids"])


@dataclass
class MonthStart:
    """What the phases share: the gateway, the integration's and the QA service manager's headers, this run's tag, and
    this test's people: the two service managers, the 40 team managers and their teams, the extra auditors, the peer
    reviewers, and the service each auditor is in."""

    gateway: Any
    writer: dict[str, str]
    qa: dict[str, str]
    n: str
    sm: list[str]
    tm: list[str]
    teams: list[str]
    extra: list[str]
    reviewers: list[str]
    service_of: dict[str, str]


async def two_services_of_forty_teams_and_over_2000_cases(gateway: Any) -> tuple[MonthStart, list[dict[str, Any]]]:
    """Two service managers over 20 team managers each, 8 extra auditors, 30 peer reviewers (the people loaded by the
    bulk import), and the cases of the 40 teams (over 2,000, the last four teams one case each); returns the cases."""
    n = uuid.uuid4().hex[:6].upper()
    writer = await gateway.as_integration()
    qa = await gateway.as_person("P-QASM")
    sm = [f"MS{n}-SM-A", f"MS{n}-SM-B"]
    tm = [f"MS{n}-TM{t:02d}" for t in range(TEAMS)]
    teams = [f"MS{n}-T{t:02d}" for t in range(TEAMS)]
    extra = [f"MS{n}-AUD{a}" for a in range(EXTRA_AUDITORS)]
    reviewers = [f"MS{n}-PR{p:02d}" for p in range(PEER_REVIEWERS)]
    service_of = {tm[t]: sm[t // 20] for t in range(TEAMS)} | {extra[a]: sm[a // 4] for a in range(EXTRA_AUDITORS)}

    def person(pid: str, roles: list[str], manager: str | None, team: str | None = None) -> dict[str, Any]:
        return {
            "id": pid,
            "name": f"Person {pid}",
            "email": f"{pid.lower()}@council.example",
            "roles": roles,
            "team_id": team,
            "line_manager_id": manager,
        }

    people = [person(s, ["service_manager"], None) for s in sm]
    people += [person(tm[t], ["team_manager"], sm[t // 20], teams[t]) for t in range(TEAMS)]
    people += [person(a, ["auditor"], service_of[a]) for a in extra]
    people += [person(p, ["peer_reviewer"], None) for p in reviewers]
    cases = [
        {
            "id": f"MS{n}-C{t:02d}-{c:02d}",
            "child_name": f"Child {t}-{c}",
            "case_type": ("CIN", "CP", "CIC")[c % 3],
            "team_id": teams[t],
            "team_manager_id": tm[t],
            "opened_on": "2026-02-02",
        }
        for t in range(TEAMS)
        for c in range(1 if t in SINGLE_CASE_TEAMS else CASES_PER_TEAM)
    ]
    assert len(cases) >= 2000
    await _synced(gateway, writer, await _import(gateway, writer, "people", people))
    return MonthStart(gateway, writer, qa, n, sm, tm, teams, extra, reviewers, service_of), cases


async def the_teams_and_their_cases_loaded_by_the_bulk_imports(ms: MonthStart, cases: list[dict[str, Any]]) -> None:
    """The 40 teams, then their cases, each import applied by every service."""
    gateway, writer, tm, teams = ms.gateway, ms.writer, ms.tm, ms.teams
    team_rows = [
        {
            "id": teams[t],
            "name": f"Team {t}",
            "district": f"District {t // 10}",
            "area": "Month Start",
            "service": "Specialist Children's Services",
            "manager_id": tm[t],
        }
        for t in range(TEAMS)
    ]
    await _synced(gateway, writer, await _import(gateway, writer, "teams", team_rows))
    await _synced(gateway, writer, await _import(gateway, writer, "cases", cases))


async def the_single_case_teams_cases_audited_by_hand(ms: MonthStart) -> None:
    """The four single-case teams' cases are audited now (allocated by hand): in the 12 months before the draw."""
    gateway, qa, n, tm, reviewers = ms.gateway, ms.qa, ms.n, ms.tm, ms.reviewers
    for t in SINGLE_CASE_TEAMS:
        body = {"tool_id": KENT, "case_id": f"MS{n}-C{t:02d}-00", "auditor_id": tm[t], "peer_reviewer_id": reviewers[t - 36]}
        resp = await gateway.http.post("/api/v1/audit/audits", json=body, headers=qa)
        assert resp.status_code == 201, resp.text


async def this_tests_own_programme_the_kent_tool_under_a_new_id(ms: MonthStart) -> tuple[dict[str, Any], str]:
    """This test's own programme: the Kent tool's definition under a new id (fallback off, as shipped); returns the
    definition and the programme's tool id."""
    gateway, qa, n = ms.gateway, ms.qa, ms.n
    kent = (await gateway.http.get(f"/api/v1/audit/tools/{KENT}", headers=qa)).json()["definition"]
    assert kent["own_service_fallback"] is False
    tool = f"kent-month-start-{n.lower()}"
    created = await gateway.http.post(f"/api/v1/audit/tools/{tool}/versions", json=kent, headers=qa)
    assert created.status_code == 201, created.text
    return kent, tool


async def january_kents_rule_without_the_fallback(ms: MonthStart, tool: str) -> dict[str, Any]:
    """January: Kent's rule, no fallback. Every team manager with an eligible case gets one they line-manage; the
    single-case teams' managers and the extra auditors are idle with the reason (or cover a team); nothing is drawn from
    their own service; the single-case teams are uncovered with the reason. Returns January's cycle."""
    gateway, qa, n, tm, teams, extra = ms.gateway, ms.qa, ms.n, ms.tm, ms.teams, ms.extra
    drawn = await gateway.http.post(
        "/api/v1/audit/cycles/2027-01/draw", json={"tool_id": tool, "seed": f"jan-{n}"}, headers=qa, timeout=120
    )
    assert drawn.status_code == 201, drawn.text
    january = drawn.json()
    assert january["own_service_fallback"] is False
    rows = await _assignments(gateway, qa, "2027-01", tool)
    _whole_cycle_rules(january, rows)
    by_auditor = {r["auditor_id"]: r for r in rows}
    idle = {i["auditor_id"]: i for i in january["idle_auditors"]}
    for t in range(TEAMS):
        if t in SINGLE_CASE_TEAMS:
            # Their only case was audited: idle with that reason, unless given a team to cover.
            got = by_auditor.get(tm[t])
            assert (got is not None and got["basis"] == "team_cover") or idle[tm[t]][
                "reason"
            ] == "all_line_managed_cases_audited_in_last_12_months"
            assert idle.get(tm[t], {}).get("fallback_reason") is None
        else:
            assert by_auditor[tm[t]]["basis"] == "line_managed" and by_auditor[tm[t]]["team_id"] == teams[t], tm[t]
    for a in extra:
        assert (a in by_auditor and by_auditor[a]["basis"] == "team_cover") or idle[a]["reason"] == "no_line_managed_case"
    assert all(r["basis"] != "own_service" for r in rows)
    uncovered = {u["team_id"]: u for u in january["uncovered_teams"]}
    for t in SINGLE_CASE_TEAMS:
        assert uncovered[teams[t]] == {
            "team_id": teams[t],
            "reason": "no_eligible_case",
            "open_cases": 1,
            "audited_in_last_12_months": 1,
        }
    assert not {teams[t] for t in range(36)} & set(uncovered)
    return january


async def a_second_draw_of_january_is_refused_with_another_seed(ms: MonthStart, tool: str, january: dict[str, Any]) -> None:
    """A second draw of January with another seed is refused, naming January's; with its own, the same cycle."""
    gateway, qa, n = ms.gateway, ms.qa, ms.n
    other = await gateway.http.post("/api/v1/audit/cycles/2027-01/draw", json={"tool_id": tool, "seed": "another"}, headers=qa)
    assert other.status_code == 409 and other.json()["existing_seed"] == f"jan-{n}", other.text
    same = await gateway.http.post("/api/v1/audit/cycles/2027-01/draw", json={"tool_id": tool, "seed": f"jan-{n}"}, headers=qa)
    assert same.status_code == 200 and same.json()["audits"] == january["audits"]


async def the_fallback_switched_on_in_a_new_version_of_the_tool(ms: MonthStart, tool: str, kent: dict[str, Any]) -> None:
    """The fallback switched on (a new version of the programme's tool: who and when)."""
    gateway, qa = ms.gateway, ms.qa
    latest = await gateway.http.get(f"/api/v1/audit/tools/{tool}", headers=qa)
    switched = await gateway.http.post(
        f"/api/v1/audit/tools/{tool}/versions",
        json={**kent, "own_service_fallback": True},
        headers={**qa, "If-Match": latest.headers["etag"]},
    )
    assert switched.status_code == 201, switched.text
    versions = (await gateway.http.get(f"/api/v1/audit/tools/{tool}/versions", headers=qa)).json()["items"]
    assert [(v["version"], v["definition"]["own_service_fallback"], v["created_by"]) for v in versions] == [
        (2, True, "P-QASM"),
        (1, False, "P-QASM"),
    ]


async def february_with_the_fallback_nobody_idle_while_their_service_has_cases(ms: MonthStart, tool: str) -> list[dict[str, Any]]:
    """February: with the fallback. Every one of this test's auditors has an audit: their own team's, a case of their own
    service, or a team to cover; at least one of them from their own service. Returns February's own-service rows."""
    gateway, qa, n, sm, tm, teams, extra, service_of = ms.gateway, ms.qa, ms.n, ms.sm, ms.tm, ms.teams, ms.extra, ms.service_of
    drawn = await gateway.http.post(
        "/api/v1/audit/cycles/2027-02/draw", json={"tool_id": tool, "seed": f"feb-{n}"}, headers=qa, timeout=120
    )
    assert drawn.status_code == 201, drawn.text
    february = drawn.json()
    assert february["own_service_fallback"] is True and february["tool_version"] == 2
    rows = await _assignments(gateway, qa, "2027-02", tool)
    _whole_cycle_rules(february, rows)
    # Nobody idle while an eligible case of their service remains: whoever is idle, the fallback says why.
    assert all(i["fallback_reason"] in FALLBACK_REASONS for i in february["idle_auditors"])
    by_auditor = {r["auditor_id"]: r for r in rows}
    team_service = {teams[t]: sm[t // 20] for t in range(TEAMS)}
    for auditor in [*tm, *extra]:
        got = by_auditor[auditor]  # none of this test's auditors is idle: their services have cases left
        if auditor in tm and tm.index(auditor) not in SINGLE_CASE_TEAMS:
            assert got["basis"] == "line_managed" and got["team_id"] == teams[tm.index(auditor)]
        elif got["basis"] == "own_service":
            # A case of their own service, not one they line-manage.
            assert team_service[got["team_id"]] == service_of[auditor], got
            assert auditor not in tm or got["team_id"] != teams[tm.index(auditor)], got
        else:
            assert got["basis"] == "team_cover", got
    own_service = [r for r in rows if r["basis"] == "own_service"]
    assert len([r for r in own_service if r["auditor_id"] in service_of]) >= 1
    return own_service


async def the_own_service_audits_are_allocated_and_marked(ms: MonthStart, tool: str, own_service: list[dict[str, Any]]) -> None:
    """The audits are allocated, marked on the cycle's assignments, and on the audit itself."""
    gateway, qa = ms.gateway, ms.qa

    async def allocated() -> dict[str, Any] | None:
        cycle = (await gateway.http.get("/api/v1/audit/cycles/2027-02", params={"tool_id": tool}, headers=qa)).json()
        return cycle if cycle["allocated"] + cycle["failed"] >= cycle["audits"] - len(cycle["awaiting_peer_reviewer"]) else None

    done = await eventually(allocated, timeout=180, interval=1.0, message="February's audits allocated")
    assert done["failed"] == 0, done["failures"]
    marked = {r["auditor_id"]: r for r in await _assignments(gateway, qa, "2027-02", tool)}
    for r in own_service:
        if r["peer_reviewer_id"]:
            assert marked[r["auditor_id"]]["audit_id"] and marked[r["auditor_id"]]["basis"] == "own_service"
    # ... and on the audit itself, read through the gateway ("marked as such on the audit").
    one = next(marked[r["auditor_id"]]["audit_id"] for r in own_service if marked[r["auditor_id"]]["audit_id"])
    audit = await gateway.http.get(f"/api/v1/audit/audits/{one}", headers=qa)
    assert audit.status_code == 200 and audit.json()["basis"] == "own_service", audit.text


@pytest.mark.timeout(900)
async def test_a_month_start_of_over_2000_cases_says_the_truth_about_its_sample(gateway) -> None:
    ms, cases = await two_services_of_forty_teams_and_over_2000_cases(gateway)
    await the_teams_and_their_cases_loaded_by_the_bulk_imports(ms, cases)
    await the_single_case_teams_cases_audited_by_hand(ms)
    kent, tool = await this_tests_own_programme_the_kent_tool_under_a_new_id(ms)
    # --- January: Kent's rule, no fallback ---------------------------------------------------------
    january = await january_kents_rule_without_the_fallback(ms, tool)
    await a_second_draw_of_january_is_refused_with_another_seed(ms, tool, january)
    # --- the fallback switched on (a new version of the programme's tool: who and when) -----------
    await the_fallback_switched_on_in_a_new_version_of_the_tool(ms, tool, kent)
    # --- February: with the fallback --------------------------------------------------------------
    own_service = await february_with_the_fallback_nobody_idle_while_their_service_has_cases(ms, tool)
    await the_own_service_audits_are_allocated_and_marked(ms, tool, own_service)
