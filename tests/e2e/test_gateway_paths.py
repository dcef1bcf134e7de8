"""Through the gateway, a service's problem names the path the client used (``instance``): the
gateway tells the service its public prefix (``X-Forwarded-Prefix``), and a client cannot."""

from __future__ import annotations


async def test_a_services_problem_instance_is_the_gateway_path_whatever_prefix_the_client_claims(gateway) -> None:
    me = await gateway.as_person("P-SW1")
    for headers in (me, {**me, "X-Forwarded-Prefix": "/api/v1/elsewhere"}):
        resp = await gateway.http.get("/api/v1/signoff/exemplars/no-such-exemplar", headers=headers)
        assert resp.status_code == 404 and resp.headers["content-type"] == "application/problem+json", resp.text
        assert resp.json()["instance"] == "/api/v1/signoff/exemplars/no-such-exemplar"
