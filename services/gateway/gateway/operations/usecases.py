"""Dead letters an operator can see and act on: every consumer queue's dead-letter queue in this
namespace (count, oldest, the reasons), one queue's letters, replaying one or all after a fix,
discarding one with a recorded reason. Each action is recorded (``store``) and logged.

The gateway reaches every service's queues as the broker's administrator (``BROKER_ADMIN_AMQP_URL``,
else ``AMQP_URL``'s host with the management API's login): the services' own users may touch only
their own queues. Reading a queue's letters takes them and gives them back unacknowledged, as
``python -m shared.replay --dry-run`` does, so nothing moves.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import aio_pika
from aio_pika.abc import AbstractConnection
from shared.broker_access import BrokerAdmin
from shared.clock import Clock
from shared.errors import Problem
from shared.mongo import UnitOfWork
from shared.replay import DEAD_SUFFIX, DeadLetter, ReplayError, replay, take

from . import store

log = logging.getLogger(__name__)

#: Letters read to summarise a queue's reasons (the count is always exact).
SUMMARY_SAMPLE = 100


class DeadLetters:
    def __init__(self, uow: UnitOfWork, clock: Clock, *, namespace: str, admin: Callable[[], BrokerAdmin] | None, admin_amqp_url: str | None) -> None:
        self.uow, self.clock, self.namespace = uow, clock, namespace
        self._admin, self._amqp_url = admin, admin_amqp_url

    def _available(self) -> tuple[Callable[[], BrokerAdmin], str]:
        if self._admin is None or self._amqp_url is None:
            raise Problem(503, "broker-admin-not-configured", "The broker's administration is not configured",
                          "Set BROKER_MANAGEMENT_URL (and BROKER_ADMIN_AMQP_URL where AMQP is elsewhere) for the gateway.")
        return self._admin, self._amqp_url

    @asynccontextmanager
    async def _connection(self) -> Any:
        _, url = self._available()
        connection: AbstractConnection = await aio_pika.connect(url, client_properties={"connection_name": "qa-gateway-dead-letters"})
        try:
            yield connection
        finally:
            await connection.close()

    def _queue(self, queue: str) -> str:
        """A consumer queue of this namespace (404 otherwise: never another namespace's)."""
        if not re.fullmatch(rf"{re.escape(self.namespace)}\.[a-z0-9_-]+\.[a-z0-9_-]+", queue):
            raise Problem(404, "not-found", "Not found", f"There is no consumer queue {queue!r} in this namespace.")
        return queue

    async def queues(self) -> list[str]:
        admin, _ = self._available()
        async with admin() as broker:
            dead = await broker.queue_names(rf"^{re.escape(self.namespace)}\.[a-z0-9_-]+\.[a-z0-9_-]+\{DEAD_SUFFIX}$")
        return [name[: -len(DEAD_SUFFIX)] for name in dead]

    async def summary(self) -> list[dict[str, Any]]:
        rows = []
        async with self._connection() as connection:
            for queue in await self.queues():
                result = await replay(connection, queue, dry_run=True, limit=SUMMARY_SAMPLE)
                failed = sorted(letter.failed_at for letter in result.letters if letter.failed_at)
                rows.append({
                    "queue": queue, "service": queue.split(".")[1], "dead_letter_queue": result.dead_letter_queue, "messages": result.found,
                    "oldest_failed_at": failed[0] if failed else None,
                    "reasons": dict(Counter(_short(letter.reason) for letter in result.letters).most_common()),
                    "reasons_from": len(result.letters),
                })
        return rows

    async def letters(self, queue: str, *, limit: int) -> tuple[int, list[DeadLetter]]:
        queue = self._queue(queue)
        async with self._connection() as connection:
            try:
                result = await replay(connection, queue, dry_run=True, limit=limit)
            except ReplayError as exc:
                raise Problem(404, "not-found", "Not found", str(exc)) from exc
        return result.found, list(result.letters)

    async def replay_all(self, queue: str, *, reason: str, by: str) -> dict[str, Any]:
        queue = self._queue(queue)
        async with self._connection() as connection:
            try:
                result = await replay(connection, queue)
            except ReplayError as exc:
                raise _refused(exc) from exc
        action = await self._record("replayed all", queue, reason, by, message_ids=[letter.message_id for letter in result.letters])
        return {**action, "moved": result.moved}

    async def replay_one(self, queue: str, message_id: str, *, reason: str, by: str) -> dict[str, Any]:
        taken = await self._take(queue, message_id, replay_it=True)
        action = await self._record("replayed", queue, reason, by, message_ids=[message_id], letter=asdict(taken.letter))
        return {**action, "moved": 1}

    async def discard(self, queue: str, message_id: str, *, reason: str, by: str) -> dict[str, Any]:
        taken = await self._take(queue, message_id, replay_it=False)
        # The message itself is kept with the record: a discard removes it from the queue, not from history.
        action = await self._record(
            "discarded", queue, reason, by, message_ids=[message_id], letter=asdict(taken.letter),
            body=taken.body.decode("utf-8", "replace"), headers={k: str(v) for k, v in taken.headers.items()},
        )
        return {**action, "moved": 0}

    async def history(self, *, queue: str | None, limit: int) -> list[dict[str, Any]]:
        return await store.actions(self.uow.db, queue=self._queue(queue) if queue else None, limit=limit)

    async def _take(self, queue: str, message_id: str, *, replay_it: bool) -> Any:
        queue = self._queue(queue)
        async with self._connection() as connection:
            try:
                taken = await take(connection, queue, message_id, replay_it=replay_it)
            except ReplayError as exc:
                raise _refused(exc) from exc
        if taken is None:
            raise Problem(404, "not-found", "Not found", f"No dead letter {message_id!r} waits in {queue}{DEAD_SUFFIX}.")
        return taken

    async def _record(self, action: str, queue: str, reason: str, by: str, **details: Any) -> dict[str, Any]:
        doc = {"_id": uuid.uuid4().hex, "action": action, "queue": queue, "reason": reason, "by": by, "at": self.clock.now(), **details}
        await store.record(self.uow.db, doc)
        log.warning("dead letters %s", action, extra={"queue": queue, "by": by, "reason": reason, "messages": len(details.get("message_ids", []))})
        return {k: v for k, v in doc.items() if k not in ("body", "headers")}


def _short(reason: str) -> str:
    """A reason without what varies from letter to letter (ids in a repr), for counting."""
    return reason[:200]


def _refused(exc: ReplayError) -> Problem:
    message = str(exc)
    if "there is no queue" in message:
        return Problem(404, "not-found", "Not found", message)
    return Problem(503, "broker-unavailable", "Message broker unavailable", message)




def admin_amqp_url(amqp_url: str, management_url: str | None) -> str | None:
    """``amqp_url``'s host, port and vhost with the management API's (administrator's) login."""
    if not management_url:
        return None
    from urllib.parse import urlsplit, urlunsplit

    login = urlsplit(management_url)
    target = urlsplit(amqp_url)
    if not login.username:
        return None
    netloc = f"{login.username}:{login.password or ''}@{target.hostname}" + (f":{target.port}" if target.port else "")
    return urlunsplit((target.scheme, netloc, target.path, target.query, ""))
