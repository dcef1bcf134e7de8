"""Inputs Schemathesis found answered 500 by the audit service, answered properly over the API:
a month in year 0 (a draw, a monthly report, a report's month), a team id beyond Latin-1 in a
CSV download's file name, an integer beyond 64 bits in a path."""

from __future__ import annotations

from urllib.parse import unquote

from audit.main import create_app
from shared.clock import FixedClock

from devstack.testing import running_service

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
