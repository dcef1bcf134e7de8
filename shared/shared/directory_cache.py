"""A process's cache of its own copy of the directory, exactly as fresh as that copy.

A write that checks who the caller is to a case reads the case, its team and the line-management
chain from the service's directory projection: several reads for facts that change rarely. This
cache keeps what those reads answered, and before each use reads one small thing instead: the
service's ``directory_applied`` record (``shared.directory_sync``), which the projection rewrites in
the same transaction as every numbered directory change it applies, whichever replica applies it.
When that record has moved since the entries were cached, they are dropped and read again; so a
cached answer is never older than the projection was when the record was read, and within a
transaction both reads see the same snapshot.

Two things do not move that record: a change published before changes were numbered, and a
write made directly to the projection (``put`` in tests and tools). The process that writes
directly calls ``invalidate``; and no entry is used for longer than ``ttl_s`` in any case.

Entries are held per database (a test's database never answers for another's) and at most
``max_entries`` per database (the oldest dropped first).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .directory_sync import APPLIED, KINDS

T = TypeVar("T")

#: Seconds an entry may be used at most, whatever the applied record says.
TTL_S = 30.0
MAX_ENTRIES = 20_000


@dataclass
class _Entries:
    stamp: tuple[Any, ...] | None = None
    since: float = 0.0
    values: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)


class DirectoryCache:
    """Cached directory look-ups, checked against the projection's applied record once per use."""

    def __init__(self, *, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._by_client: weakref.WeakKeyDictionary[Any, dict[str, _Entries]] = weakref.WeakKeyDictionary()

    def _entries(self, db: Any) -> _Entries:
        return self._by_client.setdefault(db.client, {}).setdefault(db.name, _Entries())

    async def view(self, db: Any, session: Any = None) -> CachedView:
        """One read of the applied record; the entries stay if it has not moved (and are young enough)."""
        docs = await db[APPLIED].find({"_id": {"$in": list(KINDS)}}, session=session).to_list()
        stamp = tuple(sorted((d["_id"], d.get("through"), tuple(d.get("pending") or ()), d.get("applied_at")) for d in docs))
        entries = self._entries(db)
        now = self.clock()
        if entries.stamp != stamp or now - entries.since > self.ttl_s:
            entries.values.clear()
            entries.stamp, entries.since = stamp, now
        return CachedView(entries, stamp, self.max_entries)

    def invalidate(self, db: Any) -> None:
        """After writing the projection directly (not through a numbered change)."""
        entries = self._entries(db)
        entries.values.clear()
        entries.stamp = None


class CachedView:
    """The cache as one use sees it: ``get`` answers from the entries or reads and keeps."""

    def __init__(self, entries: _Entries, stamp: tuple[Any, ...], max_entries: int) -> None:
        self._entries = entries
        self._stamp = stamp
        self._max = max_entries

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """The entry for ``key``, else what ``read`` answers (kept). A view whose applied record
        another use has since seen move on neither uses nor keeps entries: its reads may be older."""
        current = self._entries.stamp == self._stamp
        values = self._entries.values
        if current and key in values:
            values.move_to_end(key)
            found: T = values[key]
            return found
        value = await read()
        if current and self._entries.stamp == self._stamp:
            values[key] = value
            while len(values) > self._max:
                values.popitem(last=False)
        return value
