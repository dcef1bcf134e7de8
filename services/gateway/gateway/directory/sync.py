"""The directory sync signal, the gateway's side: how far each service has applied the directory.

Every directory change carries its kind's ``sequence`` (``store.take_sequences``). Each service
that keeps a copy of the directory reports ``<service>.directory.applied.v1`` ``{kind, through}``
(``shared.directory_sync``); the gateway keeps the highest ``through`` per service and kind here,
and tells a client whether every service subscribing to a kind has applied it through a sequence:
the answer of a bulk import (and its asynchronous job), and ``GET /api/v1/directory/sync``.
Nothing is asked of the services: they tell, through the broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from shared.consumer import ReceivedEvent, Subscription
from shared.directory_sync import DirectoryApplied, applied_type
from shared.mongo import Document, Transaction

#: Per service and kind, the highest sequence it has applied without a gap (``{_id: "<service>:<kind>"}``).
APPLIED = "directory_applied_by"

#: Which services keep a copy of which kind of record (the directory events each one's
#: ``<service>.directory`` consumer subscribes to).
SUBSCRIBERS: Mapping[str, tuple[str, ...]] = {
    "team": ("signoff", "audit"),
    "person": ("signoff", "resolution", "audit", "notify"),
    "case": ("signoff", "resolution", "audit"),
}
SERVICES = ("signoff", "resolution", "audit", "notify")
APPLIED_TYPES = {service: applied_type(service) for service in SERVICES}


def href(kind: str, through: int) -> str:
    return f"/api/v1/directory/sync?kind={kind}&through={through}"


def aggregate(kind: str, through: int, held: Mapping[str, int]) -> dict[str, Any]:
    """Whether each subscriber of ``kind`` has applied it through ``through`` (``held``: service ->
    its highest sequence applied), and whether all have (no I/O)."""
    applied = {service: held.get(service, 0) >= through for service in SUBSCRIBERS[kind]}
    return {"kind": kind, "through": through, "applied": applied, "synced": all(applied.values()), "href": href(kind, through)}


async def held(db: AsyncDatabase[Document], kind: str) -> dict[str, int]:
    """Each service's highest sequence of ``kind`` applied, as last reported."""
    return {d["service"]: int(d["through"]) async for d in db[APPLIED].find({"kind": kind})}


async def status(db: AsyncDatabase[Document], kind: str, through: int) -> dict[str, Any]:
    return aggregate(kind, through, await held(db, kind))


def subscriptions(db: AsyncDatabase[Document]) -> list[Subscription]:
    """The gateway's consumer of the services' reports (a batch per transaction)."""

    def handler(service: str) -> Any:
        async def on_applied(event: ReceivedEvent, tx: Transaction) -> None:
            report: DirectoryApplied = event.data
            await db[APPLIED].update_one(
                {"_id": f"{service}:{report.kind}"},
                {"$max": {"through": report.through}, "$set": {"service": service, "kind": report.kind}},
                upsert=True, session=tx.session,
            )

        return on_applied

    return [Subscription(event_type, handler(service)) for service, event_type in APPLIED_TYPES.items()]
