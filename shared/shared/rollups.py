"""Counting roll-ups kept beside the records they count: the mechanism, not what is counted.

A service's report reads a few roll-up documents per period instead of every record behind them.
What one record adds to the roll-ups is a ``Contribution``: amounts keyed by (roll-up document
id, dotted path inside it). Every write of a record records the change
``contribution(after) - contribution(before)`` in the write's own transaction (``apply``), as
one new document of ``<roll-ups>_pending``: an insert, which no concurrent write conflicts with
(many writes of one day would otherwise all ``$inc`` the same roll-up document, and concurrent
transactions on one document conflict and run again). ``fold`` moves the pending changes into
the roll-ups (one read, one bulk write of ``$inc`` upserts, one delete, in one transaction: two
folds at once conflict on the delete and one runs again, so nothing is counted twice); a report
folds before it reads, so it is exact, and a background worker folds every few seconds so that
little is ever pending. A service whose roll-ups keep more than counts (least values, say) records
its own encoding of a change (``record``) and gives ``fold`` the upserts it makes of them
(``Operations``); ``counted`` is that for plain counts. A rebuild sums every record's contribution, writes the documents whole
(``documents``) and drops what was pending in the same transaction. Both give the same
documents, which is what a service's test of its roll-ups checks.

Values that become field names (a theme's id, a type code) are escaped (``field``) so that a
``.``, a ``$`` or a ``%`` in them cannot make a path of their own, and read back with ``value``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from .documents import Indexes
from .worker import BackgroundWorker

if TYPE_CHECKING:
    from .mongo import Transaction

#: (roll-up document id, dotted path) -> amount.
Contribution = Counter[tuple[str, str]]
#: The fields a roll-up document carries besides its counts (for its indexes), from its id.
Fields = Callable[[str], dict[str, Any]]


def field(value: object) -> str:
    """A field name standing for ``value`` (prefixed, so that no value is empty or numeric-looking)."""
    return "k" + str(value).replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def value(name: str) -> str:
    """The value a ``field`` name stands for."""
    return unquote(name[1:])


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def delta(before: Contribution, after: Contribution) -> dict[str, dict[str, int]]:
    """``after - before`` per roll-up document, without zeros."""
    change = Counter(after)
    change.subtract(before)
    out: dict[str, dict[str, int]] = {}
    for (document_id, path), n in sorted(change.items()):
        if n:
            out.setdefault(document_id, {})[path] = n
    return out


def pending_indexes(collection: str) -> Indexes:
    """The pending changes' index (``fold`` reads them oldest first by it)."""
    return Indexes(f"{collection}_pending", [IndexModel([("at", ASCENDING)])])


def pending(collection: AsyncCollection[Any]) -> AsyncCollection[Any]:
    """Where the changes not yet folded into ``collection`` wait."""
    return collection.database[f"{collection.name}_pending"]


def moved(before: Contribution, after: Contribution) -> dict[str, Any] | None:
    """The change from ``before`` to ``after`` as a pending document records it; None when no
    amount moves."""
    change = delta(before, after)
    if not change:
        return None
    return {"changes": [[document_id, path, n] for document_id, paths in change.items() for path, n in paths.items()]}


async def apply(
    collection: AsyncCollection[Any], before: Contribution, after: Contribution, *, session: AsyncClientSession | None,
) -> None:
    """Record the change of the roll-ups in ``collection`` from ``before`` to ``after`` (nothing
    when no amount moves), in the caller's transaction; ``fold`` applies it."""
    change = moved(before, after)
    if change:
        await record(collection, change, session=session)


def apply_at_end(tx: Transaction, collection: AsyncCollection[Any], before: Contribution, after: Contribution) -> None:
    """``apply``, its insert left for the end of ``tx``'s work (``Transaction.insert_at_end``)."""
    change = moved(before, after)
    if change:
        tx.insert_at_end(pending(collection), _pending_document(change))


async def record(collection: AsyncCollection[Any], change: dict[str, Any], *, session: AsyncClientSession | None) -> None:
    """Keep ``change`` (a service's own encoding of what moves) pending for ``collection``: one
    insert, in the caller's transaction, which no concurrent write conflicts with."""
    await pending(collection).insert_one(_pending_document(change), session=session)


def _pending_document(change: dict[str, Any]) -> dict[str, Any]:
    return {"_id": uuid.uuid4().hex, "at": datetime.now(UTC), **change}


#: What a fold writes for the pending documents it read: the roll-ups' upserts.
Operations = Callable[[list[dict[str, Any]]], list[UpdateOne]]


def counted(fields: Fields) -> Operations:
    """The upserts of counting changes (``apply``'s): every pending amount summed per roll-up."""

    def operations(docs: list[dict[str, Any]]) -> list[UpdateOne]:
        total: Contribution = Counter()
        for doc in docs:
            for document_id, path, n in doc["changes"]:
                total[(document_id, path)] += n
        return [UpdateOne({"_id": d}, {"$inc": inc, "$set": fields(d)}, upsert=True) for d, inc in delta(Counter(), total).items()]

    return operations


async def fold(collection: AsyncCollection[Any], operations: Operations, *, limit: int = 5_000) -> int:
    """Move up to ``limit`` pending changes into the roll-ups of ``collection`` (one transaction:
    the pending read, ``operations(read)`` written, the read deleted); returns how many were folded."""
    # Nothing pending (the usual case: every report read asks): no transaction. Asked through the
    # ``at`` index, as the fold reads, so that even this probe of a collection that is nearly
    # always empty is no collection scan.
    if await pending(collection).find_one({"at": {"$lte": datetime.now(UTC)}}, {"_id": 1}) is None:
        return 0
    folded = 0

    async def work(session: AsyncClientSession) -> None:
        nonlocal folded
        docs = await pending(collection).find({"at": {"$lte": datetime.now(UTC)}}, session=session).limit(limit).to_list()
        writes = operations(docs)
        if writes:
            await collection.bulk_write(writes, ordered=False, session=session)
        if docs:
            await pending(collection).delete_many({"_id": {"$in": [d["_id"] for d in docs]}}, session=session)
        folded = len(docs)

    async with collection.database.client.start_session() as session:
        await session.with_transaction(work)
    return folded


async def fold_all(collection: AsyncCollection[Any], operations: Operations) -> None:
    """Fold until nothing is pending (what a report does before it reads)."""
    while await fold(collection, operations) > 0:
        pass


def folder(collection: AsyncCollection[Any], operations: Operations, *, interval_s: float = 5.0) -> BackgroundWorker:
    """The background worker that keeps ``collection``'s pending changes few."""

    async def run() -> bool:
        return await fold(collection, operations) >= 5_000

    return BackgroundWorker(f"fold {collection.name}", interval_s=interval_s, run=run)


def documents(totals: Contribution, fields: Fields) -> list[dict[str, Any]]:
    """The roll-up documents holding ``totals`` whole (zero amounts left out), as a rebuild writes them."""
    by_id: dict[str, dict[str, Any]] = {}
    for (document_id, path), n in sorted(totals.items()):
        if not n:
            continue
        node = by_id.setdefault(document_id, {"_id": document_id, **fields(document_id)})
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = n
    return list(by_id.values())


async def rebuild(
    collection: AsyncCollection[Any], source: AsyncCollection[Any], projection: dict[str, Any],
    contribution: Callable[[dict[str, Any]], Contribution], fields: Fields,
) -> int:
    """Recompute the roll-ups in ``collection`` from every record of ``source`` (read with
    ``projection``) in one transaction: delete them all, drop what was pending (the records read
    already hold it), insert the new; returns how many records were read. A report never sees them
    half rebuilt; a write that commits after the transaction's snapshot records its change as
    pending, which is folded in afterwards, so every change is counted once."""
    read = 0

    async def work(session: AsyncClientSession) -> None:
        nonlocal read
        totals: Contribution = Counter()
        read = 0
        async for doc in source.find({}, projection, session=session):
            totals.update(contribution(doc))
            read += 1
        await collection.delete_many({}, session=session)
        await pending(collection).delete_many({}, session=session)
        docs = documents(totals, fields)
        if docs:
            await collection.insert_many(docs, session=session)

    async with collection.database.client.start_session() as session:
        await session.with_transaction(work)
    return read


class Rollups:
    """One service's roll-ups: the collection, what one record contributes and the fields each
    roll-up document carries for its indexes, bound once to every operation above."""

    def __init__(self, collection: str, contribution: Callable[[Any], Contribution], fields: Fields) -> None:
        self.collection, self.contribution, self.fields = collection, contribution, fields

    def delta(self, before: Any, after: Any) -> dict[str, dict[str, int]]:
        """``contribution(after) - contribution(before)`` per roll-up document, without zeros."""
        return delta(self.contribution(before), self.contribution(after))

    async def apply(self, db: Any, before: Any, after: Any, session: AsyncClientSession | None) -> None:
        """Record the change from the record as it was (``before``, None: new) to ``after`` (None: gone)."""
        await apply(db[self.collection], self.contribution(before), self.contribution(after), session=session)

    def apply_at_end(self, db: Any, before: Any, after: Any, tx: Transaction) -> None:
        """``apply``, left for the end of ``tx``'s work with its other writes and its events."""
        apply_at_end(tx, db[self.collection], self.contribution(before), self.contribution(after))

    async def fold(self, db: Any) -> None:
        """Fold every pending change in (what a report does before it reads)."""
        await fold_all(db[self.collection], counted(self.fields))

    def folder(self, db: Any) -> BackgroundWorker:
        return folder(db[self.collection], counted(self.fields))

    def documents(self, totals: Contribution) -> list[dict[str, Any]]:
        return documents(totals, self.fields)

    async def rebuild(self, db: Any, source: str, projection: dict[str, Any]) -> int:
        return await rebuild(db[self.collection], db[source], projection, self.contribution, self.fields)
