"""Benchmark: the idempotent consumer against raw consume+ack, in one run.

    python -m bench.consumer [--events 3000] [--prefetch 32] [--batch-prefetch 128] [--repeat 1]

``--events`` events are published once to three quorum queues bound to the same routing key, and
wait there. Then, one after another, each queue is emptied and timed:

1. raw aio-pika consume+ack (prefetch ``--batch-prefetch``; the floor), one ``ack`` per message;
   beside it, without the broker, as many bare transactions (one marker inserted, committed),
   ``--prefetch`` at a time: the most that one transaction per event can reach;
2. ``EventConsumer`` one event per transaction (``batch=False``, prefetch ``--prefetch``) with a
   no-op handler;
3. ``EventConsumer`` with batches (``batch=True``, prefetch ``--batch-prefetch``) with a no-op
   handler.

The consumers are timed from ``start()`` until every event is acknowledged as handled (counted
in process, from ``qa_messages_total``, without polling the database); then every event
is checked to have its processed marker. Uses MONGODB_URL / AMQP_URL if set, else an embedded
SecantusDB (without ``--sync-on-commit``, like the other benchmarks) and the local RabbitMQ.
Prints the figures and the ratios with the machine; JSON under bench/results/.
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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aio_pika.abc import AbstractIncomingMessage
from shared.clock import SystemClock
from shared.consumer import PROCESSED_INDEXES, EventConsumer, ReceivedEvent, Subscription, handled_event_ids
from shared.events import EventData, EventType
from shared.mongo import PROCESSED_EVENTS, Transaction, UnitOfWork

from bench.stack import cpu, handled
from devstack.infra import LOCAL_AMQP_URL, ensure_rabbitmq, start_embedded_mongo
from shared import broker, mongo


class Pinged(EventData):
    n: int


MODES = ("raw", "transactions", "per-event", "batched")
LABELS = {"raw": "raw consume+ack", "transactions": "bare transactions (no broker)", "per-event": "EventConsumer, one per transaction",
          "batched": "EventConsumer, batches"}
TARGETS = {"raw": "", "transactions": "", "per-event": "(target >= 0.25x)", "batched": "(target >= 0.5x)"}

PINGED = EventType("bench.consumer.pinged", 1, Pinged, "A benchmark event (bench.consumer only).", "bench")


async def _noop(event: ReceivedEvent, tx: Transaction) -> None:
    return None


def _cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by this process, or by process ``pid``."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Run:
    """One namespace: the exchange, the three queues filled with the same events, one database."""

    def __init__(self, mongodb_url: str, amqp_url: str, *, events: int, prefetch: int, batch_prefetch: int, db_pid: int | None) -> None:
        self.mongodb_url, self.amqp_url, self.db_pid = mongodb_url, amqp_url, db_pid
        self.events, self.prefetch, self.batch_prefetch = events, prefetch, batch_prefetch
        self.ns = f"bench{uuid.uuid4().hex[:6]}"
        self.exchange = f"{self.ns}.events"

    async def open(self) -> None:
        self.client = mongo.connect(self.mongodb_url)
        self.db = self.client[f"{self.ns}_bench"]
        await mongo.create_indexes(self.db, [PROCESSED_INDEXES])
        self.connection = await broker.connect(self.amqp_url, name="bench")
        self.channel = await self.connection.channel()
        uow = UnitOfWork(self.client, self.db, source="/qa/bench", clock=SystemClock())
        self.consumers = {
            batch: EventConsumer(
                connection=self.connection, uow=uow, service="bench", purpose=f"{self.ns}-{'batched' if batch else 'per-event'}",
                queue=f"{self.ns}.bench.{'batched' if batch else 'per-event'}", exchange=self.exchange,
                subscriptions=[Subscription(PINGED, _noop)], prefetch=self.batch_prefetch if batch else self.prefetch, batch=batch,
            )
            for batch in (False, True)
        }
        for consumer in self.consumers.values():
            await consumer.declare(self.channel)  # declared and bound, not consumed: the events wait
        self.raw_queue = await self.channel.declare_queue(
            f"{self.ns}.bench.raw", durable=True, arguments={"x-queue-type": "quorum"}
        )
        exchange = await broker.declare_events_exchange(self.channel, self.exchange)
        await self.raw_queue.bind(exchange, routing_key=PINGED.routing_key)
        publisher = broker.Publisher(self.connection, self.exchange)
        await publisher.open()
        for start in range(0, self.events, 200):
            await asyncio.gather(*(
                publisher.publish(self._body(n), routing_key=PINGED.routing_key, message_id=f"ping-{n}", event_type=PINGED.type)
                for n in range(start, min(start + 200, self.events))
            ))
        await publisher.close()

    def _body(self, n: int) -> bytes:
        envelope = PINGED.envelope(Pinged(n=n), source=PINGED.source, subject=f"ping/{n}", time=datetime.now(UTC), event_id=f"{self.ns}-{n}")
        return envelope.to_json()

    async def timed(self, mode: str) -> dict[str, float]:
        """Seconds for ``mode``, and the CPU seconds this process and the database's used meanwhile."""
        client, db = _cpu_s(None), _cpu_s(self.db_pid)
        if mode == "raw":
            seconds = await self.raw()
        elif mode == "transactions":
            seconds = await self.transactions()
        else:
            seconds = await self.consumer(batch=mode == "batched")
        return {"s": seconds, "client_cpu_s": _cpu_s(None) - client, "db_cpu_s": _cpu_s(self.db_pid) - db}

    async def raw(self) -> float:
        """Seconds to consume and ack every event of the raw queue, one ack per message."""
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=self.batch_prefetch)
        queue = await channel.get_queue(self.raw_queue.name)
        done = asyncio.Event()
        count = 0

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal count
            await message.ack()
            count += 1
            if count == self.events:
                done.set()

        started = time.perf_counter()
        tag = await queue.consume(on_message)
        await done.wait()
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await channel.close()
        return elapsed

    async def transactions(self) -> float:
        """Seconds for as many bare transactions as there are events, each inserting one marker
        and committing, ``prefetch`` at a time: what one transaction per event costs without the
        broker or the consumer, the ceiling of the per-event consumer."""
        uow = self.consumers[False].uow
        markers = self.db[PROCESSED_EVENTS]
        running = asyncio.Semaphore(self.prefetch)

        async def one(n: int) -> None:
            async with running:
                await uow.run(lambda tx: markers.insert_one({"consumer": f"{self.ns}-bare", "event_id": f"{self.ns}-{n}"}, session=tx.session))

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(self.events)))
        return time.perf_counter() - started

    async def consumer(self, *, batch: bool) -> float:
        """Seconds from starting the consumer until every event is acknowledged as handled."""
        consumer = self.consumers[batch]
        before = handled(consumer.purpose)
        started = time.perf_counter()
        await consumer.start()
        while handled(consumer.purpose) - before < self.events:
            await asyncio.sleep(0.01)  # in process: the database is not asked
        elapsed = time.perf_counter() - started
        await consumer.stop(grace_s=5)
        recorded = await handled_event_ids(self.db, consumer=consumer.purpose)
        assert len(set(recorded)) == len(recorded) == self.events, f"{len(recorded)} events recorded by processed markers, of {self.events}"
        return elapsed

    async def close(self) -> None:
        for consumer in self.consumers.values():
            for name in consumer.names.all():
                await self.channel.queue_delete(name)
            await self.channel.exchange_delete(consumer.names.requeue)
        await self.channel.queue_delete(self.raw_queue.name)
        await self.channel.exchange_delete(self.exchange)
        await self.channel.exchange_delete(f"{self.ns}.platform")
        await self.connection.close()
        await self.client.drop_database(self.db.name)
        await self.client.close()


async def run(mongodb_url: str, amqp_url: str, *, events: int, prefetch: int, batch_prefetch: int, repeat: int,
              modes: Sequence[str] = MODES, db_pid: int | None = None) -> list[dict[str, dict[str, float]]]:
    rounds = []
    for _ in range(repeat):
        bench = _Run(mongodb_url, amqp_url, events=events, prefetch=prefetch, batch_prefetch=batch_prefetch, db_pid=db_pid)
        await bench.open()
        try:
            rounds.append({mode: await bench.timed(mode) for mode in MODES if mode in modes})
        finally:
            await bench.close()
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--prefetch", type=int, default=32, help="per-event consumer's prefetch (CONSUMER_PREFETCH)")
    parser.add_argument("--batch-prefetch", type=int, default=128, help="batched consumer's and raw consume's prefetch (CONSUMER_BATCH_PREFETCH)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--modes", default=",".join(MODES), help="which to run (for profiling one alone)")
    args = parser.parse_args()
    mongodb_url, amqp_url = os.environ.get("MONGODB_URL"), os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    ensure_rabbitmq(amqp_url)
    embedded = None
    with tempfile.TemporaryDirectory() as tmp:
        if not mongodb_url:
            embedded = start_embedded_mongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log", sync_on_commit=False)
            mongodb_url = embedded.url
        try:
            rounds = asyncio.run(run(mongodb_url, amqp_url, events=args.events, prefetch=args.prefetch,
                                     batch_prefetch=args.batch_prefetch, repeat=args.repeat,
                                     modes=args.modes.split(","), db_pid=embedded.process.pid if embedded else None))
        finally:
            if embedded:
                embedded.stop()
    n = args.events
    print(f"\nmachine: {os.cpu_count()} cores, {cpu()}, {platform.machine()}, Python {platform.python_version()}, "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}; MongoDB: {'embedded SecantusDB' if embedded else 'MONGODB_URL'}")
    print(f"{n} events waiting in each queue; per-event prefetch {args.prefetch}, batched and raw prefetch {args.batch_prefetch}")
    for i, r in enumerate(rounds, 1):
        for mode, m in r.items():
            m["per_s"] = n / m["s"]
            if "raw" in r:
                m["x_raw"] = m["per_s"] / r["raw"]["per_s"]
            print(f"round {i}: {LABELS[mode]:<32} {m['per_s']:>8,.0f} events/s  {m.get('x_raw', float('nan')):5.2f}x raw {TARGETS[mode]:<18}"
                  f"  CPU s: this process {m['client_cpu_s']:.1f}, database {m['db_cpu_s']:.1f}, wall {m['s']:.1f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"consumer-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({"events": n, "prefetch": args.prefetch, "batch_prefetch": args.batch_prefetch,
                                "cores": os.cpu_count(), "cpu": cpu(), "load": os.getloadavg(), "rounds": rounds}, indent=2))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
