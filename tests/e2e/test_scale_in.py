"""Graceful scale-in, end to end: two real audit-service processes share a large batch of work from
their queue; one receives SIGTERM mid-way (as Kubernetes sends it when KEDA scales in) and must
exit within the pod's termination budget, and every piece of work must be done exactly once:
nothing the stopping process held is lost, nothing is done twice.

Two batches, one per queue the audit service consumes: 3,000 ``directory.case.changed.v1`` events
(1,000 cases, three versions each) as the gateway publishes them, on ``<ns>.audit.directory``; and
a month's allocation for 250 auditors (one work item each, drawn through the API) on
``<ns>.audit.allocation``, which KEDA scales on.

The grace settings come from the Kubernetes manifests (deploy/k8s/base), so the test proves the
numbers we deploy with.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import yaml
from audit.common.directory import project_many
from gateway.directory.events import CASE_CHANGED, CaseChanged
from pymongo import AsyncMongoClient
from shared.consumer import handled_event_ids
from shared.identity import IDENTITY_HEADER, Identity, sign_identity

from devstack.infra import free_port
from devstack.stack import ServiceProcess, Stack, readyz
from devstack.testing import Infrastructure, eventually, new_namespace, remove_namespace
from services.audit.tests.integration.conftest import small_authority

# Real processes and thousands of messages: minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"

CASES = 1000
VERSIONS = 3
EVENTS = CASES * VERSIONS


def deployed_grace() -> dict[str, float]:
    """terminationGracePeriodSeconds, the preStop sleep and SHUTDOWN_GRACE_S as deployed."""
    pod = yaml.safe_load((BASE / "pod-defaults.yaml").read_text())["spec"]["template"]["spec"]
    [container] = pod["containers"]
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    settings = dict(line.split("=", 1) for line in (BASE / "config" / "shared.env").read_text().splitlines() if "=" in line)
    return {
        "termination": float(pod["terminationGracePeriodSeconds"]),
        "pre_stop": float(command[1]),
        "shutdown_grace": float(settings["SHUTDOWN_GRACE_S"]),
    }


def _case(n: int, version: int) -> bytes:
    case_id = f"C-{n:05d}"
    data = CaseChanged(
        # The directory numbers its changes in the order it made them: each case's versions in turn.
        case_id=case_id, version=version, sequence=n * VERSIONS + version, case_type="CIN", status="closed" if version == VERSIONS else "open",
        team_id=f"T-{version}", allocated_worker_id=f"P-{n % 7}-{version}", team_manager_id="P-TM",
        sibling_case_ids=[], opened_on=date(2026, 1, 5), closed_on=date(2026, 3, 2) if version == VERSIONS else None,
    )
    envelope = CASE_CHANGED.envelope(
        data, source="/qa/gateway", subject=f"case/{case_id}", time=datetime.now(UTC), event_id=f"case-{n}-v{version}"
    )
    return envelope.to_json()


async def _publish_all(amqp_url: str, namespace: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.events")
        # Each case's versions one after the other: the two processes often hold two versions of
        # the same case at once, so the projection's version guard is exercised under concurrency.
        bodies = [(f"case-{n}-v{v}", _case(n, v)) for n in range(CASES) for v in range(1, VERSIONS + 1)]
        for start in range(0, len(bodies), 250):
            await asyncio.gather(*(
                exchange.publish(
                    aio_pika.Message(body, message_id=event_id, type=CASE_CHANGED.routing_key,
                                     content_type="application/cloudevents+json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=CASE_CHANGED.routing_key, timeout=30,
                )
                for event_id, body in bodies[start:start + 250]
            ))


def _metrics(process: ServiceProcess) -> str:
    with urllib.request.urlopen(f"{process.url}/metrics", timeout=5) as resp:
        return str(resp.read().decode())


def _handled_by(process: ServiceProcess, queue: str = "directory") -> float:
    match = re.search(rf'qa_messages_total\{{outcome="handled",queue="{queue}",service="audit"\}} ([0-9.e+]+)', _metrics(process))
    return float(match.group(1)) if match else 0.0


def _in_hand(process: ServiceProcess, queue: str) -> float:
    match = re.search(rf'qa_messages_in_flight\{{queue="{queue}",service="audit"\}} ([0-9.e+-]+)', _metrics(process))
    assert match, "the consumer's in-flight gauge"
    return float(match.group(1))


async def _quiet(amqp_url: str, queue: str, process: ServiceProcess, purpose: str) -> None:
    """Nothing waits in the queue and the process consuming it holds nothing: every delivery,
    whatever the stopped replica gave back included, was taken and settled."""

    async def quiet() -> bool:
        return await _depth(amqp_url, queue) == 0 and await asyncio.to_thread(_in_hand, process, purpose) == 0

    await eventually(quiet, timeout=60, interval=0.2, message=f"{queue} drained and its consumer idle")


async def _depth(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


@pytest.mark.parametrize(
    "grace_setting",
    ["deployed", "none"],
    ids=["grace-as-deployed", "no-grace-unfinished-messages-go-back"],
)
async def test_a_replica_stopped_mid_batch_exits_in_time_and_every_event_is_handled_exactly_once(
    infrastructure: Infrastructure, tmp_path: Path, grace_setting: str
) -> None:
    grace = deployed_grace()
    shutdown_grace = grace["shutdown_grace"] if grace_setting == "deployed" else 0.0
    budget = grace["termination"] - grace["pre_stop"]  # from SIGTERM to SIGKILL
    assert shutdown_grace < budget

    namespace = new_namespace()
    stack = Stack(
        mongodb_url=infrastructure.mongodb_url, amqp_url=infrastructure.amqp_url, namespace=namespace,
        signing_key=secrets.token_urlsafe(32), log_dir=tmp_path,
    )
    env = stack.env_for("audit", {"SHUTDOWN_GRACE_S": str(shutdown_grace), "LOG_LEVEL": "INFO", "CONSUMER_PREFETCH": "32"})
    leaving = ServiceProcess("audit", free_port(), env, tmp_path / "audit-leaving.log")
    staying = ServiceProcess("audit", free_port(), env, tmp_path / "audit-staying.log")
    client: AsyncMongoClient[Any] = AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True)
    db = client[f"{namespace}_audit"]
    queue = f"{namespace}.audit.directory"
    try:
        for process in (leaving, staying):
            process.start()

        async def both_ready() -> bool:
            for process in (leaving, staying):
                assert process.running(), process.log_tail()
            codes = await asyncio.gather(*(asyncio.to_thread(readyz, p.url) for p in (leaving, staying)))
            return all(code == 200 for code in codes)

        await eventually(both_ready, timeout=90, interval=0.3, message="both audit processes ready")

        await _publish_all(infrastructure.amqp_url, namespace)

        async def a_third_done() -> int:
            count = len(await handled_event_ids(db))
            return count if count >= EVENTS // 3 else 0

        done_at_sigterm = await eventually(a_third_done, timeout=120, interval=0.05, message="a third of the batch handled")
        handled_by_leaving = await asyncio.to_thread(_handled_by, leaving)
        assert leaving.process is not None
        leaving.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        returncode = await asyncio.to_thread(leaving.process.wait, budget + 5)
        took = time.monotonic() - started
        print(f"\nSIGTERM after {done_at_sigterm} of {EVENTS} events; the process exited in {took:.2f}s "
              f"(budget {budget:.0f}s, SHUTDOWN_GRACE_S={shutdown_grace:g})")

        assert done_at_sigterm < EVENTS, "stopped mid-way, with work still to do"
        assert handled_by_leaving > 0, "both processes were taking work"
        # uvicorn re-raises SIGTERM once its graceful shutdown is complete, so the exit status is
        # "terminated by SIGTERM" (or 0 with older uvicorn); never a crash, never SIGKILL.
        assert returncode in (0, -signal.SIGTERM), leaving.log_tail()
        assert took < budget, f"exited after {took:.1f}s, beyond the pod's {budget:.0f}s before SIGKILL"
        log = leaving.log_path.read_text()
        assert '"message": "stopped"' in log and "Application shutdown complete" in log, "shut down through the graceful path"
        if shutdown_grace:
            assert "grace period over" not in log, "finished and acknowledged what it held within the grace period"
        else:
            assert "grace period over; unfinished messages return to the queue" in log, "messages were in hand when it stopped"

        async def all_done() -> bool:
            return len(await handled_event_ids(db)) >= EVENTS

        await eventually(all_done, timeout=180, interval=0.2, message="the staying process finished the batch")
        await _quiet(infrastructure.amqp_url, queue, staying, "directory")  # any duplicate or straggler has landed

        # Exactly once: each event's id held by one processed marker (the marker commits with the work), no more.
        handled = await handled_event_ids(db)
        assert len(handled) == EVENTS
        assert len(set(handled)) == EVENTS
        assert await _depth(infrastructure.amqp_url, queue) == 0
        assert await _depth(infrastructure.amqp_url, f"{queue}.dead") == 0, "nothing dead-lettered"
        # The projection holds every case at its latest version, with that version's facts.
        cases = await db.directory_cases.find({}, {"version": 1, "status": 1, "team_id": 1}).to_list()
        assert len(cases) == CASES
        assert {(c["version"], c["status"], c["team_id"]) for c in cases} == {(VERSIONS, "closed", f"T-{VERSIONS}")}
        assert staying.running(), staying.log_tail()
    finally:
        for process in (leaving, staying):
            process.stop()
        await client.close()
        await asyncio.to_thread(remove_namespace, infrastructure, namespace)


AUDITORS = 250
MONTH = "2027-01"
ALLOCATED = "audit.audit.allocated.v1"


def deployed_settings() -> dict[str, str]:
    return dict(line.split("=", 1) for line in (BASE / "config" / "shared.env").read_text().splitlines() if "=" in line)


async def test_a_replica_stopped_mid_allocation_exits_in_time_and_every_auditor_gets_exactly_one_audit(
    infrastructure: Infrastructure, tmp_path: Path
) -> None:
    grace = deployed_grace()
    budget = grace["termination"] - grace["pre_stop"]  # from SIGTERM to SIGKILL
    settings = deployed_settings()
    namespace = new_namespace()
    stack = Stack(
        mongodb_url=infrastructure.mongodb_url, amqp_url=infrastructure.amqp_url, namespace=namespace,
        signing_key=secrets.token_urlsafe(32), log_dir=tmp_path,
    )
    # The deployed shutdown grace and outbox claim; the allocation prefetch as the service configures
    # it (AUDIT_ALLOCATION_PREFETCH unset); no scheduler, so that the test draws the month itself.
    env = stack.env_for("audit", {
        "SHUTDOWN_GRACE_S": settings["SHUTDOWN_GRACE_S"], "OUTBOX_CLAIM_S": settings["OUTBOX_CLAIM_S"],
        "LOG_LEVEL": "INFO", "AUDIT_CYCLE_SCHEDULER_ENABLED": "false",
    })
    leaving = ServiceProcess("audit", free_port(), env, tmp_path / "audit-leaving.log")
    staying = ServiceProcess("audit", free_port(), env, tmp_path / "audit-staying.log")
    client: AsyncMongoClient[Any] = AsyncMongoClient(infrastructure.mongodb_url, tz_aware=True)
    db = client[f"{namespace}_audit"]
    queue = f"{namespace}.audit.allocation"
    qa = {IDENTITY_HEADER: sign_identity(Identity(person_id="P-QA", roles=frozenset({"qa_officer"})), stack.signing_key.encode())}

    async def audits() -> int:
        return int(await db.audits.count_documents({"month": MONTH}))

    try:
        # One auditing team manager per team: AUDITORS auditors, each to be given one audit.
        await project_many(db, *small_authority(AUDITORS, cases_per_team=3, peer_reviewers=AUDITORS))
        for process in (leaving, staying):
            process.start()

        async def both_ready() -> bool:
            for process in (leaving, staying):
                assert process.running(), process.log_tail()
            codes = await asyncio.gather(*(asyncio.to_thread(readyz, p.url) for p in (leaving, staying)))
            return all(code == 200 for code in codes)

        await eventually(both_ready, timeout=90, interval=0.3, message="both audit processes ready")

        async with httpx.AsyncClient(timeout=60) as http:
            drawn = await http.post(f"{staying.url}/v1/cycles/{MONTH}/draw", json={"seed": "scale-in"}, headers=qa)
        assert drawn.status_code == 201, drawn.text
        assert drawn.json()["audits"] == AUDITORS

        async def both_working() -> int:
            count = await audits()
            handled = await asyncio.to_thread(_handled_by, leaving, "allocation")
            return count if count >= AUDITORS // 10 and handled > 0 else 0

        done_at_sigterm = await eventually(both_working, timeout=60, interval=0.02, message="allocation under way on both")
        assert leaving.process is not None
        leaving.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        returncode = await asyncio.to_thread(leaving.process.wait, budget + 5)
        took = time.monotonic() - started
        print(f"\nSIGTERM after {done_at_sigterm} of {AUDITORS} audits; the process exited in {took:.2f}s "
              f"(budget {budget:.0f}s, SHUTDOWN_GRACE_S={settings['SHUTDOWN_GRACE_S']})")

        assert done_at_sigterm < AUDITORS, "stopped mid-way, with work still to do"
        assert returncode in (0, -signal.SIGTERM), leaving.log_tail()
        assert took < budget, f"exited after {took:.1f}s, beyond the pod's {budget:.0f}s before SIGKILL"
        log = leaving.log_path.read_text()
        assert '"message": "stopped"' in log and "Application shutdown complete" in log, "shut down through the graceful path"
        assert "grace period over" not in log, "finished and acknowledged the work items it held within the grace period"

        async def all_allocated() -> bool:
            return await audits() >= AUDITORS

        await eventually(all_allocated, timeout=60, interval=0.2, message="the staying process finished the allocation")

        async def all_announced() -> bool:
            return await db.outbox.count_documents({"routing_key": ALLOCATED, "status": {"$ne": "sent"}}) == 0

        await eventually(all_announced, timeout=60, interval=0.2, message="every allocation announced")
        await _quiet(infrastructure.amqp_url, queue, staying, "allocation")  # any duplicate or straggler has landed

        # Exactly once: one audit per auditor for the month, and one announcement per audit.
        owners = [d["auditor_id"] for d in await db.audits.find({"month": MONTH}, {"auditor_id": 1}).to_list()]
        assert len(owners) == AUDITORS and len(set(owners)) == AUDITORS
        assert set(owners) == {f"TM{t}" for t in range(AUDITORS)}
        announced = await db.outbox.find({"routing_key": ALLOCATED}, {"envelope": 1}).to_list()
        assert len(announced) == AUDITORS
        audit_ids = {d["_id"] for d in await db.audits.find({"month": MONTH}, {"_id": 1}).to_list()}
        assert {json.loads(d["envelope"])["data"]["audit_id"] for d in announced} == audit_ids
        assert await _depth(infrastructure.amqp_url, queue) == 0
        assert await _depth(infrastructure.amqp_url, f"{queue}.dead") == 0, "nothing dead-lettered"
        assert await asyncio.to_thread(_handled_by, staying, "allocation") > 0
        assert staying.running(), staying.log_tail()
    finally:
        for process in (leaving, staying):
            process.stop()
        await client.close()
        await asyncio.to_thread(remove_namespace, infrastructure, namespace)
