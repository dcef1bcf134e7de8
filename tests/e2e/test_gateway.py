"""The gateway end to end, with the services as real processes: tokens of an OIDC issuer (every
kind of bad one refused), a stopped service, Server-Sent Events, the directory's bulk import of
10,000 cases, and the documentation site (validated, and rendered in headless Chromium)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from openapi_spec_validator import validate
from pymongo import AsyncMongoClient

from devstack.infra import node_tool
from devstack.stack import Stack
from devstack.testing import EventCapture, Infrastructure, eventually

pytestmark = pytest.mark.e2e

ISSUER = "https://idp.council.example"
AUDIENCE = "qa-platform"
SERVICES = ("signoff", "resolution", "audit", "notify")


class SigningKey:
    def __init__(self) -> None:
        self.kid = f"k-{uuid.uuid4().hex[:6]}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        return {**RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True), "kid": self.kid, "use": "sig", "alg": "RS256"}

    def mint(self, sub: str, *, audience: str = AUDIENCE, issued: float | None = None, kid: str | None = None) -> str:
        now = int(issued if issued is not None else time.time())
        claims = {"iss": ISSUER, "aud": audience, "sub": sub, "iat": now, "exp": now + 600}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def bearer(self, sub: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(sub, **kwargs)}"}


class StandIn:
    """An OIDC issuer's JWKS and an event-streaming service, on a thread of the test process."""

    def __init__(self) -> None:
        self.keys = [SigningKey()]
        self.jwks_fetches = 0
        self.second_event = threading.Event()
        self.stream_closed = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/jwks.json":
                    stand_in.jwks_fetches += 1
                    body = json.dumps({"keys": [k.jwk() for k in stand_in.keys]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/v1/stream":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        self._event(1)
                        stand_in.second_event.wait(30)
                        self._event(2)
                        while True:  # heartbeats until the gateway lets go of the stream
                            time.sleep(0.1)
                            self.wfile.write(b": keep-alive\n\n")
                            self.wfile.flush()
                    except OSError:
                        stand_in.stream_closed.set()
                else:
                    self.send_error(404)

            def _event(self, n: int) -> None:
                self.wfile.write(f'id: {n}\ndata: {{"n": {n}}}\n\n'.encode())
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.second_event.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="class")
def oidc(system: Stack) -> Iterator[StandIn]:
    """The gateway restarted to trust a (stand-in) OIDC issuer, with notify's address pointed at a
    stand-in event stream; the usual gateway again afterwards."""
    stand_in = StandIn()
    system.restart("gateway", overrides={
        "JWKS_URL": f"{stand_in.url}/jwks.json", "JWT_ISSUER": ISSUER, "JWKS_MIN_REFETCH_S": "0", "NOTIFY_URL": stand_in.url,
    })
    try:
        yield stand_in
    finally:
        stand_in.close()
        system.restart("gateway")


class TestThroughAnOidcIssuer:
    async def test_the_issuers_token_reaches_a_service_and_each_kind_of_bad_token_is_refused(self, oidc: StandIn, system: Stack) -> None:
        key = oidc.keys[0]
        async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=30) as client:
            ok = await client.get("/api/v1/signoff/me", headers=key.bearer("P-SW1"))
            assert ok.status_code == 200, ok.text
            assert ok.json()["person_id"] == "P-SW1" and ok.json()["roles"] == ["social_worker"]
            bad = {
                "missing": {},
                "expired": key.bearer("P-SW1", issued=time.time() - 7200),
                "wrong audience": key.bearer("P-SW1", audience="another-app"),
                "signed by another key": SigningKey().bearer("P-SW1", kid=key.kid),
                "unknown kid": SigningKey().bearer("P-SW1"),
                "not a JWT": {"Authorization": "Bearer abc.def"},
            }
            for what, headers in bad.items():
                for path in ("/api/v1/signoff/me", "/api/v1/me", "/api/v1/directory/cases"):
                    resp = await client.get(path, headers={**headers, "X-QA-Identity": "forged"})
                    assert resp.status_code == 401, (what, path)
                    assert resp.headers["content-type"] == "application/problem+json", (what, path)

    async def test_a_key_the_issuer_rotates_in_is_fetched_and_accepted(self, oidc: StandIn, system: Stack) -> None:
        async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=30) as client:
            assert (await client.get("/api/v1/me", headers=oidc.keys[0].bearer("P-SW2"))).status_code == 200
            fetches = oidc.jwks_fetches
            new = SigningKey()
            oidc.keys = [new, *oidc.keys]
            me = await client.get("/api/v1/me", headers=new.bearer("P-SW2"))
            assert me.status_code == 200 and me.json()["person_id"] == "P-SW2"
            assert oidc.jwks_fetches == fetches + 1

    async def test_server_sent_events_pass_through_as_they_come(self, oidc: StandIn, system: Stack) -> None:
        headers = {**oidc.keys[0].bearer("P-SW1"), "Accept": "text/event-stream"}
        async with httpx.AsyncClient(base_url=system.url("gateway"), timeout=30) as client:
            async with client.stream("GET", "/api/v1/notify/stream", headers=headers) as resp:
                assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
                lines = resp.aiter_lines()
                assert [await anext(lines) for _ in range(3)] == ["id: 1", 'data: {"n": 1}', ""]
                oidc.second_event.set()  # only now does the second event exist
                assert [await anext(lines) for _ in range(3)] == ["id: 2", 'data: {"n": 2}', ""]
        assert await asyncio.to_thread(oidc.stream_closed.wait, 10), "the gateway kept the service's stream open"


async def test_a_stopped_service_gives_503_quickly_and_answers_again_after_restart(gateway, system: Stack) -> None:
    headers = await gateway.as_person("P-SW1")
    assert (await gateway.http.get("/api/v1/notify/me", headers=headers)).status_code == 200
    system.services["notify"].stop()
    try:
        started = time.monotonic()
        resp = await gateway.http.get("/api/v1/notify/me", headers=headers)
        assert time.monotonic() - started < 1.0
        assert resp.status_code == 503
        assert resp.headers["content-type"] == "application/problem+json" and resp.headers["retry-after"]
        assert (await gateway.http.get("/api/v1/me", headers=headers)).status_code == 200  # the gateway goes on
    finally:
        system.restart("notify")
    assert (await gateway.http.get("/api/v1/notify/me", headers=headers)).status_code == 200


async def test_a_forged_identity_header_never_changes_who_the_caller_is(gateway) -> None:
    from shared.identity import Identity, sign_identity

    forged = sign_identity(Identity(person_id="P-AD", roles=frozenset({"assistant_director", "administrator"})), b"guessed-key")
    headers = {**await gateway.as_person("P-SW1"), "X-QA-Identity": forged}
    for path in ("/api/v1/me", "/api/v1/notify/me"):
        resp = await gateway.http.get(path, headers=headers)
        assert resp.status_code == 200, (path, resp.text)
        assert resp.json()["person_id"] == "P-SW1" and resp.json()["roles"] == ["social_worker"], path
    put = await gateway.http.put("/api/v1/directory/teams/T-FORGED", json={"name": "x", "district": "d", "area": "a", "service": "s"}, headers=headers)
    assert put.status_code == 403


@dataclass
class BulkImport:
    """The import as the integration that sent it sees it: its cases' prefix, when it started and what the gateway answered."""

    gateway: Any
    prefix: str
    writer: dict[str, str]
    started: float
    answered: float
    accepted: dict[str, Any]
    location: str


# Long by nature: 10,000 cases through the gateway, then through RabbitMQ into audit's register.
@pytest.mark.timeout(900)
async def test_a_bulk_import_of_10000_cases_keeps_the_good_rows_reports_the_bad_and_publishes_each(gateway, system: Stack, infrastructure: Infrastructure, mongo) -> None:
    prefix = f"BULK-{uuid.uuid4().hex[:6]}"
    body = _a_csv_of_10000_cases_four_of_them_bad(prefix)
    async with EventCapture(infrastructure.amqp_url, system.namespace, ("directory.case.changed.v1",)) as capture:
        bulk = await _the_import_is_checked_at_once_and_answered_202_with_the_rejections(gateway, prefix, body)
        report, took = await _the_gateway_writes_the_good_rows_and_reports_the_bad(bulk)
        await _an_event_is_published_for_each_case_written_and_no_other(bulk, capture, mongo, system)
    print(f"\nimport of 10,000 cases answered (202) in {bulk.answered:.1f}s, written in {took:.1f}s; all events published after {time.monotonic() - bulk.started:.1f}s")
    await _the_directory_keeps_the_good_rows_and_not_the_bad(bulk)
    await _each_services_register_gets_the_good_rows_through_rabbitmq(bulk, report, system, infrastructure)


def _a_csv_of_10000_cases_four_of_them_bad(prefix: str) -> bytes:
    bad_rows = {17: ("case_type", "XX"), 2500: ("opened_on", "not-a-date"), 7777: ("team_id", ""), 9999: ("status", "archived")}
    lines = ["id,child_name,case_type,status,team_id,allocated_worker_id,team_manager_id,sibling_case_ids,opened_on,closed_on"]
    for row in range(1, 10_001):
        cells = {
            "id": f"{prefix}-{row}", "child_name": f"Child {row}", "case_type": ("CIN", "CP", "CIC")[row % 3], "status": "open",
            "team_id": "T-CIN", "allocated_worker_id": "P-SW2", "team_manager_id": "P-TM2",
            "sibling_case_ids": f"{prefix}-{row + 1}" if row % 2 else f"{prefix}-{row - 1}", "opened_on": "2026-01-15", "closed_on": "",
        }
        if row in bad_rows:
            name, value = bad_rows[row]
            cells[name] = value
        lines.append(",".join(cells.values()))
    return ("\n".join(lines) + "\n").encode()


async def _the_import_is_checked_at_once_and_answered_202_with_the_rejections(gateway: Any, prefix: str, body: bytes) -> BulkImport:
    """Asynchronously (RFC 7240), as production's proxies cut requests this long: checked at
    once (202 with the rejections), written by the gateway's runner, its report polled."""
    started = time.monotonic()
    writer = await gateway.as_integration()
    resp = await gateway.http.post(
        "/api/v1/directory/cases:import", content=body, timeout=120,
        headers={**writer, "Content-Type": "text/csv", "Prefer": "respond-async"},
    )
    answered = time.monotonic() - started
    assert resp.status_code == 202, resp.text
    assert resp.headers["preference-applied"] == "respond-async"
    accepted = resp.json()
    assert (accepted["status"], accepted["received"], accepted["accepted"], accepted["rejected"]) == ("running", 10_000, 9_996, 4)
    location = resp.headers["location"]
    assert location == f"/api/v1/directory/imports/{accepted['id']}"
    return BulkImport(gateway, prefix, writer, started, answered, accepted, location)


async def _the_gateway_writes_the_good_rows_and_reports_the_bad(bulk: BulkImport) -> tuple[dict[str, Any], float]:
    prefix = bulk.prefix

    async def finished() -> dict[str, Any] | None:
        polled = await bulk.gateway.http.get(bulk.location, headers=bulk.writer)
        assert polled.status_code == 200, polled.text
        report: dict[str, Any] = polled.json()
        return report if report["status"] != "running" else None

    report = await eventually(finished, timeout=300, interval=1.0, message="the import finished")
    took = time.monotonic() - bulk.started
    assert report["status"] == "completed", report | {"rejections": "..."}
    assert report["batches_done"] == report["batches_total"] == bulk.accepted["batches_total"] > 0
    assert (report["received"], report["created"], report["rejected"]) == (10_000, 9_996, 4)
    assert bulk.accepted["rejections"] == report["rejections"]
    assert {(r["row"], r["id"], r["errors"][0]["field"]) for r in report["rejections"]} == {
        (17, f"{prefix}-17", "case_type"), (2500, f"{prefix}-2500", "opened_on"), (7777, f"{prefix}-7777", "team_id"), (9999, f"{prefix}-9999", "status"),
    }
    return report, took


async def _an_event_is_published_for_each_case_written_and_no_other(bulk: BulkImport, capture: EventCapture, mongo: Any, system: Stack) -> None:
    prefix = bulk.prefix

    async def ours() -> list[Any]:
        return [e for e in capture.of_type("directory.case.changed.v1") if e.subject.startswith(f"case/{prefix}-")]

    async def all_ours() -> bool:
        return len(await ours()) >= 9_996

    await eventually(all_ours, timeout=180, interval=0.5, message="an event for each case written")
    # Every event the gateway wrote has arrived: an extra one would be here.
    await capture.flushed(mongo[f"{system.namespace}_gateway"], timeout=60)
    events = await ours()
    assert len(events) == 9_996, f"{len(events)} events after {time.monotonic() - bulk.started:.0f}s"
    assert len({e.subject for e in events}) == 9_996
    assert f"case/{prefix}-17" not in {e.subject for e in events}
    assert all("child_name" not in e.data for e in events)


async def _the_directory_keeps_the_good_rows_and_not_the_bad(bulk: BulkImport) -> None:
    kept = await bulk.gateway.http.get(f"/api/v1/directory/cases/{bulk.prefix}-10000", headers=bulk.writer)
    assert kept.status_code == 200 and kept.json()["data"]["sibling_case_ids"] == [f"{bulk.prefix}-9999"]
    assert (await bulk.gateway.http.get(f"/api/v1/directory/cases/{bulk.prefix}-2500", headers=bulk.writer)).status_code == 404


async def _each_services_register_gets_the_good_rows_through_rabbitmq(
    bulk: BulkImport, report: dict[str, Any], system: Stack, infrastructure: Infrastructure
) -> None:
    """Through RabbitMQ into the services' own registers: audit's case register (which the monthly
    draw samples from), and the sign-off and resolution projections. Waiting for all three also
    leaves the shared test system quiet for the tests that follow."""
    prefix, started = bulk.prefix, bulk.started
    client: AsyncMongoClient[Any] = AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True)
    registers = {
        "audit": client[f"{system.namespace}_audit"]["directory_cases"],
        "signoff": client[f"{system.namespace}_signoff"]["directory_cases"],
        "resolution": client[f"{system.namespace}_resolution"]["cases"],
    }
    ours_filter = {"_id": {"$regex": f"^{prefix}-"}}
    try:
        # Waiting on the import's sync signal (each service's applied sequence, read from the
        # gateway), not by counting the registers: a count over every case, every second, would
        # take the database this test measures.
        assert report["sync"]["kind"] == "case" and set(report["sync"]["applied"]) == {"signoff", "resolution", "audit"}

        async def synced() -> dict[str, Any] | None:
            status: dict[str, Any] = (await bulk.gateway.http.get(report["sync"]["href"], headers=bulk.writer)).json()
            return status if status["synced"] else None

        await eventually(synced, timeout=600, interval=1.0, message="every service applied the import")
        print(f"every register complete after {time.monotonic() - started:.0f}s")
        counts = {name: await register.count_documents(ours_filter) for name, register in registers.items()}
        assert counts == {"audit": 9_996, "signoff": 9_996, "resolution": 9_996}, f"after {time.monotonic() - started:.0f}s: {counts}"
        in_register = await registers["audit"].find_one({"_id": f"{prefix}-10000"})
        assert in_register is not None
        assert (in_register["case_type"], in_register["status"], in_register["team_id"]) == ("CP", "open", "T-CIN")  # row 10000: 10000 % 3 == 1
        assert await registers["audit"].find_one({"_id": f"{prefix}-2500"}) is None
        assert "child_name" not in in_register, "the child's name stays in the gateway"
    finally:
        await client.close()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is needed: apt-get install -y chromium (.ci/run installs it)"
    return found


def _dump_dom(url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def _every_service_documented(gateway: Any) -> dict[str, Any]:
    """The aggregated document once every service has answered for its part. A service that does
    not answer within the gateway's fetch timeout (a cold audit service building its 129 routes'
    schema on a busy machine) is left out of that one answer and named in ``info.x-unavailable``;
    the next request asks it again."""

    async def complete() -> dict[str, Any] | None:
        resp = await gateway.http.get("/api/openapi.json")
        assert resp.status_code == 200
        doc: dict[str, Any] = resp.json()
        return None if "x-unavailable" in doc["info"] else doc

    return await eventually(complete, timeout=60, interval=0.5, message="every service in the aggregated document")


async def test_the_aggregated_openapi_document_covers_every_service_and_validates(gateway) -> None:
    doc = await _every_service_documented(gateway)
    validate(doc)
    assert "x-unavailable" not in doc["info"], doc["info"]
    for service in SERVICES:
        assert f"/api/v1/{service}/me" in doc["paths"], service
    assert {"/api/v1/me", "/api/v1/directory/cases:import", "/api/v1/directory/cases/{record_id}"} <= set(doc["paths"])
    for item in doc["paths"].values():
        for operation in item.values():
            assert operation["responses"]["default"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}


async def test_the_asyncapi_document_validates_with_the_asyncapi_cli(gateway, tmp_path: Path) -> None:
    cli, env = node_tool("asyncapi")  # ./dev setup installs it, with the Node it wants
    resp = await gateway.http.get("/api/asyncapi.json")
    assert resp.status_code == 200
    path = tmp_path / "asyncapi.json"
    path.write_bytes(resp.content)
    done = await asyncio.to_thread(
        subprocess.run, [cli, "validate", str(path), "--fail-severity", "error"], capture_output=True, text=True, timeout=180,
        env={**env, "ASYNCAPI_METRICS": "false"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "is valid" in done.stdout + done.stderr


async def test_both_documentation_pages_render_in_headless_chromium(system: Stack, gateway) -> None:
    await _every_service_documented(gateway)  # the pages draw the aggregated document
    base = system.url("gateway")
    api_page = await asyncio.to_thread(_dump_dom, f"{base}/docs")
    # Swagger UI ran (from the gateway's own assets) and drew the merged document's tag groups, collapsed.
    assert "swagger-ui" in api_page and "QA platform API" in api_page
    for tag in ("gateway: directory", "signoff: exemplars", "notify: work tray", "audit: audits"):
        assert tag in api_page, tag
    # Redoc too, with one group per service.
    redoc_page = await asyncio.to_thread(_dump_dom, f"{base}/redoc")
    for group in ("the gateway", "the signoff service", "the audit service"):
        assert group in redoc_page, group
    events_page = await asyncio.to_thread(_dump_dom, f"{base}/docs/events")
    assert "directory.case.changed.v1" in events_page and "sibling_case_ids" in events_page
