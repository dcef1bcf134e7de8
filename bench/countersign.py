"""Counter-signing measured end to end: ``POST /api/v1/signoff/exemplars/{id}/counter-signature``
through the gateway, sign-off's write (the exemplar, its chronology and the outbox in one
transaction), the confirmed publish, and notify closing the counter-signer's task, with 16 clients
and with one, against the floor measured in the same run: one raw insert + one raw confirmed
publish + one raw consume and ack per action.

    python -m bench.countersign [--actions 400] [--clients 16] [--single 100]

It starts what it needs (SecantusDB unless ``MONGODB_URL`` is set, the local RabbitMQ unless
``AMQP_URL`` is set; sign-off, notify and the gateway as processes on free ports), loads the demo
directory, prepares the exemplars (started, answered, first-signed by the social worker, so that
the duty senior has a counter-sign task for each), then counter-signs them. The end of a run is
seen through the API (the duty senior's open counter-sign tasks, one indexed query a quarter of a
second), never by counting in the database. Prints a table and writes
``bench/results/countersign-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from pymongo import AsyncMongoClient

from .stack import Running, cpu, running

RESULTS = Path(__file__).resolve().parent / "results"
WORKER, SENIOR, CASE = "P-SW1", "P-DS", "C-1002"
TARGET = {"ratio_16_clients": 0.25, "p50_ms_one_client": 10.0}
ANSWERS = {"date_commenced": "2026-11-02", "child_seen": True, "analysis": "Needs are met; advice given."}


async def _token(http: httpx.AsyncClient, person_id: str) -> dict[str, str]:
    resp = await http.post("/auth/dev/token", json={"person_id": person_id})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def _prepare_one(http: httpx.AsyncClient, worker: dict[str, str], further_action: str) -> tuple[str, str]:
    """An exemplar first-signed by the worker: (its id, its ETag for the counter-signature)."""
    created = await http.post("/api/v1/signoff/exemplars", json={"case_id": CASE, "type_code": "INIASS"}, headers=worker)
    created.raise_for_status()
    exemplar_id = created.json()["id"]
    answered = await http.patch(f"/api/v1/signoff/exemplars/{exemplar_id}/answers",
                                json={"answers": {**ANSWERS, "further_action": further_action}},
                                headers={**worker, "If-Match": created.headers["etag"]})
    answered.raise_for_status()
    first = await http.post(f"/api/v1/signoff/exemplars/{exemplar_id}/first-signature", json={"counter_signer_id": SENIOR},
                            headers={**worker, "If-Match": answered.headers["etag"]})
    first.raise_for_status()
    return exemplar_id, first.headers["etag"]


async def _prepare(http: httpx.AsyncClient, count: int, clients: int) -> list[tuple[str, str]]:
    from signoff.domain.catalogue import INITIAL_ASSESSMENT

    further_action = INITIAL_ASSESSMENT.questions[4].options[2]
    worker = await _token(http, WORKER)
    ready: list[tuple[str, str]] = []
    queue = list(range(count))

    async def client() -> None:
        while queue:
            queue.pop()
            ready.append(await _prepare_one(http, worker, further_action))

    await asyncio.gather(*(client() for _ in range(clients)))
    return ready


async def _open_tasks(http: httpx.AsyncClient, senior: dict[str, str]) -> int:
    """How many counter-sign tasks the duty senior still has open (pages of 200)."""
    total, cursor = 0, None
    while True:
        params: dict[str, str | int] = {"status": "open", "kind": "counter_sign", "limit": 200, **({"cursor": cursor} if cursor else {})}
        resp = await http.get("/api/v1/notify/tasks", params=params, headers=senior)
        resp.raise_for_status()
        page = resp.json()
        total += len(page["items"])
        cursor = page.get("next")
        if not cursor:
            return total


async def _wait_tasks(http: httpx.AsyncClient, senior: dict[str, str], expected: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while await _open_tasks(http, senior) != expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"the duty senior's open counter-sign tasks did not reach {expected} within {timeout:.0f}s")
        await asyncio.sleep(0.25)


async def _counter_sign(http: httpx.AsyncClient, senior: dict[str, str], exemplar: tuple[str, str]) -> float:
    exemplar_id, etag = exemplar
    started = time.perf_counter()
    resp = await http.post(f"/api/v1/signoff/exemplars/{exemplar_id}/counter-signature", json={"comments": "Agreed."},
                           headers={**senior, "If-Match": etag})
    elapsed = time.perf_counter() - started
    if resp.status_code != 200:
        raise SystemExit(f"counter-signature refused: {resp.status_code} {resp.text}")
    return elapsed


async def _measure(http: httpx.AsyncClient, exemplars: list[tuple[str, str]], clients: int) -> dict[str, Any]:
    senior = await _token(http, SENIOR)
    # Every prepared exemplar's counter-sign task is in the senior's tray (the previous run closed its own).
    await _wait_tasks(http, senior, len(exemplars))
    latencies: list[float] = []
    queue = list(exemplars)
    started = time.perf_counter()

    async def client() -> None:
        while queue:
            latencies.append(await _counter_sign(http, senior, queue.pop()))

    await asyncio.gather(*(client() for _ in range(clients)))
    answered = time.perf_counter() - started
    await _wait_tasks(http, senior, 0)
    done = time.perf_counter() - started
    return {
        "actions": len(exemplars), "clients": clients,
        "answered_s": round(answered, 3), "end_to_end_s": round(done, 3),
        "actions_per_s": round(len(exemplars) / done, 1),
        "http_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "http_p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000, 2),
    }


async def _floor(mongodb_url: str, amqp_url: str, actions: int, clients: int) -> dict[str, Any]:
    """One raw insert + one raw confirmed publish + one raw consume and ack per action."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    scratch = client[f"benchfloor{secrets.token_hex(3)}"]["raw"]
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        consumer_channel = await connection.channel()
        await consumer_channel.set_qos(prefetch_count=clients)
        received: asyncio.Queue[None] = asyncio.Queue()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            received.put_nowait(None)

        consumer_queue = await consumer_channel.get_queue(queue.name)
        await consumer_queue.consume(on_message)

        async def one(n: int) -> float:
            started = time.perf_counter()
            await scratch.insert_one({"_id": f"{secrets.token_hex(4)}-{n}", "body": "x" * 400})
            await channel.default_exchange.publish(aio_pika.Message(b"x" * 400, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue.name)
            await received.get()
            return time.perf_counter() - started

        async def run(count: int, concurrency: int) -> tuple[float, list[float]]:
            latencies: list[float] = []
            pending = list(range(count))
            started = time.perf_counter()

            async def worker() -> None:
                while pending:
                    latencies.append(await one(pending.pop()))

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started, latencies

        await run(50, 1)  # warm up
        many_s, _ = await run(actions, clients)
        _, single = await run(min(actions, 200), 1)
        return {"actions_per_s_concurrent": round(actions / many_s, 1), "p50_ms_one_client": round(statistics.median(single) * 1000, 3)}
    finally:
        await connection.close()
        await client.drop_database(scratch.database.name)
        await client.close()


def run(actions: int, clients: int, single: int) -> dict[str, Any]:
    async def measure(system: Running) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=system.stack.url("gateway"), timeout=60,
                                     limits=httpx.Limits(max_connections=clients + 4)) as http:
            warm = await _prepare(http, 20, clients)
            await _measure(http, warm, clients)  # warm up every path
            many = await _measure(http, await _prepare(http, actions, clients), clients)
            one = await _measure(http, await _prepare(http, single, clients), 1)
        floor = await _floor(system.mongodb_url, system.amqp_url, actions, clients)
        return {"many": many, "one": one, "floor": floor}

    with running(["signoff", "notify", "gateway"], "countersign") as system:
        figures = asyncio.run(measure(system))
        embedded = system.embedded
    many, one, floor = figures["many"], figures["one"], figures["floor"]
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu(), "python": platform.python_version(), "load_1m": os.getloadavg()[0]},
        "mongodb": "embedded SecantusDB" if embedded else "MONGODB_URL",
        "figures": figures,
        "ratio_16_clients": round(many["actions_per_s"] / floor["actions_per_s_concurrent"], 3),
        "p50_ms_one_client": one["http_p50_ms"],
        "target": TARGET,
    }


def table(result: dict[str, Any]) -> str:
    f = result["figures"]
    many, one, floor = f["many"], f["one"], f["floor"]
    lines = [
        f"counter-sign, {many['clients']} clients: {many['actions_per_s']} actions/s end to end ({many['actions']} in {many['end_to_end_s']} s; "
        f"HTTP p50 {many['http_p50_ms']} ms, p95 {many['http_p95_ms']} ms)",
        f"counter-sign, 1 client: HTTP p50 {one['http_p50_ms']} ms, p95 {one['http_p95_ms']} ms; {one['actions_per_s']} actions/s end to end",
        f"floor (raw insert + confirmed publish + consume/ack): {floor['actions_per_s_concurrent']} actions/s with {many['clients']} clients, "
        f"{floor['p50_ms_one_client']} ms p50 for one",
        f"ratio with {many['clients']} clients: {result['ratio_16_clients']:.3f}x the floor (target >= {TARGET['ratio_16_clients']}x) "
        f"{'OK' if result['ratio_16_clients'] >= TARGET['ratio_16_clients'] else 'BELOW TARGET'}",
        f"one client p50: {result['p50_ms_one_client']} ms (target <= {TARGET['p50_ms_one_client']} ms) "
        f"{'OK' if result['p50_ms_one_client'] <= TARGET['p50_ms_one_client'] else 'ABOVE TARGET'}",
        f"machine: {result['machine']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.countersign", description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=400, help="counter-signatures with many clients (default 400)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--single", type=int, default=100, help="counter-signatures with one client (default 100)")
    args = parser.parse_args()
    result = run(args.actions, args.clients, args.single)
    print(table(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"countersign-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
