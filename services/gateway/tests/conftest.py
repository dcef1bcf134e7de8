"""Fixtures for the gateway's integration tests: the gateway served by uvicorn on loopback (so
streaming and timeouts behave as in production), and a small stand-in service behind it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from aiohttp import web
from gateway.main import create_app
from gateway.settings import GatewaySettings

from devstack.infra import free_port
from devstack.testing import eventually

INTEGRATION = "lcs-sync"


@dataclass
class Upstream:
    """A stand-in service: echoes what it received, answers slowly, streams events on cue."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    release_second_event: asyncio.Event = field(default_factory=asyncio.Event)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)
    openapi_fetches: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1/echo", self.echo)
        app.router.add_get("/v1/slow", self.slow)
        app.router.add_get("/v1/events", self.events)
        app.router.add_get("/v1/chunked", self.chunked)
        app.router.add_get("/openapi.json", self.openapi)
        return app

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        seen = {"method": request.method, "path": request.path, "query": request.rel_url.raw_query_string, "headers": dict(request.headers), "body": body.decode()}
        self.requests.append(seen)
        return web.json_response(seen, status=int(request.query.get("status", "200")), headers={"ETag": '"7"', "X-Upstream": "yes"})

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"late": True})

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            await response.write(b"id: 1\nevent: tray\ndata: {\"n\": 1}\n\n")
            await self.release_second_event.wait()
            await response.write(b"id: 2\nevent: tray\ndata: {\"n\": 2}\n\n")
            while True:  # a heartbeat until the client leaves (writing then fails)
                await asyncio.sleep(0.1)
                await response.write(b": keep-alive\n\n")
        finally:
            self.stream_closed.set()
        return response

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(3):
            await response.write(json.dumps({"i": i}).encode() + b"\n")
        await response.write_eof()
        return response

    async def openapi(self, request: web.Request) -> web.Response:
        self.openapi_fetches += 1
        return web.json_response({
            "openapi": "3.1.0", "info": {"title": "stand-in", "version": "1"},
            "paths": {"/v1/echo": {"get": {"operationId": "echo", "tags": ["echo"], "summary": "Echo", "responses": {"200": {"description": "OK"}}}}},
        })


@asynccontextmanager
async def serve_stand_in(app: web.Application) -> AsyncIterator[str]:
    """A stand-in (an upstream service, an identity provider, a webhook receiver) served on a free
    loopback port: yields its base URL, ``http://127.0.0.1:<port>``."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    stand_in = Upstream()
    async with serve_stand_in(stand_in.app()) as stand_in.url:
        yield stand_in
        stand_in.release_second_event.set()


@dataclass
class RunningGateway:
    url: str
    app: Any
    http: httpx.AsyncClient

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def token(self, person_id: str) -> str:
        resp = await self.http.post("/auth/dev/token", json={"person_id": person_id})
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    async def as_person(self, person_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(person_id)}"}

    async def add_person(self, person_id: str, roles: list[str] | None = None, team_id: str = "T-1") -> None:
        body = {"name": f"Person {person_id}", "email": f"{person_id.lower()}@council.example", "roles": roles or ["social_worker"], "team_id": team_id}
        resp = await self.http.put(f"/api/v1/directory/people/{person_id}", json=body, headers=await self.as_person(INTEGRATION))
        assert resp.status_code in (200, 201), resp.text


@asynccontextmanager
async def served(app: Any, what: str) -> AsyncIterator[str]:
    """``app`` (its lifespan included) served by uvicorn on loopback, as deployed; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # it failed to start: its error, not a timeout
        return bool(server.started)

    await eventually(started, interval=0.02, message=f"{what} served by uvicorn")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serve_gateway(**overrides: Any) -> AsyncIterator[RunningGateway]:
    """The gateway app (needs ``service_env``) with settings ``overrides``, served by uvicorn."""
    settings = GatewaySettings(**{"dev_issuer_enabled": True, "integration_clients": [INTEGRATION], **overrides})
    app = create_app(settings)
    async with served(app, "the gateway") as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield RunningGateway(url, app, http)


def case_row(i: int, **overrides: object) -> dict[str, object]:
    """Row ``i`` of a bulk import of children's cases (``overrides`` change or add fields)."""
    return {
        "id": f"C-{i:05d}", "child_name": f"Child {i}", "case_type": "CIN", "team_id": "T-1", "allocated_worker_id": "P-1",
        "opened_on": "2026-02-02", **overrides,
    }


def case_rows_three_bad(count: int = 450) -> list[dict[str, object]]:
    """``count`` case rows, three of them refused: row 10's type, row 200 without an id, the last
    repeating row 0's id."""
    rows = [case_row(i) for i in range(count)]
    rows[10] = case_row(10, case_type="XX")
    rows[200] = {"child_name": "No id", "case_type": "CP", "team_id": "T-1", "opened_on": "2026-01-01"}
    rows[count - 1] = case_row(0)  # the same id as row 0
    return rows


async def social_worker_seen(gw: RunningGateway, person_id: str = "P-1") -> dict[str, str]:
    """A social worker the gateway has already answered for (who they are now cached): their headers."""
    await gw.add_person(person_id, roles=["social_worker"])
    headers = await gw.as_person(person_id)
    assert (await gw.http.get("/api/v1/me", headers=headers)).json()["roles"] == ["social_worker"]
    return headers
