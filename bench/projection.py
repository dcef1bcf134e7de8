"""Benchmark: a directory projection consuming a burst of events (a bulk import's), one
transaction per event against one transaction per batch, in one run.

    python -m bench.projection [--events 3000]

Each run publishes ``--events`` ``directory.case.changed.v1`` events (three versions each of
events / 3 cases, as a bulk import followed by corrections sends them) and times the audit
service's directory consumer until it has acknowledged every event as handled (counted in process
from ``qa_messages_total``, without polling the database), with:

- one event per transaction, prefetch 8 and 32 (what every queue did before batches);
- batches (``ConsumerSpec(batch=True)``), prefetch 32 and 128;

once with one service's projection, and once with three consuming the burst at the same time on
one database (audit, sign-off and resolution each keep one), as after a bulk import.

Floor, in the same run: the same number of single upserts, one at a time, no transaction. Each
run checks every case ends at its last version. Uses MONGODB_URL / AMQP_URL if set, else an
embedded SecantusDB and the local RabbitMQ, like the tests. Prints a table; JSON under
bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from audit.common.directory import CASE_CHANGED, CASES, CaseChanged, subscriptions
from shared.clock import SystemClock
from shared.consumer import PROCESSED_INDEXES, EventConsumer
from shared.mongo import UnitOfWork

from bench.stack import handled
from devstack.infra import LOCAL_AMQP_URL, ensure_rabbitmq, start_embedded_mongo
from shared import broker, mongo

VERSIONS = 3


def _bodies(events: int) -> list[tuple[str, bytes]]:
    cases = max(1, events // VERSIONS)
    bodies = []
    for version in range(1, VERSIONS + 1):
        for n in range(cases):
            data = CaseChanged(case_id=f"C-{n}", version=version, case_type="CIN", team_id=f"T-{version}", opened_on=date(2026, 1, 5))
            envelope = CASE_CHANGED.envelope(data, source=CASE_CHANGED.source, subject=f"case/C-{n}", time=datetime.now(UTC), event_id=f"case-{n}-v{version}")
            bodies.append((envelope.id, envelope.to_json()))
    return bodies


class _Projection:
    """One service's directory queue, filled with the burst before its consumer starts."""

    def __init__(self, mongodb_url: str, amqp_url: str, *, batch: bool, prefetch: int) -> None:
        self.mongodb_url, self.amqp_url, self.batch, self.prefetch = mongodb_url, amqp_url, batch, prefetch
        self.ns = f"bench{uuid.uuid4().hex[:6]}"

    async def fill(self, bodies: list[tuple[str, bytes]]) -> None:
        self.client = mongo.connect(self.mongodb_url)
        self.db = self.client[f"{self.ns}_audit"]
        await mongo.create_indexes(self.db, [PROCESSED_INDEXES])
        self.connection = await broker.connect(self.amqp_url, name="bench")
        uow = UnitOfWork(self.client, self.db, source="/qa/bench", clock=SystemClock())
        self.consumer = EventConsumer(
            connection=self.connection, uow=uow, service="bench", purpose=f"{self.ns}-directory", queue=f"{self.ns}.audit.directory",
            exchange=f"{self.ns}.events", subscriptions=subscriptions(self.db), prefetch=self.prefetch, batch=self.batch,
        )
        self.channel = await self.connection.channel()
        await self.consumer.declare(self.channel)  # declared and bound, not yet consumed: the burst waits in the queue
        publisher = broker.Publisher(self.connection, f"{self.ns}.events")
        await publisher.open()
        for start in range(0, len(bodies), 200):
            await asyncio.gather(*(
                publisher.publish(body, routing_key=CASE_CHANGED.routing_key, message_id=event_id, event_type=CASE_CHANGED.type)
                for event_id, body in bodies[start:start + 200]
            ))
        self.expected = len(bodies)

    async def drain(self) -> None:
        before = handled(self.consumer.purpose)
        await self.consumer.start()
        while handled(self.consumer.purpose) - before < self.expected:
            await asyncio.sleep(0.01)  # in process: the database is not asked

    async def close(self) -> None:
        await self.consumer.stop(grace_s=5)
        at_last = await self.db[CASES].count_documents({"version": VERSIONS})
        assert at_last == self.expected // VERSIONS, f"{at_last} cases at their last version"
        for name in self.consumer.names.all():
            await self.channel.queue_delete(name)
        await self.channel.exchange_delete(f"{self.ns}.events")
        await self.connection.close()
        await self.client.drop_database(self.db.name)
        await self.client.close()


async def _consume(mongodb_url: str, amqp_url: str, bodies: list[tuple[str, bytes]], *, batch: bool, prefetch: int, services: int) -> float:
    """Seconds until ``services`` projections (as audit, sign-off and resolution each keep one)
    have all consumed the burst, consuming at the same time on one database."""
    projections = [_Projection(mongodb_url, amqp_url, batch=batch, prefetch=prefetch) for _ in range(services)]
    for projection in projections:
        await projection.fill(bodies)
    started = time.perf_counter()
    await asyncio.gather(*(p.drain() for p in projections))
    elapsed = time.perf_counter() - started
    for projection in projections:
        await projection.close()
    return elapsed


async def _floor(mongodb_url: str, n: int) -> float:
    client = mongo.connect(mongodb_url)
    db = client[f"bench{uuid.uuid4().hex[:6]}_floor"]
    started = time.perf_counter()
    for i in range(n):
        await db.cases.update_one({"_id": f"C-{i}"}, {"$set": {"version": 1, "team_id": "T-1"}}, upsert=True)
    elapsed = time.perf_counter() - started
    await client.drop_database(db.name)
    await client.close()
    return elapsed


async def run(mongodb_url: str, amqp_url: str, events: int) -> list[dict[str, object]]:
    bodies = _bodies(events)
    n = len(bodies)
    results: list[dict[str, object]] = []
    floor = await _floor(mongodb_url, n)
    results.append({"label": "floor: single upserts, sequential, no transaction", "n": n, "seconds": round(floor, 2), "per_s": round(n / floor, 1)})
    for services in (1, 3):
        for batch, prefetch in ((False, 8), (False, 32), (True, 32), (True, 128)):
            elapsed = await _consume(mongodb_url, amqp_url, bodies, batch=batch, prefetch=prefetch, services=services)
            label = f"{services} service{'s' if services > 1 else ''}: {'batches' if batch else 'one event per transaction'}, prefetch {prefetch}"
            total = n * services
            results.append({
                "label": label, "n": total, "seconds": round(elapsed, 2), "per_s": round(total / elapsed, 1),
                "x_floor": round(elapsed / (floor * services), 2), "services": services, "batch": batch,
            })
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    mongodb_url, amqp_url = os.environ.get("MONGODB_URL"), os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    ensure_rabbitmq(amqp_url)
    embedded = None
    with tempfile.TemporaryDirectory() as tmp:
        if not mongodb_url:
            embedded = start_embedded_mongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log", sync_on_commit=False)
            mongodb_url = embedded.url
        try:
            results = asyncio.run(run(mongodb_url, amqp_url, args.events))
        finally:
            if embedded:
                embedded.stop()
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}; "
          f"MongoDB: {'embedded SecantusDB' if embedded else 'MONGODB_URL'}")
    print(f"{'measure':<62} {'n':>6} {'s':>8} {'per s':>8} {'x floor':>8}")
    for r in results:
        print(f"{r['label']:<55} {r['n']:>6} {r['seconds']:>8} {r['per_s']:>8} {r.get('x_floor', ''):>8}")
    for services in (1, 3):
        single = min(float(r["seconds"]) for r in results if r.get("services") == services and not r["batch"])  # type: ignore[arg-type]
        batched = min(float(r["seconds"]) for r in results if r.get("services") == services and r["batch"])  # type: ignore[arg-type]
        print(f"ratio, {services} service(s): best batched / best one-per-transaction time = {batched / single:.2f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"projection-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"results": results, "cores": os.cpu_count()}, indent=2))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
