"""Consuming events: at-least-once from RabbitMQ, exactly-once in effect.

One durable quorum queue per service and purpose (``<ns>.<service>.<purpose>``), bound to the
events exchange by the routing keys it subscribes to. For each message:

- it is parsed as a CloudEvents envelope of a subscribed type with valid data; if it cannot be
  (garbage, unknown type, invalid data) it goes to the dead-letter queue at once and the
  consumer carries on;
- its ``source`` must be the registered publisher of its type (``EventType.source``): an event
  claiming to come from anyone else is dead-lettered with that reason and takes no effect. The
  broker's topic permissions already stop one service publishing another's types; this is the
  defence in depth behind them;
- the handler runs in one MongoDB transaction together with the insert of a "processed" marker
  under a unique index on (queue purpose, event id), written at the end in one command with the
  writes the handler left for the end (``Transaction.insert_at_end``); a redelivered event finds
  its marker taken, its transaction keeps nothing, and it is acknowledged (so is one whose handler
  refused the state the first delivery left: its marker is there);
- the message is acknowledged only after that transaction commits;
- a handler that raises is retried after a back-off (a per-delay retry queue whose TTL sends the
  message back), and dead-lettered after ``CONSUMER_MAX_ATTEMPTS``;
- a message that keeps killing the process is dead-lettered by RabbitMQ itself after
  ``CONSUMER_DELIVERY_LIMIT`` deliveries (the quorum queue's delivery limit, declared on the
  queue: RabbitMQ 4 would otherwise apply its default of 20);
- the dead-letter queue never drops a message: it declares a delivery limit no one reaches
  (``DEAD_LETTER_DELIVERY_LIMIT``), because RabbitMQ 4 gives every quorum queue a limit of 20
  and then drops a message that has nowhere to be dead-lettered, and every look at a dead letter
  (``shared.replay --dry-run``, the operations API) hands it back and counts as a delivery.

A consumer built with ``batch=True`` (for projections: handlers that only keep the service's own
copy of another service's data) handles the messages it holds together: up to ``prefetch`` events
in one transaction with one processed marker listing the batch's event ids (the unique index is
multikey: an id is held once per consumer whether a marker lists it alone or among others),
acknowledged after that one commit by one ``multiple=True`` ack. The marker goes in first; if an id
is already held (a redelivery), that transaction is dropped and the batch runs again after one read
of its ids' markers, without the events handled before. A batch that fails is
handled again one message at a time, so a bad event is retried and dead-lettered on its own and
never holds back the others. On one MongoDB a batch of 32 costs about what one event costs alone,
which is what lets a 10,000-case import reach every register in seconds rather than minutes.

Acknowledgements: a run of consecutive deliveries, each durably handled, is acknowledged by one
``multiple=True`` ack on its last delivery tag, and such an ack never reaches past a delivery the
consumer still holds unsettled (in a transaction, or being retried or dead-lettered): every
delivery is tracked from its arrival until its own ack or nack has been sent.

Retries and dead letters travel through the queue's own direct exchange, ``<queue>.requeue``
(never the default exchange: a broker user allowed to publish there could put a message into any
queue, which would defeat the topic permissions).

Dead-lettered messages keep their body and carry ``x-qa-*`` headers saying why, from which queue,
and after how many attempts, so they can be replayed once the cause is fixed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from aio_pika.exceptions import ChannelNotFoundEntity
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from . import tracing
from .broker import declare_events_exchange, headers_without_deaths, persistent_copy, platform_exchange_for
from .events import Envelope, EventType, UnreadableEvent, parse_envelope
from .mongo import PROCESSED_EVENTS, Document, Indexes, Transaction, UnitOfWork
from .observability import (
    HANDLER_FAILURES,
    HANDLER_LATENCY,
    MESSAGES_HANDLED,
    MESSAGES_IN_FLIGHT,
    QUEUE_MESSAGES,
    correlation_id,
)

log = logging.getLogger(__name__)

PROCESSED_INDEXES = Indexes(
    PROCESSED_EVENTS,
    [IndexModel([("consumer", ASCENDING), ("event_id", ASCENDING)], unique=True)],
)

AMQP_QUEUES = "amqp_queues"

ATTEMPT_HEADER = "x-qa-attempt"
ROUTING_KEY_HEADER = "x-qa-routing-key"
REASON_HEADER = "x-qa-dead-letter-reason"
QUEUE_HEADER = "x-qa-queue"
FAILED_AT_HEADER = "x-qa-failed-at"

#: The dead-letter queue's ``x-delivery-limit``: higher than any number of looks a dead letter will
#: get, so RabbitMQ never drops one (RabbitMQ 4 defaults a quorum queue's limit to 20, and a dead
#: letter looked at and handed back 20 times would then be removed, the dead-letter queue having
#: no dead-letter exchange of its own). Not -1, RabbitMQ 4's "unlimited": RabbitMQ 3.x accepts -1
#: and then drops the message the first time it is handed back.
DEAD_LETTER_DELIVERY_LIMIT = 2**31 - 1


def dead_letter_queue_arguments() -> dict[str, Any]:
    """How a new ``<queue>.dead`` is declared: a quorum queue that keeps every message."""
    return {"x-queue-type": "quorum", "x-delivery-limit": DEAD_LETTER_DELIVERY_LIMIT}


@dataclass(frozen=True)
class ReceivedEvent:
    envelope: Envelope
    data: Any

    @property
    def id(self) -> str:
        return self.envelope.id


Handler = Callable[[ReceivedEvent, Transaction], Awaitable[None]]
#: Handles several events of one type, in delivery order, in one transaction (a batch consumer).
BatchHandler = Callable[[Sequence[ReceivedEvent], Transaction], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One event type a consumer listens to, and the use case that handles it.

    ``batch_handler`` (optional, for a batch consumer): the same work for a run of consecutive
    events of this type in one call, so that its reads and writes are one command each for the
    run rather than one per event (a projection: one find, one bulk write). It must leave the
    same state as ``handler`` applied to each event in turn. When a batch fails, its events are
    handled again one at a time with ``handler``, each retried or dead-lettered on its own.
    """

    event_type: EventType
    handler: Handler
    batch_handler: BatchHandler | None = None


#: The outcomes counted by ``qa_messages_total``.
OUTCOMES = ("handled", "duplicate", "retried", "dead_lettered")


def requeue_exchange_for(queue: str) -> str:
    """The direct exchange through which a queue's retries, dead letters and replays travel."""
    return f"{queue}.requeue"


@dataclass(frozen=True)
class QueueNames:
    main: str
    dead: str
    retries: tuple[tuple[int, str], ...]
    #: The queue's own direct exchange: retries, dead letters and replays are routed through it.
    requeue: str

    @classmethod
    def for_queue(cls, main: str, retry_delays_ms: Sequence[int]) -> QueueNames:
        return cls(
            main=main,
            dead=f"{main}.dead",
            retries=tuple((ms, f"{main}.retry.{ms}ms") for ms in retry_delays_ms),
            requeue=requeue_exchange_for(main),
        )

    def retry_for(self, attempt: int) -> str:
        """The retry queue after failed attempt number ``attempt`` (1-based)."""
        return self.retries[min(attempt, len(self.retries)) - 1][1]

    def all(self) -> list[str]:
        return [self.main, self.dead, *(name for _, name in self.retries)]


class _AlreadyHandled(Exception):
    pass


class ForgedEvent(UnreadableEvent):
    """An event whose ``source`` is not its type's registered publisher."""


def _listed(value: Any) -> list[Any]:
    """A marker's field as a list: a batch's marker lists several values, an event's holds one."""
    return value if isinstance(value, list) else [value]


async def handled_event_ids(db: AsyncDatabase[Document], *, consumer: str | None = None, type: str | None = None) -> list[str]:
    """The ids of the events ``db``'s processed markers record as handled (by ``consumer``, of
    ``type``), one per event even where one marker records a batch."""
    query: dict[str, Any] = {} if consumer is None else {"consumer": consumer}
    if type is not None:
        query["type"] = type
    ids: list[str] = []
    async for doc in db[PROCESSED_EVENTS].find(query, {"event_id": 1, "type": 1}):
        listed, types = _listed(doc["event_id"]), doc.get("type")
        for event_id, event_type in zip(listed, types if isinstance(types, list) else [types] * len(listed), strict=True):
            if type is None or event_type == type:
                ids.append(event_id)
    return ids


class EventConsumer:
    def __init__(
        self,
        *,
        connection: AbstractRobustConnection,
        uow: UnitOfWork,
        service: str,
        purpose: str,
        queue: str,
        exchange: str,
        subscriptions: Sequence[Subscription],
        platform_exchange: str | None = None,
        bind: bool = True,
        prefetch: int = 32,
        max_attempts: int = 5,
        retry_delays_ms: Sequence[int] = (1000, 5000, 30000),
        delivery_limit: int = 20,
        batch: bool = False,
    ) -> None:
        if not subscriptions:
            raise ValueError("a consumer needs at least one subscription")
        if not retry_delays_ms:
            raise ValueError("at least one retry delay is needed")
        self.connection = connection
        self.uow = uow
        self.service = service
        self.purpose = purpose
        self.names = QueueNames.for_queue(queue, retry_delays_ms)
        self.exchange_name = exchange
        self.platform_exchange_name = platform_exchange or platform_exchange_for(exchange)
        #: False: the queue starts with no subscription bound; ``bind_exactly`` chooses them.
        self.bind = bind
        self._bound: set[str] | None = None
        self.subscriptions = {s.event_type.routing_key: s for s in subscriptions}
        self.prefetch = prefetch
        self.max_attempts = max_attempts
        self.delivery_limit = delivery_limit
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self.batch = batch
        #: Every delivery taken and not yet acked or handed back: its channel and delivery tag.
        self._held: dict[AbstractIncomingMessage, tuple[object, int]] = {}
        self._handled = {outcome: MESSAGES_HANDLED.labels(service, purpose, outcome) for outcome in OUTCOMES}
        self._latency = HANDLER_LATENCY.labels(service, purpose)
        self._in_flight_gauge = MESSAGES_IN_FLIGHT.labels(service, purpose)
        self._buffer: list[AbstractIncomingMessage] = []
        self._buffered = asyncio.Event()
        self._batch_task: asyncio.Task[None] | None = None

    async def declare(self, channel: AbstractChannel) -> AbstractQueue:
        """Declare the queue, its dead-letter queue, retry queues and requeue exchange, and bind them.

        Each subscription is bound on its type's exchange: ``<ns>.platform`` for platform-internal
        types, ``<ns>.events`` for the others.
        """
        events = await declare_events_exchange(channel, self.exchange_name)
        platform = await declare_events_exchange(channel, self.platform_exchange_name)
        requeue = await channel.declare_exchange(self.names.requeue, aio_pika.ExchangeType.DIRECT, durable=True)
        dead = await self._declare_dead_letter_queue(channel)
        await dead.bind(requeue, routing_key=self.names.dead)
        for delay_ms, name in self.names.retries:
            retry = await channel.declare_queue(
                name,
                durable=True,
                arguments={
                    "x-message-ttl": delay_ms,
                    "x-dead-letter-exchange": self.names.requeue,
                    "x-dead-letter-routing-key": self.names.main,
                },
            )
            await retry.bind(requeue, routing_key=name)
        queue = await channel.declare_queue(
            self.names.main,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": self.names.requeue,
                "x-dead-letter-routing-key": self.names.dead,
            },
        )
        await queue.bind(requeue, routing_key=self.names.main)
        if self.bind:
            for routing_key, subscription in self.subscriptions.items():
                await queue.bind(platform if subscription.event_type.internal else events, routing_key=routing_key)
        return queue

    async def _declare_dead_letter_queue(self, channel: AbstractChannel) -> AbstractQueue:
        """The dead-letter queue: declared with ``dead_letter_queue_arguments()`` when it is new.

        One that an earlier release declared (without the delivery limit) is used as it is, by a
        passive declaration: declaring it again with other arguments would fail
        (PRECONDITION_FAILED) and the service would not start. On RabbitMQ 4 the broker policy
        ``<ns>-dead-letters`` (deploy/README.md) lifts the limit of those older queues.
        """
        if await self._queue_exists(self.names.dead):
            return await channel.declare_queue(self.names.dead, passive=True)
        return await channel.declare_queue(self.names.dead, durable=True, arguments=dead_letter_queue_arguments())

    async def _queue_exists(self, name: str) -> bool:
        """A passive declaration on a channel of its own (a missing queue closes that channel)."""
        probe = await self.connection.channel()
        try:
            await probe.declare_queue(name, passive=True)
            return True
        except ChannelNotFoundEntity:
            return False
        finally:
            if not probe.is_closed:
                await probe.close()

    async def bind_exactly(self, routing_keys: Iterable[str], *, full: bool = False) -> None:
        """Bind the queue by exactly these of its subscriptions (a consumer built with ``bind=False``
        whose interests change at run time). Idempotent; any number of replicas may call it.
        Only what changed since this process last bound is sent, unless ``full`` (another replica
        may have changed the broker since)."""
        wanted = set(routing_keys) & set(self.subscriptions)
        changes = [k for k in self.subscriptions if full or self._bound is None or ((k in wanted) != (k in self._bound))]
        if not changes:
            return
        channel = await self.connection.channel()
        try:
            queue = await channel.get_queue(self.names.main, ensure=False)
            for key in changes:
                exchange = self.platform_exchange_name if self.subscriptions[key].event_type.internal else self.exchange_name
                if key in wanted:
                    await queue.bind(exchange, routing_key=key)
                else:
                    await queue.unbind(exchange, routing_key=key)
        finally:
            await channel.close()
        self._bound = wanted

    async def start(self) -> None:
        self._channel = await self.connection.channel(publisher_confirms=True)
        await self._channel.set_qos(prefetch_count=self.prefetch)
        self._queue = await self.declare(self._channel)
        # Recorded so operators' tools (dead-letter replay, clean-up) can find every queue we own.
        await self.uow.db[AMQP_QUEUES].update_one(
            {"_id": self.names.main},
            {"$set": {"purpose": self.purpose, "dead": self.names.dead, "retries": [n for _, n in self.names.retries],
                      "routing_keys": sorted(self.subscriptions), "exchange": self.exchange_name,
                      "platform_exchange": self.platform_exchange_name, "requeue": self.names.requeue}},
            upsert=True,
        )
        if self.batch:
            self._batch_task = asyncio.create_task(self._batch_loop(), name=f"batches:{self.names.main}")
        self._consumer_tag = await self._queue.consume(self._on_message, no_ack=False)
        log.info("consuming", extra={"queue": self.names.main, "types": sorted(self.subscriptions), "batch": self.batch})

    async def stop(self, grace_s: float) -> None:
        """Stop taking messages, let those in hand finish (and be acked), then close.

        Whatever is still unfinished after ``grace_s`` goes back to the queue when the channel
        closes, for another replica to take.
        """
        self._stopping = True
        if self._queue is not None and self._consumer_tag is not None:
            try:
                await self._queue.cancel(self._consumer_tag)
            except Exception:
                log.warning("could not cancel consumer cleanly", exc_info=True)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=grace_s)
        except TimeoutError:
            log.warning("grace period over; unfinished messages return to the queue", extra={"in_flight": self._in_flight})
        if self._batch_task is not None:
            self._batch_task.cancel()
            await asyncio.gather(self._batch_task, return_exceptions=True)
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    @cached_property
    def _markers(self) -> AsyncCollection[Document]:
        return self.uow.db[PROCESSED_EVENTS]

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def read_depths(self) -> None:
        """Set ``qa_queue_messages`` for this queue: ready (the consumer's lag) and dead-lettered.

        A passive declaration on a channel of its own, so that a queue that has gone (the broker
        was reset) closes only that channel, never the consumer's.
        """
        channel = await self.connection.channel()
        try:
            for state, name in (("ready", self.names.main), ("dead", self.names.dead)):
                queue = await channel.declare_queue(name, passive=True)
                count = queue.declaration_result.message_count
                QUEUE_MESSAGES.labels(self.service, self.names.main, state).set(count or 0)
        finally:
            if not channel.is_closed:
                await channel.close()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._hold(message)
        if self._stopping:
            # Delivered after we asked to stop: hand it straight back for another replica.
            try:
                await message.nack(requeue=True)
            finally:
                self._release(message)
            return
        self._taken(1)
        if self.batch:
            self._buffer.append(message)  # settled by the batch loop
            self._buffered.set()
            return
        try:
            await self._process(message)
        except Exception:
            await self._give_back([message])
        finally:
            self._settled(1)

    def _taken(self, count: int) -> None:
        self._in_flight += count
        self._idle.clear()
        self._in_flight_gauge.inc(count)

    def _settled(self, count: int) -> None:
        self._in_flight_gauge.dec(count)
        self._in_flight -= count
        if self._in_flight == 0:
            self._idle.set()

    def _hold(self, message: AbstractIncomingMessage) -> None:
        if message.delivery_tag is not None:
            self._held[message] = (message.channel, message.delivery_tag)

    def _release(self, message: AbstractIncomingMessage) -> None:
        """``message``'s ack or nack has been sent (or its channel is gone): a ``multiple=True``
        ack may now reach past it."""
        self._held.pop(message, None)

    async def _ack(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        """Acknowledge ``messages``, each durably handled (or settled otherwise: retried, dead-lettered).

        Per channel, those below the lowest delivery tag still held unsettled and not among
        ``messages`` go as one ``multiple=True`` ack on the highest of them; any others one by one.
        A message leaves the held set only once its ack has been sent, so an ack computed
        meanwhile elsewhere stops below it.
        """
        if len(messages) == 1:
            try:
                await messages[0].ack()
            finally:
                self._release(messages[0])
            return
        acking = set(messages)
        by_channel: dict[object, list[tuple[int, AbstractIncomingMessage]]] = {}
        for message in messages:
            channel, tag = self._held.get(message, (None, 0))
            by_channel.setdefault(channel, []).append((tag, message))
        for channel, group in by_channel.items():
            group.sort(key=lambda item: item[0])
            run: list[AbstractIncomingMessage] = []
            if channel is not None:
                blocker = min((tag for held, (on, tag) in self._held.items() if on is channel and held not in acking), default=None)
                run = [message for tag, message in group if blocker is None or tag < blocker]
            if len(run) > 1:
                try:
                    await run[-1].ack(multiple=True)
                finally:
                    for message in run:
                        self._release(message)
            else:
                run = []
            for _, message in group[len(run):]:
                try:
                    await message.ack()
                finally:
                    self._release(message)

    async def _give_back(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        # Never let a message vanish: if even dead-lettering failed, give it back to the queue.
        log.exception("could not settle message; returning it to the queue")
        for message in messages:
            if message not in self._held:
                continue  # already acked (or handed back): a nack now would be refused by the broker
            try:
                await message.nack(requeue=True)
            except Exception:
                log.exception("nack failed; the broker redelivers when the channel closes")
            finally:
                self._release(message)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        read = await self._read(message)
        if read is not None:
            await self._handle_and_settle(*read)

    async def _read(self, message: AbstractIncomingMessage) -> tuple[AbstractIncomingMessage, Subscription, ReceivedEvent, int] | None:
        """The message as an event of a subscribed type, or None once it is dead-lettered as unreadable."""
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 1))  # type: ignore[arg-type]  # a header may hold any AMQP value; ours is an int
        try:
            envelope = parse_envelope(message.body)
            subscription = self.subscriptions.get(envelope.type)
            if subscription is None:
                raise UnreadableEvent(f"{self.names.main} does not handle events of type {envelope.type!r}")
            if envelope.source != subscription.event_type.source:
                raise ForgedEvent(
                    f"forged source: {envelope.type} is published only by {subscription.event_type.source}, "
                    f"not {envelope.source!r}; event {envelope.id} taken no effect"
                )
            data = subscription.event_type.parse_data(envelope)
        except UnreadableEvent as exc:
            log.error("unreadable message dead-lettered", extra={"queue": self.names.main, "reason": str(exc)})
            await self._dead_letter(message, reason=str(exc), attempt=attempt)
            return None
        return message, subscription, ReceivedEvent(envelope, data), attempt

    async def _handle_and_settle(self, message: AbstractIncomingMessage, subscription: Subscription, event: ReceivedEvent, attempt: int) -> None:
        envelope = event.envelope
        token = correlation_id.set(envelope.correlationid)
        started = time.perf_counter()
        try:
            outcome = await self._handle(subscription, event)
        except Exception as exc:
            HANDLER_FAILURES.labels(self.service, self.purpose, envelope.type).inc()
            if attempt >= self.max_attempts:
                log.exception(
                    "handler failed for the last time; dead-lettered",
                    extra={"event_id": envelope.id, "type": envelope.type, "attempt": attempt},
                )
                await self._dead_letter(message, reason=f"handler failed {attempt} times: {exc!r}", attempt=attempt)
            else:
                log.warning(
                    "handler failed; will retry",
                    exc_info=True,
                    extra={"event_id": envelope.id, "type": envelope.type, "attempt": attempt},
                )
                await self._retry(message, attempt)
            return
        finally:
            correlation_id.reset(token)
            self._latency.observe(time.perf_counter() - started)
        await self._ack([message])
        self._handled[outcome].inc()

    async def _handle(self, subscription: Subscription, event: ReceivedEvent) -> str:
        async def work(tx: Transaction) -> None:
            # Left for the end: it goes in the same command as the handler's writes left for the
            # end and its events. A redelivery finds the key taken there and keeps nothing.
            tx.insert_at_end(self._markers, self._marker(event), if_duplicate=_AlreadyHandled)
            await subscription.handler(event, tx)

        try:
            with tracing.consuming([event.envelope], self.names.main):
                await self.uow.run(work)
        except _AlreadyHandled:
            log.info("duplicate delivery ignored", extra={"event_id": event.id, "type": event.envelope.type})
            return "duplicate"
        except Exception:
            # The handler ran before the marker was written; on a redelivery it met the state the
            # first delivery left, and may have refused it. That event was handled: not a failure.
            if await self._handled_before(event):
                log.info("duplicate delivery ignored", extra={"event_id": event.id, "type": event.envelope.type})
                return "duplicate"
            raise
        return "handled"

    async def _handled_before(self, event: ReceivedEvent) -> bool:
        """Whether a processed marker holds ``event`` (False if that cannot be read now)."""
        try:
            return await self._markers.find_one({"consumer": self.purpose, "event_id": event.id}, {"_id": 1}) is not None
        except Exception:  # noqa: BLE001 - the handler's own failure is what is reported
            return False

    def _marker(self, event: ReceivedEvent) -> dict[str, Any]:
        """The processed marker that commits with an event's work (unique on consumer + event id)."""
        return {"consumer": self.purpose, "event_id": event.id, "type": event.envelope.type, "handled_at": self.uow.clock.now()}

    async def _batch_loop(self) -> None:
        while True:
            await self._buffered.wait()
            await asyncio.sleep(0)  # deliveries already read from the socket join this batch
            batch, self._buffer = self._buffer[: self.prefetch], self._buffer[self.prefetch :]
            if not self._buffer:
                self._buffered.clear()
            try:
                await self._process_batch(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                await self._give_back(batch)
            finally:
                self._settled(len(batch))

    async def _process_batch(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        readable = [read for message in messages if (read := await self._read(message)) is not None]
        if len(readable) <= 1:
            for read in readable:
                await self._handle_and_settle(*read)
            return
        started = time.perf_counter()
        token = correlation_id.set(None)
        try:
            with tracing.consuming([event.envelope for _, _, event, _ in readable], self.names.main):
                try:
                    outcomes = await self.uow.run(lambda tx: self._handle_batch(tx, readable, read_markers=False))
                except _AlreadyHandled:  # a redelivery among them: leave out what was handled before
                    outcomes = await self.uow.run(lambda tx: self._handle_batch(tx, readable, read_markers=True))
        except Exception:
            log.warning("batch failed; handling its events one at a time", exc_info=True, extra={"events": len(readable)})
            for read in readable:
                await self._handle_and_settle(*read)
            return
        finally:
            correlation_id.reset(token)
        elapsed = time.perf_counter() - started
        await self._ack([message for message, _, _, _ in readable])
        for outcome in outcomes:
            self._latency.observe(elapsed / len(readable))
            self._handled[outcome].inc()

    async def _handle_batch(
        self,
        tx: Transaction,
        readable: Sequence[tuple[AbstractIncomingMessage, Subscription, ReceivedEvent, int]],
        *,
        read_markers: bool,
    ) -> list[str]:
        """Every event of the batch not handled before, in delivery order, under one processed
        marker written first; with ``read_markers``, those whose ids a marker already holds left out."""
        seen: set[str] = set()
        if read_markers:
            ids = [event.id for _, _, event, _ in readable]
            for doc in await self._markers.find({"consumer": self.purpose, "event_id": {"$in": ids}}, {"event_id": 1}, session=tx.session).to_list():
                seen.update(_listed(doc["event_id"]))
        outcomes: list[str] = []
        fresh: list[tuple[Subscription, ReceivedEvent]] = []
        for _, subscription, event, _ in readable:
            if event.id in seen:
                log.info("duplicate delivery ignored", extra={"event_id": event.id, "type": event.envelope.type})
                outcomes.append("duplicate")
                continue
            seen.add(event.id)
            fresh.append((subscription, event))
            outcomes.append("handled")
        if not fresh:
            return outcomes
        try:
            await self._markers.insert_one(self._batch_marker([event for _, event in fresh]), session=tx.session)
        except DuplicateKeyError:
            raise _AlreadyHandled from None
        # Consecutive fresh events of a type with a batch handler go to it together (in order).
        run: list[ReceivedEvent] = []
        run_subscription: Subscription | None = None

        async def flush() -> None:
            nonlocal run, run_subscription
            if run and run_subscription is not None and run_subscription.batch_handler is not None:
                await tx.flush()  # what earlier handlers left for the end: written, so this one reads it
                token = correlation_id.set(run[0].envelope.correlationid if len({e.envelope.correlationid for e in run}) == 1 else None)
                try:
                    await run_subscription.batch_handler(run, tx)
                finally:
                    correlation_id.reset(token)
            run, run_subscription = [], None

        for subscription, event in fresh:
            if subscription.batch_handler is not None:
                if subscription is not run_subscription:
                    await flush()
                    run_subscription = subscription
                run.append(event)
                continue
            await flush()
            await tx.flush()
            token = correlation_id.set(event.envelope.correlationid)
            try:
                await subscription.handler(event, tx)
            finally:
                correlation_id.reset(token)
        await flush()
        # Events a batched handler records carry the batch's correlation id when its events share one.
        correlations = {event.envelope.correlationid for _, event in fresh}
        correlation_id.set(correlations.pop() if len(correlations) == 1 else None)
        return outcomes

    def _batch_marker(self, events: Sequence[ReceivedEvent]) -> dict[str, Any]:
        """One processed marker for ``events``: their ids and types listed in delivery order."""
        if len(events) == 1:
            return self._marker(events[0])
        return {
            "consumer": self.purpose,
            "event_id": [event.id for event in events],
            "type": [event.envelope.type for event in events],
            "handled_at": self.uow.clock.now(),
        }

    def _carried_headers(self, message: AbstractIncomingMessage) -> dict[str, Any]:
        headers: dict[str, Any] = headers_without_deaths(message)
        headers.setdefault(ROUTING_KEY_HEADER, message.routing_key)
        return headers

    async def _retry(self, message: AbstractIncomingMessage, attempt: int) -> None:
        assert self._channel is not None
        headers = self._carried_headers(message)
        headers[ATTEMPT_HEADER] = attempt + 1
        requeue = await self._channel.get_exchange(self.names.requeue, ensure=False)
        await requeue.publish(persistent_copy(message, headers), routing_key=self.names.retry_for(attempt), timeout=10)
        await self._ack([message])
        self._handled["retried"].inc()

    async def _dead_letter(self, message: AbstractIncomingMessage, *, reason: str, attempt: int) -> None:
        assert self._channel is not None
        headers = self._carried_headers(message)
        headers.update(
            {
                REASON_HEADER: reason[:2000],
                QUEUE_HEADER: self.names.main,
                ATTEMPT_HEADER: attempt,
                FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
            }
        )
        requeue = await self._channel.get_exchange(self.names.requeue, ensure=False)
        await requeue.publish(persistent_copy(message, headers), routing_key=self.names.dead, timeout=10)
        await self._ack([message])
        self._handled["dead_lettered"].inc()

