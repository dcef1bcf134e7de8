"""Forwarding to a service: identity, correlation, bodies, streams, and every way it can fail."""

from __future__ import annotations

import asyncio
import time

import httpx
from shared.identity import verify_identity

from devstack.infra import free_port
from devstack.testing import eventually

from ..conftest import RunningGateway, Upstream, serve_gateway

KEY = "IDENTITY_SIGNING_KEY"


async def test_a_request_reaches_the_service_with_the_signed_identity_and_a_forged_one_is_dropped(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        await gw.add_person("P-1", roles=["team_manager"], team_id="T-9")
        headers = {**await gw.as_person("P-1"), "X-QA-Identity": "forged.value", "X-Correlation-ID": "trace-42", "If-Match": '"3"'}
        resp = await gw.http.get("/api/v1/signoff/echo?b=2&a=1&a=x%20y", headers=headers)
    assert resp.status_code == 200, resp.text
    seen = resp.json()
    assert seen["path"] == "/v1/echo" and seen["query"] == "b=2&a=1&a=x%20y"
    identity = verify_identity(seen["headers"]["X-QA-Identity"], service_env[KEY].encode(), max_age_s=120)
    assert identity.person_id == "P-1" and identity.roles == {"team_manager"} and identity.teams == {"T-9"}
    assert seen["headers"]["X-Correlation-ID"] == "trace-42"
    assert seen["headers"]["If-Match"] == '"3"'
    assert "Authorization" not in seen["headers"]
    assert resp.headers["etag"] == '"7"' and resp.headers["x-upstream"] == "yes"
    assert resp.headers["x-correlation-id"] == "trace-42"


async def test_a_body_and_the_services_status_pass_through(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        await gw.add_person("P-1")
        resp = await gw.http.post("/api/v1/signoff/echo?status=409", json={"note": "é" * 10}, headers=await gw.as_person("P-1"))
    assert resp.status_code == 409
    assert resp.json()["method"] == "POST" and resp.json()["body"] == '{"note":"' + "é" * 10 + '"}'


async def test_without_a_valid_token_nothing_is_forwarded(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        for headers in ({}, {"Authorization": "Bearer nonsense"}, {"X-QA-Identity": "forged.value"}):
            resp = await gw.http.get("/api/v1/signoff/echo", headers=headers)
            assert resp.status_code == 401
            assert resp.headers["content-type"] == "application/problem+json"
            assert resp.json()["instance"] == "/api/v1/signoff/echo"
    assert upstream.requests == []


async def test_a_person_not_in_the_directory_is_refused(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        issuer = gw.runtime.extra["dev_issuer"]
        resp = await gw.http.get("/api/v1/signoff/echo", headers={"Authorization": f"Bearer {issuer.mint('P-GONE')}"})
    assert resp.status_code == 403 and resp.json()["type"].endswith("/not-in-directory")


async def test_an_unknown_service_is_not_found(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        await gw.add_person("P-1")
        resp = await gw.http.get("/api/v1/payroll/echo", headers=await gw.as_person("P-1"))
    assert resp.status_code == 404 and resp.headers["content-type"] == "application/problem+json"


async def _timed_get(gw: RunningGateway, path: str) -> tuple[httpx.Response, float]:
    """``path`` asked for by a member of staff, and how long the answer took in seconds."""
    await gw.add_person("P-1")
    headers = await gw.as_person("P-1")
    started = time.monotonic()
    resp = await gw.http.get(path, headers=headers)
    return resp, time.monotonic() - started


async def test_a_service_that_is_not_running_is_a_503_at_once(service_env) -> None:
    async with serve_gateway(resolution_url=f"http://127.0.0.1:{free_port()}") as gw:
        resp, elapsed = await _timed_get(gw, "/api/v1/resolution/anything")
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "5"
    assert resp.json()["type"].endswith("/service-unavailable")
    assert elapsed < 1.0


async def test_a_slow_service_is_a_504_after_the_read_timeout(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url, upstream_read_timeout_s=0.5) as gw:
        resp, elapsed = await _timed_get(gw, "/api/v1/signoff/slow")
    assert resp.status_code == 504
    assert resp.json()["type"].endswith("/service-timeout")
    assert 0.4 < elapsed < 2.5


async def test_server_sent_events_pass_through_as_they_are_produced_and_close_with_the_client(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url, upstream_read_timeout_s=0.5) as gw:
        await gw.add_person("P-1")
        headers = {**await gw.as_person("P-1"), "Accept": "text/event-stream"}
        async with gw.http.stream("GET", "/api/v1/signoff/events", headers=headers) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = resp.aiter_lines()
            received = [await anext(lines) for _ in range(4)]
            assert received == ["id: 1", "event: tray", 'data: {"n": 1}', ""]  # before the second exists
            await asyncio.sleep(1.0)  # quiet for longer than the read timeout: a stream has none
            upstream.release_second_event.set()
            received = [await anext(lines) for _ in range(4)]
            assert received == ["id: 2", "event: tray", 'data: {"n": 2}', ""]
        # The client went away: the gateway closes the service's stream too.
        await asyncio.wait_for(upstream.stream_closed.wait(), timeout=5)


async def test_a_chunked_answer_is_relayed_whole(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        await gw.add_person("P-1")
        resp = await gw.http.get("/api/v1/signoff/chunked", headers=await gw.as_person("P-1"))
    assert resp.status_code == 200
    assert resp.text == '{"i": 0}\n{"i": 1}\n{"i": 2}\n'


async def test_a_service_restarting_behind_a_pooled_connection_is_retried_for_reads(service_env, upstream: Upstream) -> None:
    async with serve_gateway(signoff_url=upstream.url) as gw:
        await gw.add_person("P-1")
        headers = await gw.as_person("P-1")
        assert (await gw.http.get("/api/v1/signoff/echo", headers=headers)).status_code == 200
        # Drop the pooled keep-alive connections under the gateway's feet, as a restart would.
        connector = gw.runtime.extra["http"].connector
        dropped = [p for conns in connector._conns.values() for p, _ in conns]
        assert dropped, "no pooled connection to drop"
        for protocol in dropped:
            protocol.transport.close()

        async def all_lost() -> bool:
            return all(p.transport is None for p in dropped)  # aiohttp's connection_lost ran for each

        await eventually(all_lost, interval=0.01, message="the pooled connections lost")
        assert (await gw.http.get("/api/v1/signoff/echo", headers=headers)).status_code == 200


async def test_the_client_is_httpx_only_in_tests() -> None:
    # The gateway forwards with aiohttp (see proxy.py); httpx here is only the test's client.
    assert httpx.__version__
