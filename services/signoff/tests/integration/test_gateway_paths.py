"""Behind the gateway (``X-Forwarded-Prefix``, as the gateway sends it) a 201's ``Location`` and a
problem's ``instance`` are gateway paths; every 422 lists its errors as ``field``, ``message``, ``code``."""

from __future__ import annotations

from signoff.main import create_app

from devstack.testing import problem as _problem
from devstack.testing import running_service
from services.signoff.tests.integration.harness import complete_ia, load_directory, who

BEHIND_THE_GATEWAY = {"X-Forwarded-Prefix": "/api/v1/signoff"}


async def test_a_created_exemplars_location_and_a_problems_instance_are_gateway_paths(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        me = who(svc, "P-SW1")
        body = {"case_id": "C-1001", "type_code": "INIASS", "answers": complete_ia()}

        created = await svc.http.post("/v1/exemplars", json=body, headers={**me, **BEHIND_THE_GATEWAY})
        assert created.status_code == 201, created.text
        exemplar_id = created.json()["id"]
        assert created.headers["Location"] == f"/api/v1/signoff/exemplars/{exemplar_id}"
        # The gateway forwards /api/v1/signoff/<rest> to /v1/<rest>: the Location leads to the exemplar.
        followed = await svc.http.get("/v1/" + created.headers["Location"].removeprefix("/api/v1/signoff/"), headers=me)
        assert followed.status_code == 200 and followed.json()["id"] == exemplar_id

        direct = await svc.http.post("/v1/exemplars", json={**body, "case_id": "C-1002"}, headers=me)
        assert direct.headers["Location"] == f"/v1/exemplars/{direct.json()['id']}"

        missing = _problem(await svc.http.get("/v1/exemplars/nope", headers={**me, **BEHIND_THE_GATEWAY}), 404)
        assert missing["instance"] == "/api/v1/signoff/exemplars/nope"
        assert _problem(await svc.http.get("/v1/exemplars/nope", headers=me), 404)["instance"] == "/v1/exemplars/nope"
        forged = _problem(await svc.http.get("/v1/exemplars/nope", headers={**me, "X-Forwarded-Prefix": "https://evil.example/x"}), 404)
        assert forged["instance"] == "/v1/exemplars/nope"


async def test_request_validation_and_domain_validation_give_one_errors_shape(service_env) -> None:
    async with running_service(create_app) as svc:
        await load_directory(svc)
        me = {**who(svc, "P-SW1"), **BEHIND_THE_GATEWAY}

        malformed = _problem(await svc.http.post("/v1/exemplars", json={"type_code": "INIASS"}, headers=me), 422)
        assert malformed["type"].endswith("/validation-error") and malformed["instance"] == "/api/v1/signoff/exemplars"
        assert {"field": "body.case_id", "message": "Field required", "code": "missing"} in malformed["errors"]

        ruled = _problem(await svc.http.post("/v1/exemplars", json={"case_id": "C-404", "type_code": "NOSUCH"}, headers=me), 422)
        assert ruled["type"].endswith("/invalid-input")
        assert {(e["field"], e["code"]) for e in ruled["errors"]} == {("type_code", "unknown"), ("case_id", "unknown")}
        answers = _problem(
            await svc.http.post("/v1/exemplars", json={"case_id": "C-1001", "type_code": "INIASS", "answers": {"no_such_question": 1}}, headers=me), 422
        )
        assert answers["errors"] == [{"field": "answers.no_such_question", "message": answers["errors"][0]["message"], "code": "unknown"}]

        for error in [*malformed["errors"], *ruled["errors"], *answers["errors"]]:
            assert set(error) == {"field", "message", "code"} and all(isinstance(v, str) and v for v in error.values())
