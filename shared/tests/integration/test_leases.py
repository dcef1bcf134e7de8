"""A work queue's due documents claimed for a while (``shared.leases.claim_due``), against real
MongoDB: only pending, due documents are taken, longest due first; two workers claiming at once
never take the same document; a claimed document is not due again until its lease lapses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from shared.leases import PENDING, claim_due

from devstack.wiring import Wiring

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _item(n: int, *, due_in_s: float = -60, status: str = PENDING) -> dict[str, object]:
    return {"_id": f"m-{n}", "status": status, "created_at": NOW - timedelta(minutes=100 - n), "available_at": NOW + timedelta(seconds=due_in_s)}


async def test_only_pending_due_items_are_claimed_longest_due_first_and_in_order(wiring: Wiring) -> None:
    queue = wiring.db.queue
    await queue.insert_many([
        _item(1), _item(2, due_in_s=-600), _item(3), _item(4, due_in_s=30), _item(5, status="sent"), _item(6, status="failed"), _item(7),
    ])

    claim, claimed = await claim_due(queue, now=NOW, lease_s=60, limit=2)

    # m-2 has waited longest; m-1 was created first among the rest; both are returned by creation.
    assert [d["_id"] for d in claimed] == ["m-1", "m-2"]
    assert all(d["claim"] == claim and d["available_at"] == NOW + timedelta(seconds=60) for d in claimed)
    _, rest = await claim_due(queue, now=NOW, lease_s=60, limit=10)
    assert [d["_id"] for d in rest] == ["m-3", "m-7"]  # m-4 is not due yet; sent and failed are not pending
    assert (await claim_due(queue, now=NOW, lease_s=60, limit=10))[1] == []


async def test_two_workers_claiming_at_once_share_nothing_and_a_lapsed_lease_is_taken_again(wiring: Wiring) -> None:
    queue = wiring.db.queue
    await queue.insert_many([_item(n) for n in range(1, 41)])

    (a, by_a), (b, by_b) = await asyncio.gather(*(claim_due(queue, now=NOW, lease_s=30, limit=25) for _ in range(2)))

    taken_a, taken_b = {d["_id"] for d in by_a}, {d["_id"] for d in by_b}
    assert a != b and not taken_a & taken_b and len(taken_a | taken_b) >= 25
    # Each holds exactly what it was given; what neither took is the next pass's.
    assert await queue.count_documents({"claim": a}) == len(by_a) and await queue.count_documents({"claim": b}) == len(by_b)
    _, by_next = await claim_due(queue, now=NOW, lease_s=30, limit=100)
    assert len(taken_a | taken_b) + len(by_next) == 40 and not {d["_id"] for d in by_next} & (taken_a | taken_b)

    # Nobody settled them: within the lease nothing is due; after it, all of them are again.
    assert (await claim_due(queue, now=NOW + timedelta(seconds=29), lease_s=30, limit=100))[1] == []
    c, again = await claim_due(queue, now=NOW + timedelta(seconds=30), lease_s=30, limit=100)
    assert len(again) == 40 and await queue.count_documents({"claim": c}) == 40
