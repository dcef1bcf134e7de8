"""The directory sync signal: how a client learns that a directory change has reached the services.

The gateway numbers every change of the directory, one sequence per kind of record (``team``,
``person``, ``case``), in the transaction that writes it: ``directory.<kind>.changed.v1`` carries
its ``sequence`` (1, 2, 3, ... without gaps, in commit order). Each service that keeps a copy of
the directory records, in the same transaction as its projection, which sequences it has applied
(``record_applied``), and reports how far it has applied every one of them without a gap, as
``<service>.directory.applied.v1`` ``{kind, through}`` (platform-internal, through the outbox; one
event per consumer transaction at most, never one per change). The gateway keeps the highest
``through`` per service and kind, and a bulk import answers (and ``GET /api/v1/directory/sync``
tells) whether every subscribing service has applied the directory through the import's last
sequence.

Events may arrive out of order or twice (retries, redelivery, competing replicas): a sequence
above the next one expected waits in ``pending`` until the gap is filled, one already applied is
ignored. A sequence that never arrives (its event dead-lettered) holds ``through`` back: the
service is then truthfully not in sync until the dead letter is replayed.

A service asked about a record it does not hold answers ``not_yet_known``: while directory
changes of that kind are still arriving (a gap pending, or one applied within ``SETTLE_S``) the
record may simply not have arrived yet, which is a retryable 409 with ``Retry-After``; in a
settled service (or one that has never been told of a numbered change, as in tests that write
its copy directly) the caller's own refusal stands (the 422 "Unknown person").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from pymongo.asynchronous.database import AsyncDatabase

from .consumer import ReceivedEvent, Subscription
from .directory_readers import CaseRecord, PersonRecord, TeamRecord
from .errors import Problem
from .events import EventData, EventType
from .projection import apply_if_newer, apply_many_if_newer

#: The service's record of what it has applied: one document per kind.
APPLIED = "directory_applied"
#: The kinds of directory record, each numbered on its own.
KINDS = ("team", "person", "case")
#: Seconds after the last directory change applied during which an unknown record may still be
#: on its way (answered 409 with ``Retry-After``), after which it is taken as unknown.
SETTLE_S = 60.0
#: Seconds a client is asked to wait before asking again.
RETRY_AFTER_S = 1

Kind = Literal["team", "person", "case"]


class DirectoryApplied(EventData):
    """A service has applied every directory change of one kind numbered up to ``through``."""

    kind: Kind = Field(description="The kind of directory record: team, person or case.")
    through: int = Field(ge=0, description="Every change of this kind numbered up to this sequence has been applied by the publishing service.")


def applied_type(service: str) -> EventType:
    """``<service>.directory.applied.v1``: what ``service`` reports of its copy of the directory."""
    return EventType(
        f"{service}.directory.applied", 1, DirectoryApplied,
        "Internal: the service has applied every directory change of a kind up to a sequence (the directory sync signal).",
        service, internal=True,
    )


@dataclass
class _Progress:
    """One kind's progress within one consumer transaction."""

    through: int
    pending: set[int]
    reported: int
    #: Where this transaction's applied event sits in ``tx.staged`` (replaced as ``through`` grows).
    staged_at: int | None = None


@dataclass
class _InTransaction:
    kinds: dict[str, _Progress] = field(default_factory=dict)


def advance(through: int, pending: set[int], sequence: int) -> tuple[int, set[int]]:
    """``through`` and ``pending`` once ``sequence`` is applied (no I/O): the highest sequence
    applied without a gap, and those applied above it."""
    if sequence <= through or sequence in pending:
        return through, pending
    pending = {*pending, sequence}
    while through + 1 in pending:
        through += 1
        pending.discard(through)
    return through, pending


async def record_applied(db: AsyncDatabase[Any], tx: Any, applied: EventType, kind: str, sequence: int | None) -> None:
    """Record, in the consumer's transaction ``tx``, that the change numbered ``sequence`` of
    ``kind`` is applied; when the gap-free ``through`` grows, ``applied`` (the service's
    ``<service>.directory.applied.v1``) is recorded once for the transaction with the latest value.
    A change without a sequence (published before they were numbered) is not tracked."""
    await record_applied_many(db, tx, applied, kind, [sequence])


async def record_applied_many(db: AsyncDatabase[Any], tx: Any, applied: EventType, kind: str, sequences: Iterable[int | None]) -> None:
    """``record_applied`` for a run of changes of one kind (a batch handler): one write for all."""
    numbered = [s for s in sequences if s is not None]
    if not numbered:
        return
    state: _InTransaction | None = getattr(tx, "_directory_sync", None)
    if state is None:
        state = _InTransaction()
        tx._directory_sync = state
    progress = state.kinds.get(kind)
    if progress is None:
        doc = await db[APPLIED].find_one({"_id": kind}, session=tx.session) or {}
        through = int(doc.get("through", 0))
        progress = _Progress(through, set(doc.get("pending", ())), reported=through)
        state.kinds[kind] = progress
    through, pending = progress.through, progress.pending
    for sequence in numbered:
        through, pending = advance(through, pending, sequence)
    if (through, pending) == (progress.through, progress.pending):
        return  # applied before
    progress.through, progress.pending = through, pending
    await db[APPLIED].update_one(
        {"_id": kind}, {"$set": {"through": through, "pending": sorted(pending), "applied_at": datetime.now(UTC)}}, upsert=True, session=tx.session
    )
    if through > progress.reported:
        entry = (applied, DirectoryApplied(kind=kind, through=through), f"directory/{kind}")  # type: ignore[arg-type]
        if progress.staged_at is None:
            progress.staged_at = len(tx.staged)
            tx.staged.append(entry)
        else:
            tx.staged[progress.staged_at] = entry


async def applied_through(db: AsyncDatabase[Any]) -> dict[str, int]:
    """How far this service has applied each kind of directory change (kinds never told of: absent)."""
    return {d["_id"]: int(d.get("through", 0)) async for d in db[APPLIED].find({})}


async def not_yet_known(
    db: AsyncDatabase[Any], kind: str, record_id: str, *, field: str, service: str, otherwise: Exception, now: datetime | None = None
) -> Exception:
    """What to raise when ``service`` holds no ``kind`` ``record_id``: a retryable 409 while
    directory changes of that kind may still be on their way, else ``otherwise`` (the caller's
    own refusal, a 422 "Unknown ...")."""
    doc = await db[APPLIED].find_one({"_id": kind})
    if doc is None:
        return otherwise
    now = now or datetime.now(UTC)
    applied_at = doc.get("applied_at")
    if applied_at is not None and applied_at.tzinfo is None:
        applied_at = applied_at.replace(tzinfo=UTC)
    settling = bool(doc.get("pending")) or (applied_at is not None and now - applied_at < timedelta(seconds=SETTLE_S))
    if not settling:
        return otherwise
    through = int(doc.get("through", 0))
    return Problem(
        409, "not-in-directory-yet", "Not yet in this service's copy of the directory",
        f"The {service} service has not (yet) been told of {kind} {record_id!r}: it has applied the directory's {kind} changes "
        f"through #{through}, and changes are still arriving. If an import added it, wait until GET /api/v1/directory/sync?kind={kind} "
        "says synced (or retry after Retry-After); if this persists once synced, the id is not in the directory.",
        errors=[{"field": field, "message": f"{kind} not yet known to the {service} service"}],
        headers={"Retry-After": str(RETRY_AFTER_S)},
        kind=kind, applied_through=through,
    )


def record_of(data: PersonRecord | CaseRecord | TeamRecord, key: str, *, stamped: ReceivedEvent | None = None) -> tuple[str, int, dict[str, Any]]:
    """A directory record as a service's copy keeps it: its id (the field ``key``), its version, and
    its fields (``data`` as JSON without ``key``, ``version`` and ``sequence``). With ``stamped``
    (the event that carried ``data``), the fields also say which event wrote them (``event_id``)
    and when it happened (``updated_at``)."""
    fields = data.model_dump(mode="json", exclude={key, "version", "sequence"})
    if stamped is not None:
        fields |= {"event_id": stamped.id, "updated_at": stamped.envelope.time}
    return getattr(data, key), data.version, fields


def projected(
    db: AsyncDatabase[Any],
    event_type: EventType,
    collection: str,
    record: Callable[[ReceivedEvent], tuple[str, int, Mapping[str, Any]]],
    *,
    applied: EventType,
    kind: str,
    also: Mapping[str, Any] | None = None,
) -> Subscription:
    """The subscription that keeps ``collection`` as a projection of ``event_type`` (a directory
    change: ``record`` gives its id, version and fields) and reports how far it has applied
    ``kind``. Its batch handler applies a run of changes in one read and one bulk write, and
    records the run's progress in one write; one at a time, the same in a command or two each."""

    async def one(event: ReceivedEvent, tx: Any) -> None:
        record_id, version, fields = record(event)
        await apply_if_newer(db[collection], record_id, version, fields, session=tx.session, also=also)
        await record_applied(db, tx, applied, kind, event.data.sequence)

    async def many(events: Sequence[ReceivedEvent], tx: Any) -> None:
        await apply_many_if_newer(db[collection], [record(e) for e in events], session=tx.session, also=also)
        await record_applied_many(db, tx, applied, kind, [e.data.sequence for e in events])

    return Subscription(event_type, one, batch_handler=many)
