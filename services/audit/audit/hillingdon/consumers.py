"""The audit service listening to itself: ``audit.audit.completed`` opens the review of a
Hillingdon single-agency audit graded requires improvement or inadequate.

Why a consumer and not the transaction that completes the audit: that transaction's follow-ups
live in ``audit.usecases`` and offer no hook for another package, and the completed event is
already written to the outbox in that same transaction, so it cannot be lost. The consumer opens
the review in one transaction with its processed marker (a redelivered event opens nothing), and
the reviews' unique index on ``audit_id`` keeps it to one review per audit whatever happens.
The review appears a moment after the audit completes, not in the same instant.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.app import Runtime
from shared.consumer import ReceivedEvent, Subscription
from shared.mongo import Transaction

from ..case_audit import events as audit_events
from . import usecases
from .domain.review import needs_review

PURPOSE = "hillingdon"


def subscriptions(runtime: Runtime) -> Sequence[Subscription]:
    async def on_completed(event: ReceivedEvent, tx: Transaction) -> None:
        data = event.data
        if needs_review(data.programme, data.grade):
            await usecases.open_review(tx, runtime.db, data.audit_id, runtime.clock.now())

    return [Subscription(audit_events.AUDIT_COMPLETED, on_completed)]
