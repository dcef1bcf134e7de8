"""AMQP integrators: each gets its own read-only broker user and its own durable queue, bound to
exactly the event types it was granted (``shared.broker_access.integrator_user``).

The broker is changed through its management API as an administrator (``BROKER_MANAGEMENT_URL``);
every broker call is idempotent, and the record is written only once the broker holds the user,
so a failure half way leaves at worst an unused user that the next attempt overwrites. The
password is returned once, on creation and on rotation, and never stored. A management API that
cannot be reached (``shared.broker_access.BrokerUnavailable``) is answered 503
``broker-unavailable`` with ``Retry-After`` (``shared.problems``), with nothing recorded.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from shared.broker_access import (
    BrokerAdmin,
    BrokerAdminError,
    amqp_url_for,
    events_exchange,
    integrator_queue,
    integrator_user,
    integrator_username,
)
from shared.clock import Clock
from shared.errors import Problem
from shared.mongo import Document, UnitOfWork
from shared.versioned import check_version

from . import catalogue, store
from .domain import IntegrationRefused, check_grant

log = logging.getLogger(__name__)

WHAT = "Integrator"
ACTIVE, REVOKED = "active", "revoked"


@dataclass(frozen=True)
class Credentials:
    record: Document
    password: str
    amqp_url: str


class AmqpIntegrators(store.Records):
    collection, what = store.INTEGRATORS, WHAT

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        namespace: str,
        admin: Callable[[], BrokerAdmin] | None,
        integrator_amqp_url: str,
        queue_max_length: int,
    ) -> None:
        self.uow = uow
        self.db = uow.db
        self.clock = clock
        self.namespace = namespace
        self._admin = admin
        self.integrator_amqp_url = integrator_amqp_url
        self.queue_max_length = queue_max_length

    def admin(self) -> BrokerAdmin:
        if self._admin is None:
            raise Problem(
                503, "broker-administration-unavailable", "Broker administration not configured",
                "This installation has no BROKER_MANAGEMENT_URL: AMQP integrators cannot be created here. Webhooks can.",
            )
        return self._admin()

    def _credentials(self, record: Document, password: str) -> Credentials:
        return Credentials(record, password, amqp_url_for(self.integrator_amqp_url, record["username"], password))

    async def create(self, *, name: str, event_types: list[str], by: str) -> Credentials:
        granted = check_grant(event_types, catalogue.known_types())
        if await self.db[store.INTEGRATORS].find_one({"name": name, "status": ACTIVE}, {"_id": 1}):
            raise IntegrationRefused("duplicate-integrator", "Integrator exists", f"An active integrator is already called {name!r}.", status=409)
        integrator_id = "int-" + secrets.token_hex(5)
        queue = integrator_queue(self.namespace, integrator_id)
        user = integrator_user(self.namespace, integrator_id, granted)
        password = secrets.token_urlsafe(24)
        async with self.admin() as admin:
            # The queue exists and is bound before the user can log in; a full queue drops its
            # oldest message rather than ever pushing back on the platform's publishers.
            await admin.declare_queue(queue, {"x-queue-type": "quorum", "x-max-length": self.queue_max_length, "x-overflow": "drop-head"})
            await admin.bind_exactly(events_exchange(self.namespace), queue, granted)
            await admin.apply(user, password)
        now = self.clock.now()
        doc = {
            "_id": integrator_id, "name": name, "event_types": granted, "status": ACTIVE, "username": user.username,
            "queue": queue, "exchange": events_exchange(self.namespace), "created_at": now, "created_by": by,
        }
        try:
            record = await store.insert_new(self.uow, store.INTEGRATORS, doc, subject=f"amqp/{integrator_id}", by=by, at=now)
        except Exception:
            try:
                async with self.admin() as admin:
                    await admin.delete_user(user.username)
                    await admin.delete_queue(queue)
            except BrokerAdminError:  # the record's own failure is the answer; the next attempt overwrites
                log.warning("could not remove the broker user of an integrator that was not recorded", exc_info=True)
            raise
        return self._credentials(record, password)

    async def _active(self, integrator_id: str, expected: int | None) -> Document:
        record = await self.get(integrator_id)
        if record["status"] != ACTIVE:
            raise IntegrationRefused("integrator-revoked", "Integrator revoked", f"Integrator {integrator_id!r} was revoked.", status=409)
        check_version("integrator", int(record["version"]), expected, ident=integrator_id)
        return record

    async def rotate_password(self, integrator_id: str, *, by: str, expected: int | None) -> Credentials:
        """A new password, at once: the old one stops working and its open connections are closed."""
        record = await self._active(integrator_id, expected)
        password = secrets.token_urlsafe(24)
        async with self.admin() as admin:
            await admin.set_password(record["username"], password)
            await admin.close_connections(record["username"])
        now = self.clock.now()
        saved = await store.save_version(
            self.uow, store.INTEGRATORS, {**record, "password_rotated_at": now, "password_rotated_by": by},
            expected=record["version"], what=WHAT, subject=f"amqp/{integrator_id}", change="password rotated", by=by, at=now,
        )
        return self._credentials(saved, password)

    async def change_grant(self, integrator_id: str, *, event_types: list[str], by: str, expected: int | None) -> Document:
        """Grant exactly these event types from now on: bindings and topic permissions follow."""
        record = await self._active(integrator_id, expected)
        granted = check_grant(event_types, catalogue.known_types())
        async with self.admin() as admin:
            await admin.apply(integrator_user(self.namespace, integrator_id, granted), password=None)
            await admin.bind_exactly(record["exchange"], record["queue"], granted)
        now = self.clock.now()
        return await store.save_version(
            self.uow, store.INTEGRATORS, {**record, "event_types": granted},
            expected=record["version"], what=WHAT, subject=f"amqp/{integrator_id}", change="grant changed", by=by, at=now,
        )

    async def revoke(self, integrator_id: str, *, reason: str, by: str, expected: int | None) -> Document:
        """The login is deleted (open connections closed) and the queue removed; the record stays."""
        record = await self._active(integrator_id, expected)
        async with self.admin() as admin:
            await admin.delete_user(integrator_username(self.namespace, integrator_id))
            await admin.delete_queue(record["queue"])
        now = self.clock.now()
        return await store.save_version(
            self.uow, store.INTEGRATORS, {**record, "status": REVOKED, "revoked_at": now, "revoked_by": by, "revoke_reason": reason},
            expected=record["version"], what=WHAT, subject=f"amqp/{integrator_id}", change="revoked", by=by, at=now,
        )
