"""Allocation as distributed work, with real audit-service processes (uvicorn, as deployed) on
real MongoDB and RabbitMQ: two replicas drawing at once and sharing the work items; one replica
killed (SIGKILL) mid-way. Either way: exactly one audit per auditor and month, each announced."""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from audit.common.directory import project_many
from shared.identity import IDENTITY_HEADER, Identity, sign_identity

from devstack.infra import free_port
from devstack.stack import ServiceProcess, readyz
from devstack.testing import eventually
from shared import mongo

from .conftest import small_authority

KENT = "kent-online-peer-review"
MONTH = "2027-01"


class Replicas:
    def __init__(self, service_env: dict[str, str], log_dir: Path) -> None:
        self.env = {
            **os.environ, **service_env,
            "AUDIT_CYCLE_SCHEDULER_ENABLED": "false",
            # Small prefetch so that the replicas share the items; a short claim so that a
            # survivor takes over the outbox events a killed replica had claimed.
            "AUDIT_ALLOCATION_PREFETCH": "2", "OUTBOX_CLAIM_S": "2", "PYTHONUNBUFFERED": "1",
        }
        self.log_dir = log_dir
        self.processes: list[ServiceProcess] = []
        self.key = service_env["IDENTITY_SIGNING_KEY"].encode()
        self.namespace = service_env["QA_NAMESPACE"]
        self.mongodb_url = service_env["MONGODB_URL"]

    async def start(self, count: int) -> list[ServiceProcess]:
        started = []
        for _ in range(count):
            proc = ServiceProcess("audit", free_port(), self.env, self.log_dir / f"audit-{len(self.processes)}.log")
            proc.start()
            self.processes.append(proc)
            started.append(proc)
        for proc in started:

            async def ready(proc: ServiceProcess = proc) -> bool:
                assert proc.running(), proc.log_tail()
                return await asyncio.to_thread(readyz, proc.url) == 200

            await eventually(ready, timeout=60, interval=0.2, message=f"audit replica on {proc.url} ready")
        return started

    def stop(self) -> None:
        for proc in self.processes:
            proc.stop(timeout=20)

    def headers(self, person_id: str, roles: list[str]) -> dict[str, str]:
        return {IDENTITY_HEADER: sign_identity(Identity(person_id=person_id, roles=frozenset(roles)), self.key)}


async def handled_items(proc: ServiceProcess) -> int:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{proc.url}/metrics")).text
    found = re.search(r'qa_messages_total\{outcome="handled",queue="allocation",service="audit"\} ([0-9.]+)', text)
    return int(float(found[1])) if found else 0


async def per_auditor(db: Any) -> Counter[str]:
    return Counter(d["auditor_id"] for d in await db["audits"].find({"month": MONTH}, {"auditor_id": 1}).to_list())


async def test_two_replicas_draw_at_once_share_the_allocation_and_create_one_audit_per_auditor(service_env, capture, tmp_path) -> None:
    teams = 60
    client = mongo.connect(service_env["MONGODB_URL"])
    db = client[f"{service_env['QA_NAMESPACE']}_audit"]
    await project_many(db, *small_authority(teams, cases_per_team=4, peer_reviewers=teams))
    replicas = Replicas(service_env, tmp_path)
    try:
        a, b = await replicas.start(2)
        qa = replicas.headers("P-QA", ["qa_officer"])
        async with httpx.AsyncClient(timeout=60) as http:
            # Both replicas asked to draw the same month at the same moment, with different seeds.
            first, second = await asyncio.gather(
                http.post(f"{a.url}/v1/cycles/{MONTH}/draw", json={"seed": "from-a"}, headers=qa),
                http.post(f"{b.url}/v1/cycles/{MONTH}/draw", json={"seed": "from-b"}, headers=qa),
            )
            # One draws; the other is told the month was drawn with the winner's seed (not applied).
            assert sorted([first.status_code, second.status_code]) == [201, 409], (first.text, second.text)
            won, lost = (first, second) if first.status_code == 201 else (second, first)
            assert lost.json()["existing_seed"] == won.json()["seed"]
            assert won.json()["audits"] == teams

            async def all_allocated() -> bool:
                return sum((await per_auditor(db)).values()) >= teams

            await eventually(all_allocated, timeout=60, message="every audit allocated")
            counts = await per_auditor(db)
            assert len(counts) == teams and set(counts.values()) == {1}
            allocated = await capture.wait_for("audit.audit.allocated.v1", teams, timeout=30)
            # Both replicas took work items from the one queue.
            shares = [await handled_items(a), await handled_items(b)]
            assert sum(shares) == teams and min(shares) > 0, shares

            again = await http.post(f"{b.url}/v1/cycles/{MONTH}/draw", json={}, headers=qa)
            assert again.status_code == 200 and again.json()["allocated"] == teams
        await capture.flushed(db)  # every event the replicas wrote has arrived: a second one would be here
        allocated = capture.of_type("audit.audit.allocated.v1")
        assert len(allocated) == teams and len({e.data["audit_id"] for e in allocated}) == teams
        assert len(capture.of_type("audit.cycle.drawn.v1")) == 1
        assert sum((await per_auditor(db)).values()) == teams
    finally:
        replicas.stop()
        await client.close()


async def test_a_replica_killed_mid_way_leaves_exactly_one_audit_per_auditor(service_env, capture, tmp_path) -> None:
    teams = 100
    client = mongo.connect(service_env["MONGODB_URL"])
    db = client[f"{service_env['QA_NAMESPACE']}_audit"]
    await project_many(db, *small_authority(teams, cases_per_team=3, peer_reviewers=teams))
    replicas = Replicas(service_env, tmp_path)
    try:
        victim, survivor = await replicas.start(2)
        qa = replicas.headers("P-QA", ["qa_officer"])
        async with httpx.AsyncClient(timeout=60) as http:
            drawn = await http.post(f"{victim.url}/v1/cycles/{MONTH}/draw", json={"seed": "kill"}, headers=qa)
            assert drawn.status_code == 201, drawn.text

            async def some_allocated() -> int:
                return sum((await per_auditor(db)).values()) >= 5

            await eventually(some_allocated, timeout=30, interval=0.01, message="allocation under way")
            victim.kill()  # SIGKILL: mid-transaction, with unacknowledged work items and claimed outbox events
            at_kill = sum((await per_auditor(db)).values())
            assert at_kill < teams, "the kill came too late to test anything"

            async def all_allocated() -> bool:
                return sum((await per_auditor(db)).values()) >= teams

            # The victim's in-flight items stay locked by its open transactions until the
            # database reaps them (60 s, as mongod's transactionLifetimeLimitSeconds); then the
            # survivor redoes them from the redelivered work items.
            await eventually(all_allocated, interval=0.5, timeout=120, message="the survivor allocating the rest")
            await capture.wait_for("audit.audit.allocated.v1", teams, timeout=60)
            assert await handled_items(survivor) >= teams - at_kill

            # A new replica joining afterwards (the victim restarted) finds nothing left to do.
            await replicas.start(1)
            again = await http.post(f"{survivor.url}/v1/cycles/{MONTH}/draw", json={}, headers=qa)
            assert again.status_code == 200 and again.json()["allocated"] == teams and again.json()["seed"] == "kill"
        # Every event the replicas wrote has arrived, the victim's claimed ones taken over by the
        # survivor once their claim lapsed: an audit not announced by now never will be.
        await capture.flushed(db, timeout=30)
        counts = await per_auditor(db)
        assert len(counts) == teams and set(counts.values()) == {1}
        audits = {d["_id"] for d in await db["audits"].find({"month": MONTH}, {"_id": 1}).to_list()}
        announced = {e.data["audit_id"] for e in capture.of_type("audit.audit.allocated.v1")}
        # Every audit announced, and nothing announced that does not exist. (An event may go out
        # twice if the victim died between the broker's confirm and marking it sent: consumers
        # are idempotent by event id, so the ids are compared, not the count.)
        assert announced == audits
        assert len({e.id for e in capture.of_type("audit.audit.allocated.v1")}) == teams
    finally:
        replicas.stop()
        await client.close()
