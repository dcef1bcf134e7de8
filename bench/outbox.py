"""Benchmark: the cost of a state change with its event (transaction + outbox + relay) against
the floors of the same machine, measured in one run.

    python -m bench.outbox [--events 2000] [--concurrency 20]

Floors: raw single inserts (one document, no transaction), raw confirmed publishes (one at a
time, and concurrently). Measured: a use case's write (one transaction: the document and its
outbox event), the relay publishing a backlog, and both at once end to end (writes while the
relay runs, until every event is confirmed by the broker). Prints a table, writes JSON to
bench/results/. Uses MONGODB_URL / AMQP_URL if set, else an embedded SecantusDB and the local
RabbitMQ, like the tests.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.clock import SystemClock
from shared.mongo import OUTBOX, Transaction, UnitOfWork
from shared.outbox import OUTBOX_INDEXES, OutboxRelay

from devstack.infra import LOCAL_AMQP_URL, ensure_rabbitmq, start_embedded_mongo
from devstack.wiring import THING_HAPPENED, ThingHappened
from shared import broker, mongo


async def _timed(label: str, n: int, coro) -> dict[str, Any]:
    started = time.perf_counter()
    await coro
    elapsed = time.perf_counter() - started
    return {"label": label, "n": n, "seconds": round(elapsed, 3), "per_s": round(n / elapsed, 1)}


async def run(mongodb_url: str, amqp_url: str, events: int, concurrency: int) -> list[dict[str, Any]]:
    ns = f"bench{uuid.uuid4().hex[:6]}"
    client = mongo.connect(mongodb_url)
    db = client[f"{ns}_bench"]
    await mongo.create_indexes(db, [OUTBOX_INDEXES])
    connection = await broker.connect(amqp_url, name="bench")
    publisher = broker.Publisher(connection, f"{ns}.events")
    await publisher.open()
    # A consumer-less queue would drop unroutable events; bind one so publishes land somewhere real.
    channel = await connection.channel()
    exchange = await broker.declare_events_exchange(channel, f"{ns}.events")
    sink = await channel.declare_queue(f"{ns}.sink", durable=True, arguments={"x-queue-type": "quorum"})
    await sink.bind(exchange, routing_key="#")
    uow = UnitOfWork(client, db, source="/qa/bench", clock=SystemClock())
    body = THING_HAPPENED.envelope(ThingHappened(thing_id=1), source="/qa/bench", subject="x", time=datetime.now(UTC)).to_json()
    results = []

    async def raw_inserts() -> None:
        for i in range(events):
            await db.raw.insert_one({"_id": i, "payload": "x" * 200})

    async def raw_publishes_sequential() -> None:
        for i in range(events):
            await publisher.publish(body, routing_key=THING_HAPPENED.routing_key, message_id=str(i), event_type=THING_HAPPENED.type)

    async def raw_publishes_concurrent() -> None:
        for start in range(0, events, 200):
            await asyncio.gather(*(publisher.publish(body, routing_key=THING_HAPPENED.routing_key, message_id=str(i), event_type=THING_HAPPENED.type) for i in range(start, min(events, start + 200))))

    async def write(i: int) -> None:
        async def work(tx: Transaction) -> None:
            await db.things.insert_one({"_id": i, "payload": "x" * 200}, session=tx.session)
            tx.record(THING_HAPPENED, ThingHappened(thing_id=i), subject=f"thing/{i}")

        await uow.run(work)

    async def use_case_writes() -> None:
        for i in range(events):
            await write(i)

    relay = OutboxRelay(db, publisher, SystemClock(), service="bench", batch_size=200)

    async def relay_backlog() -> None:
        while await relay.publish_pending():
            pass

    async def end_to_end() -> None:
        await db.things.delete_many({})
        live_relay = OutboxRelay(db, publisher, SystemClock(), service="bench", batch_size=200, poll_interval_s=0.05)
        uow.__init__(client, db, source="/qa/bench", clock=SystemClock(), relay=live_relay)
        live_relay.start()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(events):
            queue.put_nowait(events + i)

        async def worker() -> None:
            while not queue.empty():
                await write(queue.get_nowait())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        while await db[OUTBOX].count_documents({"status": "pending"}):
            await asyncio.sleep(0.01)
        await live_relay.stop()

    results.append(await _timed("floor: raw insert_one, sequential", events, raw_inserts()))
    results.append(await _timed("floor: confirmed publish, sequential", events, raw_publishes_sequential()))
    results.append(await _timed("floor: confirmed publish, 200 concurrent", events, raw_publishes_concurrent()))
    results.append(await _timed("use case write (txn: document + outbox event), sequential", events, use_case_writes()))
    results.append(await _timed("relay: publish a backlog (claim, confirm, mark sent)", events, relay_backlog()))
    results.append(await _timed(f"end to end: {concurrency} concurrent writers + live relay, until all confirmed", events, end_to_end()))

    await sink.delete(if_unused=False, if_empty=False)
    await exchange.delete()
    await connection.close()
    await client.drop_database(db.name)
    await client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--sync-on-commit", action="store_true", help="run the embedded SecantusDB as ./dev up does")
    args = parser.parse_args()
    mongodb_url, amqp_url = os.environ.get("MONGODB_URL"), os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    ensure_rabbitmq(amqp_url)
    embedded = None
    with tempfile.TemporaryDirectory() as tmp:
        if not mongodb_url:
            embedded = start_embedded_mongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log", sync_on_commit=args.sync_on_commit)
            mongodb_url = embedded.url
        try:
            results = asyncio.run(run(mongodb_url, amqp_url, args.events, args.concurrency))
        finally:
            if embedded:
                embedded.stop()
    insert_floor, pub_seq, pub_conc, write, relay, e2e = (r["per_s"] for r in results)
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"MongoDB: {'embedded SecantusDB' + (' --sync-on-commit' if args.sync_on_commit else '') if embedded else 'MONGODB_URL'}")
    print(f"{'measure':<80} {'n':>6} {'s':>8} {'per s':>9}")
    for r in results:
        print(f"{r['label']:<80} {r['n']:>6} {r['seconds']:>8} {r['per_s']:>9}")
    ratios = {
        "use case write / raw insert": round(write / insert_floor, 2),
        "relay / concurrent confirmed publish": round(relay / pub_conc, 2),
        "relay / sequential confirmed publish": round(relay / pub_seq, 2),
        "end to end / raw insert": round(e2e / insert_floor, 2),
    }
    for name, ratio in ratios.items():
        print(f"ratio {name:<50} {ratio:>6}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"outbox-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"results": results, "ratios": ratios, "cores": os.cpu_count()}, indent=2))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
