"""CORS for the front end's origins, the per-person rate limit and request size limits."""

from __future__ import annotations

from ..conftest import Upstream, serve_gateway

FRONT_END = "https://qa.council.example"


async def test_the_front_ends_origin_may_call_from_a_browser_and_others_may_not(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url, cors_origins=[FRONT_END]) as gw:
        await gw.add_person("P-1")
        preflight = {"Origin": FRONT_END, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization,if-match,content-type"}
        allowed = await gw.http.options("/api/v1/signoff/echo", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == FRONT_END
        assert "PUT" in allowed.headers["access-control-allow-methods"]
        assert "if-match" in allowed.headers["access-control-allow-headers"].lower()

        refused = await gw.http.options("/api/v1/signoff/echo", headers={**preflight, "Origin": "https://evil.example"})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers

        resp = await gw.http.get("/api/v1/signoff/echo", headers={**await gw.as_person("P-1"), "Origin": FRONT_END})
        assert resp.status_code == 200
        assert resp.headers["access-control-allow-origin"] == FRONT_END
        assert "etag" in resp.headers["access-control-expose-headers"].lower()
        # Errors carry the header too, so the front end can read the problem.
        unauthenticated = await gw.http.get("/api/v1/me", headers={"Origin": FRONT_END})
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["access-control-allow-origin"] == FRONT_END


async def test_without_configured_origins_no_cross_origin_call_is_allowed(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        resp = await gw.http.get("/api/v1/me", headers={"Origin": FRONT_END})
    assert "access-control-allow-origin" not in resp.headers


async def test_a_person_over_the_rate_limit_gets_429_with_retry_after_and_others_are_unaffected(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url, rate_limit_per_minute=6, rate_limit_burst=3) as gw:
        for person in ("P-1", "P-2"):
            await gw.add_person(person)
        p1, p2 = await gw.as_person("P-1"), await gw.as_person("P-2")
        answers = [await gw.http.get(path, headers=p1) for path in ("/api/v1/signoff/echo", "/api/v1/me", "/api/v1/signoff/echo")]
        assert [a.status_code for a in answers] == [200, 200, 200]
        forwarded = len(upstream.requests)
        for path in ("/api/v1/signoff/echo", "/api/v1/me", "/api/v1/directory/teams"):
            refused = await gw.http.get(path, headers=p1)
            assert refused.status_code == 429, path
            assert refused.headers["content-type"] == "application/problem+json"
            assert 1 <= int(refused.headers["retry-after"]) <= 10
        assert len(upstream.requests) == forwarded  # nothing refused reached the service
        assert (await gw.http.get("/api/v1/signoff/echo", headers=p2)).status_code == 200


async def test_bodies_over_the_limit_are_refused_with_413_and_the_bulk_import_takes_more(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url, max_request_bytes=2048, max_import_bytes=64 * 1024) as gw:
        await gw.add_person("P-1")
        person = await gw.as_person("P-1")
        big = {"note": "x" * 3000}
        resp = await gw.http.post("/api/v1/signoff/echo", json=big, headers=person)
        assert resp.status_code == 413
        assert resp.headers["content-type"] == "application/problem+json"
        assert "2048" in resp.json()["detail"]
        assert upstream.requests == []

        async def chunks():  # no Content-Length: counted as it is read
            for _ in range(4):
                yield b"y" * 1000

        streamed = await gw.http.post("/api/v1/signoff/echo", content=chunks(), headers=person)
        assert streamed.status_code == 413
        assert upstream.requests == []

        writer = await gw.as_person("lcs-sync")
        put = await gw.http.put("/api/v1/directory/teams/T-1", json={"name": "x" * 3000, "district": "d", "area": "a", "service": "s"}, headers=writer)
        assert put.status_code == 413

        rows = [{"id": f"T-{i}", "name": f"Team {i}", "district": "Canterbury", "area": "East Kent", "service": "Children's Services"} for i in range(60)]
        imported = await gw.http.post("/api/v1/directory/teams:import", json=rows, headers=writer)
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] == 60
        too_big = await gw.http.post("/api/v1/directory/teams:import", json=rows * 20, headers=writer)
        assert too_big.status_code == 413
