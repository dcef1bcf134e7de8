"""The transactional outbox: events are rows written with the state change that causes them,
then published by a relay that retries until the broker confirms.

The events a process commits are handed to its own relay at once: they are written already
claimed by that relay (for ``HANDOFF_CLAIM_S`` seconds) and published from memory right after the
commit. Those the broker confirmed are marked sent together, in one command for all that were
confirmed within ``MARK_SENT_WITHIN_S`` (their claim keeps every other relay off them meanwhile),
so an event costs the database its insert and a share of one update, with no poll, no claim and
no read. The relay also polls (every
``OUTBOX_POLL_INTERVAL_S``) for what no one holds: events whose publish failed and waits its
back-off, events of a process killed before it published them (their claim lapses after
``HANDOFF_CLAIM_S``), and events written while the relay was not running.

A write that did not commit left no event. Several replicas may relay at once: each claims what it
takes, so an event is normally published once, and at worst twice if a replica dies after the
broker confirmed but before it marked the event sent (consumers are idempotent for that reason).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from .broker import Publisher
from .clock import Clock
from .documents import OUTBOX, Document, Indexes
from .events import EventType
from .leases import PENDING, claim_due
from .observability import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_HANDOFFS_EXPIRED, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISH_FAILURES
from .worker import BackgroundWorker

log = logging.getLogger(__name__)

SENT = "sent"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Sent events are kept this long (for tracing what went out), then removed: the platform-internal
#: ones carry staff details and text written to a person, which must not outlive their purpose.
#: Pending ones never expire.
SENT_RETENTION_S = 7 * 24 * 3600

#: How long events handed to a process's relay are held for it (at most ``OUTBOX_CLAIM_S``): only
#: the moment from commit to publish, so that a killed process's last events are taken by the next
#: poll within seconds. A publish slower than this may be made twice (consumers are idempotent).
HANDOFF_CLAIM_S = 10.0
#: A handed event is published from memory only while its claim has at least this long to run.
HANDOFF_MARGIN_S = 4.0
#: Handed events the broker confirmed are marked sent at most this long after the first of them
#: was confirmed, all in one command (sooner once ``batch_size`` of them wait). Far inside
#: ``HANDOFF_MARGIN_S``: the claim still holds every other relay off them until they are marked.
MARK_SENT_WITHIN_S = 0.2

OUTBOX_INDEXES = Indexes(
    OUTBOX,
    [
        IndexModel([("status", ASCENDING), ("available_at", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("claim", ASCENDING)], sparse=True),
        # Only sent events have published_at, so only they expire.
        IndexModel([("published_at", ASCENDING)], expireAfterSeconds=SENT_RETENTION_S),
    ],
)


def outbox_documents(
    staged: Iterable[tuple[EventType, Any, str | None]],
    *,
    source: str,
    now: datetime,
    correlation: str | None,
    traceparent: str | None = None,
) -> list[Document]:
    docs = []
    for seq, (event_type, data, subject) in enumerate(staged):
        envelope = event_type.envelope(
            data, source=source, subject=subject, time=now, correlation_id=correlation, traceparent=traceparent
        )
        docs.append(
            {
                "_id": envelope.id,
                "routing_key": event_type.routing_key,
                "internal": event_type.internal,
                "envelope": envelope.to_json().decode(),
                "status": PENDING,
                "created_at": now,
                "seq": seq,
                "available_at": _EPOCH,
                "attempts": 0,
                "correlation_id": correlation,
            }
        )
    return docs


class OutboxRelay(BackgroundWorker):
    """Publishes pending outbox events with publisher confirms, then marks them sent."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        publisher: Publisher,
        clock: Clock,
        *,
        service: str,
        batch_size: int = 200,
        poll_interval_s: float = 1.0,
        claim_s: float = 30.0,
        handoff_limit: int = 2_000,
        mark_sent_within_s: float = MARK_SENT_WITHIN_S,
    ) -> None:
        super().__init__(
            f"outbox-relay-{service}", interval_s=poll_interval_s, logger=log, failure_message="outbox relay pass failed; retrying"
        )
        self.collection = db[OUTBOX]
        self.publisher = publisher
        self.clock = clock
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.claim_s = claim_s
        self.handoff_limit = handoff_limit
        self.mark_sent_within_s = mark_sent_within_s
        #: Claims of handed events the broker confirmed, not yet marked sent; and since when.
        self._confirmed: list[str] = []
        self._confirmed_since = 0.0
        #: Events committed by this process and not yet published: (claim, documents), in commit order.
        self._handed: deque[tuple[str, list[Document]]] = deque()
        self._handed_count = 0
        self._polled_at = float("-inf")
        self._poll_asked = False

    # --- hand-off: the events this process commits ----------------------------------------------

    def reserve(self, docs: Sequence[Document]) -> str | None:
        """Claim ``docs`` (outbox documents about to be inserted) for this relay, before the insert:
        they are then published from memory right after the commit (``hand_off``). None, and the
        documents are left for the poll, when the relay is not running or already holds
        ``handoff_limit`` events (the broker is slow or away: memory stays bounded)."""
        if not docs or not self.running or self.stopping or self._handed_count + len(docs) > self.handoff_limit:
            return None
        claim = uuid.uuid4().hex
        until = self.clock.now() + timedelta(seconds=min(self.claim_s, HANDOFF_CLAIM_S))
        for doc in docs:
            doc["claim"] = claim
            doc["available_at"] = until
        return claim

    def hand_off(self, claim: str, docs: list[Document]) -> None:
        """The transaction that wrote ``docs`` under ``claim`` committed: publish them now."""
        self._handed.append((claim, docs))
        self._handed_count += len(docs)
        super().wake()

    def wake(self) -> None:
        """Poll now (events were written that were not handed off), not at the end of the wait."""
        self._poll_asked = True
        super().wake()

    @property
    def handed(self) -> int:
        """Events handed to this relay and not yet published."""
        return self._handed_count

    @property
    def unmarked(self) -> int:
        """Hand-offs the broker confirmed that are not yet marked sent."""
        return len(self._confirmed)

    async def run_once(self) -> bool:
        if self._handed:
            await self.publish_handed()
        if self._confirmed and (
            len(self._confirmed) >= self.batch_size or time.monotonic() - self._confirmed_since >= self.mark_sent_within_s - 0.001
        ):
            await self.mark_confirmed_sent()
        if self._handed:
            return True
        if not self._poll_asked and time.monotonic() - self._polled_at < self.poll_interval_s:
            return False  # the poll keeps its own cadence, however often hand-offs wake the relay
        if self._confirmed:
            # Marked first, so that the poll never takes again what this relay published, even
            # should the claim have lapsed meanwhile (a clock moved on, a database slow to answer).
            await self.mark_confirmed_sent()
        self._poll_asked = False
        self._polled_at = time.monotonic()
        return await self.publish_pending() >= self.batch_size  # a full batch: more are waiting

    async def publish_handed(self) -> int:
        """Publish up to a batch of handed events; returns how many the broker confirmed."""
        claims: list[str] = []
        batch: list[Document] = []
        # Events that waited here so long that their claim is about to lapse are left to the poll,
        # which takes them once it has (so a busy relay never publishes one twice).
        fresh_until = self.clock.now() + timedelta(seconds=HANDOFF_MARGIN_S)
        while self._handed and len(batch) < self.batch_size:
            claim, docs = self._handed.popleft()
            self._handed_count -= len(docs)
            if docs[0]["available_at"] < fresh_until:
                OUTBOX_HANDOFFS_EXPIRED.labels(self.service).inc(len(docs))
                self._poll_asked = True
                continue
            claims.append(claim)
            batch.extend(docs)
        return await self._publish(batch, claims, mark_now=self.mark_sent_within_s <= 0)

    async def mark_confirmed_sent(self) -> None:
        """Mark the confirmed hand-offs sent, in one command. (If it fails they stay to be marked at
        the next pass; should their claim lapse first, the poll publishes them again.)"""
        claims = self._confirmed[:]
        if claims:
            await self._mark_sent(claims, self.clock.now())
            del self._confirmed[: len(claims)]

    async def stop(self) -> None:
        """Stop polling; publish what was handed and not yet published (or, if the broker does not
        confirm it in time, give up its claim so that another replica takes it at once)."""
        await super().stop()
        if not self._handed and not self._confirmed:
            return
        try:
            async with asyncio.timeout(max(1.0, min(self.claim_s / 2, 10.0))):
                while self._handed:
                    await self.publish_handed()
                await self.mark_confirmed_sent()
        except Exception:  # noqa: BLE001 - whatever happened, the events stay in the outbox
            log.warning("handed events not published or not marked sent at stop; released for the poll", exc_info=True)
        self._confirmed.clear()
        leftover = [claim for claim, _ in self._handed]
        self._handed.clear()
        self._handed_count = 0
        if leftover:
            await self.collection.update_many({"claim": {"$in": leftover}}, {"$set": {"available_at": _EPOCH}, "$unset": {"claim": ""}})

    async def publish_pending(self) -> int:
        """One pass: claim a batch of due events, publish them, record the outcome.

        Returns how many were confirmed by the broker.
        """
        claim, claimed = await claim_due(
            self.collection, now=self.clock.now(), lease_s=self.claim_s, limit=self.batch_size, order=[("created_at", ASCENDING), ("seq", ASCENDING)]
        )
        return await self._publish(claimed, [claim])

    async def _publish(self, claimed: list[Document], claims: list[str], *, mark_now: bool = True) -> int:
        """Publish claimed events; a failed one gives up its claim and waits its back-off, the
        confirmed ones are marked sent in one command (or, not ``mark_now``, with the next hand-offs
        confirmed within ``mark_sent_within_s``)."""
        if not claimed:
            return 0
        results = await asyncio.gather(
            *(
                self.publisher.publish(
                    doc["envelope"].encode(),
                    routing_key=doc["routing_key"],
                    message_id=doc["_id"],
                    event_type=doc["routing_key"],
                    correlation_id=doc.get("correlation_id"),
                    internal=bool(doc.get("internal", False)),
                )
                for doc in claimed
            ),
            return_exceptions=True,
        )
        failed = [(doc, r) for doc, r in zip(claimed, results, strict=True) if isinstance(r, BaseException)]
        done_at = self.clock.now()
        # Failures first give up their claim, so that marking "everything still claimed" as sent
        # below covers exactly the confirmed ones.
        for doc, error in failed:
            OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
            attempts = doc.get("attempts", 0) + 1
            backoff = min(60.0, 0.5 * 2 ** min(attempts, 7))
            log.warning(
                "event not confirmed by the broker; will retry",
                extra={"event_id": doc["_id"], "type": doc["routing_key"], "attempt": attempts, "error": repr(error)},
            )
            await self.collection.update_one(
                {"_id": doc["_id"], "claim": doc["claim"]},
                {
                    "$set": {"attempts": attempts, "available_at": done_at + timedelta(seconds=backoff), "last_error": repr(error)},
                    "$unset": {"claim": ""},
                },
            )
        sent = len(claimed) - len(failed)
        if sent:
            if mark_now:
                await self._mark_sent(claims, done_at)
            else:
                if not self._confirmed:
                    self._confirmed_since = time.monotonic()
                    asyncio.get_running_loop().call_later(self.mark_sent_within_s, BackgroundWorker.wake, self)
                self._confirmed.extend(claims)
            for doc, result in zip(claimed, results, strict=True):
                if not isinstance(result, BaseException):
                    EVENTS_PUBLISHED.labels(self.service, doc["routing_key"]).inc()
        return sent

    async def _mark_sent(self, claims: list[str], at: datetime) -> None:
        """Everything still held under ``claims`` was confirmed: mark it sent (one command)."""
        await self.collection.update_many(
            {"claim": claims[0] if len(claims) == 1 else {"$in": claims}},
            {"$set": {"status": SENT, "published_at": at}, "$unset": {"claim": ""}},
        )

    async def read_backlog(self) -> None:
        """Set the backlog gauges: events waiting for the broker, and the oldest one's age.

        Read on the readings' slow cadence (``shared.readings``), not on every pass: counting
        costs the database a command, and a busy relay passes many times a second.
        """
        backlog = await self.collection.count_documents({"status": PENDING})
        oldest = await self.collection.find({"status": PENDING}, {"created_at": 1}).sort("created_at", ASCENDING).limit(1).to_list()
        age = (self.clock.now() - oldest[0]["created_at"]).total_seconds() if oldest else 0.0
        OUTBOX_BACKLOG.labels(self.service).set(backlog)
        OUTBOX_OLDEST_AGE.labels(self.service).set(max(0.0, age))
