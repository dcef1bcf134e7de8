"""The need-to-know directory: a child's case (it carries the child's name) is read only by the
child's team, its allocated worker and recorded team manager, the team's manager and the line above
them, QA staff, administrators and the case-management system. To anyone else it does not exist."""

from __future__ import annotations

from typing import Any

import pytest
from gateway.directory import store
from shared.http import encode_cursor

from ..conftest import INTEGRATION, RunningGateway, serve_gateway

TEAMS = {
    "T-A": {"name": "Team A", "district": "North", "area": "East", "service": "CSC", "manager_id": "P-TMA"},
    "T-B": {"name": "Team B", "district": "North", "area": "East", "service": "CSC", "manager_id": "P-TMB"},
}
#: id: (roles, team, line manager). P-AD > P-HOS > P-SM > P-TMA > P-SPA > P-SWA; P-SM2 > P-TMB > P-SWB.
PEOPLE: dict[str, tuple[list[str], str | None, str | None]] = {
    "P-AD": (["assistant_director"], None, None),
    "P-HOS": (["head_of_service"], None, "P-AD"),
    "P-SM": (["service_manager"], None, "P-HOS"),
    "P-TMA": (["team_manager", "auditor"], "T-A", "P-SM"),
    "P-SPA": (["senior_practitioner"], "T-A", "P-TMA"),
    "P-SWA": (["social_worker"], "T-A", "P-SPA"),
    "P-SWA2": (["social_worker"], "T-A", "P-SPA"),
    "P-SM2": (["service_manager"], None, "P-AD2"),
    "P-AD2": (["assistant_director"], None, None),
    "P-TMB": (["team_manager", "auditor"], "T-B", "P-SM2"),
    "P-SWB": (["social_worker"], "T-B", "P-TMB"),
    "P-PERF": (["performance_officer"], None, "P-SM2"),
    "P-IRO": (["iro"], None, "P-SM2"),
    "P-PR": (["peer_reviewer"], None, None),
    "P-QA": (["qa_officer"], None, None),
    "P-LQA": (["lead_qa_auditor"], None, None),
    "P-ADMIN": (["administrator"], None, None),
    # Bad data: a cycle of line managers must not hang the gateway.
    "P-X1": (["team_manager"], None, "P-X2"),
    "P-X2": (["team_manager"], None, "P-X1"),
}


def _case(team: str, worker: str | None, manager: str | None, n: int = 0) -> dict[str, Any]:
    return {"child_name": f"Child {team} {n}", "case_type": "CIN", "team_id": team, "allocated_worker_id": worker, "team_manager_id": manager, "opened_on": "2026-02-02"}


async def _directory(gw: RunningGateway, cases: dict[str, dict[str, Any]]) -> dict[str, str]:
    writer = await gw.as_person(INTEGRATION)
    teams = [{"id": i, **t} for i, t in TEAMS.items()]
    people = [
        {"id": i, "name": f"Person {i}", "email": f"{i.lower()}@council.example", "roles": roles, "team_id": team, "line_manager_id": manager}
        for i, (roles, team, manager) in PEOPLE.items()
    ]
    for plural, rows in (("teams", teams), ("people", people), ("cases", [{"id": i, **c} for i, c in cases.items()])):
        resp = await gw.http.post(f"/api/v1/directory/{plural}:import", json=rows, headers=writer)
        assert resp.status_code == 200 and resp.json()["rejected"] == 0, resp.text
    return writer


def _without_id(body: dict[str, Any], record_id: str) -> dict[str, Any]:
    return {k: (v.replace(record_id, "<id>") if isinstance(v, str) else v) for k, v in body.items() if k != "correlation_id"}


async def test_only_those_with_a_reason_read_a_childs_case_and_its_history(service_env) -> None:
    cases = {
        "C-A1": _case("T-A", "P-SWA", "P-TMA"),
        "C-A2": _case("T-A", "P-SWB", "P-TMA"),  # allocated to a worker of another team
        "C-B1": _case("T-B", "P-SWB", "P-TMB"),
    }
    async with serve_gateway() as gw:
        writer = await _directory(gw, cases)
        changed = await gw.http.put("/api/v1/directory/cases/C-A1", json=_case("T-A", "P-SWA", "P-TMA", n=1), headers=writer)
        assert changed.status_code == 200 and changed.json()["version"] == 2

        readers = ["P-SWA", "P-SWA2", "P-SPA", "P-TMA", "P-SM", "P-HOS", "P-AD", "P-QA", "P-LQA", "P-IRO", "P-ADMIN", INTEGRATION]
        for person in readers:
            headers = await gw.as_person(person)
            resp = await gw.http.get("/api/v1/directory/cases/C-A1", headers=headers)
            assert resp.status_code == 200, (person, resp.text)
            assert resp.json()["data"]["child_name"] == "Child T-A 1" and resp.headers["etag"] == '"2"'
            history = await gw.http.get("/api/v1/directory/cases/C-A1/history", headers=headers)
            assert history.status_code == 200, (person, history.text)
            assert [h["version"] for h in history.json()] == [1, 2]
            listed = await gw.http.get("/api/v1/directory/cases", params={"filter": "team_id:T-A"}, headers=headers)
            assert "C-A1" in [c["id"] for c in listed.json()["items"]], person

        # Everyone else meets exactly the answer for a case that does not exist.
        nobody = await gw.as_person("P-QA")
        missing = await gw.http.get("/api/v1/directory/cases/C-NONE", headers=nobody)
        missing_history = await gw.http.get("/api/v1/directory/cases/C-NONE/history", headers=nobody)
        assert missing.status_code == missing_history.status_code == 404
        for person in ["P-SWB", "P-TMB", "P-SM2", "P-AD2", "P-PERF", "P-PR", "P-X1"]:
            headers = await gw.as_person(person)
            for path, expected in (("", missing), ("/history", missing_history)):
                resp = await gw.http.get(f"/api/v1/directory/cases/C-A1{path}", headers=headers)
                assert resp.status_code == 404, (person, path, resp.text)
                assert resp.headers["content-type"] == "application/problem+json"
                assert _without_id(resp.json(), "C-A1") == _without_id(expected.json(), "C-NONE"), (person, path)
                assert "Child" not in resp.text
            listed = await gw.http.get("/api/v1/directory/cases", headers=headers)
            assert "C-A1" not in [c["id"] for c in listed.json()["items"]], person

        # The other team's worker reads their own team's case and the one allocated to them, no more.
        swb = await gw.as_person("P-SWB")
        assert [c["id"] for c in (await gw.http.get("/api/v1/directory/cases", headers=swb)).json()["items"]] == ["C-A2", "C-B1"]
        assert (await gw.http.get("/api/v1/directory/cases/C-A2", headers=swb)).status_code == 200
        assert [c["id"] for c in (await gw.http.get("/api/v1/directory/cases", params={"filter": "team_id:T-A"}, headers=swb)).json()["items"]] == ["C-A2"]
        # The cycle is walked and ends: its members manage no team, so they read nothing.
        assert (await gw.http.get("/api/v1/directory/cases", headers=await gw.as_person("P-X2"))).json()["items"] == []
        # Teams and people stay readable by staff.
        assert (await gw.http.get("/api/v1/directory/teams/T-A", headers=swb)).status_code == 200
        assert (await gw.http.get("/api/v1/directory/people/P-SWA", headers=swb)).status_code == 200

        # A change of line manager counts at once: the team's line now runs up to P-SM2, not P-SM.
        tma = {"name": "Person P-TMA", "email": "p-tma@council.example", "roles": ["team_manager", "auditor"], "team_id": "T-A", "line_manager_id": "P-SM2"}
        assert (await gw.http.put("/api/v1/directory/people/P-TMA", json=tma, headers=writer)).status_code == 200
        assert (await gw.http.get("/api/v1/directory/cases/C-A1", headers=await gw.as_person("P-SM2"))).status_code == 200
        assert (await gw.http.get("/api/v1/directory/cases/C-A1", headers=await gw.as_person("P-AD2"))).status_code == 200
        assert (await gw.http.get("/api/v1/directory/cases/C-A1", headers=await gw.as_person("P-SM"))).status_code == 404


async def _pages(gw: RunningGateway, headers: dict[str, str], limit: int, **params: str) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        resp = await gw.http.get("/api/v1/directory/cases", params=query, headers=headers)
        assert resp.status_code == 200, resp.text
        pages.append([c["id"] for c in resp.json()["items"]])
        cursor = resp.json()["next"]
        if cursor is None:
            return pages


@pytest.mark.parametrize("small", [False, True], ids=["as-configured", "chunked"])
async def test_a_paginated_list_holds_exactly_the_cases_the_caller_may_read(service_env, monkeypatch: pytest.MonkeyPatch, small: bool) -> None:
    if small:  # every $in asked one value at a time, and every walk down the chain done in memory
        monkeypatch.setattr(store, "IN_CHUNK", 1)
        monkeypatch.setattr(store, "WHOLE_STAFF", 0)
    cases: dict[str, dict[str, Any]] = {}
    for i in range(60):  # ids interleave the teams, so every page mixes readable and unreadable cases
        team = "T-A" if i % 3 else "T-B"
        worker = "P-SWB" if i % 10 == 1 else ("P-SWA" if team == "T-A" else "P-SWB")
        manager = "P-TMB" if i % 17 == 5 else ("P-TMA" if team == "T-A" else "P-TMB")
        cases[f"C-{i:03d}"] = _case(team, worker, manager, n=i)
    async with serve_gateway() as gw:
        await _directory(gw, cases)
        team_a = sorted(i for i, c in cases.items() if c["team_id"] == "T-A")
        team_b = sorted(i for i, c in cases.items() if c["team_id"] == "T-B")
        expected = {
            "P-SWA": team_a,
            "P-SM": team_a,
            "P-AD": team_a,
            "P-SWB": sorted(i for i, c in cases.items() if c["team_id"] == "T-B" or c["allocated_worker_id"] == "P-SWB"),
            "P-TMB": sorted(i for i, c in cases.items() if c["team_id"] == "T-B" or c["team_manager_id"] == "P-TMB"),
            "P-QA": sorted(cases),
            INTEGRATION: sorted(cases),
            "P-PERF": [],
            "P-IRO": sorted(cases),  # an independent reviewer raises resolutions about any child's plan
        }
        assert set(expected["P-SWB"]) - set(team_b) and set(expected["P-TMB"]) - set(team_b)  # some of team A's are theirs
        for person, ids in expected.items():
            headers = await gw.as_person(person)
            for limit in (7, 50):
                pages = await _pages(gw, headers, limit)
                assert [i for page in pages for i in page] == ids, (person, limit)
                assert all(len(page) == limit for page in pages[:-1]), (person, limit)
        # With a filter: P-SWB's cases in team A are those allocated to them there.
        pages = await _pages(gw, await gw.as_person("P-SWB"), 2, filter="team_id:T-A")
        assert [i for page in pages for i in page] == sorted(i for i in team_a if cases[i]["allocated_worker_id"] == "P-SWB")
        pages = await _pages(gw, await gw.as_person("P-SM"), 5, filter="allocated_worker_id:P-SWB")
        assert [i for page in pages for i in page] == sorted(i for i in team_a if cases[i]["allocated_worker_id"] == "P-SWB")


async def test_a_made_up_cursor_whose_after_is_not_an_id_is_refused(service_env) -> None:
    async with serve_gateway() as gw:
        writer = await _directory(gw, {"C-A1": _case("T-A", "P-SWA", "P-TMA")})
        first = await gw.http.get("/api/v1/directory/teams", params={"limit": "1"}, headers=writer)
        assert [t["id"] for t in first.json()["items"]] == ["T-A"]
        second = await gw.http.get("/api/v1/directory/teams", params={"limit": "1", "cursor": first.json()["next"]}, headers=writer)
        assert [t["id"] for t in second.json()["items"]] == ["T-B"]
        for after in (1, ["T-A"], {"$gt": ""}):
            resp = await gw.http.get("/api/v1/directory/teams", params={"cursor": encode_cursor({"after": after})}, headers=writer)
            assert resp.status_code == 400, (after, resp.text)
            assert resp.json()["type"].endswith("bad-cursor")
