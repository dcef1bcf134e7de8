"""The allocation work items in batches (one transaction for the work items a replica holds), on
real MongoDB and RabbitMQ: a batch leaves what each item handled alone would (the audit
``case_audit.usecases.allocate_in`` makes, one audit per allocation key, an unallocatable item
recorded as a failure), and through the queue a bad item is retried and dead-lettered on its own
while the others are allocated once each, whatever is published twice or redelivered."""

from __future__ import annotations

import json
from typing import Any

import aio_pika
from audit.case_audit import store
from audit.case_audit import usecases as case_usecases
from audit.case_audit.domain.audit import AllocationBasis
from audit.cycles import events as ie
from audit.cycles import store as cycle_store
from audit.cycles import usecases as cycles
from audit.main import create_app
from audit.tools import store as tool_store
from shared.clock import FixedClock

from devstack.testing import ConsumerOutcomes, publish, republish, running_service

from .conftest import DRAW_DAY, load_authority

KENT = "kent-online-peer-review"
MONTH = "2026-12"
CYCLE = f"{KENT}:{MONTH}"


def app():
    return lambda: create_app(clock=FixedClock(DRAW_DAY))


def item(version: int, team: int, *, case_id: str | None = None, basis: str | None = "line_managed") -> ie.AllocationRequested:
    """The work item the draw would record for auditor TM<team>, for the first case of their team."""
    return ie.AllocationRequested(
        cycle_id=CYCLE, tool_id=KENT, tool_version=version, month=MONTH, allocation_key=f"{CYCLE}:TM{team}", auditor_id=f"TM{team}",
        case_id=case_id or f"C-{team}-0", peer_reviewer_id=f"PR{team}", requested_by="P-QA", basis=basis,
    )


class Rollback(Exception):
    """Ends a transaction after the work, so that nothing it wrote is kept."""


def comparable(audit: Any) -> str:
    """An audit's stored document with its generated id left out."""
    return json.dumps(store.to_document(audit), default=str, sort_keys=True).replace(audit.id, "<id>")


async def test_a_batch_leaves_what_each_work_item_alone_would(service_env, capture) -> None:
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=6, peer_reviewers=6)
        ctx = svc.runtime.extra["audit"]
        version = await tool_store.latest_version(svc.db, KENT)
        first = await ctx.uow.run(lambda tx: cycles.allocate_work_item(ctx, item(version, 0), tx))
        assert first is not None

        # Already allocated (TM0), twice in the batch (TM1), a case the directory does not know
        # (TM3), and a work item from before the basis was carried (TM5: unknown, no cycle recorded).
        batch = [item(version, 0), item(version, 1), item(version, 2), item(version, 1), item(version, 3, case_id="C-nowhere"),
                 item(version, 4), item(version, 5, basis=None)]
        outcomes = await ctx.uow.run(lambda tx: cycles.allocate_work_items(ctx, batch, tx))
        assert outcomes[0] == first, "the audit allocated before is the item's audit"
        assert outcomes[1] is not None and outcomes[3] == outcomes[1], "one audit for a key however often it comes"
        assert outcomes[4] is None
        assert len({o for o in outcomes if o is not None}) == 5

        audits = {d["auditor_id"]: d for d in await svc.db["audits"].find({"month": MONTH}).to_list()}
        assert sorted(audits) == ["TM0", "TM1", "TM2", "TM4", "TM5"]
        assert {d["_id"] for d in audits.values()} == {o for o in outcomes if o is not None}
        assert all(d["allocation_key"] == f"{CYCLE}:{a}" and d["case_id"] == f"C-{a[2:]}-0" for a, d in audits.items())
        assert audits["TM2"]["audit"]["basis"] == "line_managed" and audits["TM5"]["audit"].get("basis") is None
        [failed] = await cycle_store.failures(svc.db, CYCLE)
        assert (failed["_id"], failed["auditor_id"], failed["errors"][0]["field"]) == (f"{CYCLE}:TM3", "TM3", "case_id")

        # The batch's audit is the one allocate_in makes of the same request (ids apart).
        made: list[Any] = []

        async def by_hand(tx):
            request = case_usecases.AllocationRequest(
                tool_id=KENT, tool_version=version, case_id="C-2-0", auditor_id="TM2", peer_reviewer_id="PR2", month=MONTH,
                allocation_key=f"{CYCLE}:TM2-by-hand", basis=AllocationBasis.LINE_MANAGED,
            )
            made.append(await case_usecases.allocate_in(tx, ctx, request, by="P-QA", audit_id="by-hand", code="MA-UNUSED"))
            raise Rollback

        try:
            await ctx.uow.run(by_hand)
        except Rollback:
            pass
        batched = store.from_document(audits["TM2"])
        made[0].allocation_key = batched.allocation_key
        assert comparable(made[0]) == comparable(batched)

        # Each new audit announced once, in the transaction that stored it.
        await capture.flushed(svc.db)
        announced = [e.data["audit_id"] for e in capture.of_type("audit.audit.allocated.v1")]
        assert sorted(announced) == sorted(d["_id"] for d in audits.values())


async def test_through_the_queue_a_bad_item_is_dead_lettered_alone_and_every_other_auditor_gets_one_audit(
    service_env, capture, monkeypatch,
) -> None:
    monkeypatch.setenv("CONSUMER_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AUDIT_ALLOCATION_PREFETCH", "16")
    teams = 13
    async with running_service(app()) as svc:
        await load_authority(svc.db, teams=teams, peer_reviewers=teams)
        # A case the projection holds with a date nobody can read: its work item fails every
        # attempt (a fault, not a refusal), failing any batch it is in.
        await svc.db["directory_cases"].update_one({"_id": "C-5-0"}, {"$set": {"opened_on": "not a date"}})
        version = await tool_store.latest_version(svc.db, KENT)
        outcomes = ConsumerOutcomes("audit", "allocation")

        sent = [await publish(svc, ie.ALLOCATION_REQUESTED, item(version, t)) for t in range(teams - 1)]
        await publish(svc, ie.ALLOCATION_REQUESTED, item(version, 3))  # published twice: another event, the same key
        await republish(svc, sent[7], internal=True)  # redelivered: the same event
        await publish(svc, ie.ALLOCATION_REQUESTED, item(version, teams - 1, case_id="C-nowhere"))  # refused: recorded

        await outcomes.wait_for("dead_lettered", 1, timeout=30)
        await outcomes.wait_for("duplicate", 1, timeout=30)
        await outcomes.wait_for("handled", 13, timeout=30)  # 11 items, item 3's second publish, the refused item
        await outcomes.idle()
        assert outcomes.since("retried") >= 1

        owners = [d["auditor_id"] for d in await svc.db["audits"].find({"month": MONTH}, {"auditor_id": 1}).to_list()]
        assert sorted(owners) == sorted(f"TM{t}" for t in range(teams - 1) if t != 5), "one audit each, none for the bad item"
        assert [f["auditor_id"] for f in await cycle_store.failures(svc.db, CYCLE)] == [f"TM{teams - 1}"]

        connection = await aio_pika.connect(service_env["AMQP_URL"])
        async with connection:
            channel = await connection.channel()
            dead = await channel.declare_queue(f"{service_env['QA_NAMESPACE']}.audit.allocation.dead", passive=True)
            message = await dead.get(timeout=5)
            await message.ack()
            assert json.loads(message.body)["data"]["auditor_id"] == "TM5"
            assert await dead.get(fail=False, timeout=5) is None

        await capture.flushed(svc.db)
        announced = [e.data["audit_id"] for e in capture.of_type("audit.audit.allocated.v1")]
        stored = [d["_id"] for d in await svc.db["audits"].find({"month": MONTH}, {"_id": 1}).to_list()]
        assert sorted(announced) == sorted(stored)
