"""Version-guarded records: the one way a store writes a record only if nobody changed it since it
was read, and the one exception it raises when somebody did.

A record carries a version number (``version``, or another field such as sign-off's
``revision``) that every write moves on by one; the version is the record's ETag. A write names
the version it read and changes nothing if the record is at another one: it raises ``Stale``
with the version found (``current``, None when the record does not exist) and the one expected.

``Stale`` knows nothing of HTTP: ``shared.problems`` maps it to problem+json, once, for every
service. The helpers take the session of the caller's transaction (``tx.session``).
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pymongo import ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.results import UpdateResult

from .documents import Document

if TYPE_CHECKING:
    from .mongo import Transaction

Collection = AsyncCollection[Document]


class Stale(Exception):
    """The ``what`` (``ident``) is at version ``current``, not at ``expected``.

    ``current`` None: the record does not exist. ``expected`` None: no version was named (the
    record must not be changed without one).
    """

    def __init__(self, what: str, current: int | None, expected: int | None, *, ident: str | None = None) -> None:
        self.what = what
        self.current = current
        self.expected = expected
        self.ident = ident
        name = what if ident is None else f"{what} {ident!r}"
        if current is None:
            message = f"there is no {name}" + ("" if expected is None else f" at version {expected}")
        elif expected is None:
            message = f"the {name} is at version {current} and no version was named"
        else:
            message = f"the {name} is now at version {current}, not {expected}"
        super().__init__(message)


def check_version(what: str, current: int, expected: int | None, *, ident: str | None = None) -> None:
    """Refuse, as ``Stale``, a change to a record read at ``current`` by a caller who read ``expected``
    (None: the caller named no version and any will do)."""
    if expected is not None and current != expected:
        raise Stale(what, current, expected, ident=ident)


async def current_version(
    collection: Collection, doc_id: str, *, session: AsyncClientSession | None = None, version_field: str = "version"
) -> int | None:
    """The record's version now, or None when it does not exist."""
    found = await collection.find_one({"_id": doc_id}, {version_field: 1}, session=session)
    return None if found is None else int(found[version_field])


async def _write_if_at(
    collection: Collection, doc_id: str, expected_version: int, write: Callable[[Document], Awaitable[UpdateResult]], *,
    what: str, session: AsyncClientSession | None, version_field: str,
) -> None:
    """``write`` the record through the filter that matches it only at ``expected_version``; when
    it matched nothing, raise ``Stale`` with the version the record is at."""
    result = await write({"_id": doc_id, version_field: expected_version})
    if result.matched_count != 1:
        current = await current_version(collection, doc_id, session=session, version_field=version_field)
        raise Stale(what, current, expected_version, ident=doc_id)


async def replace_versioned(
    collection: Collection, doc_id: str, doc: Document, expected_version: int, *,
    what: str, session: AsyncClientSession | None = None, version_field: str = "version",
) -> None:
    """Replace the record with ``doc`` (which carries its new version) if it is still at
    ``expected_version``; otherwise write nothing and raise ``Stale`` with the version it is at."""

    async def replace(match: Document) -> UpdateResult:
        return await collection.replace_one(match, doc, session=session)

    await _write_if_at(collection, doc_id, expected_version, replace, what=what, session=session, version_field=version_field)


async def replace_versioned_returning(
    collection: Collection, doc_id: str, doc: Document, expected_version: int, *,
    what: str, projection: Document | None, session: AsyncClientSession | None = None, version_field: str = "version",
    read: Document | None = None,
) -> Document:
    """``replace_versioned``, returning the record as it was before (``as_it_was``), for a caller
    that moves roll-ups from what it was to what it is.

    A read by ``_id`` then the guarded replace, in the caller's transaction, rather than one
    ``find_one_and_replace``: SecantusDB answers a findAndModify by scanning the collection (38 ms
    at 3,000 records, against about 1 ms for the read and the replace by ``_id``), and on MongoDB
    both are one index look-up each."""
    before = await as_it_was(collection, doc_id, expected_version, what=what, projection=projection, session=session,
                             version_field=version_field, read=read)
    await replace_versioned(collection, doc_id, doc, expected_version, what=what, session=session, version_field=version_field)
    return before


async def as_it_was(
    collection: Collection, doc_id: str, expected_version: int, *,
    what: str, projection: Document | None, session: AsyncClientSession | None = None, version_field: str = "version",
    read: Document | None = None,
) -> Document:
    """The record at ``expected_version`` (only ``projection`` of it and its version; None: all of
    it), which a write guarded by that version replaces; ``Stale`` if it is at another.

    ``read``: the record as the caller read it (``Snapshots``), at least ``projection`` of it and
    its version. When it is at ``expected_version`` it is the answer, without reading the record
    again; otherwise (or None) the record is read."""
    if read is not None and read.get(version_field) == expected_version:
        return read
    wanted = None if projection is None else {**projection, version_field: 1}
    before = await collection.find_one({"_id": doc_id}, wanted, session=session)
    if before is None or before.get(version_field) != expected_version:
        raise Stale(what, None if before is None else int(before[version_field]), expected_version, ident=doc_id)
    return before


def replace_versioned_at_end(
    tx: Transaction, collection: Collection, doc_id: str, doc: Document, expected_version: int, *, what: str, version_field: str = "version",
) -> None:
    """``replace_versioned``, left for the end of ``tx``'s work (``Transaction.replace_at_end``):
    sent with the transaction's other writes and its events in one command. If the record is no
    longer at ``expected_version`` then, the transaction fails with ``Stale`` and keeps nothing."""

    async def stale() -> Stale:
        # Read outside the session: a write that failed after this one has ended the transaction.
        current = await current_version(collection, doc_id, version_field=version_field)
        return Stale(what, current, expected_version, ident=doc_id)

    tx.replace_at_end(collection, {"_id": doc_id, version_field: expected_version}, doc, if_unmatched=stale)


class Snapshots:
    """What a store read of each record it made into an object, kept beside the object (not in it)
    for as long as the object lives: the "before" that a later guarded replace of the object
    returns without reading the record again (``as_it_was`` and ``replace_versioned_returning``,
    ``read=...``).

    A version-guarded write replaces exactly the version that was read, so the record as read is
    the record as it was; a write guarded by another version reads it (or is ``Stale``). Keep the
    fields the roll-ups need (``fields``; None: all of them) and the version, at load and again
    after each write. One per store; objects are told apart by identity and forgotten with them.
    """

    def __init__(self, fields: Iterable[str] | None, *, version_field: str = "version") -> None:
        # As a read's projection answers: the id, the fields named, and the version here.
        self.fields = None if fields is None else (*dict.fromkeys(["_id", *fields, version_field]),)
        self._by_object: dict[int, Document] = {}

    def keep(self, obj: object, doc: Document) -> None:
        """``doc`` is ``obj``'s record as it now stands in the database."""
        key = id(obj)
        if key not in self._by_object:
            weakref.finalize(obj, self._by_object.pop, key, None)
        self._by_object[key] = dict(doc) if self.fields is None else {f: doc[f] for f in self.fields if f in doc}

    def read(self, obj: object) -> Document | None:
        """``obj``'s record as last kept; None when it was not (then the write reads it)."""
        return self._by_object.get(id(obj))

    def __len__(self) -> int:
        """How many living objects have a record kept."""
        return len(self._by_object)


async def update_versioned(
    collection: Collection, doc_id: str, update: dict[str, Any], expected_version: int, *,
    what: str, where: Document | None = None, session: AsyncClientSession | None = None, version_field: str = "version",
) -> None:
    """Apply ``update`` (operators such as ``$set``; it leaves the version alone) if the record is
    still at ``expected_version`` and matches ``where``, moving it to ``expected_version + 1``;
    otherwise write nothing and raise ``Stale`` with the version it is at."""
    update = {**update, "$set": {**update.get("$set", {}), version_field: expected_version + 1}}

    async def apply(match: Document) -> UpdateResult:
        return await collection.update_one({**(where or {}), **match}, update, session=session)

    await _write_if_at(collection, doc_id, expected_version, apply, what=what, session=session, version_field=version_field)


async def _versions_now(collection: Collection, ids: list[Any], version_field: str) -> dict[Any, int]:
    """The committed version of each of ``ids`` that exists, read outside the caller's session:
    what a batch's failed write met (the transaction's own writes are not seen there, and a failed
    insert has ended it)."""
    found = await collection.find({"_id": {"$in": ids}}, {version_field: 1}).to_list()
    return {d["_id"]: int(d[version_field]) for d in found}


async def replace_many_versioned(
    collection: Collection,
    replacements: Sequence[tuple[Document, int]],
    *,
    what: str,
    session: AsyncClientSession | None = None,
    version_field: str = "version",
) -> None:
    """``replace_versioned`` for many records of one collection in one ``bulk_write``, in the
    caller's transaction: each record replaced by its new document (which carries its id and new
    version) if it is still at the version expected of it. If any is not, ``Stale`` for the first
    found at another version, and the transaction keeps nothing.

    (``replace_versioned_at_end`` sends its replaces with the transaction's other writes in one
    client-level command instead; for hundreds of records of one collection this is faster: 450
    against 610 ms for 500 on SecantusDB.)"""
    if not replacements:
        return
    result = await collection.bulk_write(
        [ReplaceOne({"_id": doc["_id"], version_field: expected}, doc) for doc, expected in replacements], session=session
    )
    if result.matched_count == len(replacements):
        return
    found = await _versions_now(collection, [doc["_id"] for doc, _ in replacements], version_field)
    # The first at another version (a record that moved on and back meanwhile is at its own: then the first).
    ident, expected = next(
        ((doc["_id"], expected) for doc, expected in replacements if found.get(doc["_id"]) != expected),
        (replacements[0][0]["_id"], replacements[0][1]),
    )
    raise Stale(what, found.get(ident), expected, ident=ident)


async def insert_many_versioned(
    collection: Collection,
    docs: Sequence[Document],
    *,
    what: str,
    session: AsyncClientSession | None = None,
    version_field: str = "version",
) -> None:
    """``insert_versioned`` for many records in one command, in the caller's transaction:
    ``Stale`` (expected 0) for the first whose id another writer has taken meanwhile, and the
    transaction keeps nothing. A duplicate on another unique index goes to the caller unchanged."""
    if not docs:
        return
    try:
        await collection.insert_many(list(docs), session=session)
    except (DuplicateKeyError, BulkWriteError) as exc:
        details = exc.details or {}
        errors = details.get("writeErrors") or [details]
        key = errors[0].get("keyPattern") if errors and isinstance(errors[0], dict) else None
        if key is not None and set(key) != {"_id"}:
            raise
        ids = [doc["_id"] for doc in docs]
        found = await _versions_now(collection, ids, version_field)
        taken = next((ident for ident in ids if ident in found), None)
        if taken is None:
            raise
        raise Stale(what, found[taken], 0, ident=taken) from None


async def insert_versioned(
    collection: Collection,
    doc: Document,
    *,
    what: str,
    session: AsyncClientSession | None = None,
    version_field: str = "version",
) -> None:
    """Insert the first version of a record; ``Stale`` (expected 0) if a record with its id exists.

    A duplicate on another unique index is not a version conflict: its ``DuplicateKeyError``
    goes to the caller unchanged.
    """
    try:
        await collection.insert_one(doc, session=session)
    except DuplicateKeyError as exc:
        key = (exc.details or {}).get("keyPattern")
        if key is not None and set(key) != {"_id"}:
            raise
        # Read outside the session: the failed insert ended the caller's transaction.
        current = await current_version(collection, doc["_id"], version_field=version_field)
        if current is None:
            raise
        raise Stale(what, current, 0, ident=doc["_id"]) from None
