"""The database commands of a month's draw and of its allocation, counted: a deterministic figure
beside ``python -m bench.audit_cycle``'s timings, which a busy machine moves.

    python -m bench.audit_cycle.commands [--cases 20000] [--auditors 600] [--batch 64]

In one process, on an embedded SecantusDB (or ``MONGODB_URL``), with the benchmark's authority in
the service's directory projection: ``cycles.usecases.draw_cycle`` once, then the work items it
recorded in its outbox allocated by ``cycles.usecases.allocate_work_items`` in batches of
``--batch`` (the replica's prefetch), each in one transaction, as the allocation queue's consumer
runs them (its processed markers, a find and an insert per batch, are the consumer's and are not
counted). PyMongo's command monitoring counts every command by name and collection, with the
documents each read and wrote. With the embedded server it also prints the CPU time its process
spent on each kind of command (the commands run one at a time): what the draw and allocation
cost the database whatever else the machine is doing. No broker, no relay: nothing is published.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from pymongo import monitoring

from bench.audit_cycle.__main__ import authority, process_cpu
from devstack.infra import start_embedded_mongo

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # the draw day of December 2026
MONTH = "2026-12"
TOOL = "kent-online-peer-review"


class Counting(monitoring.CommandListener):
    """Commands by ``name collection``, documents read and written, and the server's CPU for each."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.on = False
        self.commands: Counter[str] = Counter()
        self.read: Counter[str] = Counter()
        self.written: Counter[str] = Counter()
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self._started: dict[int, tuple[str, float]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        name, command = event.command_name, event.command
        target = command.get("collection") if name == "getMore" else command.get(name)
        key = f"{name} {target}" if isinstance(target, str) else name
        self.commands[key] += 1
        self.written[key] += len(command.get("documents", ())) + len(command.get("updates", ())) + len(command.get("deletes", ()))
        self._started[event.request_id] = (key, process_cpu(self.server_pid))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        started = self._started.pop(event.request_id, None)
        if started is None:
            return
        key, cpu = started
        self.cpu[key] += process_cpu(self.server_pid) - cpu
        cursor = event.reply.get("cursor") or {}
        self.read[key] += len(cursor.get("firstBatch", cursor.get("nextBatch", ())))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._started.pop(event.request_id, None)

    def report(self, phase: str, seconds: float) -> dict[str, object]:
        rows = {k: {"commands": n, "read": self.read[k], "written": self.written[k], "server_cpu_s": round(self.cpu[k], 3)} for k, n in sorted(self.commands.items())}
        print(f"\n{phase}: {sum(self.commands.values())} commands, {sum(self.read.values())} documents read, "
              f"{sum(self.written.values())} written; {seconds:.2f} s, database CPU {sum(self.cpu.values()):.2f} s")
        print(f"  {'command':<36} {'count':>6} {'read':>7} {'written':>8} {'db cpu s':>9}")
        for key, row in rows.items():
            print(f"  {key:<36} {row['commands']:>6} {row['read']:>7} {row['written']:>8} {row['server_cpu_s']:>9}")
        for counter in (self.commands, self.read, self.written, self.cpu):
            counter.clear()
        return {"seconds": round(seconds, 3), "commands": rows}


async def run(url: str, listener: Counting, args: argparse.Namespace) -> dict[str, object]:
    # Imported after the listener is registered: PyMongo gives it to the clients created later.
    from audit.case_audit import store
    from audit.common import directory
    from audit.common.context import AuditContext
    from audit.cycles import events as ie
    from audit.cycles import store as cycle_store
    from audit.cycles import usecases
    from audit.cycles.domain.timetable import Month
    from audit.tools import store as tool_store
    from audit.tools import usecases as tool_usecases
    from shared.clock import FixedClock
    from shared.consumer import PROCESSED_INDEXES
    from shared.idempotency import IDEMPOTENCY_INDEXES
    from shared.outbox import OUTBOX_INDEXES

    from shared import mongo

    client = mongo.connect(url)
    db = client[f"commands{os.getpid()}_audit"]
    try:
        await mongo.create_indexes(db, [OUTBOX_INDEXES, PROCESSED_INDEXES, IDEMPOTENCY_INDEXES, *store.INDEXES, *tool_store.INDEXES, *directory.INDEXES, *cycle_store.INDEXES])
        uow = mongo.UnitOfWork(client, db, source="audit", clock=FixedClock(NOW))
        await tool_usecases.seed_shipped_tools(uow)
        await directory.project_many(db, *authority(args.cases, args.auditors, args.auditors))
        ctx = AuditContext(uow, directory.ContactOverrides())

        listener.on = True
        started = time.perf_counter()
        _, drawn = await usecases.draw_cycle(
            ctx, tool_id=TOOL, month=Month.parse(MONTH), by="QA", today=NOW.date(), settings=usecases.CycleSettings(tools=(TOOL,)), seed="bench",
        )
        listener.on = False
        assert drawn, "the month was drawn already"
        draw = listener.report("draw", time.perf_counter() - started)

        docs = await db[mongo.OUTBOX].find({"routing_key": ie.ALLOCATION_REQUESTED.routing_key}).sort("seq", 1).to_list()
        items = [ie.AllocationRequested.model_validate(json.loads(d["envelope"])["data"]) for d in docs]
        listener.on = True
        started = time.perf_counter()
        for first in range(0, len(items), args.batch):
            batch = items[first : first + args.batch]
            await uow.run(lambda tx, batch=batch: usecases.allocate_work_items(ctx, batch, tx))
        listener.on = False
        allocation = listener.report(f"allocation of {len(items)} work items in batches of {args.batch}", time.perf_counter() - started)
        audits = await db[store.AUDITS].count_documents({"month": MONTH})
        assert audits == len(items), f"{audits} audits for {len(items)} work items"
        return {"draw": draw, "allocation": allocation, "work_items": len(items)}
    finally:
        await client.drop_database(db.name)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--auditors", type=int, default=600, help="auditors, and as many peer reviewers")
    parser.add_argument("--batch", type=int, default=64, help="work items per transaction (the replica's AUDIT_ALLOCATION_PREFETCH)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        embedded = None
        url = os.environ.get("MONGODB_URL")
        if not url:
            embedded = start_embedded_mongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log", sync_on_commit=False)
            url = embedded.url
        listener = Counting(embedded.process.pid if embedded else None)
        monitoring.register(listener)
        try:
            asyncio.run(run(url, listener, args))
        finally:
            if embedded:
                embedded.stop()


if __name__ == "__main__":
    main()
