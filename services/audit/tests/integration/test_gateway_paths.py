"""Behind the gateway (``X-Forwarded-Prefix``, as the gateway sends it) a 201's ``Location``, a
report's PDF ``href`` and a problem's ``instance`` are gateway paths the client can follow; every
422 lists its errors as ``field``, ``message``, ``code``."""

from __future__ import annotations

from audit.main import create_app

from devstack.testing import problem as _problem
from devstack.testing import running_service

from .conftest import clock, seed_directory

LEAD = ("P-QASM", ["service_manager", "lead_qa_auditor"])
BEHIND_THE_GATEWAY = {"X-Forwarded-Prefix": "/api/v1/audit"}


def _forwarded(public: str) -> str:
    """The service path the gateway forwards a public path to (``/api/v1/audit/x`` -> ``/v1/x``)."""
    assert public.startswith("/api/v1/audit/"), public
    return "/v1/" + public.removeprefix("/api/v1/audit/")


async def test_a_reports_location_and_pdf_href_are_gateway_paths_that_lead_to_it(service_env) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        lead = svc.as_person(LEAD[0], roles=LEAD[1])

        draft = await svc.http.post("/v1/hillingdon/monthly-reports", json={"month": "2026-10"}, headers={**lead, **BEHIND_THE_GATEWAY})
        assert draft.status_code == 201, draft.text
        assert draft.headers["Location"] == "/api/v1/audit/hillingdon/monthly-reports/2026-10"
        assert draft.json()["pdf_href"] == "/api/v1/audit/hillingdon/monthly-reports/2026-10/pdf"

        read = await svc.http.get(_forwarded(draft.headers["Location"]), headers={**lead, **BEHIND_THE_GATEWAY})
        assert read.status_code == 200 and read.json()["pdf_href"] == draft.json()["pdf_href"]
        pdf = await svc.http.get(_forwarded(read.json()["pdf_href"]), headers=lead)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

        direct = await svc.http.get("/v1/hillingdon/monthly-reports/2026-10", headers=lead)
        assert direct.json()["pdf_href"] == "/v1/hillingdon/monthly-reports/2026-10/pdf"

        missing = _problem(await svc.http.get("/v1/hillingdon/monthly-reports/2026-09", headers={**lead, **BEHIND_THE_GATEWAY}), 404)
        assert missing["instance"] == "/api/v1/audit/hillingdon/monthly-reports/2026-09"


async def test_request_validation_and_domain_validation_give_one_errors_shape(service_env) -> None:
    async with running_service(lambda: create_app(clock=clock())) as svc:
        await seed_directory(svc.db)
        lead = {**svc.as_person(LEAD[0], roles=LEAD[1]), **BEHIND_THE_GATEWAY}

        malformed = _problem(await svc.http.post("/v1/hillingdon/monthly-reports", json={}, headers=lead), 422)
        assert malformed["instance"] == "/api/v1/audit/hillingdon/monthly-reports"
        assert malformed["errors"] == [{"field": "body.month", "message": "Field required", "code": "missing"}]

        tm = {**svc.as_person("P-TM3", roles=["team_manager"], teams=["T-CP"]), **BEHIND_THE_GATEWAY}
        issued = await svc.http.post("/v1/team-reviews", json={"team_id": "T-CP", "to": "2026-09"}, headers=tm)
        assert issued.status_code == 201, issued.text
        assert issued.headers["Location"] == f"/api/v1/audit/team-reviews/{issued.json()['id']}"
        ruled = _problem(
            await svc.http.put(f"{_forwarded(issued.headers['Location'])}/priorities", json={"priorities": [" "]}, headers={**tm, "If-Match": issued.headers["ETag"]}),
            422,
        )
        assert ruled["type"].endswith("/invalid-entries")
        assert ruled["errors"] == [{"field": "priorities", "message": "agree at least one key priority for focused attention", "code": "invalid"}]

        for error in [*malformed["errors"], *ruled["errors"]]:
            assert set(error) == {"field", "message", "code"}
