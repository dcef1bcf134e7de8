"""Benchmark: the monthly draw and allocation of a synthetic authority, with 1 and with 2 audit
replicas (real uvicorn processes), against the floors of the same machine, measured in one run.

    python -m bench.audit_cycle [--cases 20000] [--auditors 600] [--peer-reviewers 600] [--replicas 1 2]

The authority (open cases spread over one team per auditor, auditors, peer reviewers) is loaded
into the audit service's own directory projection with its store function
(``audit.directory.project_many``); loading is not measured. Measured: from sending
``POST /v1/cycles/{month}/draw`` until every ``audit.audit.allocated.v1`` event has arrived at a
queue bound on the exchange (an event is published only once its audit has committed, so then
every audit exists; the database is read once afterwards, to check exactly one audit per auditor,
and never polled while it is measured). Floor: the same number of raw single inserts (one
document, no transaction) plus the same number of raw confirmed publishes, one at a time (as
``bench/outbox.py`` measures them). Prints a table and ratios, with the CPU time the database
process (when embedded) and the audit replicas used in the measured window, and writes JSON to
bench/results/. ``python -m bench.audit_cycle.commands`` counts the draw's and the allocation's
database commands. Uses MONGODB_URL / AMQP_URL if set, else an embedded SecantusDB and
the local RabbitMQ, like the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from audit.common.directory import CaseChanged, PersonChanged, TeamChanged, project_many
from audit.cycles.domain.timetable import Month
from audit.settings import AuditSettings
from shared.identity import IDENTITY_HEADER, Identity, sign_identity

from devstack.infra import LOCAL_AMQP_URL, ensure_rabbitmq, free_port, start_embedded_mongo
from devstack.stack import ServiceProcess, readyz
from devstack.testing import Infrastructure, remove_namespace
from shared import broker, mongo

ALLOCATED = "audit.audit.allocated.v1"
DEFAULT_PREFETCH = AuditSettings.model_fields["audit_allocation_prefetch"].default


def authority(cases: int, auditors: int, peer_reviewers: int) -> tuple[list[PersonChanged], list[TeamChanged], list[CaseChanged]]:
    people = [PersonChanged(person_id="SM", version=1, roles=["service_manager"])]
    people += [PersonChanged(person_id=f"TM{n:04d}", version=1, roles=["team_manager"], team_id=f"T{n:04d}", line_manager_id="SM") for n in range(auditors)]
    people += [PersonChanged(person_id=f"PR{n:04d}", version=1, roles=["peer_reviewer"], line_manager_id="SM") for n in range(peer_reviewers)]
    teams = [
        TeamChanged(team_id=f"T{n:04d}", version=1, name=f"Team {n}", district=f"District {n % 12}", area=f"Area {n % 4}", manager_id=f"TM{n:04d}")
        for n in range(auditors)
    ]
    case_list = [
        CaseChanged(
            case_id=f"C{n:06d}", version=1, case_type=("CIN", "CP", "CIC")[n % 3], team_id=f"T{n % auditors:04d}",
            team_manager_id=f"TM{n % auditors:04d}", opened_on=date(2026, 1 + n % 9, 1 + n % 27),
        )
        for n in range(cases)
    ]
    return people, teams, case_list


def process_cpu(pid: int | None) -> float:
    """User + system CPU seconds process ``pid`` has used so far (0 when not known)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def floors(mongodb_url: str, amqp_url: str, n: int) -> dict[str, float]:
    """Raw single inserts and raw confirmed publishes, n of each, one at a time."""
    ns = f"benchfloor{uuid.uuid4().hex[:6]}"
    client = mongo.connect(mongodb_url)
    db = client[f"{ns}_floor"]
    connection = await broker.connect(amqp_url, name="bench-floor")
    publisher = broker.Publisher(connection, f"{ns}.events")
    await publisher.open()
    channel = await connection.channel()
    exchange = await broker.declare_events_exchange(channel, f"{ns}.events")
    sink = await channel.declare_queue(f"{ns}.sink", durable=True, arguments={"x-queue-type": "quorum"})
    await sink.bind(exchange, routing_key="#")
    body = json.dumps({"audit_id": "x" * 32, "payload": "x" * 400}).encode()
    started = time.perf_counter()
    for i in range(n):
        await db.raw.insert_one({"_id": i, "payload": "x" * 400})
    inserts = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(n):
        await publisher.publish(body, routing_key="bench.floor.v1", message_id=str(i), event_type="bench.floor.v1")
    publishes = time.perf_counter() - started
    await sink.delete(if_unused=False, if_empty=False)
    await exchange.delete()
    await connection.close()
    await client.drop_database(db.name)
    await client.close()
    return {"inserts_s": round(inserts, 3), "publishes_s": round(publishes, 3), "floor_s": round(inserts + publishes, 3)}


async def run_cycle(infra: Infrastructure, replicas: int, args: argparse.Namespace, log_dir: Path, db_pid: int | None) -> dict[str, Any]:
    ns = f"bench{uuid.uuid4().hex[:6]}"
    key = secrets.token_urlsafe(24)
    client = mongo.connect(infra.mongodb_url)
    db = client[f"{ns}_audit"]
    loaded = time.perf_counter()
    await project_many(db, *authority(args.cases, args.auditors, args.peer_reviewers))
    load_s = time.perf_counter() - loaded
    env = {
        **os.environ, "MONGODB_URL": infra.mongodb_url, "AMQP_URL": infra.amqp_url, "QA_NAMESPACE": ns, "IDENTITY_SIGNING_KEY": key,
        "AUDIT_CYCLE_SCHEDULER_ENABLED": "false", "LOG_LEVEL": "WARNING", "ACCESS_LOG": "false", "PYTHONUNBUFFERED": "1",
    }
    if args.prefetch:
        env["AUDIT_ALLOCATION_PREFETCH"] = str(args.prefetch)
    processes = [ServiceProcess("audit", free_port(), env, log_dir / f"{ns}-audit-{i}.log") for i in range(replicas)]
    connection = await aio_pika.connect(infra.amqp_url)
    try:
        for proc in processes:
            proc.start()
        for proc in processes:
            deadline = time.monotonic() + 90
            while await asyncio.to_thread(readyz, proc.url) != 200:
                if not proc.running() or time.monotonic() > deadline:
                    raise RuntimeError(f"audit replica did not start:\n{proc.log_tail()}")
                await asyncio.sleep(0.2)
        # What an integrator sees: a queue bound to the allocation events.
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        exchange = await broker.declare_events_exchange(channel, f"{ns}.events")
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=ALLOCATED)
        announced: set[str] = set()
        expected = [args.auditors]  # until the draw answers with its number of audits
        all_announced = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                announced.add(json.loads(message.body)["data"]["audit_id"])
                if len(announced) >= expected[0]:
                    all_announced.set()

        await queue.consume(on_message)
        month = str(Month.of(datetime.now(UTC).date()).plus(2))
        headers = {IDENTITY_HEADER: sign_identity(Identity(person_id="QA", roles=frozenset({"qa_officer"})), key.encode())}
        cpu_before = [process_cpu(db_pid), sum(process_cpu(p.process.pid if p.process else None) for p in processes)]
        async with httpx.AsyncClient(timeout=300) as http:
            started = time.perf_counter()
            drawn = await http.post(f"{processes[0].url}/v1/cycles/{month}/draw", json={"seed": "bench"}, headers=headers)
            drawn_s = time.perf_counter() - started
        if drawn.status_code != 201:
            raise RuntimeError(f"draw failed: {drawn.status_code} {drawn.text}")
        audits_expected = drawn.json()["audits"]
        expected[0] = audits_expected
        if len(announced) >= audits_expected:
            all_announced.set()
        # Waits on the events alone: an audit.audit.allocated event leaves the outbox only after the
        # transaction that wrote its audit committed, so the last one to arrive means every audit
        # exists. The database being measured is read once, afterwards, not polled meanwhile.
        await asyncio.wait_for(all_announced.wait(), timeout=600)
        announced_s = time.perf_counter() - started
        # What the measured window cost each side, whatever else the machine was doing meanwhile.
        db_cpu_s = process_cpu(db_pid) - cpu_before[0]
        audit_cpu_s = sum(process_cpu(p.process.pid if p.process else None) for p in processes) - cpu_before[1]
        stored = await db["audits"].find({"month": month}, {"auditor_id": 1}).to_list()
        counts = Counter(d["auditor_id"] for d in stored)
        duplicates = sum(1 for n in counts.values() if n != 1) + (audits_expected - len(counts))
        return {
            "replicas": replicas, "audits": audits_expected, "load_s": round(load_s, 1), "draw_response_s": round(drawn_s, 3),
            "total_s": round(announced_s, 3), "database_cpu_s": round(db_cpu_s, 2) if db_pid else None, "audit_cpu_s": round(audit_cpu_s, 2),
            "auditors_with_other_than_one_audit": duplicates,
            "audits_announced_not_stored": len(announced - {d["_id"] for d in stored}),
        }
    finally:
        await connection.close()
        for proc in processes:
            proc.stop(timeout=30)
        await client.close()
        await asyncio.to_thread(remove_namespace, infra, ns)


async def run(infra: Infrastructure, args: argparse.Namespace, log_dir: Path, db_pid: int | None) -> dict[str, Any]:
    floor = await floors(infra.mongodb_url, infra.amqp_url, args.auditors)
    runs = [await run_cycle(infra, n, args, log_dir, db_pid) for n in args.replicas]
    return {"floor": floor, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--auditors", type=int, default=600)
    parser.add_argument("--peer-reviewers", type=int, default=600)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--prefetch", type=int, default=None, help=f"AUDIT_ALLOCATION_PREFETCH of each replica, the largest batch it allocates in one transaction (default: the service's, {DEFAULT_PREFETCH})")
    parser.add_argument("--sync-on-commit", action="store_true", help="run the embedded SecantusDB as ./dev up does")
    args = parser.parse_args()
    mongodb_url, amqp_url = os.environ.get("MONGODB_URL"), os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    ensure_rabbitmq(amqp_url)
    embedded = None
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        if not mongodb_url:
            embedded = start_embedded_mongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log", sync_on_commit=args.sync_on_commit)
            mongodb_url = embedded.url
        try:
            results = asyncio.run(run(Infrastructure(mongodb_url, amqp_url, "bench"), args, Path(tmp), embedded.process.pid if embedded else None))
        finally:
            if embedded:
                embedded.stop()
    floor = results["floor"]
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"MongoDB: {'embedded SecantusDB' + (' --sync-on-commit' if args.sync_on_commit else '') if embedded else 'MONGODB_URL'}; "
          f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    print(f"authority: {args.cases} open cases, {args.auditors} auditors, {args.peer_reviewers} peer reviewers; "
          f"allocation prefetch (largest batch) per replica: {args.prefetch or f'default ({DEFAULT_PREFETCH})'}")
    print(f"{'measure':<58} {'s':>8} {'audits/s':>9} {'x floor':>8}")
    n = args.auditors
    print(f"{'floor: ' + str(n) + ' raw inserts, sequential':<58} {floor['inserts_s']:>8}")
    print(f"{'floor: ' + str(n) + ' raw confirmed publishes, sequential':<58} {floor['publishes_s']:>8}")
    print(f"{'floor: both':<58} {floor['floor_s']:>8} {n / floor['floor_s']:>9.1f} {1.0:>8}")
    ratios = {}
    for r in results["runs"]:
        label = f"{r['replicas']} replica(s): draw answered"
        print(f"{label:<58} {r['draw_response_s']:>8}")
        label = f"{r['replicas']} replica(s): all {r['audits']} allocated and announced"
        ratio = round(r["total_s"] / floor["floor_s"], 2)
        ratios[f"{r['replicas']} replica(s) / floor"] = ratio
        print(f"{label:<58} {r['total_s']:>8} {r['audits'] / r['total_s']:>9.1f} {ratio:>8}")
        if r["database_cpu_s"] is not None:
            print(f"{'  CPU meanwhile: the database (one process)':<58} {r['database_cpu_s']:>8}")
        print(f"{'  CPU meanwhile: the audit replica(s)':<58} {r['audit_cpu_s']:>8}")
        if r["auditors_with_other_than_one_audit"]:
            print(f"  !! {r['auditors_with_other_than_one_audit']} auditors without exactly one audit")
        if r["audits_announced_not_stored"]:
            print(f"  !! {r['audits_announced_not_stored']} audits announced that are not stored")
    runs = {r["replicas"]: r for r in results["runs"]}
    if 1 in runs and 2 in runs:
        ratios["2 replicas / 1 replica (time)"] = round(runs[2]["total_s"] / runs[1]["total_s"], 2)
    for name, value in ratios.items():
        print(f"ratio {name:<40} {value:>6}")
    out = Path(__file__).resolve().parents[1] / "results"
    out.mkdir(exist_ok=True)
    path = out / f"audit-cycle-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({**results, "ratios": ratios, "cores": os.cpu_count(), "load_before": load_before, "args": vars(args)}, indent=2))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
