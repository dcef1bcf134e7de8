"""Real-time push: an SSE client (over real HTTP to a uvicorn server) receives a new task within a
second of the event that creates it, whichever replica handled the event, and only its own tasks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import notify.mappings.audit as a
import uvicorn
from notify.main import create_app
from notify.mappings import signoff as s

from devstack.infra import free_port
from devstack.testing import eventually, running_service


@contextlib.asynccontextmanager
async def serving(svc: Any) -> AsyncIterator[str]:
    """The in-process app (its lifespan already running) served over real HTTP on loopback."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(svc.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, interval=0.02, message="the app served over HTTP")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def _next_task_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "task":
            return dict(json.loads(line.removeprefix("data: ")))
    raise AssertionError("stream ended")


async def test_a_stream_receives_a_new_task_within_a_second_whichever_replica_handles_the_event(smtp, kit) -> None:
    async with running_service(create_app) as one, running_service(create_app) as two, serving(two) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client, client.stream(
            "GET", "/v1/tasks/stream", headers=two.as_person("TM-1")
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            assert await anext(lines) == ": connected"
            for i in range(3):  # several events: the consumers of both replicas take their share
                # Someone else's task first: it must not reach this stream.
                await kit.publish(one, a.ALLOCATED, {"audit_id": f"B-{i}", "auditor_id": "TM-9"})
                started = time.monotonic()
                await kit.publish(one, a.ALLOCATED, {"audit_id": f"A-{i}", "auditor_id": "TM-1"})
                task = await asyncio.wait_for(_next_task_event(lines), timeout=5)
                elapsed = time.monotonic() - started
                assert (task["kind"], task["status"], task["context"]["audit_id"]) == ("audit", "open", f"A-{i}")
                assert elapsed < 1.0, f"task arrived after {elapsed:.3f}s"


async def test_a_change_to_a_task_is_pushed_too(smtp, kit) -> None:
    async with running_service(create_app) as svc, serving(svc) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client, client.stream(
            "GET", "/v1/tasks/stream", headers=svc.as_person("M-1")
        ) as response:
            lines = response.aiter_lines()
            await kit.publish(svc, s.WORKFLOW_MESSAGE_SENT, {
                "exemplar_id": "E-1", "case_id": "C-1", "team_id": "T-1", "type_code": "INIASS", "version": 1, "message_id": "m-1",
                "to_person_id": "M-1", "assigned_by": "W-1", "from_system": True, "action": "ready_for_counter_sign",
                "subject": "Initial Assessment Version 1 ready for counter-sign", "due_on": "2026-03-11", "sent_at": "2026-03-02T12:00:00+00:00",
            })
            opened = await asyncio.wait_for(_next_task_event(lines), timeout=5)
            assert opened["kind"] == "counter_sign"
            await kit.publish(svc, s.COUNTER_SIGNED, {"exemplar_id": "E-1", "version": 1, "counter_signed_by": "M-1"})
            closed = await asyncio.wait_for(_next_task_event(lines), timeout=5)
            assert (opened["id"], opened["status"]) == (closed["id"], "open")
            assert (closed["status"], closed["version"]) == ("done", 2)


async def test_the_stream_sends_heartbeats_and_needs_an_identity(smtp, kit, monkeypatch) -> None:
    monkeypatch.setenv("SSE_HEARTBEAT_S", "0.2")
    async with running_service(create_app) as svc, serving(svc) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            assert (await client.get("/v1/tasks/stream")).status_code == 401
            async with client.stream("GET", "/v1/tasks/stream", headers=svc.as_person("P-1")) as response:
                lines = response.aiter_lines()
                assert await anext(lines) == ": connected"
                seen = [await asyncio.wait_for(anext(lines), timeout=2) for _ in range(4)]
                assert ": heartbeat" in seen

        async def let_go() -> bool:
            return bool(svc.runtime.extra["hub"].subscribers == 0)

        await eventually(let_go, timeout=5, message="the closed stream's subscription released")
