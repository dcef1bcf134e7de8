"""Outages answered properly: with the database stopped, a read and a write answer 503
problem+json with ``Retry-After`` within about a second and change nothing; when it returns the
same requests succeed, and the outbox relay and the consumers carry on by themselves. A broker
that cannot be reached for a write that needs it (an AMQP integrator's login) is a 503 too.

These tests run the gateway and the sign-off service as real processes against their OWN
SecantusDB (same launcher as the ``infrastructure`` fixture), which they stop and start again on
the same port and data; the broker is the real one.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.infra import EmbeddedMongo, free_port, start_embedded_mongo
from devstack.stack import DEFAULT_PORTS, INTEGRATION_CLIENT, Stack
from devstack.testing import Infrastructure, eventually, new_namespace, remove_namespace

PROBLEM = "application/problem+json"
#: The bound on an error path (not a benchmark): the request timeout is 1 s.
QUICKLY_S = 2.0


@dataclass
class PrivateMongo:
    """A SecantusDB this test may stop and start again, on the same port and data."""

    storage: Path
    log: Path
    port: int
    server: EmbeddedMongo | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.server = start_embedded_mongo(self.storage, log_path=self.log, port=self.port, sync_on_commit=False)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass
class Outage:
    db: PrivateMongo
    stack: Stack


@pytest.fixture
def outage(infrastructure: Infrastructure, tmp_path: Path) -> Iterator[Outage]:
    db = PrivateMongo(tmp_path / "mongo", tmp_path / "mongo.log", free_port())
    db.start()
    namespace = new_namespace()
    stack = Stack(
        mongodb_url=db.url,
        amqp_url=infrastructure.amqp_url,
        namespace=namespace,
        signing_key=secrets.token_urlsafe(32),
        log_dir=tmp_path / "logs",
        ports={name: free_port() for name in DEFAULT_PORTS},
        # Nothing listens here: the broker's management API is unreachable for this gateway.
        management_url=f"http://guest:guest@127.0.0.1:{free_port()}/",
        extra_env={"*": {"CONSUMER_RETRY_DELAYS_MS": "[300, 600]", "OUTBOX_POLL_INTERVAL_S": "0.3"}},
    )
    try:
        stack.start(["signoff", "gateway"])
        yield Outage(db, stack)
    finally:
        stack.stop()
        if db.server is None:
            db.start()
        remove_namespace(Infrastructure(db.url, infrastructure.amqp_url, "private SecantusDB"), namespace)
        db.stop()


async def _token(http: httpx.AsyncClient, person_id: str) -> dict[str, str]:
    resp = await http.post("/auth/dev/token", json={"person_id": person_id})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def _timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    resp = await request
    return resp, time.monotonic() - started


def _unavailable(resp: httpx.Response, elapsed: float, slug: str) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers
    assert int(resp.headers["retry-after"]) > 0
    assert resp.json()["type"].endswith("/" + slug), resp.text
    assert elapsed < QUICKLY_S, f"answered after {elapsed:.2f}s"


async def test_with_the_database_stopped_reads_and_writes_answer_503_at_once_and_recover_when_it_returns(outage: Outage) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    team_id, case_id, case2_id, worker_id = f"T-OUT{tag}", f"C-OUT{tag}", f"C-OUT2{tag}", f"P-OUT{tag}"
    async with httpx.AsyncClient(base_url=outage.stack.url("gateway"), timeout=60) as http:
        lcs = await _token(http, INTEGRATION_CLIENT)
        team = {"name": "Outage Team", "district": "Thanet", "area": "East Kent", "service": "Children's Services"}
        assert (await http.put(f"/api/v1/directory/teams/{team_id}", json=team, headers=lcs)).status_code == 201
        person = {"name": "Sam Outage", "email": f"{worker_id.lower()}@council.example", "roles": ["social_worker"], "team_id": team_id}
        assert (await http.put(f"/api/v1/directory/people/{worker_id}", json=person, headers=lcs)).status_code == 201

        def case(name: str) -> dict[str, str]:
            return {"child_name": name, "case_type": "CIN", "team_id": team_id, "opened_on": "2026-10-01"}

        assert (await http.put(f"/api/v1/directory/cases/{case_id}", json=case("Before Outage"), headers=lcs)).status_code == 201
        worker = await _token(http, worker_id)

        async def started(for_case: str) -> httpx.Response | None:
            resp = await http.post("/api/v1/signoff/exemplars", json={"case_id": for_case, "type_code": "REFERR"}, headers=worker)
            return resp if resp.status_code == 201 else None

        first = await eventually(lambda: started(case_id), timeout=30, message="the case reached sign-off")
        exemplar_id = first.json()["id"]

        async def exemplars_of_case() -> int:
            resp = await http.get(f"/api/v1/signoff/cases/{case_id}/exemplars", headers=worker)
            assert resp.status_code == 200, resp.text
            return len(resp.json()["items"])

        before = await exemplars_of_case()

        outage.db.stop()

        # Through the gateway into sign-off: a read and a write.
        resp, elapsed = await _timed(http.get(f"/api/v1/signoff/exemplars/{exemplar_id}", headers=worker))
        _unavailable(resp, elapsed, "database-unavailable")
        resp, elapsed = await _timed(
            http.post("/api/v1/signoff/exemplars", json={"case_id": case_id, "type_code": "REFERR"}, headers=worker)
        )
        _unavailable(resp, elapsed, "database-unavailable")
        assert "nothing was changed" in resp.json()["detail"]
        # The gateway's own database-backed routes: a read and a write of the directory.
        resp, elapsed = await _timed(http.get(f"/api/v1/directory/teams/{team_id}", headers=lcs))
        _unavailable(resp, elapsed, "database-unavailable")
        resp, elapsed = await _timed(
            http.put(f"/api/v1/directory/teams/{team_id}", json={**team, "name": "Renamed In Outage"}, headers=lcs)
        )
        _unavailable(resp, elapsed, "database-unavailable")
        # Readiness says so too.
        assert (await http.get("/readyz")).status_code == 503

        await asyncio.to_thread(outage.db.start)

        async def readable() -> httpx.Response | None:
            resp = await http.get(f"/api/v1/signoff/exemplars/{exemplar_id}", headers=worker)
            return resp if resp.status_code == 200 else None

        await eventually(readable, timeout=30, message="sign-off reads again")
        # The writes refused during the outage changed nothing.
        assert await exemplars_of_case() == before
        team_now = await http.get(f"/api/v1/directory/teams/{team_id}", headers=lcs)
        assert team_now.status_code == 200, team_now.text
        assert team_now.json()["version"] == 1 and team_now.json()["data"]["name"] == "Outage Team"
        # The same writes succeed now.
        again = await http.post("/api/v1/signoff/exemplars", json={"case_id": case_id, "type_code": "REFERR"}, headers=worker)
        assert again.status_code == 201, again.text
        assert await exemplars_of_case() == before + 1
        renamed = await http.put(f"/api/v1/directory/teams/{team_id}", json={**team, "name": "Renamed After"}, headers=lcs)
        assert renamed.status_code == 200, renamed.text

        # The gateway's outbox relay and sign-off's directory consumer carried on: a case written
        # after the outage is published and projected, so an exemplar can be started for it.
        assert (await http.put(f"/api/v1/directory/cases/{case2_id}", json=case("After Outage"), headers=lcs)).status_code == 201
        await eventually(lambda: started(case2_id), timeout=30, message="a case written after the outage reached sign-off")
        # Both processes lived through it.
        assert outage.stack.services["gateway"].running() and outage.stack.services["signoff"].running()


async def test_an_amqp_integrator_with_the_broker_management_unreachable_is_503_and_nothing_is_recorded(outage: Outage) -> None:
    async with httpx.AsyncClient(base_url=outage.stack.url("gateway"), timeout=60) as http:
        lcs = await _token(http, INTEGRATION_CLIENT)
        admin_id = f"P-ADM{uuid.uuid4().hex[:6].upper()}"
        team = {"name": "QA", "district": "Thanet", "area": "East Kent", "service": "Children's Services"}
        assert (await http.put("/api/v1/directory/teams/T-QAOUT", json=team, headers=lcs)).status_code == 201
        person = {"name": "Ada Admin", "email": f"{admin_id.lower()}@council.example", "roles": ["administrator"], "team_id": "T-QAOUT"}
        assert (await http.put(f"/api/v1/directory/people/{admin_id}", json=person, headers=lcs)).status_code == 201
        admin = await _token(http, admin_id)

        resp, elapsed = await _timed(http.post(
            "/api/v1/integrations/amqp-integrators",
            json={"name": "Mosaic outage", "event_types": ["directory.team.changed.v1"]}, headers=admin,
        ))
        _unavailable(resp, elapsed, "broker-unavailable")
        listed = await http.get("/api/v1/integrations/amqp-integrators", headers=admin)
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"] == []
