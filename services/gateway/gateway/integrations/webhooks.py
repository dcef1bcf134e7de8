"""Webhook endpoints, and delivering events to them (Standard Webhooks).

How an event reaches an endpoint:

1. The gateway's ``webhooks`` queue is bound to the event types some endpoint is granted (no
   more: the gateway does not digest every event of the platform for nobody), kept in step with
   the endpoints after each change and every ``BINDING_SYNC_S`` on every replica. Its consumer (on
   every replica, competing, a batch per transaction) writes one delivery per endpoint granted the
   type, ``_id = <endpoint>:<event id>``, in the transaction that marks the event processed: a
   redelivered event adds nothing, so each endpoint gets each event once. An endpoint receives
   the events published from its registration on.
2. The dispatcher on every replica claims due deliveries one by one with a version-guarded
   update (a claim lapses after ``WEBHOOK_CLAIM_S``, so a replica stopped mid-delivery leaves it
   to another, and two replicas never hold the same delivery at once) and POSTs them, signed,
   at most ``WEBHOOK_ENDPOINT_CONCURRENCY`` at a time per endpoint, so one slow or failing
   receiver never holds up the others, and never the services' own consumers (which do no HTTP).
3. A 2xx answer delivers it. Anything else is retried after ``WEBHOOK_RETRY_DELAYS_S``; once those
   are spent the delivery has failed and the endpoint is disabled: its later deliveries are held,
   not lost, and go out when an administrator enables it again. Every attempt (time, status,
   latency, error) is in the endpoint's delivery log, and any delivery can be sent again by hand.

A receiver may see an event twice (a replica stopped between the receiver's answer and the
record of it; a manual redelivery): ``webhook-id`` is the event id, the same on every attempt.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from pymongo.errors import BulkWriteError
from shared.clock import Clock
from shared.consumer import EventConsumer, ReceivedEvent, Subscription
from shared.errors import Problem
from shared.keyset import page_newest_first
from shared.mongo import Document, Transaction, UnitOfWork
from shared.versioned import Stale, check_version, update_versioned
from shared.worker import BackgroundWorker

from . import catalogue, store
from .domain import RetryPolicy, check_endpoint_url, check_grant, new_secret, signature_header, succeeded

log = logging.getLogger(__name__)

WHAT = "Webhook endpoint"
ACTIVE, DISABLED, DELETED = "active", "disabled", "deleted"
PENDING, HELD, DELIVERED, FAILED = "pending", "held", "delivered", "failed"
CONTENT_TYPE = "application/cloudevents+json"
#: Seconds between two checks that the webhooks queue's bindings match the endpoints.
BINDING_SYNC_S = 30.0
USER_AGENT = "qa-platform-webhooks/1"


def secrets_in_force(endpoint: Document, now: datetime) -> list[str]:
    return [s["secret"] for s in endpoint["secrets"] if s.get("expires_at") is None or s["expires_at"] > now]


class Webhooks(store.Records):
    """What an administrator does with endpoints, and the consumer's fan-out."""

    collection, what = store.ENDPOINTS, WHAT

    def __init__(self, uow: UnitOfWork, clock: Clock, *, allow_insecure_urls: bool, secret_overlap_s: float) -> None:
        self.uow = uow
        self.db = uow.db
        self.clock = clock
        self.allow_insecure_urls = allow_insecure_urls
        self.secret_overlap_s = secret_overlap_s

    # --- endpoints ----------------------------------------------------------------------------

    async def create(self, *, url: str, event_types: list[str], description: str | None, by: str) -> tuple[Document, str]:
        url = check_endpoint_url(url, allow_insecure=self.allow_insecure_urls)
        granted = check_grant(event_types, catalogue.known_types())
        if await self.db[store.ENDPOINTS].find_one({"url": url, "status": {"$ne": DELETED}}, {"_id": 1}):
            raise Problem(409, "duplicate-endpoint", "Endpoint already registered", f"{url} is already a webhook endpoint; change that one instead.")
        now = self.clock.now()
        secret = new_secret()
        endpoint_id = "wh-" + secrets.token_hex(5)
        doc = {
            "_id": endpoint_id, "url": url, "event_types": granted, "description": description, "status": ACTIVE,
            "secrets": [{"secret": secret, "created_at": now, "expires_at": None}], "created_at": now, "created_by": by,
        }
        return await store.insert_new(self.uow, store.ENDPOINTS, doc, subject=f"webhook/{endpoint_id}", by=by, at=now), secret

    async def _current(self, endpoint_id: str, expected: int | None) -> Document:
        endpoint = await self.get(endpoint_id)
        if endpoint["status"] == DELETED:
            raise Problem(409, "endpoint-deleted", "Endpoint deleted", f"Webhook endpoint {endpoint_id!r} was deleted.")
        check_version("webhook endpoint", int(endpoint["version"]), expected, ident=endpoint_id)
        return endpoint

    async def _save(self, endpoint: Document, change: str, by: str) -> Document:
        return await store.save_version(
            self.uow, store.ENDPOINTS, endpoint, expected=endpoint["version"], what=WHAT,
            subject=f"webhook/{endpoint['_id']}", change=change, by=by, at=self.clock.now(),
        )

    async def update(self, endpoint_id: str, *, url: str | None, event_types: list[str] | None, description: str | None,
                     by: str, expected: int | None) -> Document:
        endpoint = await self._current(endpoint_id, expected)
        changed = dict(endpoint)
        if url is not None:
            changed["url"] = check_endpoint_url(url, allow_insecure=self.allow_insecure_urls)
            if changed["url"] != endpoint["url"] and await self.db[store.ENDPOINTS].find_one(
                {"url": changed["url"], "status": {"$ne": DELETED}}, {"_id": 1}
            ):
                raise Problem(409, "duplicate-endpoint", "Endpoint already registered", f"{changed['url']} is already a webhook endpoint.")
        if event_types is not None:
            changed["event_types"] = check_grant(event_types, catalogue.known_types())
        if description is not None:
            changed["description"] = description
        return await self._save(changed, "changed", by)

    async def rotate_secret(self, endpoint_id: str, *, by: str, expected: int | None) -> tuple[Document, str]:
        """A new secret; the previous one keeps signing beside it for ``secret_overlap_s``."""
        endpoint = await self._current(endpoint_id, expected)
        now = self.clock.now()
        overlap_ends = now + timedelta(seconds=self.secret_overlap_s)
        kept = [
            {**s, "expires_at": min(s["expires_at"], overlap_ends) if s.get("expires_at") else overlap_ends}
            for s in endpoint["secrets"] if s.get("expires_at") is None or s["expires_at"] > now
        ]
        secret = new_secret()
        saved = await self._save({**endpoint, "secrets": [*kept, {"secret": secret, "created_at": now, "expires_at": None}],
                                  "secret_rotated_at": now}, "secret rotated", by)
        return saved, secret

    async def disable(self, endpoint_id: str, *, reason: str, by: str, expected: int | None) -> Document:
        endpoint = await self._current(endpoint_id, expected)
        saved = await self._save({**endpoint, "status": DISABLED, "disabled_reason": reason, "disabled_at": self.clock.now()}, "disabled", by)
        await self.db[store.DELIVERIES].update_many({"endpoint_id": endpoint_id, "status": PENDING}, {"$set": {"status": HELD}})
        return saved

    async def enable(self, endpoint_id: str, *, by: str, expected: int | None) -> Document:
        """Active again: the deliveries held while it was disabled go out now, each from a fresh start."""
        endpoint = await self._current(endpoint_id, expected)
        saved = await self._save({**endpoint, "status": ACTIVE, "disabled_reason": None, "disabled_at": None}, "enabled", by)
        await self.db[store.DELIVERIES].update_many(
            {"endpoint_id": endpoint_id, "status": HELD},
            {"$set": {"status": PENDING, "next_attempt_at": self.clock.now(), "attempt_count": 0}},
        )
        return saved

    async def delete(self, endpoint_id: str, *, by: str, expected: int | None) -> Document:
        """No more deliveries; the record, its history and its delivery log are kept."""
        endpoint = await self._current(endpoint_id, expected)
        saved = await self._save({**endpoint, "status": DELETED, "deleted_at": self.clock.now()}, "deleted", by)
        await self.db[store.DELIVERIES].update_many(
            {"endpoint_id": endpoint_id, "status": {"$in": [PENDING, HELD]}},
            {"$set": {"status": FAILED, "finished_at": self.clock.now(), "last_error": "endpoint deleted"}},
        )
        return saved

    # --- the delivery log -----------------------------------------------------------------------

    async def deliveries(self, endpoint_id: str, *, status: str | None, limit: int, before: tuple[datetime, str] | None) -> list[Document]:
        await self.get(endpoint_id)
        return await page_newest_first(self.db[store.DELIVERIES], {"endpoint_id": endpoint_id, "status": status or None}, before=before, limit=limit)

    async def redeliver(self, endpoint_id: str, delivery_id: str, *, by: str) -> Document:
        endpoint = await self._current(endpoint_id, None)
        delivery = await self.db[store.DELIVERIES].find_one({"_id": delivery_id, "endpoint_id": endpoint_id})
        if delivery is None:
            raise Problem(404, "not-found", "Not found", f"Endpoint {endpoint_id!r} has no delivery {delivery_id!r}.")
        if delivery["status"] in (PENDING, HELD):
            raise Problem(409, "delivery-in-progress", "Delivery still in progress", "This delivery is still to be attempted; it goes out on its own.")
        status = PENDING if endpoint["status"] == ACTIVE else HELD
        now = self.clock.now()
        await self.db[store.DELIVERIES].update_one(
            {"_id": delivery_id, "status": delivery["status"]},
            {"$set": {"status": status, "next_attempt_at": now, "attempt_count": 0, "finished_at": None},
             "$push": {"redeliveries": {"by": by, "at": now}}},
        )
        return await store.load(self.db, store.DELIVERIES, delivery_id, "Delivery")

    # --- fan-out (the consumer) -------------------------------------------------------------------

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(catalogue.event_type(known), self.fan_out) for known in catalogue.grantable()]

    async def fan_out(self, event: ReceivedEvent, tx: Transaction) -> None:
        """One delivery per endpoint granted this type; held for a disabled endpoint."""
        envelope = event.envelope
        endpoints = await self.db[store.ENDPOINTS].find(
            {"event_types": envelope.type, "status": {"$in": [ACTIVE, DISABLED]}}, {"status": 1}, session=tx.session
        ).to_list()
        if not endpoints:
            return
        now = self.clock.now()
        body = envelope.to_json().decode()
        docs = [
            {
                "_id": f"{e['_id']}:{envelope.id}", "endpoint_id": e["_id"], "event_id": envelope.id, "event_type": envelope.type,
                "body": body, "status": PENDING if e["status"] == ACTIVE else HELD, "created_at": now, "next_attempt_at": now,
                "attempt_count": 0, "attempts": [],
            }
            for e in endpoints
        ]
        try:
            await self.db[store.DELIVERIES].insert_many(docs, ordered=False, session=tx.session)
        except BulkWriteError as exc:  # already there: this event was fanned out before
            if any(err.get("code") != 11000 for err in exc.details.get("writeErrors", [])):
                raise


class Bindings:
    """Keeps the webhooks queue bound to exactly the types some endpoint (active or disabled) wants."""

    def __init__(self, uow: UnitOfWork, consumer: Callable[[], EventConsumer | None]) -> None:
        self.db = uow.db
        self._consumer = consumer

    async def wanted(self) -> set[str]:
        endpoints = await self.db[store.ENDPOINTS].find({"status": {"$in": [ACTIVE, DISABLED]}}, {"event_types": 1}).to_list()
        return {t for e in endpoints for t in e["event_types"]}

    async def sync(self, *, full: bool = False) -> bool:
        """True once applied; False while the consumer has not started yet."""
        consumer = self._consumer()
        if consumer is None:
            return False
        await consumer.bind_exactly(await self.wanted(), full=full)
        return True


class Dispatcher(BackgroundWorker):
    """Sends due deliveries; one per gateway replica, any number of replicas."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        session: aiohttp.ClientSession,
        *,
        policy: RetryPolicy,
        timeout_s: float,
        claim_s: float,
        poll_interval_s: float,
        endpoint_concurrency: int,
        bindings: Bindings | None = None,
        batch_size: int = 200,
    ) -> None:
        # Stopping waits for the pass in hand (it only claims), then for the deliveries in flight.
        super().__init__(
            "webhook-dispatcher", interval_s=poll_interval_s, stop_timeout_s=None, logger=log,
            failure_message="webhook dispatcher pass failed; retrying",
        )
        self.bindings = bindings
        self._bindings_synced_at: float | None = None
        self.db = uow.db
        self.clock = clock
        self.http = session
        self.policy = policy
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.claim_s = claim_s
        self.poll_interval_s = poll_interval_s
        self.endpoint_concurrency = endpoint_concurrency
        self.batch_size = batch_size
        self.replica = uuid.uuid4().hex
        self._in_hand: set[asyncio.Task[None]] = set()
        self._busy: dict[str, int] = defaultdict(int)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop claiming; let deliveries in flight finish (their claims lapse if they cannot)."""
        await super().stop()
        if self._in_hand:
            await asyncio.wait(self._in_hand, timeout=grace_s)

    async def run_once(self) -> None:
        await self._keep_bindings()
        await self.pass_once()

    async def _keep_bindings(self) -> None:
        if self.bindings is None:
            return
        if self._bindings_synced_at is not None and time.monotonic() - self._bindings_synced_at < BINDING_SYNC_S:
            return
        try:
            if await self.bindings.sync(full=True):
                self._bindings_synced_at = time.monotonic()
        except Exception:
            log.warning("could not bring the webhooks queue's bindings in line; trying again", exc_info=True)

    async def pass_once(self) -> int:
        """Claim what is due (within each endpoint's concurrency) and start sending it."""
        now = self.clock.now()
        due = await self.db[store.DELIVERIES].find(
            {"status": PENDING, "next_attempt_at": {"$lte": now}}, {"endpoint_id": 1, "next_attempt_at": 1}
        ).sort([("next_attempt_at", 1)]).limit(self.batch_size).to_list()
        started = 0
        for doc in due:
            endpoint_id = doc["endpoint_id"]
            if self._busy[endpoint_id] >= self.endpoint_concurrency:
                continue
            claim = uuid.uuid4().hex
            claimed = await self.db[store.DELIVERIES].update_one(
                {"_id": doc["_id"], "status": PENDING, "next_attempt_at": doc["next_attempt_at"]},
                {"$set": {"next_attempt_at": now + timedelta(seconds=self.claim_s), "claim": claim}},
            )
            if claimed.modified_count != 1:
                continue  # another replica took it
            self._busy[endpoint_id] += 1
            task = asyncio.create_task(self._deliver(doc["_id"], endpoint_id, claim))
            self._in_hand.add(task)
            task.add_done_callback(self._in_hand.discard)
            started += 1
        return started

    async def _deliver(self, delivery_id: str, endpoint_id: str, claim: str) -> None:
        try:
            delivery = await self.db[store.DELIVERIES].find_one({"_id": delivery_id, "claim": claim})
            endpoint = await self.db[store.ENDPOINTS].find_one({"_id": endpoint_id})
            if delivery is None or endpoint is None:
                return
            if endpoint["status"] != ACTIVE:
                await self.db[store.DELIVERIES].update_one(
                    {"_id": delivery_id, "claim": claim}, {"$set": {"status": HELD if endpoint["status"] == DISABLED else FAILED}, "$unset": {"claim": ""}}
                )
                return
            status_code, error, latency_ms = await self._post(endpoint, delivery)
            await self._record(endpoint, delivery, claim, status_code, error, latency_ms)
        except Exception:
            log.exception("webhook delivery could not be recorded; its claim lapses and it is tried again", extra={"delivery": delivery_id})
        finally:
            self._busy[endpoint_id] -= 1
            if self._busy[endpoint_id] <= 0:
                self._busy.pop(endpoint_id, None)
            self.wake()  # this endpoint has room again

    async def _post(self, endpoint: Document, delivery: Document) -> tuple[int | None, str | None, float]:
        body = delivery["body"].encode()
        timestamp = int(time.time())
        headers = {
            "content-type": CONTENT_TYPE,
            "user-agent": USER_AGENT,
            "webhook-id": delivery["event_id"],
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets_in_force(endpoint, self.clock.now()), delivery["event_id"], timestamp, body),
        }
        started = time.perf_counter()
        try:
            async with self.http.post(endpoint["url"], data=body, headers=headers, timeout=self.timeout, allow_redirects=False) as resp:
                await resp.read()
                return resp.status, None if succeeded(resp.status) else f"HTTP {resp.status}", (time.perf_counter() - started) * 1000
        except TimeoutError:
            return None, f"no answer within {self.timeout.total:.0f}s", (time.perf_counter() - started) * 1000
        except aiohttp.ClientError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300], (time.perf_counter() - started) * 1000

    async def _record(self, endpoint: Document, delivery: Document, claim: str, status_code: int | None, error: str | None, latency_ms: float) -> None:
        now = self.clock.now()
        attempt = {"at": now, "status_code": status_code, "latency_ms": round(latency_ms, 1), "error": error}
        guard = {"_id": delivery["_id"], "claim": claim}
        if succeeded(status_code):
            await self.db[store.DELIVERIES].update_one(
                guard, {"$set": {"status": DELIVERED, "finished_at": now, "delivered_at": now}, "$inc": {"attempt_count": 1},
                        "$push": {"attempts": attempt}, "$unset": {"claim": ""}},
            )
            return
        failed_attempts = int(delivery.get("attempt_count", 0)) + 1
        retry_at = self.policy.next_attempt_at(failed_attempts, now)
        if retry_at is not None:
            await self.db[store.DELIVERIES].update_one(
                guard, {"$set": {"next_attempt_at": retry_at, "last_error": error}, "$inc": {"attempt_count": 1},
                        "$push": {"attempts": attempt}, "$unset": {"claim": ""}},
            )
            return
        await self.db[store.DELIVERIES].update_one(
            guard, {"$set": {"status": FAILED, "finished_at": now, "last_error": error}, "$inc": {"attempt_count": 1},
                    "$push": {"attempts": attempt}, "$unset": {"claim": ""}},
        )
        # Failing persistently: disable the endpoint and hold what is still to go, until an
        # administrator enables it again (nothing is dropped meanwhile).
        reason = f"delivery of event {delivery['event_id']} failed {failed_attempts} times (last: {error})"
        try:
            await update_versioned(
                self.db[store.ENDPOINTS], endpoint["_id"], {"$set": {"status": DISABLED, "disabled_reason": reason, "disabled_at": now}},
                endpoint["version"], what="webhook endpoint", where={"status": ACTIVE},
            )
        except Stale:
            return  # changed since (an administrator disabled, enabled or changed it): theirs stands
        after = await self.db[store.ENDPOINTS].find_one({"_id": endpoint["_id"]})
        if after is not None:
            await store.record_history(self.db, f"webhook/{endpoint['_id']}", after, change="disabled after persistent failure", by="platform", at=now)
        await self.db[store.DELIVERIES].update_many({"endpoint_id": endpoint["_id"], "status": PENDING}, {"$set": {"status": HELD}})
        log.warning("webhook endpoint disabled after persistent failure", extra={"endpoint": endpoint["_id"], "reason": reason})
