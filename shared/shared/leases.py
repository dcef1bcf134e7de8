"""Taking due work from a queue kept in MongoDB, for a while: the event outbox's relay and notify's
mail relay each keep one, and any number of replicas may work on it at once.

A queued document is ``status: "pending"`` and due from ``available_at``; the collection has an
index on (``status``, ``available_at``, ``created_at``) and a sparse one on ``claim``. A worker
claims a batch by moving ``available_at`` past the lease and stamping its own ``claim``, so no
other replica takes those documents until the lease lapses. It then settles each (sent, failed,
or back to waiting) by its id and claim, so a settlement changes nothing once another replica has
taken the document over after a lapse. A worker that stops without settling leaves the documents
to be taken again when the lease runs out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from .documents import Document

PENDING = "pending"


async def claim_due(
    collection: AsyncCollection[Document],
    *,
    now: datetime,
    lease_s: float,
    limit: int,
    order: Sequence[tuple[str, int]] = (("created_at", ASCENDING),),
) -> tuple[str, list[Document]]:
    """Claim the pending documents due at ``now``, the ``limit`` longest due first, for ``lease_s``
    seconds. Returns the claim and the documents claimed (in ``order``); none when nothing is due
    or another replica claimed them first.

    The claim takes every due document created up to the last of that window: a range of the
    index rather than a list of ids, since on this store an update filtered by ``_id: {$in: [...]}``
    costs about 1 ms a document and a range much less. So it may take a few more than ``limit``
    (those due and created before the window's last, but due later than the others)."""
    claim = uuid.uuid4().hex
    due = {"status": PENDING, "available_at": {"$lte": now}}
    window = await collection.find(due, {"created_at": 1}).sort(
        [("available_at", ASCENDING), ("created_at", ASCENDING)]
    ).limit(limit).to_list()
    if not window:
        return claim, []
    cutoff = max(doc["created_at"] for doc in window)
    await collection.update_many(
        {**due, "created_at": {"$lte": cutoff}},
        {"$set": {"claim": claim, "available_at": now + timedelta(seconds=lease_s)}},
    )
    return claim, await collection.find({"claim": claim}).sort(list(order)).to_list()
