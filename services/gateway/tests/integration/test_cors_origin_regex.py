"""CORS by origin pattern (``CORS_ORIGIN_REGEX``, which ``./dev up`` sets to any local origin):
a browser on a matching origin may call the API; any other origin gets no CORS headers."""

from __future__ import annotations

from devstack.__main__ import DEV_CORS_ORIGIN_REGEX

from ..conftest import serve_gateway


async def test_a_local_front_end_on_any_port_may_call_the_api_and_no_other_origin(service_env) -> None:
    async with serve_gateway(cors_origin_regex=DEV_CORS_ORIGIN_REGEX) as gw:
        for origin in ("http://localhost:5173", "http://127.0.0.1:4200"):
            preflight = await gw.http.options(
                "/api/v1/me", headers={"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
            )
            assert preflight.status_code == 200, preflight.text
            assert preflight.headers["access-control-allow-origin"] == origin
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            me = await gw.http.get("/api/v1/me", headers={"Origin": origin, **await gw.as_person("lcs-sync")})
            assert me.headers["access-control-allow-origin"] == origin
        for origin in ("http://evil.example", "http://localhost.evil.example:5173"):
            preflight = await gw.http.options("/api/v1/me", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
            assert "access-control-allow-origin" not in preflight.headers
            me = await gw.http.get("/api/v1/me", headers={"Origin": origin, **await gw.as_person("lcs-sync")})
            assert "access-control-allow-origin" not in me.headers


async def test_without_origins_configured_there_is_no_cors(service_env) -> None:
    async with serve_gateway() as gw:
        me = await gw.http.get("/api/v1/me", headers={"Origin": "http://localhost:5173", **await gw.as_person("lcs-sync")})
        assert "access-control-allow-origin" not in me.headers
