"""Forwarding that cannot be confused: the gateway in front of a real service (sign-off, served by
uvicorn as deployed), sent hostile paths over one raw keep-alive connection.

Each hostile request gets a 4xx problem+json and the next request on the same connection is
answered; what reaches the service is the path as the client encoded it (a stand-in records it);
a trailing slash is a 404 that names no internal address; 405s carry ``Allow``; a body declared
and never sent is a 408 within ``BODY_READ_TIMEOUT_S`` (the gateway's own routes, forwarded
routes and the service itself); an integer beyond 64 bits is a 422.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from signoff.main import create_app as create_signoff

from devstack.testing import running_service

from ..conftest import RunningGateway, serve_gateway, serve_stand_in, served

PROBLEM = "application/problem+json"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One raw HTTP/1.1 keep-alive connection: what a client that sends bytes as it likes sees."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        host, port = url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def send(self, method: str, target: bytes, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: qa.example"]
        lines += [f"{k}: {v}".encode("latin-1") for k, v in (headers or {}).items()]
        self.writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await self.writer.drain()

    async def answer(self, timeout: float = 10) -> Answer:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(self.reader.readexactly(length), timeout) if length else b""
        return Answer(int(status_line.split()[1]), headers, body)

    async def request(self, method: str, target: bytes, headers: dict[str, str] | None = None, body: bytes = b"") -> Answer:
        await self.send(method, target, headers, body)
        return await self.answer()

    async def closed_by_server(self, timeout: float = 5) -> bool:
        return await asyncio.wait_for(self.reader.read(1), timeout) == b""

    def close(self) -> None:
        self.writer.close()


@asynccontextmanager
async def serve_signoff(**env: str) -> AsyncIterator[str]:
    """The sign-off service (needs ``service_env``; ``env`` on top) served by uvicorn; yields its URL."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        app = create_signoff()
    async with served(app, "the sign-off service") as url:
        yield url


@asynccontextmanager
async def gateway_before_signoff(**overrides: Any) -> AsyncIterator[tuple[RunningGateway, str, dict[str, str]]]:
    """The gateway in front of a real sign-off service; yields it, the service's URL and a caller's headers."""
    async with serve_signoff() as signoff_url, serve_gateway(signoff_url=signoff_url, **overrides) as gw:
        await gw.add_person("P-1", roles=["team_manager"], team_id="T-1")
        yield gw, signoff_url, await gw.as_person("P-1")


def assert_problem(answer: Answer, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = (status,) if isinstance(status, int) else status
    assert answer.status in statuses, (answer.status, answer.body)
    assert answer.headers["content-type"] == PROBLEM, answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == answer.status
    return body


HOSTILE = [
    # (what, target under /api/v1/signoff, status)
    ("a NUL byte", b"/exemplars/a%00b", 400),
    ("a control character", b"/exemplars/a%0Ab", 400),
    ("DEL", b"/exemplars/a%7Fb", 400),
    ("an encoded '?' that would inject a query", b"/exemplars/a%3Fx=1", 422),
    ("an encoded '#'", b"/exemplars/a%23b", 422),
    ("..%2F", b"/exemplar-types/..%2Fexemplars", 400),
    ("%2e%2e/", b"/exemplar-types/%2e%2e/exemplars", 400),
    ("%2E%2E at the end", b"/exemplar-types/%2E%2E", 400),
    ("a '.' segment", b"/exemplar-types/./INIASS", 400),
    ("a bare '..' segment", b"/exemplar-types/../exemplars", 400),
    ("a malformed escape", b"/exemplars/100%", 400),
    ("a non-ASCII id, percent-encoded", b"/exemplars/%C3%A9t%C3%A9-%E4%B8%9C", 422),
    ("invalid UTF-8", b"/exemplars/%FF%FE", 422),
    ("an overlong id", b"/exemplars/" + b"x" * 4000, 422),
    ("an encoded service prefix", b"%2Fexemplars", 400),
]


async def test_hostile_paths_get_4xx_problems_and_the_connection_stays_usable(service_env) -> None:
    async with gateway_before_signoff() as (gw, _, caller):
        connection = await Connection.open(gw.url)
        try:
            for what, target, status in HOSTILE:
                answer = await connection.request("GET", b"/api/v1/signoff" + target, caller)
                body = assert_problem(answer, status)
                if status == 400:
                    assert body["type"].endswith("/invalid-path"), (what, body)
                else:  # the service's own answer about the id it was given
                    assert any(e.get("field", e.get("location")) in ("path.exemplar_id", ["path", "exemplar_id"]) for e in body["errors"]), (what, body)
                # The same connection answers the next request.
                after = await connection.request("GET", b"/api/v1/signoff/exemplar-types/INIASS", caller)
                assert after.status == 200, (what, after.status, after.body)
                assert after.json()["code"] == "INIASS"
        finally:
            connection.close()


async def test_an_encoded_question_mark_is_part_of_the_id_not_a_query(service_env) -> None:
    async with gateway_before_signoff() as (gw, _, caller):
        # Forwarded decoded, "INIASS%3Fx=1" became /v1/exemplar-types/INIASS?x=1: the type itself (200).
        resp = await gw.http.get("/api/v1/signoff/exemplar-types/INIASS%3Fx=1", headers=caller)
        assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM
        assert (await gw.http.get("/api/v1/signoff/exemplar-types/INIASS?x=1", headers=caller)).status_code == 200


async def test_a_trailing_slash_is_a_404_problem_naming_no_internal_address(service_env) -> None:
    async with gateway_before_signoff() as (gw, signoff_url, caller):
        connection = await Connection.open(gw.url)
        try:
            for target in (b"/api/v1/signoff/exemplars/", b"/api/v1/signoff/exemplar-types/", b"/api/v1/me/"):
                answer = await connection.request("GET", target, caller)
                body = assert_problem(answer, 404)
                assert "drop the trailing slash" in body["detail"]
                assert "location" not in answer.headers
                everything = answer.body.decode() + json.dumps(answer.headers)
                assert "127.0.0.1" not in everything and signoff_url.split("//")[1] not in everything
            assert (await connection.request("GET", b"/api/v1/signoff/exemplar-types", caller)).status == 200
        finally:
            connection.close()


async def test_405s_name_the_allowed_methods(service_env) -> None:
    async with gateway_before_signoff() as (gw, _, caller):
        connection = await Connection.open(gw.url)
        try:
            for method in ("TRACE", "OPTIONS"):  # not forwarded
                answer = await connection.request(method, b"/api/v1/signoff/exemplar-types", caller)
                assert_problem(answer, 405)
                assert set(answer.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
            own = await connection.request("DELETE", b"/api/v1/me", caller)  # the gateway's own route (Starlette's 405)
            assert_problem(own, 405)
            assert own.headers["allow"] == "GET"
            service = await connection.request("DELETE", b"/api/v1/signoff/exemplar-types/INIASS", caller)  # the service's 405
            assert_problem(service, 405)
            assert set(service.headers["allow"].split(", ")) >= {"GET", "PUT"}
            assert (await connection.request("GET", b"/api/v1/signoff/exemplar-types/INIASS", caller)).status == 200
        finally:
            connection.close()


async def test_an_integer_beyond_64_bits_is_a_422_problem(service_env) -> None:
    async with gateway_before_signoff() as (gw, _, caller):
        assert (await gw.http.get("/api/v1/signoff/exemplar-types/INIASS/versions/1", headers=caller)).status_code == 200
        for number in (2**63, 2**64, 10**40):
            resp = await gw.http.get(f"/api/v1/signoff/exemplar-types/INIASS/versions/{number}", headers=caller)
            assert resp.status_code == 422, resp.text
            assert resp.headers["content-type"] == PROBLEM


async def test_a_declared_body_that_never_comes_is_a_408_within_the_timeout(service_env) -> None:
    timeout = 0.5
    async with serve_signoff(BODY_READ_TIMEOUT_S=str(timeout)) as signoff_url, serve_gateway(signoff_url=signoff_url, body_read_timeout_s=timeout) as gw:
        await gw.add_person("P-1", roles=["team_manager"], team_id="T-1")
        caller = await gw.as_person("P-1")
        integration = await gw.as_person("lcs-sync")
        cases = [
            (gw.url, "/api/v1/signoff/exemplars", caller),  # forwarded: the proxy's body read
            (gw.url, "/api/v1/directory/people/P-2", integration),  # the gateway's own route
            (signoff_url, "/v1/exemplars", {}),  # the service itself
        ]
        for url, path, headers in cases:
            connection = await Connection.open(url)
            try:
                started = time.monotonic()
                method = "PUT" if "directory" in path else "POST"
                await connection.send(method, path.encode(), {**headers, "Content-Type": "application/json", "Content-Length": "100"})
                answer = await connection.answer(timeout=timeout + 5)
                elapsed = time.monotonic() - started
                body = assert_problem(answer, 408)
                assert body["type"].endswith("/request-timeout")
                assert answer.headers["connection"] == "close"
                assert timeout * 0.8 < elapsed < timeout + 2, (path, elapsed)
                assert await connection.closed_by_server()
            finally:
                connection.close()


# --- What reaches the service: a stand-in that records the request line as it came -------------


@dataclass
class Recorder:
    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def record(self, request: web.Request) -> web.Response:
        self.seen.append({"raw_path": request.raw_path, "headers": request.headers.copy()})
        return web.json_response({"ok": True})


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    stand_in = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stand_in.record)
    async with serve_stand_in(app) as stand_in.url:
        yield stand_in


async def test_the_service_gets_the_path_as_the_client_encoded_it_and_the_gateway_prefix(service_env, recorder: Recorder) -> None:
    async with serve_gateway(signoff_url=recorder.url) as gw:
        await gw.add_person("P-1")
        headers = {**await gw.as_person("P-1"), "X-Forwarded-Prefix": "/evil"}
        connection = await Connection.open(gw.url)
        try:
            for target, forwarded in [
                (b"/api/v1/signoff/exemplars/a%3Fx=1?b=2", "/v1/exemplars/a%3Fx=1?b=2"),
                (b"/api/v1/signoff/exemplars/%C3%A9t%C3%A9", "/v1/exemplars/%C3%A9t%C3%A9"),
                (b"/api/v1/signoff/a%2Fb/c%23d", "/v1/a%2Fb/c%23d"),
                (b"/api/v1/signoff/exemplars/x..y/.hidden", "/v1/exemplars/x..y/.hidden"),
            ]:
                answer = await connection.request("GET", target, headers)
                assert answer.status == 200, (target, answer.body)
                assert recorder.seen[-1]["raw_path"] == forwarded
                assert recorder.seen[-1]["headers"]["X-Forwarded-Prefix"] == "/api/v1/signoff"
            assert_problem(await connection.request("GET", b"/api/v1/signoff/exemplars/%2e./x", headers), 400)
            assert len(recorder.seen) == 4  # the refused one never reached the service
        finally:
            connection.close()


# --- Every service answers a hostile path segment with a problem, whatever the byte ---------------

HOSTILE_SEGMENTS = ["a%00b", "%FF%FE", "%C3%28", "%E4%B8%9C%E5%8C%BA", "x" * 3000, "9" * 30, "0000-01", "a%0D%0Ab", "%2E%2E"]


@pytest.mark.parametrize("service", ["signoff", "resolution", "audit", "notify"])
async def test_every_get_route_of_every_service_answers_hostile_segments_with_a_problem(service_env, service: str) -> None:
    create_app = importlib.import_module(f"{service}.main").create_app
    async with running_service(create_app) as svc:
        paths = [p for p, ops in svc.app.openapi()["paths"].items() if "get" in ops and p.startswith("/v1/") and "{" in p]
        assert paths, service
        caller = svc.as_person("P-ANY", roles=["qa_officer", "team_manager", "administrator"], teams=["T-1"])
        answered: set[int] = set()
        for path in paths:
            for segment in HOSTILE_SEGMENTS:
                target = re.sub(r"\{[^}]+\}", segment, path)
                resp = await svc.http.get(target, headers=caller)
                # Some of these are valid ids (all digits, a month): a 200 for those is right.
                assert resp.status_code < 500, (service, target[:120], resp.status_code, resp.text[:300])
                if resp.status_code >= 400:
                    assert resp.headers["content-type"] == PROBLEM, (service, target[:120], resp.headers)
                    answered.add(resp.status_code)
        assert answered >= {422}, answered
