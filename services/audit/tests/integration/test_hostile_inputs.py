"""Inputs Schemathesis found answered 500 by the audit service, answered properly over the API:
a month in year 0 (a draw, a monthly report, a report's month), a team id beyond Latin-1 in a
CSV download's file name, an integer beyond 64 bits in a path, a cursor no page handed out."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from audit.main import create_app
from shared.clock import FixedClock
from shared.http import encode_cursor

from devstack.testing import eventually, running_service

from .conftest import DRAW_DAY, load_authority

PROBLEM = "application/problem+json"


def app():
    return lambda: create_app(clock=FixedClock(DRAW_DAY))


async def test_a_month_in_year_0_is_refused_with_422_problems_not_500(service_env) -> None:
    async with running_service(app()) as svc:
        qa = svc.as_person("P-QA", roles=["qa_officer"])
        lead = svc.as_person("P-LEAD", roles=["lead_qa_auditor"])
        perf = svc.as_person("P-PERF", roles=["performance_officer"])
        answers = [
            await svc.http.post("/v1/cycles/0000-01/draw", json={}, headers=qa),
            await svc.http.get("/v1/cycles/0000-01", headers=qa),
            await svc.http.post("/v1/hillingdon/monthly-reports", json={"month": "0000-01"}, headers=lead),
            await svc.http.get("/v1/reports/completion?month=0000-01", headers=perf),
            await svc.http.get("/v1/reports/grades?period=0000-Q1", headers=perf),
            await svc.http.get("/v1/reports/trend?from=0000-01&to=0000-02", headers=perf),
            await svc.http.get("/v1/reports/team-review?team_id=T0&to=0000-06", headers=perf),
        ]
        for resp in answers:
            assert resp.status_code == 422, (resp.request.url, resp.text)
            assert resp.headers["content-type"] == PROBLEM
        # The years either side of the range still work.
        assert (await svc.http.get("/v1/reports/completion?month=1900-01", headers=perf)).status_code == 200


async def test_a_csv_for_a_team_id_beyond_latin_1_downloads_with_its_name_in_filename_star(service_env) -> None:
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=1)
        perf = svc.as_person("P-PERF", roles=["performance_officer"])
        resp = await svc.http.get("/v1/reports/team-review?team_id=东区-Équipe&to=2026-12&format=csv", headers=perf)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/csv")
        disposition = resp.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="team-review-__-Equipe-2026-12.csv"; ')
        assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "team-review-东区-Équipe-2026-12.csv"


async def test_an_integer_beyond_64_bits_in_a_path_is_a_422_problem(service_env) -> None:
    async with running_service(app()) as svc:
        anyone = svc.as_person("P-SW", roles=["social_worker"])
        tools = (await svc.http.get("/v1/tools", headers=anyone)).json()["items"]
        tool_id = tools[0]["tool_id"]
        assert (await svc.http.get(f"/v1/tools/{tool_id}/versions/1", headers=anyone)).status_code == 200
        for number in (2**64, 2**70, 10**30):
            resp = await svc.http.get(f"/v1/tools/{tool_id}/versions/{number}", headers=anyone)
            assert resp.status_code == 422, resp.text
            assert resp.headers["content-type"] == PROBLEM


async def test_a_cursor_no_page_handed_out_is_a_400_problem_not_a_500_or_an_empty_page(service_env) -> None:
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=3, peer_reviewers=3)
        qa = svc.as_person("P-QA", roles=["qa_officer"])
        sick = {"person_id": "TM2", "reason": "sick_leave", "starts_on": "2026-11-30", "ends_on": "2026-12-21", "note": "Long-term sick"}
        dispensation = await svc.http.post("/v1/dispensations", json=sick, headers=qa)
        assert dispensation.status_code == 201, dispensation.text
        assert (await svc.http.post("/v1/cycles/2026-12/draw", json={"seed": "dec"}, headers=qa)).status_code == 201

        async def allocated() -> list[dict[str, Any]]:
            return list((await svc.http.get("/v1/audits", headers=qa)).json()["items"])

        audit_id = (await eventually(allocated, message="the draw's audits allocated"))[0]["id"]
        tool_id = (await svc.http.get("/v1/tools", headers=qa)).json()["items"][0]["tool_id"]
        made_up = [
            ("/v1/audits", {"after": 5}),  # an id that is a number: an empty page, before
            ("/v1/cycles", {"after": ["2026-12"]}),
            ("/v1/dispensations", {"after": {"$gt": ""}}),
            (f"/v1/dispensations/{dispensation.json()['dispensation_id']}/history", {"after": "x"}),  # a 500, before
            (f"/v1/audits/{audit_id}/pdfs", {"after": "x"}),  # a 500, before
            ("/v1/cycles/2026-12/assignments", {"after": 5}),
            ("/v1/cycles/2026-12/cases", {"after": 5}),
            (f"/v1/tools/{tool_id}/versions", {"before": "x"}),
        ]
        for path, position in made_up:
            resp = await svc.http.get(path, params={"cursor": encode_cursor(position)}, headers=qa)
            assert resp.status_code == 400 and resp.headers["content-type"] == PROBLEM, (path, resp.status_code, resp.text)
            assert resp.json()["type"].endswith("bad-cursor"), (path, resp.text)
        # The cursors the lists hand out still page them.
        whole = (await svc.http.get("/v1/cycles/2026-12/assignments", headers=qa)).json()["items"]
        first = (await svc.http.get("/v1/cycles/2026-12/assignments?limit=1", headers=qa)).json()
        rest = await svc.http.get("/v1/cycles/2026-12/assignments", params={"cursor": first["next"]}, headers=qa)
        assert rest.status_code == 200 and len(whole) == 2  # TM2 is dispensed
        assert first["items"] + rest.json()["items"] == whole
        cases = (await svc.http.get("/v1/cycles/2026-12/cases?limit=1", headers=qa)).json()
        assert (await svc.http.get("/v1/cycles/2026-12/cases", params={"cursor": cases["next"]}, headers=qa)).status_code == 200
